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

// A submission that dies between its write and its queue message leaves a
// message ACCEPTED that nothing would process: requeue-messages queues its
// event again, as it was submitted, with a back-off, and leaves alone what
// was received, what is young, and everything while the queue has a
// backlog.
func TestRequeuer_Run(t *testing.T) {
	ctx := context.Background()
	store, svcs := &storetest.Messages{}, &storetest.Services{}
	for v := range svc.Version + 1 { // versions 0 to 3: the latest is svc
		s := svc
		s.Version = v
		if err := svcs.Create(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	orphan := messages.Message{ID: "01ORPHAN", FiscalCode: fc, SenderServiceID: "svc", SenderUserID: "u", TimeToLive: 3600,
		CreatedAt: now.Add(-10 * time.Minute), Pending: true, Status: messages.Accepted, StatusAt: now.Add(-10 * time.Minute),
		Content: &content, DefaultEmail: "default@example.com"}
	young, received := orphan, orphan
	young.ID, young.CreatedAt = "01YOUNG", now.Add(-time.Minute)
	received.ID = "01RECEIVED"
	for _, m := range []messages.Message{orphan, young, received} {
		if err := store.Create(ctx, m, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := store.SetStatus(ctx, fc, received.ID, messages.Throttled, "", now); err != nil {
		t.Fatal(err)
	}
	created := &storetest.Queue{}
	backlog := 0
	at := now
	r := messages.Requeuer{Store: store, Services: svcs, Created: created, After: messages.DefaultRequeueAfter,
		Backlog: func(context.Context) (int, error) { return backlog, nil }, Now: func() time.Time { return at }}
	run := func(want int) {
		t.Helper()
		n, err := r.Run(ctx)
		if err != nil || n != want {
			t.Fatalf("at %s: requeued %d (%v), want %d", at.Sub(now), n, err, want)
		}
	}

	backlog = messages.MaxBacklog + 1
	run(0) // a backlog: the orphan may still be in it
	backlog = 0
	run(1)
	var ev messages.CreatedEvent
	if err := json.Unmarshal(created.Sent[0], &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Message.ID != orphan.ID || ev.Content.Subject != content.Subject || ev.DefaultAddresses == nil ||
		ev.DefaultAddresses.Email != "default@example.com" || ev.SenderMetadata.ServiceName != "TARI" || ev.ServiceVersion != svc.Version ||
		!ev.Message.CreatedAt.Equal(orphan.CreatedAt) || ev.Message.TimeToLiveSeconds != 3600 {
		t.Fatalf("requeued event %+v", ev)
	}
	run(0) // queued again just now: not before 2×5 minutes
	at = now.Add(6 * time.Minute)
	run(1) // the young one, and the orphan waits
	at = now.Add(11 * time.Minute)
	run(1) // the orphan's second time
	if got, _ := store.Get(ctx, fc, orphan.ID); got.Requeues != 2 {
		t.Fatalf("requeues %d, want 2", got.Requeues)
	}
	// Processed at last: never again.
	if err := store.SetStatus(ctx, fc, orphan.ID, messages.Rejected, messages.ReasonNoProfile, at); err != nil {
		t.Fatal(err)
	}
	if err := store.SetStatus(ctx, fc, young.ID, messages.Rejected, messages.ReasonNoProfile, at); err != nil {
		t.Fatal(err)
	}
	at = now.Add(24 * time.Hour)
	run(0)
	if len(created.Sent) != 3 {
		t.Fatalf("%d events queued, want 3", len(created.Sent))
	}

	// A failing queue: the run says so, and the message stays due.
	late := orphan
	late.ID = "01LATE"
	if err := store.Create(ctx, late, nil); err != nil {
		t.Fatal(err)
	}
	created.Err = errors.New("SQS unavailable")
	if n, err := r.Run(ctx); n != 0 || err == nil {
		t.Fatalf("with the queue down: %d, %v", n, err)
	}
	created.Err = nil
	run(1)
}
