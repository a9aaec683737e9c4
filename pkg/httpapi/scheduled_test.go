package httpapi_test

import (
	"strings"
	"testing"
	"time"

	"github.com/digital-citizenship/functions/pkg/auth"
	"github.com/digital-citizenship/functions/pkg/messages"
)

// TestScheduledSend: a message with scheduled_at is 201 and SCHEDULED, not
// queued; its sender may cancel it (CANCELLED), once; scheduled_at outside
// 1 minute to 7 days ahead is a 400 naming it and writes nothing.
func TestScheduledSend(t *testing.T) {
	w := newWorld(t)
	sender := caller("svc", auth.MessageWrite, auth.MessageRead)
	at := time.Now().Add(10 * time.Minute).UTC()
	body := `{"scheduled_at":"` + messages.FormatTime(at) + `",` + newMessage[1:]
	r := w.do(t, sender, "POST", "/api/v1/messages/"+fc, body)
	if r.Status != 201 || len(w.created.Sent) != 0 {
		t.Fatalf("scheduled: %d %s, %d events queued", r.Status, r.Raw, len(w.created.Sent))
	}
	loc := r.Header.Get("Location")
	g := w.do(t, sender, "GET", loc, "")
	if g.Body["status"] != "SCHEDULED" || g.Body["scheduled_at"] != messages.FormatTime(at) {
		t.Fatalf("get: %s", g.Raw)
	}
	if l := w.do(t, sender, "GET", "/api/v1/messages?status=SCHEDULED", ""); len(l.Body["items"].([]any)) != 1 {
		t.Fatalf("list of the scheduled: %s", l.Raw)
	}
	wantProblem(t, w.do(t, caller("other", auth.MessageWrite), "DELETE", loc, ""), 404, "Message not found")
	c := w.do(t, sender, "DELETE", loc, "")
	if c.Status != 200 || c.Body["status"] != "CANCELLED" {
		t.Fatalf("cancel: %d %s", c.Status, c.Raw)
	}
	wantProblem(t, w.do(t, sender, "DELETE", loc, ""), 409, "Message not cancellable")
	// A message sent at once is not cancellable.
	now := w.do(t, sender, "POST", "/api/v1/messages/"+fc, newMessage)
	wantProblem(t, w.do(t, sender, "DELETE", now.Header.Get("Location"), ""), 409, "Message not cancellable")

	for _, when := range []string{messages.FormatTime(time.Now().Add(30 * time.Second)), messages.FormatTime(time.Now().Add(-time.Hour)),
		messages.FormatTime(time.Now().Add(8 * 24 * time.Hour)), "tomorrow"} {
		r := w.do(t, sender, "POST", "/api/v1/messages/"+fc, `{"scheduled_at":"`+when+`",`+newMessage[1:])
		wantProblem(t, r, 400, messages.NewMessageTitle)
		if !strings.Contains(r.Body["detail"].(string), "value.scheduled_at") {
			t.Errorf("%s: %s", when, r.Raw)
		}
	}
	if l := w.do(t, sender, "GET", "/api/v1/messages", ""); len(l.Body["items"].([]any)) != 2 {
		t.Fatalf("refused submissions wrote: %s", l.Raw)
	}
}
