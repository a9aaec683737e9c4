package httpapi_test

import (
	"testing"
	"time"

	"github.com/digital-citizenship/functions/pkg/auth"
	"github.com/digital-citizenship/functions/pkg/messages"
)

// A key sees its service, its own groups, and the service's messages of
// today against the limit, among 30 days ending today.
func TestGetOwnService(t *testing.T) {
	w := newWorld(t)
	for range 3 {
		if r := w.do(t, caller("svc", auth.MessageWrite), "POST", "/api/v1/messages/"+fc, newMessage); r.Status != 201 {
			t.Fatalf("submit: %d %s", r.Status, r.Raw)
		}
	}
	r := w.do(t, caller("svc", auth.MessageRead, auth.CallbackWrite), "GET", "/api/v1/service", "")
	if r.Status != 200 {
		t.Fatalf("%d %s", r.Status, r.Raw)
	}
	svc := r.Body["service"].(map[string]any)
	groups := r.Body["groups"].([]any)
	usage := r.Body["usage"].(map[string]any)
	today := usage["today"].(map[string]any)
	days := usage["days"].([]any)
	limit := float64(250000)
	if svc["service_id"] != "svc" || svc["daily_message_limit"] != limit || svc["max_allowed_payment_amount"] != float64(50000) ||
		len(groups) != 2 || groups[0] != "ApiMessageRead" {
		t.Fatalf("service and groups: %s", r.Raw)
	}
	if usage["daily_message_limit"] != limit || today["used"] != float64(3) || today["remaining"] != limit-3 ||
		today["day"] != messages.RomeDay(time.Now()) || len(days) != messages.UsageDays ||
		days[len(days)-1].(map[string]any)["used"] != float64(3) || days[0].(map[string]any)["used"] != float64(0) {
		t.Fatalf("usage: %s", r.Raw)
	}
	// Another service's key sees its own count.
	if o := w.do(t, caller("other", auth.MessageRead), "GET", "/api/v1/service", ""); o.Body["usage"].(map[string]any)["today"].(map[string]any)["used"] != float64(0) {
		t.Fatalf("the other service: %s", o.Raw)
	}
}
