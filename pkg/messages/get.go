package messages

import (
	"context"
	"errors"
	"strings"

	"github.com/digital-citizenship/functions/pkg/auth"
	"github.com/digital-citizenship/functions/pkg/problem"
)

// ErrNotFound is getMessage's answer for an unknown message.
var ErrNotFound = problem.New(problem.NotFound, "Message not found",
	"The message that you requested was not found in the system.")

// View is the body of getMessage (the original's MessageResponseWithContent).
type View struct {
	Message      CreatedView       `json:"message"`
	Notification map[string]string `json:"notification,omitempty"`
	// Failures says why channels FAILED, and Skipped why channels were
	// SKIPPED (our extensions).
	Failures map[string]string `json:"notification_failures,omitempty"`
	Skipped  map[string]string `json:"notification_skipped,omitempty"`
	Status   Status            `json:"status"`
	// RejectionReason is the code of a REJECTED message and
	// RejectionDetail its text (our extension).
	RejectionReason string `json:"rejection_reason,omitempty"`
	RejectionDetail string `json:"rejection_detail,omitempty"`
	// FailureReason says why a message FAILED, when known (documents).
	FailureReason string `json:"failure_reason,omitempty"`
	// ReadStatus is READ or UNREAD when the citizen lets the sender see it,
	// else UNAVAILABLE; set for processed messages.
	ReadStatus string `json:"read_status,omitempty"`
	// The payment status of an ADVANCED payment notice.
	PaymentStatus string `json:"payment_status,omitempty"`
	PaidAt        string `json:"paid_at,omitempty"`
	// Reminders are an ADVANCED message's reminders sent so far.
	Reminders []ReminderView `json:"reminders,omitempty"`
	// Attachments are an ADVANCED message's documents.
	Attachments []Attachment `json:"attachments,omitempty"`
	// ScheduledAt is when a scheduled message is (or was) to be processed.
	ScheduledAt string `json:"scheduled_at,omitempty"`
	// Retries counts, by channel, the attempts that failed and were
	// retried; IsTest marks a test key's message (our extensions).
	Retries map[string]int `json:"notification_retries,omitempty"`
	IsTest  bool           `json:"is_test,omitempty"`
}

// ReminderView is a reminder as its sender sees it: when, and the status of
// each channel it went on.
type ReminderView struct {
	OffsetSeconds int               `json:"offset_seconds"`
	SentAt        string            `json:"sent_at"`
	Channels      map[string]string `json:"channels"`
}

// CreatedView is the original's CreatedMessageWith[out]Content.
type CreatedView struct {
	Content         *Content `json:"content,omitempty"`
	CreatedAt       string   `json:"created_at"`
	FiscalCode      string   `json:"fiscal_code"`
	ID              string   `json:"id"`
	SenderServiceID string   `json:"sender_service_id"`
	TimeToLive      int      `json:"time_to_live,omitempty"`
	// The citizen's flags, in inbox listings (our extension).
	IsRead     *bool `json:"is_read,omitempty"`
	IsArchived *bool `json:"is_archived,omitempty"`
	// IsPaid, in inbox listings, of a message with payment_data.
	IsPaid *bool `json:"is_paid,omitempty"`
	// FeatureLevelType is STANDARD or ADVANCED, and Reference the sender's
	// own id, in getMessage.
	FeatureLevelType string `json:"feature_level_type,omitempty"`
	Reference        string `json:"reference,omitempty"`
}

// InboxItem returns the message as an inbox listing shows it: without its
// content, with the citizen's read and archived flags.
func (m Message) InboxItem() CreatedView {
	v := m.Summary()
	v.IsRead, v.IsArchived = &m.IsRead, &m.IsArchived
	if m.PaymentStatus != "" {
		paid := m.PaymentStatus == Paid
		v.IsPaid = &paid
	}
	return v
}

// Summary returns the message without its content.
func (m Message) Summary() CreatedView {
	return CreatedView{CreatedAt: FormatTime(m.CreatedAt), FiscalCode: m.FiscalCode, ID: m.ID,
		SenderServiceID: m.SenderServiceID, TimeToLive: m.TimeToLive}
}

// View returns the getMessage representation: channels are listed (lower
// case) once they have a status.
func (m Message) View() View {
	v := View{Message: m.Summary(), Status: m.Status}
	v.Message.Content = m.Content
	v.Message.FeatureLevelType, v.Message.Reference = m.Level(), m.Reference
	if m.Level() == Advanced && m.PaymentStatus != "" {
		v.PaymentStatus = m.PaymentStatus
		if m.PaymentStatus == Paid {
			v.PaidAt = FormatTime(m.PaidAt)
		}
	}
	for name, ch := range m.Channels {
		if ch.Status == "" || IsReminderChannel(name) {
			continue
		}
		if v.Notification == nil {
			v.Notification = map[string]string{}
		}
		v.Notification[strings.ToLower(name)] = string(ch.Status)
		if ch.Retries > 0 {
			if v.Retries == nil {
				v.Retries = map[string]int{}
			}
			v.Retries[strings.ToLower(name)] = ch.Retries
		}
		switch {
		case ch.Status == ChannelFailed && ch.Reason != "":
			if v.Failures == nil {
				v.Failures = map[string]string{}
			}
			v.Failures[strings.ToLower(name)] = ch.Reason
		case ch.Status == ChannelSkipped:
			if v.Skipped == nil {
				v.Skipped = map[string]string{}
			}
			v.Skipped[strings.ToLower(name)] = ch.Reason
		}
	}
	if v.Status == "" {
		v.Status = Accepted
	}
	if m.Level() == Advanced {
		for _, r := range m.Reminders {
			rv := ReminderView{OffsetSeconds: r.OffsetSeconds, SentAt: FormatTime(r.SentAt), Channels: map[string]string{}}
			for _, ch := range r.Channels {
				st := string(m.Channels[ReminderChannel(r.OffsetSeconds, ch)].Status)
				if st == "" {
					st = "PENDING"
				}
				rv.Channels[strings.ToLower(ch)] = st
			}
			v.Reminders = append(v.Reminders, rv)
		}
	}
	if v.Status == Rejected {
		v.RejectionReason, v.RejectionDetail = RejectionCode(m.RejectionReason), m.RejectionReason
	}
	if v.Status == Failed {
		v.FailureReason = m.RejectionReason
	}
	v.Attachments, v.IsTest = m.Attachments, m.Test
	if !m.ScheduledAt.IsZero() {
		v.ScheduledAt = FormatTime(m.ScheduledAt)
	}
	return v
}

// Getter reads messages (a Store does).
type Getter interface {
	Get(ctx context.Context, fiscalCode, id string) (Message, error)
}

// Get returns a message for the caller: its sender, or a trusted app
// (ApiMessageList) may read it.
func Get(ctx context.Context, st Getter, c auth.Caller, fiscalCode, id string) (Message, error) {
	m, err := st.Get(ctx, fiscalCode, id)
	if errors.Is(err, problem.ErrNotFound) {
		return Message{}, ErrNotFound
	}
	if err != nil {
		return Message{}, problem.Wrap(problem.Internal, err, "Query error", "Error while retrieving the message")
	}
	if !c.Has(auth.MessageList) && m.SenderServiceID != c.ServiceID() {
		return Message{}, auth.ErrNotAllowed
	}
	return m, nil
}
