package messages

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/digital-citizenship/functions/pkg/callbacks"
	"github.com/digital-citizenship/functions/pkg/problem"
	"github.com/digital-citizenship/functions/pkg/profiles"
	"github.com/digital-citizenship/functions/pkg/validate"
)

// Change types of a citizen's message-status change.
const (
	ChangeReading   = "reading"
	ChangeArchiving = "archiving"
	ChangeBulk      = "bulk"
)

// StatusChange is what the citizen changes of a message in the inbox: nil
// fields are left as they are.
type StatusChange struct {
	IsRead     *bool
	IsArchived *bool
}

// Read statuses of a processed message, as its sender sees them.
const (
	ReadStatusRead        = "READ"
	ReadStatusUnread      = "UNREAD"
	ReadStatusUnavailable = "UNAVAILABLE"
)

// StatusChangeTitle is the title of every 400 about a message-status body.
const StatusChangeTitle = "Invalid MessageStatusChange"

// ParseStatusChange decodes and validates a MessageStatusChange body:
// "reading" sets is_read, "archiving" is_archived, "bulk" both.
func ParseStatusChange(body []byte) (StatusChange, error) {
	var in struct {
		ChangeType *string `json:"change_type"`
		IsRead     *bool   `json:"is_read"`
		IsArchived *bool   `json:"is_archived"`
	}
	if err := validate.DecodeJSON(body, &in, StatusChangeTitle); err != nil {
		return StatusChange{}, err
	}
	r := validate.NewReport(StatusChangeTitle)
	var ch StatusChange
	t := ""
	if in.ChangeType != nil {
		t = *in.ChangeType
	}
	needRead, needArchived := t == ChangeReading || t == ChangeBulk, t == ChangeArchiving || t == ChangeBulk
	if !needRead && !needArchived {
		r.Addf("change_type", "one of reading, archiving, bulk")
	}
	if needRead {
		if in.IsRead == nil {
			r.Addf("is_read", "a boolean (change_type %s)", t)
		}
		ch.IsRead = in.IsRead
	}
	if needArchived {
		if in.IsArchived == nil {
			r.Addf("is_archived", "a boolean (change_type %s)", t)
		}
		ch.IsArchived = in.IsArchived
	}
	return ch, r.Err()
}

// StatusView is the body of a message-status change (the successors'
// MessageStatus).
type StatusView struct {
	Status     Status `json:"status"`
	IsRead     bool   `json:"is_read"`
	IsArchived bool   `json:"is_archived"`
	Version    int    `json:"version"`
	UpdatedAt  string `json:"updated_at"`
}

// StatusView returns the citizen's status of the message.
func (m Message) StatusView() StatusView {
	return StatusView{m.Status, m.IsRead, m.IsArchived, m.StatusVersion, FormatTime(m.StatusUpdatedAt)}
}

// ChangeStatus applies a citizen's change to a message of the inbox; the
// message's status version goes up by one. ErrNotFound when the message is
// not in the inbox (unknown, still processing, or rejected).
func ChangeStatus(ctx context.Context, st Store, fiscalCode, id string, ch StatusChange, now time.Time) (Message, error) {
	m, err := st.ChangeStatus(ctx, fiscalCode, id, ch, now)
	if errors.Is(err, problem.ErrNotFound) {
		return Message{}, ErrNotFound
	}
	if err != nil {
		return Message{}, problem.Wrap(problem.Internal, err, "Query error", "Error while updating the message status")
	}
	return m, nil
}

// ReadCallback queues the message.read callback of a message the citizen
// read, when its sender asked for it and the citizen lets the sender know
// (as getMessage's read_status): the citizen's preferences are read only
// then.
func ReadCallback(ctx context.Context, q Queue, profs profiles.Recipients, m Message, now time.Time) error {
	if q == nil || !m.IsRead || !slices.Contains(m.Callbacks, callbacks.MessageRead) {
		return nil
	}
	rec, err := profs.Recipient(ctx, m.FiscalCode)
	if errors.Is(err, problem.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read the citizen's preferences: %w", err)
	}
	if ReadStatus(m, rec) != ReadStatusRead {
		return nil
	}
	return messageCallback(ctx, q, m, callbacks.MessageRead, ReadStatusRead, now)
}

// ReadStatus returns what the sender may know of a processed message: READ
// or UNREAD when the citizen allowed the sender to see it
// (can_access_message_read_status), else UNAVAILABLE.
func ReadStatus(m Message, rec profiles.Recipient) string {
	switch {
	case !rec.PreferenceFor(m.SenderServiceID).CanAccessMessageReadStatus:
		return ReadStatusUnavailable
	case m.IsRead:
		return ReadStatusRead
	}
	return ReadStatusUnread
}
