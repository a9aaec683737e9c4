package profiles

import (
	"context"
	"time"
)

// Kinds of profile events, as the original named them.
const (
	Created = "ProfileCreatedEvent"
	Updated = "ProfileUpdatedEvent"
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
}

// Valid reports whether a decoded event has what its consumer needs.
func (e Event) Valid() bool { return e.FiscalCode != "" && (e.Kind == Created || e.Kind == Updated) }

// Queue carries profile events.
type Queue interface {
	// Send enqueues one event, encoded as JSON.
	Send(ctx context.Context, event any) error
}
