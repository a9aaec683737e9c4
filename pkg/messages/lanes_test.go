package messages_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/digital-citizenship/functions/pkg/messages"
	"github.com/digital-citizenship/functions/pkg/storetest"
)

// laneOf decodes the lane of a queued created event.
func laneOf(t *testing.T, raw []byte) string {
	t.Helper()
	var ev messages.CreatedEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	return ev.SendingLane()
}

// TestSubmit_Lanes: a service's messages go normal until its submissions
// in the last minute reach its threshold, then bulk, and normal again once
// the minute has passed; a sender's X-Lane: bulk and a scheduled message go
// bulk; the platform's own go priority. The 201's lane is the event's.
func TestSubmit_Lanes(t *testing.T) {
	st, q := &storetest.Messages{}, &storetest.Queue{}
	at := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	u := messages.CountedSubmitter{Quotas: st, BulkThreshold: 5, Submitter: messages.Submitter{Store: st, Created: q, Now: func() time.Time { return at }}}
	s := submission(writer, messages.NewMessage{Content: content})
	s.Service.ServiceID, s.Caller.SubscriptionID = "svc-lanes", "svc-lanes"
	var lanes []string
	for range 8 { // one every 2 s: the counters are read at each (once a second at most)
		res, err := u.Submit(context.Background(), s)
		if err != nil {
			t.Fatal(err)
		}
		if got := laneOf(t, q.Sent[len(q.Sent)-1]); got != res.Lane {
			t.Fatalf("the event's lane %s, the answer's %s", got, res.Lane)
		}
		lanes = append(lanes, res.Lane)
		at = at.Add(2 * time.Second)
	}
	want := []string{"normal", "normal", "normal", "normal", "normal", "bulk", "bulk", "bulk"}
	for i := range want {
		if lanes[i] != want[i] {
			t.Fatalf("lanes %v, want %v (threshold 5 a minute)", lanes, want)
		}
	}
	at = at.Add(2 * time.Minute) // a quiet minute: normal again
	u.Submit(context.Background(), s)
	at = at.Add(2 * time.Second)
	if res, err := u.Submit(context.Background(), s); err != nil || res.Lane != messages.LaneNormal {
		t.Fatalf("after a quiet minute: %+v, %v", res, err)
	}
	// The service's own threshold overrides the platform's.
	s.Service.BulkThresholdPerMinute = 1000
	at = at.Add(2 * time.Second)
	if res, _ := u.Submit(context.Background(), s); res.Lane != messages.LaneNormal {
		t.Fatalf("under the service's own threshold: %s", res.Lane)
	}
	// Asked for, or scheduled: bulk.
	s.Bulk = true
	if res, _ := u.Submit(context.Background(), s); res.Lane != messages.LaneBulk {
		t.Fatalf("X-Lane: bulk: %s", res.Lane)
	}
	s.Bulk = false
	sched := submission(writer, messages.NewMessage{Content: content, ScheduledAt: at.Add(time.Hour)})
	sched.Service.ServiceID = "svc-sched"
	res, err := u.Submit(context.Background(), sched)
	if err != nil || res.Lane != messages.LaneBulk {
		t.Fatalf("scheduled: %+v, %v", res, err)
	}
	if m, _ := st.Get(context.Background(), sched.FiscalCode, res.ID); m.Lane != messages.LaneBulk {
		t.Fatalf("a scheduled message's stored lane %q (released in it)", m.Lane)
	}
	// The platform's own.
	p := messages.Submitter{Store: st, Created: q, Now: clock, Lane: messages.LanePriority}
	if res, err := p.Submit(context.Background(), submission(writer, messages.NewMessage{Content: content})); err != nil || res.Lane != messages.LanePriority ||
		laneOf(t, q.Sent[len(q.Sent)-1]) != messages.LanePriority {
		t.Fatalf("platform: %+v, %v", res, err)
	}
}

func TestParseLane(t *testing.T) {
	for h, bulk := range map[string]bool{"": false, "normal": false, "bulk": true, " Bulk ": true, "undefined": false, "null": false} {
		if got, err := messages.ParseLane(h); err != nil || got != bulk {
			t.Errorf("ParseLane(%q) = %v, %v", h, got, err)
		}
	}
	for _, h := range []string{"priority", "fast", "bulk,normal"} {
		if _, err := messages.ParseLane(h); err == nil {
			t.Errorf("ParseLane(%q) accepted", h)
		}
	}
}

// TestPacer: bulk e-mails are spaced at the environment's share of SES's
// rate (14 a second, 20 % reserved, 4 environments: 2.8 a second); the
// other lanes are not; a turn further than 5 s is a retry, not a wait.
func TestPacer(t *testing.T) {
	if messages.NewPacer(0, 0.2, 4) != nil {
		t.Fatal("no SES rate (local): no pacer")
	}
	p := messages.NewPacer(14, 0.2, 4)
	var sent int
	handle := p.Paced(func(context.Context, messages.NotificationEvent) error { sent++; return nil })
	bulk, normal := messages.NotificationEvent{}, messages.NotificationEvent{}
	bulk.Message.Lane, normal.Message.Lane = messages.LaneBulk, messages.LaneNormal
	ctx := context.Background()
	start := time.Now()
	for range 3 {
		if err := handle(ctx, bulk); err != nil {
			t.Fatal(err)
		}
	}
	if err := handle(ctx, normal); err != nil || sent != 4 {
		t.Fatalf("sent %d, %v", sent, err)
	}
	// Three bulk e-mails: the second and third waited their turns (357 ms each).
	if elapsed := time.Since(start); elapsed < 700*time.Millisecond {
		t.Fatalf("three bulk e-mails in %v: not paced", elapsed)
	}
	// A turn more than 5 s away: ErrPaced at once.
	q := messages.NewPacer(0.1, 0, 1) // one every 10 s
	h := q.Paced(func(context.Context, messages.NotificationEvent) error { return nil })
	if err := h(ctx, bulk); err != nil {
		t.Fatal(err)
	}
	if err := h(ctx, bulk); !errors.Is(err, messages.ErrPaced) {
		t.Fatalf("a turn 10 s away: %v", err)
	}
}
