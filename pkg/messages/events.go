package messages

import (
	"time"

	"github.com/digital-citizenship/functions/pkg/profiles"
)

// EventMessage is the message metadata carried by queue events.
type EventMessage struct {
	ID                string    `json:"id"`
	FiscalCode        string    `json:"fiscalCode"`
	SenderServiceID   string    `json:"senderServiceId"`
	SenderUserID      string    `json:"senderUserId"`
	TimeToLiveSeconds int       `json:"timeToLiveSeconds"`
	CreatedAt         time.Time `json:"createdAt"`
	// Reference is the sender's own id of the message, and Callbacks the
	// delivery callbacks its sender asked for when it was submitted.
	Reference string   `json:"reference,omitempty"`
	Callbacks []string `json:"callbacks,omitempty"`
	// ScheduledAt is a scheduled message's time: its time to live counts
	// from then.
	ScheduledAt time.Time `json:"scheduledAt,omitzero"`
	// Lane is the message's lane (lanes.go; empty: normal): its events
	// go on that lane's queues.
	Lane string `json:"lane,omitempty"`
	// Test marks a message sent with a test key, and Simulated one whose
	// channels' outcomes are simulated (process-message decides: a test
	// key's, or in the local stack one to a documented sandbox citizen).
	Test      bool `json:"test,omitempty"`
	Simulated bool `json:"simulated,omitempty"`
}

// SenderMetadata names the sender in notifications.
type SenderMetadata struct {
	DepartmentName         string `json:"departmentName"`
	OrganizationFiscalCode string `json:"organizationFiscalCode"`
	OrganizationName       string `json:"organizationName"`
	ServiceName            string `json:"serviceName"`
}

// DefaultAddresses are the sender's fallback addresses for the recipient.
type DefaultAddresses struct {
	Email string `json:"email,omitempty"`
}

// CreatedEvent is put on the created-messages queue by a submission; it is
// the only place the content lives until the recipient accepts the message.
type CreatedEvent struct {
	Content          Content           `json:"content"`
	DefaultAddresses *DefaultAddresses `json:"defaultAddresses,omitempty"`
	Message          EventMessage      `json:"message"`
	SenderMetadata   SenderMetadata    `json:"senderMetadata"`
	ServiceVersion   int               `json:"serviceVersion"`
	// FeatureLevel is the message's (empty: STANDARD) and ReminderOffsets,
	// for a message with a due date, the sender's reminders (of an ADVANCED
	// message) and its calendar event's alarms.
	FeatureLevel    string `json:"featureLevelType,omitempty"`
	ReminderOffsets []int  `json:"reminderOffsets,omitempty"`
	// Attachments are the documents to check before processing, and
	// DocumentChecks how many times they were looked for.
	Attachments    []Attachment `json:"attachments,omitempty"`
	DocumentChecks int          `json:"documentChecks,omitempty"`
	// OpeningDeadlineDays, for a message that may have an opening
	// condition, is how long the citizen has to open it (its service's).
	OpeningDeadlineDays int `json:"openingDeadlineDays,omitempty"`
}

// NotificationEvent is put on a channel's queue (e-mail, push, webhook) for
// one processed message. It carries what sending needs, so that sending
// reads nothing; SQS encrypts it at rest.
type NotificationEvent struct {
	// Channel is EMAIL, PUSH or WEBHOOK (empty, in events queued before
	// push and webhook existed, means EMAIL).
	Channel        string         `json:"channel,omitempty"`
	Content        Content        `json:"content"`
	Message        EventMessage   `json:"message"`
	SenderMetadata SenderMetadata `json:"senderMetadata"`
	// E-mail: the address and where it came from.
	ToAddress     string `json:"toAddress,omitempty"`
	AddressSource string `json:"addressSource,omitempty"`
	// Push: the citizen's devices; Anonymous when the citizen chose not to
	// show previews, then the text is generic, in Language.
	Devices   []profiles.Device `json:"devices,omitempty"`
	Anonymous bool              `json:"anonymous,omitempty"`
	Language  string            `json:"language,omitempty"`
	// Reminder, when set, makes this the reminder of a due date rather
	// than the message's notification; ChannelKey is then the channel's
	// key among the message's channels (ReminderChannel).
	Reminder   *ReminderNotice `json:"reminder,omitempty"`
	ChannelKey string          `json:"channelKey,omitempty"`
	// ReminderOffsets are the alarms of the calendar event an e-mail
	// attaches for a due date.
	ReminderOffsets []int `json:"reminderOffsets,omitempty"`
	// Documents is how many documents wait in the app (the e-mail says so,
	// and attaches none).
	Documents int `json:"documents,omitempty"`
}

// ReminderNotice is what a reminder says besides the message's subject.
type ReminderNotice struct {
	OffsetSeconds int    `json:"offsetSeconds"`
	DueDate       string `json:"dueDate"`
	// Payment is true for an unpaid payment notice.
	Payment bool `json:"payment,omitempty"`
}

// Valid reports whether a decoded event has what the pipeline needs.
func (e CreatedEvent) Valid() bool {
	return e.Message.ID != "" && e.Message.FiscalCode != "" && e.Message.SenderServiceID != ""
}

// Valid reports whether a decoded event has what sending on its channel needs.
func (e NotificationEvent) Valid() bool {
	if e.Message.ID == "" || e.Message.FiscalCode == "" {
		return false
	}
	switch e.channel() {
	case Email:
		return e.ToAddress != ""
	case Push:
		return len(e.Devices) > 0
	case Webhook:
		return true
	}
	return false
}

func (e NotificationEvent) channel() string {
	if e.Channel == "" {
		return Email
	}
	return e.Channel
}

// key is the event's channel's key among the message's channels.
func (e NotificationEvent) key() string {
	if e.ChannelKey != "" {
		return e.ChannelKey
	}
	return e.channel()
}

// expired reports whether the event is too late to send: a notification
// after the message's time to live, a reminder at its due date.
func (e NotificationEvent) expired(now time.Time) bool {
	if e.Reminder != nil {
		return !now.Before(ParseTime(e.Reminder.DueDate))
	}
	return e.Message.expired(now)
}

func (em EventMessage) expired(now time.Time) bool {
	from := em.CreatedAt
	if em.ScheduledAt.After(from) {
		from = em.ScheduledAt
	}
	return now.After(from.Add(time.Duration(em.TimeToLiveSeconds) * time.Second))
}
