package paging

import (
	"errors"
	"testing"

	"github.com/digital-citizenship/functions/pkg/problem"
)

func TestParse(t *testing.T) {
	r, err := Parse("", "c")
	if err != nil || r.Size != 100 || r.Cursor != "c" {
		t.Fatalf("defaults %+v %v", r, err)
	}
	for _, s := range []string{"1", "100"} {
		if _, err := Parse(s, ""); err != nil {
			t.Errorf("page_size %s refused: %v", s, err)
		}
	}
	for _, s := range []string{"0", "101", "x", "-1"} {
		if _, err := Parse(s, ""); problem.KindOf(err) != problem.Invalid {
			t.Errorf("page_size %s: %v, want 400", s, err)
		}
	}
}

func TestCursor(t *testing.T) {
	if sk, err := Decode(Encode("MSG#01X"), "MSG#"); err != nil || sk != "MSG#01X" {
		t.Fatalf("round trip %q %v", sk, err)
	}
	if sk, err := Decode("", "MSG#"); err != nil || sk != "" {
		t.Fatalf("first page %q %v", sk, err)
	}
	for _, c := range []string{"!!", Encode("SENDER#x")} {
		if _, err := Decode(c, "MSG#"); !errors.Is(err, ErrCursor) {
			t.Errorf("%q: %v", c, err)
		}
	}
}
