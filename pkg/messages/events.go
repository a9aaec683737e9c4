package messages

import "time"

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

// EmailEvent is put on the e-mail queue for one accepted message.
type EmailEvent struct {
	Content        Content        `json:"content"`
	Message        EventMessage   `json:"message"`
	SenderMetadata SenderMetadata `json:"senderMetadata"`
	// ToAddress is carried so that sending needs no read; SQS encrypts it at rest.
	ToAddress     string `json:"toAddress"`
	AddressSource string `json:"addressSource"`
}

// Valid reports whether a decoded event has what the pipeline needs.
func (e CreatedEvent) Valid() bool {
	return e.Message.ID != "" && e.Message.FiscalCode != "" && e.Message.SenderServiceID != ""
}

// Valid reports whether a decoded event has what sending needs.
func (e EmailEvent) Valid() bool {
	return e.Message.ID != "" && e.Message.FiscalCode != "" && e.ToAddress != ""
}

func (em EventMessage) expired(now time.Time) bool {
	return now.After(em.CreatedAt.Add(time.Duration(em.TimeToLiveSeconds) * time.Second))
}
