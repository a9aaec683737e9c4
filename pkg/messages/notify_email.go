package messages

import (
	"context"
	"errors"

	"github.com/digital-citizenship/functions/pkg/emails"
	"github.com/digital-citizenship/functions/pkg/ical"
)

// EmailSender renders and sends the e-mail of a message.
type EmailSender struct {
	Mailer emails.Mailer
	// Render returns the HTML and plain-text parts (markdown.Render); it is
	// given rather than imported so that only send-email links the parser.
	Render func(subject, markdown string, s emails.Sender) (html, text string, err error)
	From   string
}

// Send implements Sender.
func (n EmailSender) Send(ctx context.Context, ev NotificationEvent, _ []string) ([]string, error) {
	em, sm := ev.Message, ev.SenderMetadata
	subject, markdown := ev.Content.Subject, ev.Content.Markdown
	if ev.Reminder != nil {
		subject, markdown = ReminderEmail(ev)
	} else if ev.Documents > 0 {
		markdown += "\n\n" + DocumentsWaiting(ev.Language, ev.Documents)
	}
	html, text, err := n.Render(subject, markdown,
		emails.Sender{OrganizationName: sm.OrganizationName, DepartmentName: sm.DepartmentName, ServiceName: sm.ServiceName})
	if err != nil {
		return nil, Permanent("The message could not be rendered.", err)
	}
	mail := emails.Email{
		From: n.From, To: ev.ToAddress, Subject: subject, HTML: html, Text: text,
		Headers: map[string]string{"X-Italia-Messages-MessageId": em.ID},
		Tags:    map[string]string{"fiscal_code": em.FiscalCode, "message_id": em.ID},
	}
	// A due date comes as a calendar event (not with a reminder: the
	// message's e-mail brought it already).
	if cal, ok := Calendar(em.ID, em.CreatedAt, ev.Content, sm, ev.ReminderOffsets); ok && ev.Reminder == nil {
		mail.Attachments = []emails.Attachment{{Filename: "scadenza.ics", ContentType: ical.ContentType, Data: cal.Marshal()}}
	}
	err = n.Mailer.Send(ctx, mail)
	if errors.Is(err, emails.ErrRejected) {
		return nil, Permanent("The e-mail provider refused the e-mail.", err)
	}
	return nil, err
}
