// Package welcome greets citizens: on the profile event that first finds a
// citizen's inbox enabled it sends the welcome messages, in the citizen's
// language, from the platform's own service, through the same pipeline as
// any message (no HTTP call to ourselves). Each message is sent once: its
// submission carries an Idempotency-Key of its own, and the citizen is
// marked welcomed once both are accepted.
package welcome

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/digital-citizenship/functions/pkg/auth"
	"github.com/digital-citizenship/functions/pkg/messages"
	"github.com/digital-citizenship/functions/pkg/problem"
	"github.com/digital-citizenship/functions/pkg/profiles"
	"github.com/digital-citizenship/functions/pkg/services"
)

// Marks remembers the citizens who were welcomed.
type Marks interface {
	// Welcomed reports whether the citizen was welcomed.
	Welcomed(ctx context.Context, fiscalCode string) (bool, error)
	// MarkWelcomed records that the citizen was welcomed.
	MarkWelcomed(ctx context.Context, fiscalCode string, at time.Time) error
}

// Handler consumes profile events.
type Handler struct {
	Profiles  profiles.Recipients
	Marks     Marks
	Submitter messages.Submitter
	// Service is the platform's own service, the sender of welcome messages.
	Service services.Service
	// Wait is how long an event waits for the profile version it announces
	// (written just after it was queued); after that the write is taken
	// as failed and the event dropped.
	Wait time.Duration
	Now  func() time.Time
}

// Handle sends the welcome messages when the citizen's inbox is enabled and
// the citizen was not welcomed yet. It returns an error when the event must
// be retried.
func (h Handler) Handle(ctx context.Context, ev profiles.Event) error {
	if ev.Kind != profiles.Created && ev.Kind != profiles.Updated {
		return nil
	}
	rec, ok, err := profiles.Announced(ctx, h.Profiles, ev, h.Now(), h.Wait)
	if !ok || !rec.Profile.IsInboxEnabled {
		return err
	}
	done, err := h.Marks.Welcomed(ctx, ev.FiscalCode)
	if err != nil {
		return fmt.Errorf("read welcome mark: %w", err)
	}
	if done {
		return nil
	}
	texts := Texts(rec.Profile.PreferredLanguages)
	for i, c := range texts {
		s := messages.Submission{
			Caller:     auth.Caller{SubscriptionID: h.Service.ServiceID, UserID: "platform", Groups: []auth.Group{auth.MessageWrite}},
			Service:    h.Service,
			FiscalCode: ev.FiscalCode,
			Message:    messages.NewMessage{TimeToLive: TimeToLive, Content: c},
			// One key per welcome message and citizen; the body names the
			// message, not its text, so that a retry after a change of
			// language is still a replay.
			IdempotencyKey: fmt.Sprintf("welcome-%d-%s", i, ev.FiscalCode),
			Body:           fmt.Appendf(nil, "welcome message %d", i),
		}
		if _, err := h.Submitter.Submit(ctx, s); err != nil {
			return fmt.Errorf("submit welcome message %d: %w", i, err)
		}
	}
	if err := h.Marks.MarkWelcomed(ctx, ev.FiscalCode, h.Now()); err != nil {
		return fmt.Errorf("mark welcomed: %w", err)
	}
	return nil
}

// TimeToLive of welcome messages: a day for their notifications.
const TimeToLive = 24 * 3600

// EnsureService creates the platform's service (version 0) unless it exists.
func EnsureService(ctx context.Context, st services.Store, s services.Service) error {
	err := st.Create(ctx, s)
	if err != nil && !errors.Is(err, problem.ErrConflict) {
		return fmt.Errorf("create the platform service: %w", err)
	}
	return nil
}

// PlatformService is the platform's own service, id serviceID: the sender
// of welcome messages, visible in the catalogue so that the app can name it.
func PlatformService(serviceID string) services.Service {
	return services.Service{ServiceID: serviceID, ServiceName: "IO", OrganizationName: "Digital Citizenship Platform",
		DepartmentName: "Platform", OrganizationFiscalCode: "00000000000", AuthorizedCIDRs: []string{},
		AuthorizedRecipients: []string{}, IsVisible: true}
}
