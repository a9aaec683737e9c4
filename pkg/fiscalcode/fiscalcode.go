// Package fiscalcode validates Italian fiscal codes, the citizen identifier of
// the platform.
package fiscalcode

import (
	"regexp"
	"strings"
)

// pattern is the original's FiscalCode pattern (omocodia letters allowed).
var pattern = regexp.MustCompile(`^[A-Z]{6}[0-9LMNPQRSTUV]{2}[ABCDEHLMPRST][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]$`)

// Pattern is the regular expression a normalised fiscal code matches.
const Pattern = `^[A-Z]{6}[0-9LMNPQRSTUV]{2}[ABCDEHLMPRST][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]$`

// Normalize returns s in upper case and whether it is a valid fiscal code.
// Lower-case input is accepted: integrators of the original tripped on it.
func Normalize(s string) (string, bool) {
	u := strings.ToUpper(s)
	return u, pattern.MatchString(u)
}

// Valid reports whether s is a valid fiscal code as given (upper case).
func Valid(s string) bool { return pattern.MatchString(s) }
