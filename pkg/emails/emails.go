// Package emails declares what a message e-mail is and the Mailer that sends
// it. Rendering markdown lives in emails/markdown, so that only the function
// that sends e-mails links and initialises the markdown parser.
package emails

import (
	"context"
	"errors"
)

// Email is one e-mail ready to send.
type Email struct {
	From, To, Subject string
	HTML, Text        string
	// Headers are extra headers, such as the message and notification ids.
	Headers map[string]string
	// Tags go with the provider's events about this e-mail (bounces,
	// complaints), so that they can be traced back to the recipient.
	Tags map[string]string
	// Attachments go with the e-mail (a calendar event).
	Attachments []Attachment
}

// Attachment is a file attached to an e-mail.
type Attachment struct {
	Filename, ContentType string
	Data                  []byte
}

// Mailer sends e-mails.
type Mailer interface {
	// Send delivers e; an error wrapping ErrRejected is permanent (the
	// provider refused this e-mail), any other error is worth a retry.
	Send(ctx context.Context, e Email) error
}

// ErrRejected marks a permanent refusal by the e-mail provider.
var ErrRejected = errors.New("e-mail rejected")

// Sender names who sends the message.
type Sender struct {
	OrganizationName string
	DepartmentName   string
	ServiceName      string
}
