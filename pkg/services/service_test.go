package services

import (
	"strings"
	"testing"

	"github.com/digital-citizenship/functions/pkg/problem"
)

func TestParse(t *testing.T) {
	base := `"service_id":"s","service_name":"n","organization_name":"o","department_name":"d",` +
		`"organization_fiscal_code":"00000000001","authorized_cidrs":["10.0.0.0/8","1.2.3.4"],"authorized_recipients":["SPNDNL80R13C555X"]`
	tests := []struct {
		name, extra, field string
	}{
		{"valid", ``, ""},
		{"amount zero", `,"max_allowed_payment_amount":0`, ""},
		{"amount at maximum", `,"max_allowed_payment_amount":9999999999`, ""},
		{"amount above maximum", `,"max_allowed_payment_amount":10000000000`, "max_allowed_payment_amount"},
		{"negative amount", `,"max_allowed_payment_amount":-1`, "max_allowed_payment_amount"},
		{"id and version ignored", `,"id":"x","version":7`, ""},
		{"secure channels", `,"require_secure_channels":true`, ""},
		{"secure channels not a boolean", `,"require_secure_channels":"yes"`, "require_secure_channels"},
		{"opening deadline at minimum", `,"opening_deadline_days":1`, ""},
		{"opening deadline at maximum", `,"opening_deadline_days":365`, ""},
		{"opening deadline below minimum", `,"opening_deadline_days":0`, "opening_deadline_days"},
		{"opening deadline above maximum", `,"opening_deadline_days":366`, "opening_deadline_days"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse([]byte("{" + base + tt.extra + "}"))
			if tt.field == "" {
				if err != nil || s.Version != 0 || s.AuthorizedCIDRs[1] != "1.2.3.4" {
					t.Fatalf("%+v %v", s, err)
				}
				return
			}
			if p := problem.As(err); p.Kind != problem.Invalid || !strings.Contains(p.Detail, "value."+tt.field) {
				t.Fatalf("got %+v", p)
			}
		})
	}
	s, err := Parse([]byte("{" + base + "}"))
	if err != nil || s.RequireSecureChannels || s.OpeningDeadline() != DefaultOpeningDeadlineDays {
		t.Fatalf("defaults: secure %v, opening deadline %d (%v)", s.RequireSecureChannels, s.OpeningDeadline(), err)
	}
	for field, body := range map[string]string{
		"service_name":             strings.Replace(base, `"service_name":"n"`, `"service_name":""`, 1),
		"organization_fiscal_code": strings.Replace(base, `00000000001`, `0000000001`, 1),
		"authorized_cidrs.0":       strings.Replace(base, `10.0.0.0/8`, `10.0.0.0/33`, 1),
		"authorized_recipients.0":  strings.Replace(base, `SPNDNL80R13C555X`, `nope`, 1),
		"authorized_cidrs":         strings.Replace(base, `"authorized_cidrs":["10.0.0.0/8","1.2.3.4"],`, ``, 1),
	} {
		_, err := Parse([]byte("{" + body + "}"))
		if p := problem.As(err); p.Kind != problem.Invalid || p.Title != InvalidTitle || !strings.Contains(p.Detail, "value."+field+" ") {
			t.Errorf("%s: got %+v", field, p)
		}
	}
}
