package messages

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/digital-citizenship/functions/pkg/callbacks"
	"github.com/digital-citizenship/functions/pkg/metrics"
	"github.com/digital-citizenship/functions/pkg/problem"
	"github.com/digital-citizenship/functions/pkg/profiles"
)

// Processor decides whether the recipient accepts a message, stores it in
// the inbox and queues its notifications (the created-messages consumer).
type Processor struct {
	Profiles profiles.Recipients
	Store    Store
	// One queue per channel; Webhook is set when WEBHOOK_CHANNEL_URL is.
	Emails, Pushes, Webhooks Queue
	Webhook                  bool
	// Platform is the platform's own service (welcome messages, data
	// downloads): the citizen's per-service preferences do not stop it.
	Platform string
	Now      func() time.Time
	// Metrics, when set, hears of each message PROCESSED or REJECTED.
	Metrics metrics.Sink
	// ReminderScale divides reminder offsets (1, or unset, in AWS).
	ReminderScale float64
	// Documents checks a message's documents before it is processed, and
	// Created takes its event again, later, while some are not uploaded.
	Documents Checker
	Created   DelayedQueue
	// Callbacks, when set, takes the delivery callbacks senders asked for
	// (message.processed, message.rejected).
	Callbacks Queue
	// Simulation, when set, decides which messages have simulated
	// outcomes and gives their simulated citizens (pkg/simulator).
	Simulation Simulation
}

// Simulation decides which messages' outcomes are simulated: their
// recipients may be simulated citizens, and their channels reach no
// provider (pkg/simulator).
type Simulation interface {
	// Simulated reports whether em's outcomes are simulated.
	Simulated(em EventMessage) bool
	// Recipient returns the simulated citizen of a fiscal code (ok false
	// for one that is not simulated; problem.ErrNotFound for a simulated
	// citizen without a profile).
	Recipient(fiscalCode string) (r profiles.Recipient, ok bool, err error)
}

// recipient reads the message's recipient: a simulated citizen for a
// simulated message, else the stored profile.
func (p Processor) recipient(ctx context.Context, em EventMessage) (profiles.Recipient, error) {
	if em.Simulated {
		if r, ok, err := p.Simulation.Recipient(em.FiscalCode); ok {
			return r, err
		}
	}
	return p.Profiles.Recipient(ctx, em.FiscalCode)
}

// DelayedQueue carries an event that is to be received after a delay.
type DelayedQueue interface {
	SendAfter(ctx context.Context, event any, delay time.Duration) error
}

// documentCheckDelay is the wait before looking for a message's documents
// again: 1 s, doubling, at most a minute.
func documentCheckDelay(checks int) time.Duration {
	return min(time.Duration(1<<min(checks, 6))*time.Second, time.Minute)
}

// ReasonSecureChannels is why the e-mail channel of a message that
// requires secure channels is SKIPPED.
const ReasonSecureChannels = "The message requires secure channels (require_secure_channels): it is not sent by e-mail."

// ReasonUndeliverable is the e-mail channel's FAILED reason for an address
// that bounced or complained; why is the reason recorded with it (a hard
// bounce, a complaint).
func ReasonUndeliverable(why string) string {
	return "The citizen's address is undeliverable (" + why + " reported by SES); e-mail resumes when the citizen changes it."
}

// Process handles one CreatedEvent. It returns nil once the message reached
// a final outcome (PROCESSED, REJECTED, or already final), and an error when
// the event must be retried; the message is then THROTTLED.
func (p Processor) Process(ctx context.Context, ev CreatedEvent) error {
	em := ev.Message
	em.Simulated = p.Simulation != nil && p.Simulation.Simulated(em)
	var checked []Attachment
	if len(ev.Attachments) > 0 {
		if p.Documents == nil || p.Created == nil {
			return p.fail(ctx, em, "Documents are not accepted here.")
		}
		docs, reason, err := documentsReady(ctx, p.Documents, em, ev.Attachments, p.Now())
		checked = docs
		switch {
		case errors.Is(err, ErrNotUploaded): // not all there yet: look again later
			if ev.DocumentChecks == 0 {
				// requeue-messages leaves it alone for the upload window: this
				// chain of checks is its event (a failure here costs only a
				// second chain).
				_ = p.Store.MarkRequeued(ctx, em.FiscalCode, em.ID, 0, em.CreatedAt.Add(UploadWindow))
			}
			next := ev
			next.DocumentChecks++
			if err := p.Created.SendAfter(ctx, next, documentCheckDelay(ev.DocumentChecks)); err != nil {
				return fmt.Errorf("queue the documents' next check: %w", err)
			}
			return nil
		case err != nil:
			return fmt.Errorf("check documents: %w", err)
		case reason != "":
			return p.fail(ctx, em, reason)
		}
	}
	rec, err := p.recipient(ctx, em)
	prof, pref := rec.Profile, rec.PreferenceFor(em.SenderServiceID)
	if p.Platform != "" && em.SenderServiceID == p.Platform {
		pref = profiles.Preference{IsInboxEnabled: true, IsEmailEnabled: true, IsWebhookEnabled: true}
	}
	switch {
	case errors.Is(err, problem.ErrNotFound):
		return p.reject(ctx, em, ReasonNoProfile)
	case err != nil:
		return p.throttle(ctx, em, fmt.Errorf("load profile: %w", err))
	case !prof.IsInboxEnabled:
		return p.reject(ctx, em, ReasonInboxDisabled)
	case !pref.IsInboxEnabled:
		return p.reject(ctx, em, ReasonSenderBlocked)
	}
	content := ev.Content
	// The documents are stored with the versions checked: every link names them.
	m := Message{ID: em.ID, FiscalCode: em.FiscalCode, SenderServiceID: em.SenderServiceID,
		Content: &content, Channels: map[string]Channel{}, FeatureLevel: ev.FeatureLevel, Attachments: checked}
	if ev.FeatureLevel == Advanced {
		m.ReminderPlan, m.RemindAt = Plan(ev.ReminderOffsets, content.DueDate, p.Now(), p.ReminderScale)
	}
	if ev.OpeningDeadlineDays > 0 { // its non-opening is signed once the deadline passes
		m.Acts.Deadline, m.Acts.Due = OpeningDeadline(p.Now(), ev.OpeningDeadlineDays, p.ReminderScale), true
	}
	base := NotificationEvent{Content: content, Message: em, SenderMetadata: ev.SenderMetadata, Documents: len(ev.Attachments)}
	var out []struct {
		q  Queue
		ev NotificationEvent
	}
	queue := func(q Queue, ev NotificationEvent) {
		out = append(out, struct {
			q  Queue
			ev NotificationEvent
		}{q, ev})
	}
	if to, source := emailAddress(prof, pref, ev); to != "" {
		switch {
		case content.RequireSecureChannels:
			m.Channels[Email] = Channel{AddressSource: source, Status: ChannelSkipped, Reason: ReasonSecureChannels, UpdatedAt: p.Now()}
		case source == ProfileAddress && bounced(rec, to):
			m.Channels[Email] = Channel{AddressSource: source, Status: ChannelFailed, Reason: ReasonUndeliverable(rec.Undeliverable.Reason), UpdatedAt: p.Now()}
		default:
			m.Channels[Email] = Channel{AddressSource: source}
			e := base
			e.Channel, e.ToAddress, e.AddressSource, e.ReminderOffsets = Email, to, source, ev.ReminderOffsets
			queue(p.Emails, e)
		}
	}
	if len(rec.Devices) > 0 && p.Pushes != nil {
		m.Channels[Push] = Channel{}
		e := base
		// A message that requires secure channels shows no subject either.
		e.Channel, e.Devices, e.Anonymous = Push, rec.Devices, prof.PushContent == profiles.PushAnonymous || content.RequireSecureChannels
		if len(prof.PreferredLanguages) > 0 {
			e.Language = prof.PreferredLanguages[0]
		}
		queue(p.Pushes, e)
	}
	if p.Webhook && p.Webhooks != nil && prof.IsWebhookEnabled && pref.IsWebhookEnabled {
		m.Channels[Webhook] = Channel{}
		e := base
		e.Channel = Webhook
		queue(p.Webhooks, e)
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
	metrics.Count(p.Metrics, metrics.Messages, map[string]string{"Outcome": string(Processed)})
	if err := callback(ctx, p.Callbacks, em, callbacks.MessageProcessed, "", string(Processed), "", p.Now()); err != nil {
		return fmt.Errorf("queue the processed callback: %w", err)
	}
	// The message is PROCESSED already; a failed send is retried as a whole
	// and Deliver is idempotent, so each channel is queued at least once
	// (and sent at most once: each channel claims its send).
	for _, o := range out {
		if err := o.q.Send(ctx, o.ev); err != nil {
			return fmt.Errorf("queue %s: %w", o.ev.Channel, err)
		}
	}
	return nil
}

// emailAddress picks the e-mail channel's address: none if the citizen
// blocked e-mail from this sender, else the profile's once validated, else
// the sender's default (the original's rule, for citizens without a usable
// address).
// bounced reports whether the citizen's address to bounced or complained.
func bounced(rec profiles.Recipient, to string) bool {
	return rec.Undeliverable != nil && strings.EqualFold(rec.Undeliverable.Address, to)
}

func emailAddress(prof profiles.Profile, pref profiles.Preference, ev CreatedEvent) (string, string) {
	switch {
	case !pref.IsEmailEnabled:
		return "", ""
	case prof.Email != "" && prof.IsEmailValidated:
		return prof.Email, ProfileAddress
	case ev.DefaultAddresses != nil && ev.DefaultAddresses.Email != "":
		return ev.DefaultAddresses.Email, DefaultAddress
	}
	return "", ""
}

func (p Processor) reject(ctx context.Context, em EventMessage, reason string) error {
	return p.end(ctx, em, Rejected, reason, map[string]string{"Outcome": string(Rejected), "Reason": RejectionCode(reason)})
}

// end gives a message its final status s (with reason), unless it has one
// already, and counts it.
func (p Processor) end(ctx context.Context, em EventMessage, s Status, reason string, dims map[string]string) error {
	err := p.Store.SetStatus(ctx, em.FiscalCode, em.ID, s, reason, p.Now())
	if err != nil && !errors.Is(err, problem.ErrConflict) {
		return fmt.Errorf("set status %s: %w", s, err)
	}
	if err == nil {
		metrics.Count(p.Metrics, metrics.Messages, dims)
		if s == Rejected {
			if err := callback(ctx, p.Callbacks, em, callbacks.MessageRejected, "", string(Rejected), RejectionCode(reason), p.Now()); err != nil {
				return fmt.Errorf("queue the rejected callback: %w", err)
			}
		}
	}
	return nil
}

func (p Processor) throttle(ctx context.Context, em EventMessage, cause error) error {
	if err := p.Store.SetStatus(ctx, em.FiscalCode, em.ID, Throttled, "", p.Now()); err != nil && !errors.Is(err, problem.ErrConflict) {
		return errors.Join(cause, fmt.Errorf("throttle: %w", err))
	}
	return cause
}

// fail marks a message FAILED for reason (documents refused or never
// uploaded).
func (p Processor) fail(ctx context.Context, em EventMessage, reason string) error {
	return p.end(ctx, em, Failed, reason, map[string]string{"Outcome": string(Failed)})
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
