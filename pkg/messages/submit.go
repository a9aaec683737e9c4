package messages

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/digital-citizenship/functions/pkg/auth"
	"github.com/digital-citizenship/functions/pkg/ids"
	"github.com/digital-citizenship/functions/pkg/metrics"
	"github.com/digital-citizenship/functions/pkg/problem"
	"github.com/digital-citizenship/functions/pkg/profiles"
	"github.com/digital-citizenship/functions/pkg/services"
)

// IdempotencyWindow is how long an Idempotency-Key is remembered.
const IdempotencyWindow = 24 * time.Hour

// Submitter accepts messages from services.
type Submitter struct {
	Store   Store
	Created Queue
	Now     func() time.Time
	// Metrics, when set, hears of each message accepted (not of replays).
	Metrics metrics.Sink
	// Payments, when set, finds a receipt that came before a payment
	// notice, which is then PAID at once.
	Payments Payments
	// Documents, when set, takes an ADVANCED message's documents (the
	// submission answers where to upload them).
	Documents Uploads
	// Lane is its messages' lane (empty: normal): the platform's own are
	// priority.
	Lane string
}

// CountedSubmitter is a Submitter whose submissions count against their
// service's daily limit: the API's (the platform's own messages are not
// counted). Apart, so that the functions that only submit the platform's
// messages do not link the counting.
type CountedSubmitter struct {
	Submitter
	Quotas Quotas
	// BulkThreshold is the platform's default of a service's submissions
	// in the last minute from which its messages go bulk (0:
	// DefaultBulkThreshold).
	BulkThreshold int
}

// Submitted is what a submission returns: the message id, its lane and,
// when it was counted, its service's quota as this execution environment
// knows it.
type Submitted struct {
	ID    string
	Lane  string
	Quota QuotaState
}

// Submission is one submitMessageforUser call, already decoded.
type Submission struct {
	Caller     auth.Caller
	Service    services.Service
	FiscalCode string
	Message    NewMessage
	// IdempotencyKey is the client's Idempotency-Key header, if any, and
	// Body the raw request body it must match on replay.
	IdempotencyKey string
	Body           []byte
	// Bulk is the sender's asking for the bulk lane (LaneHeader).
	Bulk bool
}

// Authorize applies the handler-specific checks of the original, in order:
// limited recipients, default addresses, payment amount.
func (s Submission) Authorize() error {
	c, svc := s.Caller, s.Service
	if c.Test && !profiles.IsSandbox(s.FiscalCode) {
		return auth.ErrTestRecipient
	}
	switch {
	case c.Has(auth.LimitedMessageWrite):
		if !slices.Contains(svc.AuthorizedRecipients, s.FiscalCode) {
			return auth.ErrRecipientForbidden
		}
	case !c.Has(auth.MessageWrite):
		return auth.ErrProductionForbidden
	}
	if s.Message.HasDefaultAddresses && !c.Has(auth.MessageWriteDefaultAddress) {
		return auth.ErrDefaultAddressesForbidden
	}
	if s.Message.FeatureLevel == Advanced && !c.Has(auth.MessageWriteAdvanced) {
		return auth.ErrAdvancedForbidden
	}
	if len(s.Message.Attachments) > 0 && s.Message.FeatureLevel != Advanced {
		return auth.ErrAttachmentsForbidden
	}
	if d := s.Message.Content.ThirdPartyData; d != nil && d.HasAttachments && s.Message.FeatureLevel != Advanced {
		return ErrRemoteAttachmentsForbidden
	}
	if pd := s.Message.Content.PaymentData; pd != nil && pd.Amount > svc.MaxAllowedPaymentAmount {
		return problem.New(problem.Invalid, "Error while sending payment metadata",
			fmt.Sprintf("The requested amount (%d cents) exceeds the maximum allowed for this service (%d cents)",
				pd.Amount, svc.MaxAllowedPaymentAmount))
	}
	return nil
}

// Submit stores the message with its content as ACCEPTED (so its sender can
// read it at once, and it survives a lost queue message) and queues it for
// processing; the inbox shows it only once processed. It
// returns the message id; a replay of an Idempotency-Key with the same body
// returns the first id and creates nothing.
func (u Submitter) Submit(ctx context.Context, s Submission) (Submitted, error) {
	if err := u.check(s); err != nil {
		return Submitted{}, err
	}
	lane, id, err := u.submit(ctx, s, u.Store.Create)
	if errors.Is(err, errReplayed) {
		err = nil
	}
	return Submitted{ID: id, Lane: lane}, err
}

// check applies the submission's checks before anything is written.
func (u Submitter) check(s Submission) error {
	if err := s.Authorize(); err != nil {
		return err
	}
	if len(s.Message.Attachments) > 0 && u.Documents == nil {
		return problem.New(problem.Forbidden, "Call forbidden", "Documents are not accepted here.")
	}
	return nil
}

// Submit is Submitter.Submit that counts the message in its service's day
// in the same write (a replay is not counted again); a submission over the
// limit is ErrDailyLimit with nothing written. What remains of the day is
// this environment's knowledge: the counters read (one request) at most
// every usageRefresh, less what it counted since; it is higher than the
// truth by at most what other environments counted since the read.
func (u CountedSubmitter) Submit(ctx context.Context, s Submission) (Submitted, error) {
	if s.Caller.Test {
		return u.Submitter.Submit(ctx, s) // a test key's messages are not counted
	}
	if err := u.check(s); err != nil {
		return Submitted{}, err
	}
	now := u.Now()
	q := QuotaFor(s.Service.ServiceID, s.Service.DailyLimit(), now)
	if seen.stale(q, now) {
		if n, err := u.Quotas.Used(ctx, q); err == nil {
			seen.record(q, n, now)
			u.usage(q, n)
		}
	}
	// A campaign goes bulk: the service's submissions in the last minute,
	// as this environment knows them, reached its threshold.
	threshold := cmp.Or(s.Service.BulkThresholdPerMinute, u.BulkThreshold, DefaultBulkThreshold)
	if seen.recent(q, now) >= threshold {
		s.Bulk = true
	}
	lane, id, err := u.submit(ctx, s, func(ctx context.Context, m Message, idem *Idempotency) error {
		return u.Quotas.CreateCounted(ctx, m, idem, q)
	})
	state := QuotaState{Limit: q.Limit, Reset: q.Reset}
	switch {
	case errors.Is(err, ErrDailyLimit):
		seen.record(q, q.Limit, now)
		u.usage(q, q.Limit)
	case id != "":
		state.Remaining = seen.count(q, !errors.Is(err, errReplayed))
	}
	if errors.Is(err, errReplayed) {
		err = nil
	}
	return Submitted{ID: id, Lane: lane, Quota: state}, err
}

// errReplayed marks a submission answered with an earlier one's id.
var errReplayed = errors.New("replayed")

// usage emits the share of the day's limit a service used, when the
// environment reads it: operators see a service near its limit.
func (u CountedSubmitter) usage(q Quota, used int) {
	if u.Metrics != nil {
		metrics.EmitWithProperties(u.Metrics, metrics.DailyLimitUsage, "Percent", float64(used)*100/float64(q.Limit), nil,
			map[string]string{"ServiceId": q.ServiceID})
	}
}

// submit creates the message with create and queues it, and returns its
// lane and id; a replay returns the first id with errReplayed.
func (u Submitter) submit(ctx context.Context, s Submission, create func(context.Context, Message, *Idempotency) error) (string, string, error) {
	now := u.Now()
	if !s.Message.ScheduledAt.IsZero() {
		if err := checkSchedule(s.Message.ScheduledAt, now); err != nil {
			return "", "", err
		}
	}
	content := s.Message.Content
	if s.Service.RequireSecureChannels { // the service's default
		content.RequireSecureChannels = true
	}
	m := Message{
		ID: ids.ULID(now), FiscalCode: s.FiscalCode, SenderServiceID: s.Service.ServiceID,
		SenderUserID: s.Caller.UserID, TimeToLive: s.Message.TimeToLive, CreatedAt: now,
		Pending: true, Status: Accepted, StatusAt: now, Content: &content, DefaultEmail: s.Message.DefaultEmail,
		FeatureLevel: s.Message.FeatureLevel, Attachments: s.Message.Attachments, Reference: s.Message.Reference,
		Callbacks: s.Service.CallbackEvents, Lane: cmp.Or(u.Lane, LaneNormal), Test: s.Caller.Test,
	}
	if s.Bulk {
		m.Lane = LaneBulk
	}
	if scheduled := !s.Message.ScheduledAt.IsZero(); scheduled {
		// Kept until its time: the sweep of scheduled messages queues it,
		// in the bulk lane (released many at once, at a time chosen ahead).
		m.Status, m.ScheduledAt, m.Lane = Scheduled, s.Message.ScheduledAt, LaneBulk
	}
	if pd := content.PaymentData; pd != nil {
		m.Payee, m.PaymentStatus = payee(pd, s.Service.OrganizationFiscalCode), NotPaid
	}
	var idem *Idempotency
	if s.IdempotencyKey != "" {
		idem = &Idempotency{ServiceID: s.Service.ServiceID, KeyHash: hash(s.IdempotencyKey),
			BodyHash: hash(s.FiscalCode + "\n" + string(s.Body)), FiscalCode: s.FiscalCode,
			MessageID: m.ID, ExpiresAt: now.Add(IdempotencyWindow)}
	}
	err := create(ctx, m, idem)
	if errors.Is(err, problem.ErrConflict) && idem != nil {
		lane, id, err := u.replay(ctx, *idem, s)
		if err == nil {
			err = errReplayed
		}
		return lane, id, err
	}
	if errors.Is(err, ErrDailyLimit) || errors.Is(err, ErrCountersBusy) || errors.Is(err, ErrNoConfiguration) {
		return "", "", problem.As(err)
	}
	if err != nil {
		return "", "", problem.Wrap(problem.Internal, err, "Query error", "Error while creating Message")
	}
	if m.Status == Scheduled {
		metrics.Count(u.Metrics, metrics.Messages, map[string]string{"Outcome": string(Scheduled)})
		return m.Lane, m.ID, nil
	}
	if err := u.Created.Send(ctx, createdEvent(m, s.Service)); err != nil {
		// The message can never be processed: make that visible at once, and
		// let a retry with the same Idempotency-Key really retry.
		_ = u.Store.SetStatus(ctx, m.FiscalCode, m.ID, Failed, "", u.Now())
		if idem != nil {
			_ = u.Store.ReleaseIdempotency(ctx, idem.ServiceID, idem.KeyHash)
		}
		return "", "", problem.Wrap(problem.Unavailable, err, "Service unavailable",
			"The message could not be queued for delivery; it was not sent. Retry later.")
	}
	metrics.Count(u.Metrics, metrics.Messages, map[string]string{"Outcome": string(Accepted)})
	u.paidBefore(ctx, m)
	return m.Lane, m.ID, nil
}

// paidBefore marks a new payment notice PAID when the payment system's
// receipt came first. It reads after the message is written, and a receipt
// reads the notice's messages after it is written, so that one of the two
// sees the other; a failure here leaves the message NOT_PAID, and the
// reminders look for the receipt again before each reminder.
func (u Submitter) paidBefore(ctx context.Context, m Message) {
	if u.Payments == nil || m.PaymentStatus == "" {
		return
	}
	r, err := u.Payments.Receipt(ctx, m.Payee, m.Content.PaymentData.NoticeNumber)
	if err == nil {
		_, _ = u.Payments.MarkPaid(ctx, m.FiscalCode, m.ID, r.PaidAt)
	}
}

// replay answers a retried submission with the first one's message id. A
// message still ACCEPTED may be one whose created event was never queued
// (the first attempt failed to queue it and could not undo the key, say
// with the whole backend unreachable): its event is queued again, which is
// harmless when it was queued (processing is idempotent) and saves the
// message when it was not.
func (u Submitter) replay(ctx context.Context, want Idempotency, s Submission) (string, string, error) {
	got, err := u.Store.Idempotency(ctx, want.ServiceID, want.KeyHash)
	if err != nil {
		return "", "", problem.Wrap(problem.Internal, err, "Query error", "Error while reading the Idempotency-Key")
	}
	if got.BodyHash != want.BodyHash {
		return "", "", problem.New(problem.Unprocessable, "Idempotency-Key reused",
			"This Idempotency-Key was used in the last 24 hours with a different request.")
	}
	m, err := u.Store.Get(ctx, got.FiscalCode, got.MessageID)
	if err != nil {
		return "", "", problem.Wrap(problem.Internal, err, "Query error", "Error while reading the Message")
	}
	if m.Status == Accepted {
		m.DefaultEmail = s.Message.DefaultEmail // the same body, so the same address
		if err := u.Created.Send(ctx, createdEvent(m, s.Service)); err != nil {
			return "", "", problem.Wrap(problem.Unavailable, err, "Service unavailable",
				"The message could not be queued for delivery; retry later with the same Idempotency-Key.")
		}
	}
	return cmp.Or(m.Lane, LaneNormal), got.MessageID, nil
}

// createdEvent is what process-message needs of a message: the stored
// message (its content included) and its sender.
func createdEvent(m Message, svc services.Service) CreatedEvent {
	ev := CreatedEvent{
		Message: EventMessage{ID: m.ID, FiscalCode: m.FiscalCode, SenderServiceID: m.SenderServiceID,
			SenderUserID: m.SenderUserID, TimeToLiveSeconds: m.TimeToLive, CreatedAt: m.CreatedAt,
			Reference: m.Reference, Callbacks: svc.CallbackEvents, ScheduledAt: m.ScheduledAt, Lane: m.Lane, Test: m.Test},
		SenderMetadata: SenderMetadata{DepartmentName: svc.DepartmentName, OrganizationFiscalCode: svc.OrganizationFiscalCode,
			OrganizationName: svc.OrganizationName, ServiceName: svc.ServiceName},
		ServiceVersion: svc.Version,
	}
	if m.FeatureLevel == Advanced {
		ev.FeatureLevel = Advanced
	}
	if m.Content != nil && m.Content.DueDate != "" {
		ev.ReminderOffsets = svc.Reminders() // the reminders (ADVANCED), the calendar event's alarms
	}
	ev.Attachments = m.Attachments
	if m.Content != nil {
		ev.Content = *m.Content
		if d := m.Content.ThirdPartyData; d != nil && d.MaybePrecondition() {
			ev.OpeningDeadlineDays = svc.OpeningDeadline()
		}
	}
	if m.DefaultEmail != "" {
		ev.DefaultAddresses = &DefaultAddresses{Email: m.DefaultEmail}
	}
	return ev
}

func hash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// validIdempotencyKey is the syntax of an Idempotency-Key: 1 to 255 of
// A-Z a-z 0-9 . _ : ~ + / = -. (Not a regexp: a bounded repetition of 255
// compiles to 255 copies and cost every submit function 8 ms of init.)
func validIdempotencyKey(s string) bool {
	if len(s) < 1 || len(s) > 255 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.IndexByte("._:~+/=-", c) >= 0) {
			return false
		}
	}
	return true
}

// ParseIdempotencyKey validates an Idempotency-Key header value and returns
// the key, "" for none. "undefined" and "null" are no key: clients generated
// from our description by the IO project's generator send them, literally,
// when their caller leaves the optional header out, and such a client must
// be able to send more than one message a day. Anything outside the key
// syntax is a 400 rather than a key nobody meant.
func ParseIdempotencyKey(raw string) (string, error) {
	switch raw {
	case "", "undefined", "null":
		return "", nil
	}
	if !validIdempotencyKey(raw) {
		return "", problem.Invalidf("Invalid Idempotency-Key",
			"The Idempotency-Key header must be 1 to 255 of A-Z a-z 0-9 . _ : ~ + / = - (a UUID or ULID is a good key).")
	}
	return raw, nil
}
