package welcome_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/digital-citizenship/functions/pkg/messages"
	"github.com/digital-citizenship/functions/pkg/profiles"
	"github.com/digital-citizenship/functions/pkg/storetest"
	"github.com/digital-citizenship/functions/pkg/welcome"
)

const fc = "SPNDNL80R13C555X"

type world struct {
	profs   *storetest.Profiles
	created *storetest.Queue
	h       welcome.Handler
}

func newWorld(t *testing.T) *world {
	w := &world{profs: &storetest.Profiles{}, created: &storetest.Queue{}}
	svcs := &storetest.Services{}
	svc := welcome.PlatformService("io-platform")
	if err := welcome.EnsureService(context.Background(), svcs, svc); err != nil {
		t.Fatal(err)
	}
	if err := welcome.EnsureService(context.Background(), svcs, svc); err != nil {
		t.Fatalf("a second start must find the service: %v", err)
	}
	w.h = welcome.Handler{Profiles: w.profs, Marks: w.profs, Service: svc, Wait: time.Minute, Now: time.Now,
		Submitter: messages.Submitter{Store: &storetest.Messages{}, Created: w.created, Now: time.Now}}
	return w
}

func (w *world) write(t *testing.T, p profiles.Profile) profiles.Event {
	t.Helper()
	if err := w.profs.Create(context.Background(), p, nil); err != nil {
		t.Fatal(err)
	}
	kind := profiles.Created
	if p.Version > 0 {
		kind = profiles.Updated
	}
	return profiles.Event{Kind: kind, FiscalCode: p.FiscalCode, Version: p.Version, At: time.Now()}
}

// sent returns the welcome messages queued for processing, by id (a replay
// may queue a message's event again).
func (w *world) sent(t *testing.T) map[string]messages.CreatedEvent {
	t.Helper()
	out := map[string]messages.CreatedEvent{}
	for _, b := range w.created.Sent {
		var ev messages.CreatedEvent
		if err := json.Unmarshal(b, &ev); err != nil {
			t.Fatal(err)
		}
		out[ev.Message.ID] = ev
	}
	return out
}

func TestWelcome_OnceWhenTheInboxIsFirstEnabled(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	ev := w.write(t, profiles.Profile{FiscalCode: fc, PreferredLanguages: []string{"en_GB"}})
	if err := w.h.Handle(ctx, ev); err != nil || len(w.sent(t)) != 0 {
		t.Fatalf("inbox disabled: %v, %d sent", err, len(w.sent(t)))
	}
	ev = w.write(t, profiles.Profile{FiscalCode: fc, PreferredLanguages: []string{"en_GB"}, IsInboxEnabled: true, Version: 1})
	if err := w.h.Handle(ctx, ev); err != nil {
		t.Fatal(err)
	}
	sent := w.sent(t)
	if len(sent) != 2 {
		t.Fatalf("%d welcome messages, want 2", len(sent))
	}
	for _, m := range sent {
		if m.Message.SenderServiceID != "io-platform" || m.Message.FiscalCode != fc || m.SenderMetadata.OrganizationName == "" {
			t.Fatalf("welcome message %+v", m)
		}
		if m.Content != welcome.Texts([]string{"en_GB"})[0] && m.Content != welcome.Texts([]string{"en_GB"})[1] {
			t.Fatalf("not in English: %q", m.Content.Subject)
		}
	}
	// Redelivered, or another update: nothing more.
	if err := w.h.Handle(ctx, ev); err != nil {
		t.Fatal(err)
	}
	ev = w.write(t, profiles.Profile{FiscalCode: fc, IsInboxEnabled: true, Version: 2})
	if err := w.h.Handle(ctx, ev); err != nil || len(w.created.Sent) != 2 {
		t.Fatalf("welcomed twice: %v, %d events", err, len(w.created.Sent))
	}
}

func TestWelcome_RetriedAfterAFailureWithoutDuplicates(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	ev := w.write(t, profiles.Profile{FiscalCode: fc, IsInboxEnabled: true, PreferredLanguages: []string{"de_DE"}})
	w.created.Err = errors.New("sqs down")
	if err := w.h.Handle(ctx, ev); err == nil {
		t.Fatal("a failed submission must ask for a retry")
	}
	w.created.Err = nil
	w.profs.MarkErr = errors.New("dynamodb down")
	if err := w.h.Handle(ctx, ev); err == nil {
		t.Fatal("a failed mark must ask for a retry")
	}
	w.profs.MarkErr = nil
	if err := w.h.Handle(ctx, ev); err != nil {
		t.Fatal(err)
	}
	sent := w.sent(t)
	if len(sent) != 2 {
		t.Fatalf("%d welcome messages after retries, want 2", len(sent))
	}
	for _, m := range sent {
		if m.Content != welcome.Texts(nil)[0] && m.Content != welcome.Texts(nil)[1] {
			t.Fatalf("German has no texts: Italian expected, got %q", m.Content.Subject)
		}
	}
}

func TestWelcome_ConcurrentEventsWelcomeOnce(t *testing.T) {
	w := newWorld(t)
	ev := w.write(t, profiles.Profile{FiscalCode: fc, IsInboxEnabled: true})
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = w.h.Handle(context.Background(), ev) }()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := len(w.sent(t)); n != 2 {
		t.Fatalf("%d welcome messages from 8 concurrent deliveries, want 2", n)
	}
}

func TestWelcome_WaitsForTheAnnouncedWrite(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	ev := profiles.Event{Kind: profiles.Created, FiscalCode: fc, At: time.Now()}
	if err := w.h.Handle(ctx, ev); !errors.Is(err, profiles.ErrNotYetWritten) {
		t.Fatalf("a fresh event before its write: %v", err)
	}
	ev.At = time.Now().Add(-2 * time.Minute)
	if err := w.h.Handle(ctx, ev); err != nil {
		t.Fatalf("an old event whose write never happened is dropped: %v", err)
	}
	w.write(t, profiles.Profile{FiscalCode: fc, IsInboxEnabled: true})
	ev = profiles.Event{Kind: profiles.Updated, FiscalCode: fc, Version: 1, At: time.Now()}
	if err := w.h.Handle(ctx, ev); !errors.Is(err, profiles.ErrNotYetWritten) {
		t.Fatalf("version 1 announced, version 0 stored: %v", err)
	}
}
