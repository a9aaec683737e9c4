package profiles

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/digital-citizenship/functions/pkg/problem"
)

// Kinds of profile events, as the original named them, and the citizen's
// request for a new e-mail validation link.
const (
	Created                  = "ProfileCreatedEvent"
	Updated                  = "ProfileUpdatedEvent"
	EmailValidationRequested = "EmailValidationRequestedEvent"
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
}

// Valid reports whether a decoded event has what its consumer needs.
func (e Event) Valid() bool {
	switch e.Kind {
	case Created, Updated:
		return e.FiscalCode != ""
	case EmailValidationRequested:
		return e.FiscalCode != "" && e.Request != ""
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
