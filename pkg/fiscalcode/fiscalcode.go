// Package fiscalcode validates Italian fiscal codes, the citizen identifier of
// the platform.
package fiscalcode

import "strings"

// Pattern is the regular expression a normalised fiscal code matches.
const Pattern = `^[A-Z]{6}[0-9LMNPQRSTUV]{2}[ABCDEHLMPRST][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]$`

// Normalize returns s in upper case and whether it is a valid fiscal code.
// Lower-case input is accepted: integrators of the original tripped on it.
func Normalize(s string) (string, bool) {
	u := strings.ToUpper(s)
	return u, Valid(u)
}

// Valid reports whether s is a valid fiscal code as given (upper case).
// It matches Pattern, checked position by position (a compiled regexp cost
// every function half a millisecond of init).
func Valid(s string) bool {
	if len(s) != len(shape) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch shape[i] {
		case 'A':
			if c < 'A' || c > 'Z' {
				return false
			}
		case '9':
			if !('0' <= c && c <= '9' || strings.IndexByte("LMNPQRSTUV", c) >= 0) {
				return false
			}
		case 'M':
			if strings.IndexByte("ABCDEHLMPRST", c) < 0 {
				return false
			}
		}
	}
	return true
}

// shape is Pattern by position: A a letter, 9 a digit or its omocodia
// letter, M a month letter.
const shape = "AAAAAA99M99A999A"
