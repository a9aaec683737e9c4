// Package validate decodes JSON request bodies and collects field errors in
// the original's style ("value.<path> is not <what>"), returning one 400
// problem that names every offending field.
package validate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"sync"
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
//
// A body that is not valid UTF-8 is a 400 too: the decoder would otherwise
// replace the bad bytes silently, and the stored text would not be what
// the client sent. Through API Gateway the function never sees the bad
// bytes: a body that is not a binary media type is handed over as text,
// each invalid sequence already replaced by U+FFFD. So a body carrying
// U+FFFD (unescaped) is refused the same way, whichever way it came: the
// replacement character is the mark of text sent in another encoding
// (ISO-8859-1 "à" is one invalid byte), and a citizen would read "Citt�".
// A client that means the character can send it escaped, "\ufffd".
func DecodeJSON(data []byte, v any, title string) error {
	if len(strings.TrimSpace(string(data))) == 0 {
		return problem.New(problem.Invalid, title, "value is not a JSON object: the request body is empty")
	}
	if !utf8.Valid(data) || bytes.ContainsRune(data, utf8.RuneError) {
		return problem.New(problem.Invalid, title, "value is not valid UTF-8 (send the body in UTF-8: text in ISO-8859-1 or "+
			"Windows-1252 arrives with U+FFFD in place of its accented letters)")
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

// Chars returns the length of s as the original counted it: JavaScript's
// String.length, in UTF-16 code units (a character outside the Basic
// Multilingual Plane, such as most emoji, counts two).
func Chars(s string) int {
	n := 0
	for _, r := range s {
		n++
		if r >= 0x10000 {
			n++
		}
	}
	return n
}

// SingleLine reports whether s is valid UTF-8 without control characters
// (C0, DEL, C1, and the Unicode line and paragraph separators): what a
// subject, a name or a path may hold.
func SingleLine(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool {
		return r < 0x20 || (r >= 0x7f && r < 0xa0) || r == 0x2028 || r == 0x2029
	})
}

// MultiLine reports whether s is valid UTF-8 whose only control characters
// are tabs and line breaks: what a markdown body may hold.
func MultiLine(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool {
		return (r < 0x20 && r != '\t' && r != '\n' && r != '\r') || (r >= 0x7f && r < 0xa0)
	})
}

var tld = Regexp(`\.[A-Za-z]{2,}$`)

// Regexp compiles expr on first use. A package-level regexp.MustCompile is
// paid in every cold start of every function that links the package, used
// or not.
func Regexp(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}

// Email reports whether s is a bare e-mail address (no display name) whose
// domain has a top-level domain, as the original's isEmail(require_tld).
func Email(s string) bool {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	return at > 0 && tld().MatchString(s[at+1:]) && !strings.ContainsAny(s, " <>")
}
