package httpapi_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/digital-citizenship/functions/pkg/auth"
	"github.com/digital-citizenship/functions/pkg/services"
)

// TestSubmit_DailyLimit: every 201 carries the RateLimit header fields;
// the submission over the service's daily limit is a 429 problem with
// Retry-After (seconds to midnight in Rome) and writes nothing; both forms
// of the request count against one limit.
func TestSubmit_DailyLimit(t *testing.T) {
	w := newWorld(t)
	if err := w.svcs.Create(context.Background(), services.Service{ServiceID: "small", ServiceName: "S", OrganizationName: "O",
		DepartmentName: "D", OrganizationFiscalCode: "00000000001", AuthorizedCIDRs: []string{}, AuthorizedRecipients: []string{},
		DailyMessageLimit: 2}); err != nil {
		t.Fatal(err)
	}
	sender := caller("small", auth.MessageWrite)
	for i, path := range []string{"/api/v1/messages/" + fc, "/api/v1/messages"} {
		body := newMessage
		if path == "/api/v1/messages" {
			body = `{"fiscal_code":"` + fc + `",` + newMessage[1:]
		}
		r := w.do(t, sender, "POST", path, body)
		reset, err := strconv.Atoi(r.Header.Get("RateLimit-Reset"))
		if r.Status != 201 || r.Header.Get("RateLimit-Limit") != "2" || r.Header.Get("RateLimit-Remaining") != strconv.Itoa(1-i) ||
			err != nil || reset < 1 || reset > 90000 {
			t.Fatalf("submission %d: %d %v", i+1, r.Status, r.Header)
		}
	}
	r := w.do(t, sender, "POST", "/api/v1/messages/"+fc, newMessage)
	wantProblem(t, r, 429, "Daily limit reached")
	if r.Header.Get("Retry-After") == "" || r.Header.Get("Retry-After") != r.Header.Get("RateLimit-Reset") ||
		r.Header.Get("RateLimit-Remaining") != "0" {
		t.Fatalf("the third: %v", r.Header)
	}
	list := w.do(t, caller("small", auth.MessageRead), "GET", "/api/v1/messages", "")
	if n := len(list.Body["items"].([]any)); n != 2 {
		t.Fatalf("%d messages written, want 2", n)
	}
	// Another service is not held back.
	if r := w.do(t, caller("svc", auth.MessageWrite), "POST", "/api/v1/messages/"+fc, newMessage); r.Status != 201 {
		t.Fatalf("another service: %d %s", r.Status, r.Raw)
	}
}
