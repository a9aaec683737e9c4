package httpapi_test

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/digital-citizenship/functions/pkg/auth"
)

// TestListMessages: GET /api/v1/messages lists the caller's own messages,
// newest first, in pages whose next link keeps the filters; a bad filter is
// a 400 naming it and reads nothing.
func TestListMessages(t *testing.T) {
	w := newWorld(t)
	sender, reader := caller("svc", auth.MessageWrite), caller("svc", auth.MessageRead)
	var sent []string
	for i := range 5 {
		body := newMessage
		if i%2 == 0 {
			body = `{"reference":"campaign 12/2026",` + newMessage[1:]
		}
		r := w.do(t, sender, "POST", "/api/v1/messages/"+fc, body)
		if r.Status != 201 {
			t.Fatalf("submit: %d %s", r.Status, r.Raw)
		}
		sent = append(sent, r.Body["id"].(string))
	}
	if r := w.do(t, caller("other", auth.MessageWrite), "POST", "/api/v1/messages/"+fc, newMessage); r.Status != 201 {
		t.Fatalf("submit as other: %d %s", r.Status, r.Raw)
	}

	var got []string
	path := "/api/v1/messages?page_size=2"
	for range 5 {
		r := w.do(t, reader, "GET", path, "")
		if r.Status != 200 || r.Body["page_size"] != float64(2) {
			t.Fatalf("list: %d %s", r.Status, r.Raw)
		}
		for _, it := range r.Body["items"].([]any) {
			item := it.(map[string]any)
			if item["fiscal_code"] != fc || item["status"] != "ACCEPTED" || item["created_at"] == nil {
				t.Fatalf("item %v", item)
			}
			got = append(got, item["id"].(string))
		}
		next, _ := r.Body["next"].(string)
		if next == "" {
			break
		}
		path = next
	}
	// Newest first: by id (ULIDs of one millisecond by their random part).
	slices.Sort(sent)
	slices.Reverse(sent)
	if !slices.Equal(got, sent) {
		t.Fatalf("listed %v, sent %v (newest first)", got, sent)
	}

	q := url.Values{"reference": {"campaign 12/2026"}, "page_size": {"1"}}
	r := w.do(t, reader, "GET", "/api/v1/messages?"+q.Encode(), "")
	items := r.Body["items"].([]any)
	next, _ := r.Body["next"].(string)
	if r.Status != 200 || len(items) != 1 || items[0].(map[string]any)["reference"] != "campaign 12/2026" ||
		!strings.Contains(next, "reference=campaign+12%2F2026") {
		t.Fatalf("by reference: %d %s", r.Status, r.Raw)
	}
	if r := w.do(t, reader, "GET", "/api/v1/messages?status=PROCESSED", ""); r.Status != 200 || len(r.Body["items"].([]any)) != 0 {
		t.Fatalf("status=PROCESSED: %d %s", r.Status, r.Raw)
	}

	for query, field := range map[string]string{
		"status=DONE":     "value.status",
		"email=LOST":      "value.email",
		"since=yesterday": "value.since",
		"since=2026-12-02T00:00:00Z&until=2026-12-01T00:00:00Z": "value.until",
		"reference=":                             "value.reference",
		"reference=" + strings.Repeat("r", 1001): "value.reference",
	} {
		r := w.do(t, reader, "GET", "/api/v1/messages?"+query, "")
		wantProblem(t, r, 400, "Invalid messages query")
		if !strings.Contains(r.Body["detail"].(string), field) {
			t.Errorf("%s: detail %q does not name %s", query, r.Body["detail"], field)
		}
	}
	wantProblem(t, w.do(t, reader, "GET", "/api/v1/messages?cursor=bm9wZQ", ""), 400, "Invalid cursor")
	wantProblem(t, w.do(t, sender, "GET", "/api/v1/messages", ""), 403, "You are not allowed here")
}
