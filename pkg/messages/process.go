package messages

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/digital-citizenship/functions/pkg/problem"
	"github.com/digital-citizenship/functions/pkg/profiles"
)

// Processor decides whether the recipient accepts a message, stores it in
// the inbox and queues its notifications (the created-messages consumer).
type Processor struct {
	Profiles profiles.Store
	Store    Store
	Emails   Queue
	Now      func() time.Time
}

// Process handles one CreatedEvent. It returns nil once the message reached
// a final outcome (PROCESSED, REJECTED, or already final), and an error when
// the event must be retried; the message is then THROTTLED.
func (p Processor) Process(ctx context.Context, ev CreatedEvent) error {
	em := ev.Message
	prof, err := p.Profiles.Latest(ctx, em.FiscalCode)
	switch {
	case errors.Is(err, problem.ErrNotFound):
		return p.reject(ctx, em, ReasonNoProfile)
	case err != nil:
		return p.throttle(ctx, em, fmt.Errorf("load profile: %w", err))
	case !prof.IsInboxEnabled:
		return p.reject(ctx, em, ReasonInboxDisabled)
	case prof.Blocked(em.SenderServiceID, profiles.BlockInbox):
		return p.reject(ctx, em, ReasonSenderBlocked)
	}
	content := ev.Content
	m := Message{ID: em.ID, FiscalCode: em.FiscalCode, SenderServiceID: em.SenderServiceID,
		Content: &content, Channels: map[string]Channel{}}
	to, source := emailAddress(prof, ev)
	if to != "" {
		m.Channels[Email] = Channel{AddressSource: source}
	}
	sender := SenderService{FiscalCode: em.FiscalCode, ServiceID: em.SenderServiceID,
		ServiceVersion: ev.ServiceVersion, LastNotificationAt: p.Now()}
	err = p.Store.Deliver(ctx, m, sender)
	if errors.Is(err, problem.ErrConflict) {
		return nil // REJECTED or FAILED meanwhile: nothing to deliver
	}
	if err != nil {
		return p.throttle(ctx, em, fmt.Errorf("deliver: %w", err))
	}
	if to == "" {
		return nil
	}
	// The message is PROCESSED already; a failed send is retried as a whole
	// and Deliver is idempotent, so the e-mail is queued at least once.
	if err := p.Emails.Send(ctx, EmailEvent{Content: content, Message: em, SenderMetadata: ev.SenderMetadata,
		ToAddress: to, AddressSource: source}); err != nil {
		return fmt.Errorf("queue e-mail: %w", err)
	}
	return nil
}

// emailAddress picks the e-mail channel's address: none if the citizen
// blocked e-mail from this sender, else the profile's, else the default.
func emailAddress(prof profiles.Profile, ev CreatedEvent) (string, string) {
	switch {
	case prof.Blocked(ev.Message.SenderServiceID, profiles.BlockEmail):
		return "", ""
	case prof.Email != "":
		return prof.Email, ProfileAddress
	case ev.DefaultAddresses != nil && ev.DefaultAddresses.Email != "":
		return ev.DefaultAddresses.Email, DefaultAddress
	}
	return "", ""
}

func (p Processor) reject(ctx context.Context, em EventMessage, reason string) error {
	err := p.Store.SetStatus(ctx, em.FiscalCode, em.ID, Rejected, reason, p.Now())
	if err != nil && !errors.Is(err, problem.ErrConflict) {
		return fmt.Errorf("reject: %w", err)
	}
	return nil
}

func (p Processor) throttle(ctx context.Context, em EventMessage, cause error) error {
	if err := p.Store.SetStatus(ctx, em.FiscalCode, em.ID, Throttled, "", p.Now()); err != nil && !errors.Is(err, problem.ErrConflict) {
		return errors.Join(cause, fmt.Errorf("throttle: %w", err))
	}
	return cause
}

// Fail marks a message FAILED after its event was given up on (read from the
// dead-letter queue), so that no accepted message stays ACCEPTED/THROTTLED.
func (p Processor) Fail(ctx context.Context, ev CreatedEvent) error {
	err := p.Store.SetStatus(ctx, ev.Message.FiscalCode, ev.Message.ID, Failed, "", p.Now())
	if err != nil && !errors.Is(err, problem.ErrConflict) {
		return fmt.Errorf("fail: %w", err)
	}
	return nil
}
