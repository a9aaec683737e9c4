// Package messages provides messages to citizens: their content and limits,
// statuses per message and per channel, the queue events of the delivery
// pipeline and its use cases (submit, read, process, notify by e-mail).
package messages

import (
	"context"
	"time"

	"github.com/digital-citizenship/functions/pkg/paging"
)

// Status is the processing status of a message.
type Status string

// Message statuses. SCHEDULED, ACCEPTED and THROTTLED are transient; the
// others final.
const (
	Accepted  Status = "ACCEPTED"
	Throttled Status = "THROTTLED"
	Processed Status = "PROCESSED"
	Rejected  Status = "REJECTED"
	Failed    Status = "FAILED"
	// Scheduled waits for its scheduled_at; Cancelled was cancelled
	// meanwhile by its sender.
	Scheduled Status = "SCHEDULED"
	Cancelled Status = "CANCELLED"
)

// ChannelStatus is the delivery status of one notification channel.
type ChannelStatus string

// Channel statuses; all but THROTTLED are final. SKIPPED is a channel the
// message may not use (an e-mail of a message that requires secure
// channels), decided when it is processed.
const (
	ChannelSent      ChannelStatus = "SENT"
	ChannelThrottled ChannelStatus = "THROTTLED"
	ChannelExpired   ChannelStatus = "EXPIRED"
	ChannelFailed    ChannelStatus = "FAILED"
	ChannelSkipped   ChannelStatus = "SKIPPED"
)

// Notification channels.
const (
	Email   = "EMAIL"
	Push    = "PUSH"
	Webhook = "WEBHOOK"
)

// Address sources of the e-mail channel.
const (
	ProfileAddress = "PROFILE_ADDRESS"
	DefaultAddress = "DEFAULT_ADDRESS"
)

// Rejection reasons, as the original's RecipientError texts.
const (
	ReasonNoProfile     = "Recipient profile does not exist."
	ReasonInboxDisabled = "Recipient inbox is disabled."
	ReasonSenderBlocked = "Sender is blocked by recipient."
)

// RejectionCode is the successors' rejection_reason of a REJECTED message:
// USER_NOT_FOUND, SERVICE_NOT_ALLOWED (the citizen's preferences or blocks
// keep the sender out) or UNKNOWN.
func RejectionCode(reason string) string {
	switch reason {
	case ReasonNoProfile:
		return "USER_NOT_FOUND"
	case ReasonSenderBlocked:
		return "SERVICE_NOT_ALLOWED"
	}
	return "UNKNOWN"
}

// Content is what the sender says.
type Content struct {
	Subject     string       `json:"subject" dynamodbav:"subject"`
	Markdown    string       `json:"markdown" dynamodbav:"markdown"`
	PaymentData *PaymentData `json:"payment_data,omitempty" dynamodbav:"payment_data,omitempty"`
	DueDate     string       `json:"due_date,omitempty" dynamodbav:"due_date,omitempty"`
	// RequireSecureChannels keeps the message off channels that are not
	// secure: no e-mail, and a push without the subject (the message's, or
	// its service's default).
	RequireSecureChannels bool `json:"require_secure_channels,omitempty" dynamodbav:"require_secure_channels,omitempty"`
	// ThirdPartyData, when set, keeps the content at its sender's (remote
	// content) and may put an opening condition before the message.
	ThirdPartyData *ThirdPartyData `json:"third_party_data,omitempty" dynamodbav:"third_party_data,omitempty"`
}

// PaymentData is a pagoPA payment request; Amount is in euro cents.
type PaymentData struct {
	Amount              int64  `json:"amount" dynamodbav:"amount"`
	NoticeNumber        string `json:"notice_number" dynamodbav:"notice_number"`
	InvalidAfterDueDate bool   `json:"invalid_after_due_date" dynamodbav:"invalid_after_due_date"`
	// Payee is the creditor organization, when it is not the sender's.
	Payee *Payee `json:"payee,omitempty" dynamodbav:"payee,omitempty"`
}

// Payee is the creditor organization of a payment notice.
type Payee struct {
	FiscalCode string `json:"fiscal_code" dynamodbav:"fiscal_code"`
}

// Channel is the state of one notification channel of a message.
type Channel struct {
	Status        ChannelStatus
	UpdatedAt     time.Time
	AddressSource string
	// Reason says why a channel FAILED.
	Reason string
	// Retries counts the attempts that failed and were retried.
	Retries int
}

// Claim is a delivery attempt's hold on a channel.
type Claim struct {
	// Delivered are the targets (push installations) that accepted the
	// notification in earlier attempts: they are not sent to again.
	Delivered []string
}

// Message is a message as stored: metadata, status and, once the recipient
// accepted it, its content.
type Message struct {
	ID              string
	FiscalCode      string
	SenderServiceID string
	SenderUserID    string
	TimeToLive      int
	CreatedAt       time.Time
	// Pending is true until the message is in the recipient's inbox.
	Pending         bool
	Content         *Content
	Status          Status
	StatusAt        time.Time
	RejectionReason string
	Channels        map[string]Channel
	// The citizen's status of the message: read, archived, and the
	// version and time of its last change.
	IsRead          bool
	IsArchived      bool
	StatusVersion   int
	StatusUpdatedAt time.Time
	// DefaultEmail is the sender's default address, kept so that the
	// message can be queued again as it was submitted.
	DefaultEmail string
	// Requeues counts the times requeue-messages queued it again.
	Requeues int
	// FeatureLevel is STANDARD or ADVANCED ("" in messages stored before
	// feature levels: STANDARD).
	FeatureLevel string
	// Payee is the creditor organization of a payment notice (the
	// payment_data's payee, else the sender's organization), and
	// PaymentStatus NOT_PAID or PAID (at PaidAt); both empty without one.
	Payee         string
	PaymentStatus string
	PaidAt        time.Time
	// ReminderPlan are the reminder offsets still to come (seconds before
	// the due date, the earliest reminder first) and RemindAt the time of
	// the next one; Reminders are those sent.
	ReminderPlan []int
	RemindAt     time.Time
	Reminders    []Reminder
	// Attachments are an ADVANCED message's documents, as declared.
	Attachments []Attachment
	// Reference is the sender's own id of the message.
	Reference string
	// Lane is the lane it was submitted to (lanes.go; empty: normal).
	Lane string
	// ScheduledAt is when a scheduled message is to be processed (its
	// time to live counts from then); zero for one sent at once.
	ScheduledAt time.Time
	// Callbacks are the delivery callbacks its sender asked for when it
	// was submitted (those of its read and its payment come later).
	Callbacks []string
	// Acts are its legal events: opening, non-opening.
	Acts Acts
	// Test marks a message sent with a test key: its channels' outcomes
	// are simulated, and it is kept TestRetention.
	Test bool
}

// TestRetention is how long a test key's message is kept.
const TestRetention = 7 * 24 * time.Hour

// Feature levels of a message.
const (
	Standard = "STANDARD"
	Advanced = "ADVANCED"
)

// Payment statuses of a message with payment_data.
const (
	NotPaid = "NOT_PAID"
	Paid    = "PAID"
)

// Level returns the message's feature level, STANDARD when none is stored.
func (m Message) Level() string {
	if m.FeatureLevel == "" {
		return Standard
	}
	return m.FeatureLevel
}

// SenderService records that a service wrote to a citizen.
type SenderService struct {
	FiscalCode         string
	ServiceID          string
	ServiceVersion     int
	LastNotificationAt time.Time
}

// Idempotency is what a submission remembers for its Idempotency-Key.
type Idempotency struct {
	ServiceID string
	// KeyHash identifies the client's key without storing it.
	KeyHash string
	// BodyHash tells a retry from a different request under the same key.
	BodyHash   string
	FiscalCode string
	MessageID  string
	ExpiresAt  time.Time
}

// Store keeps messages, their statuses and what goes with them.
type Store interface {
	// Create stores a new ACCEPTED message, and idem when not nil, at once;
	// problem.ErrConflict if idem's key is taken, ErrNoConfiguration if its
	// third_party_data names no remote-content configuration of its
	// sender's (checked in the same write).
	Create(ctx context.Context, m Message, idem *Idempotency) error
	// Get returns a message, or problem.ErrNotFound.
	Get(ctx context.Context, fiscalCode, id string) (Message, error)
	// Idempotency returns the record of a key, or problem.ErrNotFound.
	Idempotency(ctx context.Context, serviceID, keyHash string) (Idempotency, error)
	// ReleaseIdempotency forgets a key, so that a retry with it creates anew.
	ReleaseIdempotency(ctx context.Context, serviceID, keyHash string) error
	// SetStatus moves a not yet final message to s (with reason when
	// REJECTED); problem.ErrConflict if it is final already.
	SetStatus(ctx context.Context, fiscalCode, id string, s Status, reason string, at time.Time) error
	// Deliver stores the content in the inbox, marks the message PROCESSED
	// with the given channels queued (kept if already there) and records the
	// sender service, in one write; the documents, when given, replace the
	// declared ones (with the versions checked); an opening deadline, when
	// given and none is set, enters the message in the deadlines' index.
	// problem.ErrConflict if the message was REJECTED or FAILED meanwhile.
	Deliver(ctx context.Context, m Message, sender SenderService) error
	// ClaimChannel records a delivery attempt on a channel that is neither
	// final (problem.ErrConflict: a redelivered event) nor held by another
	// attempt claimed less than lease ago (ErrClaimed), and returns what
	// earlier attempts delivered.
	ClaimChannel(ctx context.Context, fiscalCode, id, channel string, at time.Time, lease time.Duration) (Claim, error)
	// SetChannelStatus records a channel's status (with reason when FAILED)
	// and releases its claim, unless the channel is final already
	// (problem.ErrConflict).
	SetChannelStatus(ctx context.Context, fiscalCode, id, channel string, s ChannelStatus, reason string, at time.Time) error
	// RecordDelivered adds targets that accepted the notification to a
	// channel that is not final.
	RecordDelivered(ctx context.Context, fiscalCode, id, channel string, targets []string) error
	// Inbox lists a citizen's messages newest first, without content and
	// without pending (processing or rejected) ones, archived or not as f
	// says. Of the Size messages read, those left out leave a page short.
	Inbox(ctx context.Context, fiscalCode string, r paging.Request, f InboxFilter) (paging.Page[Message], error)
	// ChangeStatus applies a citizen's change to a message in the inbox,
	// adds one to its status version and returns the message; problem.
	// ErrNotFound if the message is not in the inbox.
	ChangeStatus(ctx context.Context, fiscalCode, id string, ch StatusChange, at time.Time) (Message, error)
	// Senders lists the services that wrote to a citizen, by service id.
	Senders(ctx context.Context, fiscalCode string, r paging.Request) (paging.Page[SenderService], error)
	// Stale returns up to limit ACCEPTED messages (never received by
	// process-message) due for a requeue at or before due: created then, or
	// re-queued with a next time then.
	Stale(ctx context.Context, due time.Time, limit int) ([]Message, error)
	// MarkRequeued records that an ACCEPTED message was queued again, for
	// the requeues-th time, and is due next at next; problem.ErrConflict if
	// it is no longer ACCEPTED.
	MarkRequeued(ctx context.Context, fiscalCode, id string, requeues int, next time.Time) error
}

// InboxFilter selects messages of an inbox listing.
type InboxFilter struct {
	// Archived, when set, keeps only archived (true) or only not archived
	// (false) messages.
	Archived *bool
}

// Queue carries events to the next stage of the pipeline.
type Queue interface {
	// Send enqueues one event, encoded as JSON.
	Send(ctx context.Context, event any) error
}
