package messages

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/digital-citizenship/functions/pkg/problem"
)

func body(ttl any, subject, markdown string, extra string) string {
	b, _ := json.Marshal(map[string]any{"subject": subject, "markdown": markdown})
	s := `{"content":` + strings.TrimSuffix(string(b), "}") + extra + "}"
	if ttl != nil {
		s += `,"time_to_live":` + jsonOf(ttl)
	}
	return s + "}"
}

func jsonOf(v any) string { b, _ := json.Marshal(v); return string(b) }

var (
	okSubject  = strings.Repeat("s", 10)
	okMarkdown = strings.Repeat("m", 80)
)

func TestParseNewMessage_Bounds(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		field string // "" when valid
	}{
		{"defaults", body(nil, okSubject, okMarkdown, ""), ""},
		{"ttl null is default", `{"time_to_live":null,"content":{"subject":"` + okSubject + `","markdown":"` + okMarkdown + `"}}`, ""},
		{"ttl min", body(3600, okSubject, okMarkdown, ""), ""},
		{"ttl below min", body(3599, okSubject, okMarkdown, ""), "time_to_live"},
		{"ttl max inclusive", body(604800, okSubject, okMarkdown, ""), ""},
		{"ttl above max", body(604801, okSubject, okMarkdown, ""), "time_to_live"},
		{"ttl not integer", body(3600.5, okSubject, okMarkdown, ""), "time_to_live"},
		{"subject min", body(nil, strings.Repeat("é", 10), okMarkdown, ""), ""},
		{"subject below min", body(nil, strings.Repeat("s", 9), okMarkdown, ""), "content.subject"},
		{"subject max", body(nil, strings.Repeat("é", 120), okMarkdown, ""), ""},
		{"subject above max", body(nil, strings.Repeat("s", 121), okMarkdown, ""), "content.subject"},
		{"markdown min", body(nil, okSubject, strings.Repeat("è", 80), ""), ""},
		{"markdown below min", body(nil, okSubject, strings.Repeat("m", 79), ""), "content.markdown"},
		{"markdown max", body(nil, okSubject, strings.Repeat("ü", 10000), ""), ""},
		{"markdown above max", body(nil, okSubject, strings.Repeat("m", 10001), ""), "content.markdown"},
		{"amount min", body(nil, okSubject, okMarkdown, `,"payment_data":{"amount":1,"notice_number":"012345678901234567"}`), ""},
		{"amount zero", body(nil, okSubject, okMarkdown, `,"payment_data":{"amount":0,"notice_number":"012345678901234567"}`), "content.payment_data.amount"},
		{"amount max inclusive", body(nil, okSubject, okMarkdown, `,"payment_data":{"amount":9999999999,"notice_number":"012345678901234567"}`), ""},
		{"amount above max", body(nil, okSubject, okMarkdown, `,"payment_data":{"amount":10000000000,"notice_number":"012345678901234567"}`), "content.payment_data.amount"},
		{"notice number", body(nil, okSubject, okMarkdown, `,"payment_data":{"amount":1,"notice_number":"412345678901234567"}`), "content.payment_data.notice_number"},
		{"due date", body(nil, okSubject, okMarkdown, `,"due_date":"2026-12-01T10:00:00"`), ""},
		{"bad due date", body(nil, okSubject, okMarkdown, `,"due_date":"01/12/2026"`), "content.due_date"},
		{"no content", `{"time_to_live":3600}`, "content"},
		{"bad default email", `{"content":{"subject":"` + okSubject + `","markdown":"` + okMarkdown + `"},"default_addresses":{"email":"x"}}`, "default_addresses.email"},
		{"not json", `{`, "value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nm, _, err := ParseNewMessage([]byte(tt.body))
			if tt.field == "" {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				if nm.TimeToLive < MinTimeToLive {
					t.Fatalf("ttl %d", nm.TimeToLive)
				}
				return
			}
			p := problem.As(err)
			if p.Kind != problem.Invalid || !strings.Contains(p.Detail, "value."+tt.field) && tt.field != "value" {
				t.Fatalf("got %+v, want a 400 naming %s", p, tt.field)
			}
		})
	}
}

func TestParseNewMessage_Normalises(t *testing.T) {
	nm, fc, err := ParseNewMessage([]byte(`{"fiscal_code":"X","content":{"subject":"` + okSubject + `","markdown":"` + okMarkdown +
		`","due_date":"2026-12-01T10:00:00Z","payment_data":{"amount":5,"notice_number":"012345678901234567","invalid_after_due_date":null}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if nm.TimeToLive != 3600 || nm.Content.DueDate != "2026-12-01T10:00:00.000Z" || nm.Content.PaymentData.InvalidAfterDueDate || *fc != "X" {
		t.Fatalf("parsed %+v", nm)
	}
}
