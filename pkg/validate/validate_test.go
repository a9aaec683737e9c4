package validate

import (
	"testing"

	"github.com/digital-citizenship/functions/pkg/problem"
)

func TestEmail(t *testing.T) {
	for s, want := range map[string]bool{
		"a@b.it": true, "first.last+tag@pa.gov.it": true,
		"a@b": false, "Name <a@b.it>": false, "": false, "a b@c.it": false, "@b.it": false,
	} {
		if got := Email(s); got != want {
			t.Errorf("Email(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestDecodeJSON(t *testing.T) {
	var v struct {
		Content struct {
			Subject *string `json:"subject"`
		} `json:"content"`
	}
	tests := map[string]string{
		``:                          "value is not a JSON object: the request body is empty",
		`{`:                         "value is not valid JSON",
		`[]`:                        "value is not a JSON object",
		`{"content":{"subject":1}}`: "value.content.subject is not a valid string",
	}
	for body, want := range tests {
		err := DecodeJSON([]byte(body), &v, "Invalid X")
		p := problem.As(err)
		if p.Kind != problem.Invalid || p.Detail != want || p.Title != "Invalid X" {
			t.Errorf("%q: got %+v, want detail %q", body, p, want)
		}
	}
	if err := DecodeJSON([]byte(`{"unknown":1,"content":{"subject":"x"}}`), &v, "t"); err != nil {
		t.Fatalf("unknown property rejected: %v", err)
	}
}

func TestChars(t *testing.T) {
	if Chars("perché") != 6 {
		t.Fatal("Chars counts bytes")
	}
}
