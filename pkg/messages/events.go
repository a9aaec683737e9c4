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

func (em EventMessage) expired(now time.Time) bool {
	return now.After(em.CreatedAt.Add(time.Duration(em.TimeToLiveSeconds) * time.Second))
}
