package messages

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/digital-citizenship/functions/pkg/paging"
	"github.com/digital-citizenship/functions/pkg/validate"
)

// SentTitle is the title of every 400 about the list of a service's
// messages.
const SentTitle = "Invalid messages query"

// SentFilter selects messages in the list of what a service sent. Zero
// fields select everything.
type SentFilter struct {
	Status Status
	// Reference is the sender's own id of the message.
	Reference string
	// Since (inclusive) and Until (exclusive) bound the creation time.
	Since, Until time.Time
	// Channels keeps the messages whose channel (EMAIL, PUSH, WEBHOOK) has
	// the given status, all of them.
	Channels map[string]ChannelStatus
}

// SentStore lists what services sent.
type SentStore interface {
	// Sent lists the messages serviceID sent, newest first, as f selects.
	// A page may hold fewer than r.Size messages (even none) and still
	// have a next one: filters apply after the read.
	Sent(ctx context.Context, serviceID string, r paging.Request, f SentFilter) (paging.Page[Message], error)
}

// listedStatuses are the statuses the list can filter on.
var listedStatuses = []Status{Scheduled, Accepted, Throttled, Processed, Rejected, Failed, Cancelled}

// listedChannels are the query parameters of channel outcomes, by channel.
var listedChannels = map[string]string{"email": Email, "push": Push, "webhook": Webhook}

// ParseSentFilter reads the list's filters from its query: status,
// reference, since and until (date-times, UTC ISO-8601) and email, push,
// webhook (a channel status). A value that is none of these is a 400 naming
// the parameter.
func ParseSentFilter(q url.Values) (SentFilter, error) {
	r := validate.NewReport(SentTitle)
	var f SentFilter
	if s := q.Get("status"); s != "" {
		f.Status = Status(s)
		if !slices.Contains(listedStatuses, f.Status) {
			r.Addf("status", "one of %s", joinStatuses(listedStatuses))
		}
	}
	if q.Has("reference") {
		ref := q.Get("reference")
		f.Reference = text(r, "reference", &ref, MinReference, MaxReference, validate.SingleLine, "on one line without control characters")
	}
	for _, p := range []struct {
		name string
		t    *time.Time
	}{{"since", &f.Since}, {"until", &f.Until}} {
		if v := q.Get(p.name); v != "" {
			t, ok := parseTimestamp(v)
			if !ok {
				r.Addf(p.name, "a UTC ISO-8601 date-time (2026-12-01T00:00:00Z)")
			}
			*p.t = t
		}
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Since.Before(f.Until) {
		r.Addf("until", "after since")
	}
	for param, channel := range listedChannels {
		v := q.Get(param)
		if v == "" {
			continue
		}
		switch st := ChannelStatus(v); st {
		case ChannelSent, ChannelFailed, ChannelExpired, ChannelThrottled, ChannelSkipped:
			if f.Channels == nil {
				f.Channels = map[string]ChannelStatus{}
			}
			f.Channels[channel] = st
		default:
			r.Addf(param, "one of %s, %s, %s, %s, %s", ChannelSent, ChannelFailed, ChannelExpired, ChannelThrottled, ChannelSkipped)
		}
	}
	return f, r.Err()
}

// Matches reports whether m is selected by f (the stores apply the filter
// with this meaning).
func (f SentFilter) Matches(m Message) bool {
	switch {
	case f.Status != "" && m.Status != f.Status,
		f.Reference != "" && m.Reference != f.Reference,
		!f.Since.IsZero() && m.CreatedAt.Before(f.Since),
		!f.Until.IsZero() && !m.CreatedAt.Before(f.Until):
		return false
	}
	for ch, st := range f.Channels {
		if m.Channels[ch].Status != st {
			return false
		}
	}
	return true
}

// SentView is an item of the list of what a service sent.
type SentView struct {
	ID           string            `json:"id"`
	FiscalCode   string            `json:"fiscal_code"`
	CreatedAt    string            `json:"created_at"`
	Status       Status            `json:"status"`
	Reference    string            `json:"reference,omitempty"`
	Notification map[string]string `json:"notification,omitempty"`
	// RejectionReason is the code of a REJECTED message, as in getMessage.
	RejectionReason string `json:"rejection_reason,omitempty"`
	// IsTest marks a test key's message.
	IsTest bool `json:"is_test,omitempty"`
}

// SentItem returns the message as the list of what its service sent shows
// it: the channels as getMessage shows them.
func (m Message) SentItem() SentView {
	v := m.View()
	// Unlike getMessage, every channel of the message is listed, PENDING
	// until it has a status: a follower (dcp status, the portal) knows a
	// channel not sent yet from a channel the citizen does not have.
	for name, ch := range m.Channels {
		if ch.Status != "" || IsReminderChannel(name) {
			continue
		}
		if v.Notification == nil {
			v.Notification = map[string]string{}
		}
		v.Notification[strings.ToLower(name)] = ChannelPendingInList
	}
	return SentView{ID: m.ID, FiscalCode: m.FiscalCode, CreatedAt: FormatTime(m.CreatedAt), Status: v.Status,
		Reference: m.Reference, Notification: v.Notification, RejectionReason: v.RejectionReason, IsTest: m.Test}
}

// ChannelPendingInList is, in the list of what a service sent, the status
// of a channel that has none yet (its notification is on its way).
const ChannelPendingInList = "PENDING"

func joinStatuses(list []Status) string {
	s := make([]string, len(list))
	for i, x := range list {
		s[i] = string(x)
	}
	return strings.Join(s, ", ")
}
