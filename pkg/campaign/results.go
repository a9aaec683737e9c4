package campaign

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"sync"
)

// ResultColumns are the result file's columns; status writes the last
// ones.
var ResultColumns = []string{"line", "fiscal_code", "message_id", "error", "status", "rejection_reason", "email", "push", "webhook"}

// Record is one line of a result file.
type Record struct {
	Result
	Status, RejectionReason, Email, Push, Webhook string
}

func (r Record) fields() []string {
	return []string{strconv.Itoa(r.Line), r.FiscalCode, r.MessageID, r.Error, r.Status, r.RejectionReason, r.Email, r.Push, r.Webhook}
}

// ReadResults reads a result file; a missing file is no records.
func ReadResults(path string) ([]Record, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cr := csv.NewReader(f)
	cr.FieldsPerRecord = -1
	byLine := map[int]Record{}
	for i := 0; ; i++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			// A run killed mid-line leaves a partial last line: ignore it.
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				continue
			}
			return nil, err
		}
		if i == 0 && len(rec) > 0 && rec[0] == "line" {
			continue
		}
		line, err := strconv.Atoi(rec[0])
		if err != nil || len(rec) < 4 {
			continue
		}
		r := Record{Result: Result{Line: line, FiscalCode: rec[1], MessageID: rec[2], Error: rec[3]}}
		if len(rec) >= 9 {
			r.Status, r.RejectionReason, r.Email, r.Push, r.Webhook = rec[4], rec[5], rec[6], rec[7], rec[8]
		}
		// A later line for the same row (a resumed run) wins.
		byLine[line] = r
	}
	out := make([]Record, 0, len(byLine))
	for _, r := range byLine {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Line < out[j].Line })
	return out, nil
}

// WriteResults replaces path with records, sorted by line.
func WriteResults(path string, records []Record) error {
	sort.Slice(records, func(i, j int) bool { return records[i].Line < records[j].Line })
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	_ = w.Write(ResultColumns)
	for _, r := range records {
		_ = w.Write(r.fields())
	}
	w.Flush()
	if err := errors.Join(w.Error(), f.Close()); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// Journal appends results to a result file as they come, so that an
// interrupted run keeps what it did.
type Journal struct {
	mu sync.Mutex
	f  *os.File
	w  *csv.Writer
}

// OpenJournal opens path for appending, writing the header when the file
// is new.
func OpenJournal(path string) (*Journal, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	j := &Journal{f: f, w: csv.NewWriter(f)}
	if st, err := f.Stat(); err == nil && st.Size() == 0 {
		_ = j.w.Write(ResultColumns)
		j.w.Flush()
	}
	return j, nil
}

// Add appends one result and flushes it.
func (j *Journal) Add(r Result) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if err := j.w.Write(Record{Result: r}.fields()); err != nil {
		return err
	}
	j.w.Flush()
	if err := j.w.Error(); err != nil {
		return fmt.Errorf("write the results: %w", err)
	}
	return nil
}

// Close closes the file.
func (j *Journal) Close() error { return j.f.Close() }
