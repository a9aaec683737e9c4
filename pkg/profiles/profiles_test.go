package profiles_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/digital-citizenship/functions/pkg/problem"
	"github.com/digital-citizenship/functions/pkg/profiles"
	"github.com/digital-citizenship/functions/pkg/storetest"
)

const fc = "SPNDNL80R13C555X"

func TestParse(t *testing.T) {
	tests := []struct {
		name, body, wantDetail string
	}{
		{"only version", `{"version":0}`, ""},
		{"nulls take defaults", `{"version":0,"is_inbox_enabled":null,"email":null}`, ""},
		{"unknown property ignored", `{"version":3,"whatever":1}`, ""},
		{"missing version", `{}`, "value.version is not an integer"},
		{"bad email", `{"version":0,"email":"nope"}`, "value.email is not an e-mail address"},
		{"bad language", `{"version":0,"preferred_languages":["xx_XX"]}`, "value.preferred_languages.0 is not one of"},
		{"bad block", `{"version":0,"blocked_inbox_or_channels":{"s":["SMS"]}}`, "value.blocked_inbox_or_channels.s.0 is not one of"},
		{"wrong type", `{"version":"1"}`, "value.version is not a valid integer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := profiles.Parse(fc, []byte(tt.body))
			if tt.wantDetail == "" {
				if err != nil {
					t.Fatalf("unexpected %v", err)
				}
				if p.FiscalCode != fc || p.IsInboxEnabled {
					t.Fatalf("parsed %+v", p)
				}
				return
			}
			e := problem.As(err)
			if e.Kind != problem.Invalid || e.Title != profiles.InvalidTitle || !strings.Contains(e.Detail, tt.wantDetail) {
				t.Fatalf("got %+v, want detail containing %q", e, tt.wantDetail)
			}
		})
	}
}

func TestUpsert(t *testing.T) {
	ctx := context.Background()
	st, q := &storetest.Profiles{}, &storetest.Queue{}
	p, err := profiles.Upsert(ctx, st, q, profiles.Profile{FiscalCode: fc, Version: 42, Email: "a@b.it"}, time.Now())
	if err != nil || p.Version != 0 {
		t.Fatalf("create: %+v %v", p, err)
	}
	p, err = profiles.Upsert(ctx, st, q, profiles.Profile{FiscalCode: fc, Version: 0, IsInboxEnabled: true}, time.Now())
	if err != nil || p.Version != 1 || p.Email != "" {
		t.Fatalf("update replaces every attribute: %+v %v", p, err)
	}
	_, err = profiles.Upsert(ctx, st, q, profiles.Profile{FiscalCode: fc, Version: 0}, time.Now())
	e := problem.As(err)
	if e.Kind != problem.Conflict || e.Title != "Conflict" || e.Detail != "Version 0 is not the latest version." {
		t.Fatalf("stale version: %+v", e)
	}
	// Each write was announced before it was made; a refused one was not.
	if len(q.Sent) != 2 || !strings.Contains(string(q.Sent[0]), `"kind":"ProfileCreatedEvent"`) ||
		!strings.Contains(string(q.Sent[1]), `"kind":"ProfileUpdatedEvent"`) || !strings.Contains(string(q.Sent[1]), `"version":1`) {
		t.Fatalf("events %s", q.Sent)
	}
	// No event queued, nothing written.
	q.Err = errors.New("sqs down")
	_, err = profiles.Upsert(ctx, st, q, profiles.Profile{FiscalCode: fc, Version: 1}, time.Now())
	if problem.KindOf(err) != problem.Unavailable {
		t.Fatalf("queue down: %v", err)
	}
	if p, _ := st.Latest(ctx, fc); p.Version != 1 {
		t.Fatalf("a write without its event: version %d", p.Version)
	}
}

func TestUpsert_ConcurrentWritersExactlyOneWins(t *testing.T) {
	ctx := context.Background()
	st, q := &storetest.Profiles{}, &storetest.Queue{}
	if _, err := profiles.Upsert(ctx, st, q, profiles.Profile{FiscalCode: fc}, time.Now()); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = profiles.Upsert(ctx, st, q, profiles.Profile{FiscalCode: fc, Version: 0}, time.Now())
		}()
	}
	wg.Wait()
	wins := 0
	for _, err := range errs {
		switch {
		case err == nil:
			wins++
		case problem.KindOf(err) != problem.Conflict:
			t.Fatalf("loser got %v, want 409", err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d writers won, want exactly 1", wins)
	}
}

func TestViews(t *testing.T) {
	p := profiles.Profile{FiscalCode: fc, Email: "a@b.it", BlockedInboxOrChannels: map[string][]string{"svc": {"INBOX"}, "other": {"EMAIL"}}}
	r := profiles.Recipient{Profile: p}
	if r.LimitedView("svc").SenderAllowed {
		t.Error("INBOX block ignored")
	}
	if !r.LimitedView("other").SenderAllowed {
		t.Error("only an INBOX block forbids the sender")
	}
	if v := p.ExtendedView(); v.Email != "a@b.it" || v.Version != 0 {
		t.Errorf("extended %+v", v)
	}
}
