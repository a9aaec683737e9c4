package messages_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/digital-citizenship/functions/pkg/messages"
	"github.com/digital-citizenship/functions/pkg/storetest"
)

// TestReleaser: the sweep releases what is due within the minute, once,
// with the delay that remains (its time to live counts from its time), and
// leaves later and cancelled messages alone.
func TestReleaser(t *testing.T) {
	st, q, svcs := &storetest.Messages{}, &storetest.Queue{}, &storetest.Services{}
	first := svc
	first.Version = 0
	if err := svcs.Create(context.Background(), first); err != nil {
		t.Fatal(err)
	}
	at := now
	u := messages.Submitter{Store: st, Created: q, Now: func() time.Time { return at }}
	schedule := func(in time.Duration) string {
		s := submission(writer, messages.NewMessage{Content: content, ScheduledAt: at.Add(in), TimeToLive: 3600})
		res, err := u.Submit(context.Background(), s)
		if err != nil {
			t.Fatal(err)
		}
		return res.ID
	}
	due, later, cancelled := schedule(90*time.Second), schedule(time.Hour), schedule(2*time.Minute)
	if len(q.Sent) != 0 {
		t.Fatalf("%d events queued at submission", len(q.Sent))
	}
	if _, err := messages.Cancel(context.Background(), st, st, "svc", fc, cancelled, at); err != nil {
		t.Fatal(err)
	}
	r := messages.Releaser{Store: st, Services: svcs, Created: q, Now: func() time.Time { return at.Add(45 * time.Second) }}
	n, err := r.Run(context.Background())
	if err != nil || n != 1 || len(q.Sent) != 1 || q.Delays[0] != 45*time.Second {
		t.Fatalf("released %d (%v), queued %d with delays %v", n, err, len(q.Sent), q.Delays)
	}
	var ev messages.CreatedEvent
	_ = json.Unmarshal(q.Sent[0], &ev)
	if ev.Message.ID != due || !ev.Message.ScheduledAt.Equal(at.Add(90*time.Second)) || ev.SenderMetadata.ServiceName != "TARI" {
		t.Fatalf("event %+v", ev)
	}
	if n, _ := r.Run(context.Background()); n != 0 {
		t.Fatalf("released again: %d", n)
	}
	// Processed from SCHEDULED, its time to live from its time.
	p := messages.Processor{Profiles: &storetest.Profiles{}, Store: st, Now: func() time.Time { return at.Add(90 * time.Second) }}
	if err := p.Process(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	if m, _ := st.Get(context.Background(), fc, due); m.Status != messages.Rejected { // no profile
		t.Fatalf("processed: %s", m.Status)
	}
	if m, _ := st.Get(context.Background(), fc, later); m.Status != messages.Scheduled {
		t.Fatalf("the later one: %s", m.Status)
	}
}
