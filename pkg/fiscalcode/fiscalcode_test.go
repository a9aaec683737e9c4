package fiscalcode

import (
	"math/rand/v2"
	"regexp"
	"testing"
)

// Valid is Pattern, checked by hand: both agree on known codes and on
// random near-misses of every position.
func TestValidMatchesPattern(t *testing.T) {
	re := regexp.MustCompile(Pattern)
	for _, s := range []string{
		"AAAAAA00A00A000A", "SPNDNL80R13C555X", "SPNDNL80R13C55QX", "MRARSS80A01H50LM",
		"", "SPNDNL80R13C555", "SPNDNL80R13C555XX", "spndnl80r13c555x", "SPNDNL80F13C555X",
		"SPNDNL8OR13C555X", "SPNDNL80R13C555\x00", "SPNDNL80R13C5é5X",
	} {
		if got, want := Valid(s), re.MatchString(s); got != want {
			t.Errorf("Valid(%q) = %v, pattern says %v", s, got, want)
		}
	}
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZaz-\x00"
	r := rand.New(rand.NewPCG(1, 2))
	valid := 0
	for range 200000 {
		b := []byte("SPNDNL80R13C555X")
		for range 1 + r.IntN(2) {
			b[r.IntN(len(b))] = alphabet[r.IntN(len(alphabet))]
		}
		s := string(b)
		got, want := Valid(s), re.MatchString(s)
		if got != want {
			t.Fatalf("Valid(%q) = %v, pattern says %v", s, got, want)
		}
		if got {
			valid++
		}
	}
	if valid == 0 || valid == 200000 {
		t.Fatalf("random codes: %d valid, want a mix", valid)
	}
}

func TestNormalize(t *testing.T) {
	if u, ok := Normalize("spndnl80r13c555x"); !ok || u != "SPNDNL80R13C555X" {
		t.Fatalf("Normalize = %q, %v", u, ok)
	}
	if _, ok := Normalize("not a code"); ok {
		t.Fatal("Normalize accepted junk")
	}
}
