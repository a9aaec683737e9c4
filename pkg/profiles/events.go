package profiles

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/digital-citizenship/functions/pkg/feed"
	"github.com/digital-citizenship/functions/pkg/problem"
)

// Kinds of profile events, as the original named them, and the citizen's
// request for a new e-mail validation link.
const (
	Created                  = "ProfileCreatedEvent"
	Updated                  = "ProfileUpdatedEvent"
	EmailValidationRequested = "EmailValidationRequestedEvent"
	// PreferenceChanged announces a service preference that subscribes the
	// citizen to a service or unsubscribes them (the subscriptions feed).
	PreferenceChanged = "ServicePreferenceChangedEvent"
)

// Event is put on the profile-events queue for every profile write. It is
// queued before the write (so that no write goes unannounced) and carries no
// personal data but the fiscal code: its consumer reads the profile, and
// waits for Version to appear (an event whose write failed is dropped after
// a while).
type Event struct {
	Kind       string    `json:"kind"`
	FiscalCode string    `json:"fiscalCode"`
	Version    int       `json:"version"`
	At         time.Time `json:"at"`
	// EmailChanged is set when the write sets or changes the address: its
	// validation starts.
	EmailChanged bool `json:"emailChanged,omitempty"`
	// Request names an EmailValidationRequested event (each request sends
	// a link once).
	Request string `json:"request,omitempty"`
	// Feed are the changes of the citizen's subscriptions the write makes
	// (pkg/feed), recorded in the subscriptions feed at At.
	Feed []feed.Change `json:"feed,omitempty"`
}

// Valid reports whether a decoded event has what its consumer needs.
func (e Event) Valid() bool {
	switch e.Kind {
	case Created, Updated:
		return e.FiscalCode != ""
	case EmailValidationRequested:
		return e.FiscalCode != "" && e.Request != ""
	case PreferenceChanged:
		return e.FiscalCode != "" && len(e.Feed) == 1 && e.Feed[0].Service != ""
	}
	return false
}

// Queue carries profile events.
type Queue interface {
	// Send enqueues one event, encoded as JSON.
	Send(ctx context.Context, event any) error
}

// ErrNotYetWritten asks for an event to be retried: the version it
// announces is not readable yet.
var ErrNotYetWritten = errors.New("the profile version is not written yet")

// Announced reads the recipient an event announces. It returns
// ErrNotYetWritten while the event's version is not readable, and ok false
// once wait has passed since the event without it (the announced write
// failed: the event is dropped).
func Announced(ctx context.Context, st Recipients, ev Event, now time.Time, wait time.Duration) (r Recipient, ok bool, err error) {
	r, err = st.Recipient(ctx, ev.FiscalCode)
	switch {
	case err == nil && r.Profile.Version >= ev.Version:
		return r, true, nil
	case err != nil && !errors.Is(err, problem.ErrNotFound):
		return r, false, fmt.Errorf("read profile: %w", err)
	case now.Sub(ev.At) > wait:
		return r, false, nil
	}
	return r, false, ErrNotYetWritten
}

// SubscriptionState is who may reach the citizen's inbox with p and prefs
// (the preferences of p's settings version), as the feed counts it.
func SubscriptionState(p Profile, prefs Preferences) feed.State {
	if !p.IsInboxEnabled {
		return feed.State{}
	}
	s := p.settings()
	st := feed.State{Inbox: true, All: s.Mode != Manual}
	if s.Mode == Legacy {
		for svc := range p.BlockedInboxOrChannels {
			if p.Blocked(svc, BlockInbox) {
				st.Services = append(st.Services, svc)
			}
		}
		return st
	}
	for svc, pref := range prefs {
		if pref.SettingsVersion == s.Version && pref.IsInboxEnabled != st.All {
			st.Services = append(st.Services, svc) // AUTO's exceptions, MANUAL's allowed
		}
	}
	return st
}

// FeedRecorder records the feed changes profile events carry, once the
// write they announce is readable (handle-profile-event).
type FeedRecorder struct {
	Profiles Recipients
	Feed     feed.Store
	Wait     time.Duration
	Now      func() time.Time
}

// Handle records ev's changes. A preference's event is recorded once the
// preference reads as it says (dropped after Wait: its write failed, or a
// later one changed it back, whose own event tells).
func (h FeedRecorder) Handle(ctx context.Context, ev Event) error {
	if len(ev.Feed) == 0 {
		return nil
	}
	r, ok, err := Announced(ctx, h.Profiles, ev, h.Now(), h.Wait)
	if !ok {
		return err
	}
	if ev.Kind == PreferenceChanged {
		c := ev.Feed[0]
		if got := r.Profile.IsInboxEnabled && r.PreferenceFor(c.Service).IsInboxEnabled; got != c.Subscribed {
			if h.Now().Sub(ev.At) > h.Wait {
				return nil
			}
			return ErrNotYetWritten
		}
	}
	if err := h.Feed.Record(ctx, ev.FiscalCode, ev.At, ev.Feed); err != nil {
		return fmt.Errorf("record the subscriptions feed: %w", err)
	}
	return nil
}
