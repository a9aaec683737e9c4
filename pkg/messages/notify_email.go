package messages

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/digital-citizenship/functions/pkg/emails"
	"github.com/digital-citizenship/functions/pkg/problem"
)

// EmailNotifier sends the e-mail of an accepted message (the e-mail queue
// consumer) and records the channel's status.
type EmailNotifier struct {
	Store  Store
	Mailer emails.Mailer
	// Render returns the HTML and plain-text parts (markdown.Render); it is
	// given rather than imported so that only send-email links the parser.
	Render func(subject, markdown string, s emails.Sender) (html, text string, err error)
	From   string
	Now    func() time.Time
}

// Notify handles one EmailEvent. It returns nil once the channel reached a
// final status (SENT, EXPIRED, FAILED, or already final: a redelivered event
// sends nothing twice), and an error when the event must be retried; the
// channel is then THROTTLED.
func (n EmailNotifier) Notify(ctx context.Context, ev EmailEvent) error {
	em := ev.Message
	if em.expired(n.Now()) {
		return n.final(ctx, em, ChannelExpired)
	}
	err := n.Store.ClaimChannel(ctx, em.FiscalCode, em.ID, Email, n.Now())
	if errors.Is(err, problem.ErrConflict) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("claim e-mail channel: %w", err)
	}
	sm := ev.SenderMetadata
	html, text, err := n.Render(ev.Content.Subject, ev.Content.Markdown,
		emails.Sender{OrganizationName: sm.OrganizationName, DepartmentName: sm.DepartmentName, ServiceName: sm.ServiceName})
	if err != nil {
		return n.final(ctx, em, ChannelFailed)
	}
	err = n.Mailer.Send(ctx, emails.Email{
		From: n.From, To: ev.ToAddress, Subject: ev.Content.Subject, HTML: html, Text: text,
		Headers: map[string]string{"X-Italia-Messages-MessageId": em.ID},
	})
	switch {
	case errors.Is(err, emails.ErrRejected):
		return n.final(ctx, em, ChannelFailed)
	case err != nil:
		if serr := n.Store.SetChannelStatus(ctx, em.FiscalCode, em.ID, Email, ChannelThrottled, n.Now()); serr != nil &&
			!errors.Is(serr, problem.ErrConflict) {
			err = errors.Join(err, serr)
		}
		return fmt.Errorf("send e-mail: %w", err)
	}
	return n.final(ctx, em, ChannelSent)
}

func (n EmailNotifier) final(ctx context.Context, em EventMessage, s ChannelStatus) error {
	err := n.Store.SetChannelStatus(ctx, em.FiscalCode, em.ID, Email, s, n.Now())
	if err != nil && !errors.Is(err, problem.ErrConflict) {
		return fmt.Errorf("set e-mail status %s: %w", s, err)
	}
	return nil
}

// Fail marks the e-mail channel FAILED after its event was given up on.
func (n EmailNotifier) Fail(ctx context.Context, ev EmailEvent) error {
	return n.final(ctx, ev.Message, ChannelFailed)
}
