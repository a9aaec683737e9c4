// Package campaign sends one message per row of a CSV file through the
// public API and tracks what became of each: the engine of the dcp
// command-line tool. Rows are validated with the API's own rules before
// anything is sent; each row has a deterministic Idempotency-Key, so that
// a run interrupted and started again sends nothing twice.
package campaign

import (
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/digital-citizenship/functions/pkg/fiscalcode"
	"github.com/digital-citizenship/functions/pkg/messages"
	"github.com/digital-citizenship/functions/pkg/problem"
)

// Columns a CSV file may have; fiscal_code is required, and subject and
// markdown unless a template gives them.
const Columns = `fiscal_code      the citizen (16 characters; lower case is accepted)
subject          10 to 120 characters
markdown         80 to 10000 characters
due_date         optional: an ISO 8601 date-time (2026-12-31T23:59:59Z)
amount           optional: the payment amount in euro cents (needs notice_number)
notice_number    optional: the payment notice number, 18 digits
invalid_after_due_date  optional: true or false
time_to_live     optional: seconds the notifications may wait (3600 to 604799)
Any other column can fill a template's {{column}} placeholders.`

// Row is one valid row, ready to send.
type Row struct {
	// Line is the row's line in the file (the header is line 1).
	Line       int
	FiscalCode string
	// Body is the request body (the successors' form, with fiscal_code).
	Body []byte
	// Key is the row's Idempotency-Key.
	Key string
}

// RowError is a row the API would refuse.
type RowError struct {
	Line   int
	Reason string
}

// Template is a subject and a markdown with {{column}} placeholders.
type Template struct{ Subject, Markdown string }

// ParseTemplate reads a template file: the subject on the first line, the
// markdown after it.
func ParseTemplate(text string) (Template, error) {
	subject, markdown, ok := strings.Cut(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	if !ok || strings.TrimSpace(subject) == "" || strings.TrimSpace(markdown) == "" {
		return Template{}, errors.New("a template is the subject on its first line, then the markdown")
	}
	return Template{Subject: strings.TrimSpace(subject), Markdown: strings.TrimLeft(markdown, "\n")}, nil
}

var placeholder = regexp.MustCompile(`\{\{\s*([A-Za-z0-9_]+)\s*\}\}`)

func fill(text string, values map[string]string) (string, error) {
	var missing []string
	out := placeholder.ReplaceAllStringFunc(text, func(m string) string {
		name := placeholder.FindStringSubmatch(m)[1]
		v, ok := values[name]
		if !ok {
			missing = append(missing, name)
		}
		return v
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("the template names columns the file lacks: %s", strings.Join(missing, ", "))
	}
	return out, nil
}

// Read parses and validates a whole CSV file. It returns the valid rows,
// and every invalid row's error (when there is any, nothing should be
// sent). fileHash names the file's content in the rows' keys.
func Read(r io.Reader, tmpl *Template) (rows []Row, bad []RowError, err error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, nil, err
	}
	sum := sha256.Sum256(data)
	fileHash := hex.EncodeToString(sum[:12])
	cr := csv.NewReader(strings.NewReader(string(data)))
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return nil, nil, fmt.Errorf("read the header: %w", err)
	}
	for i := range header {
		header[i] = strings.TrimSpace(strings.TrimPrefix(header[i], "\ufeff"))
	}
	has := map[string]bool{}
	for _, h := range header {
		has[h] = true
	}
	if !has["fiscal_code"] {
		return nil, nil, errors.New("the header has no fiscal_code column")
	}
	if tmpl == nil && (!has["subject"] || !has["markdown"]) {
		return nil, nil, errors.New("the header needs subject and markdown columns, or give a template")
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				bad = append(bad, RowError{pe.StartLine, pe.Err.Error()})
				continue
			}
			return nil, nil, err
		}
		line, _ := cr.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // a blank line
		}
		if len(rec) != len(header) {
			bad = append(bad, RowError{line, fmt.Sprintf("%d fields, the header has %d", len(rec), len(header))})
			continue
		}
		values := map[string]string{}
		for i, h := range header {
			values[h] = strings.TrimSpace(rec[i])
		}
		row, rerr := build(line, values, tmpl, fileHash)
		if rerr != nil {
			bad = append(bad, *rerr)
			continue
		}
		rows = append(rows, row)
	}
	return rows, bad, nil
}

func build(line int, v map[string]string, tmpl *Template, fileHash string) (Row, *RowError) {
	fail := func(format string, a ...any) (Row, *RowError) {
		return Row{}, &RowError{line, fmt.Sprintf(format, a...)}
	}
	fc, ok := fiscalcode.Normalize(v["fiscal_code"])
	if !ok {
		return fail("fiscal_code %q is not a fiscal code", v["fiscal_code"])
	}
	subject, markdown := v["subject"], v["markdown"]
	if tmpl != nil {
		var err error
		if subject, err = fill(tmpl.Subject, v); err != nil {
			return fail("%v", err)
		}
		if markdown, err = fill(tmpl.Markdown, v); err != nil {
			return fail("%v", err)
		}
	}
	content := map[string]any{"subject": subject, "markdown": markdown}
	if d := v["due_date"]; d != "" {
		content["due_date"] = d
	}
	if v["amount"] != "" || v["notice_number"] != "" {
		amount, err := strconv.Atoi(v["amount"])
		if err != nil {
			return fail("amount %q is not a whole number of cents", v["amount"])
		}
		pd := map[string]any{"amount": amount, "notice_number": v["notice_number"]}
		if s := v["invalid_after_due_date"]; s != "" {
			b, err := strconv.ParseBool(s)
			if err != nil {
				return fail("invalid_after_due_date %q is not true or false", s)
			}
			pd["invalid_after_due_date"] = b
		}
		content["payment_data"] = pd
	}
	body := map[string]any{"fiscal_code": fc, "content": content}
	if s := v["time_to_live"]; s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return fail("time_to_live %q is not a whole number of seconds", s)
		}
		body["time_to_live"] = n
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return fail("%v", err)
	}
	// The API's own validation, so that a row it would refuse is reported
	// now, before anything is sent.
	if _, _, err := messages.ParseNewMessage(raw); err != nil {
		return fail("%s", strings.ReplaceAll(problem.As(err).Detail, "\n", "; "))
	}
	return Row{Line: line, FiscalCode: fc, Body: raw, Key: fmt.Sprintf("dcp:%s:%d", fileHash, line)}, nil
}

// ParseAt reads dcp send's --at: an RFC 3339 time, or +DURATION from now;
// it must be from 1 minute to 7 days ahead of now, as the API requires.
func ParseAt(s string, now time.Time) (time.Time, error) {
	var at time.Time
	if d, ok := strings.CutPrefix(s, "+"); ok {
		dur, err := time.ParseDuration(d)
		if err != nil {
			return time.Time{}, fmt.Errorf("--at %s: not +DURATION (+2m, +1h30m)", s)
		}
		at = now.Add(dur)
	} else {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return time.Time{}, fmt.Errorf("--at %s: not an RFC 3339 time (2026-12-24T09:00:00+01:00) nor +DURATION", s)
		}
		at = t
	}
	if at.Before(now.Add(messages.MinScheduleAhead)) || at.After(now.Add(messages.MaxScheduleAhead)) {
		return time.Time{}, fmt.Errorf("--at %s: not from 1 minute to 7 days ahead", s)
	}
	return at.UTC().Truncate(time.Millisecond), nil
}

// Schedule makes every row's message a scheduled one, for at; its key names
// the time, so that a run with another --at is another campaign.
func Schedule(rows []Row, at time.Time) {
	ts := messages.FormatTime(at)
	for i := range rows {
		rows[i].Body = append([]byte(`{"scheduled_at":"`+ts+`",`), rows[i].Body[1:]...)
		rows[i].Key += ":at" + at.Format("20060102T150405.000Z")
	}
}
