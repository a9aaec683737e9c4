// Package validate decodes JSON request bodies and collects field errors in
// the original's style ("value.<path> is not <what>"), returning one 400
// problem that names every offending field.
package validate

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/digital-citizenship/functions/pkg/problem"
)

// Report collects field errors for one decoded value.
type Report struct {
	title string
	lines []string
}

// NewReport starts a report whose problem will carry title.
func NewReport(title string) *Report { return &Report{title: title} }

// Addf records that the value at path is not what it should be.
func (r *Report) Addf(path, format string, args ...any) {
	r.lines = append(r.lines, fmt.Sprintf("value.%s is not %s", path, fmt.Sprintf(format, args...)))
}

// Err returns the 400 problem, or nil when nothing was recorded.
func (r *Report) Err() error {
	if len(r.lines) == 0 {
		return nil
	}
	return problem.New(problem.Invalid, r.title, strings.Join(r.lines, "\n"))
}

// DecodeJSON decodes data into v; unknown properties are ignored (the
// original's 2019 behaviour). A syntax or type error is a 400 with title.
func DecodeJSON(data []byte, v any, title string) error {
	if len(strings.TrimSpace(string(data))) == 0 {
		return problem.New(problem.Invalid, title, "value is not a JSON object: the request body is empty")
	}
	err := json.Unmarshal(data, v)
	if err == nil {
		return nil
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field == "" {
			return problem.New(problem.Invalid, title, "value is not a JSON object")
		}
		return problem.New(problem.Invalid, title, fmt.Sprintf("value.%s is not a valid %s", te.Field, jsonKind(te.Type.Kind().String())))
	}
	return problem.New(problem.Invalid, title, "value is not valid JSON")
}

func jsonKind(goKind string) string {
	switch goKind {
	case "int", "int64", "int32":
		return "integer"
	case "float64":
		return "number"
	case "bool":
		return "boolean"
	case "slice":
		return "array"
	case "map", "struct", "ptr":
		return "object"
	}
	return goKind
}

// Chars returns the number of Unicode characters (code points) in s.
func Chars(s string) int { return utf8.RuneCountInString(s) }

var tld = regexp.MustCompile(`\.[A-Za-z]{2,}$`)

// Email reports whether s is a bare e-mail address (no display name) whose
// domain has a top-level domain, as the original's isEmail(require_tld).
func Email(s string) bool {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	return at > 0 && tld.MatchString(s[at+1:]) && !strings.ContainsAny(s, " <>")
}
