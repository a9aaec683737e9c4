package messages

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/digital-citizenship/functions/pkg/callbacks"
)

// callback queues the delivery callback of event about em on q (the
// callbacks queue), when em's sender asked for it; the write is tried for
// as long as the invocation allows, as the status it reports is written
// already.
func callback(ctx context.Context, q Queue, em EventMessage, event, channel, status, reason string, at time.Time) error {
	ev := callbacks.NewEvent(event, em.SenderServiceID, em.ID, em.Reference, channel, status, reason, at)
	ev.IsTest = em.Test
	return QueueCallback(ctx, q, em.Callbacks, ev)
}

// QueueCallback queues ev on q (the callbacks queue) when its message's
// sender asked for its event (asked, the message's callbacks); the write
// is tried for as long as the invocation allows, as the fact it reports is
// written already.
func QueueCallback(ctx context.Context, q Queue, asked []string, ev callbacks.Event) error {
	if q == nil || !slices.Contains(asked, ev.Event) {
		return nil
	}
	return persist(ctx, func() error { return q.Send(ctx, ev) })
}

// messageCallback queues the callback of event about a stored message (its
// read, its payment), when its sender asked for it at submission.
func messageCallback(ctx context.Context, q Queue, m Message, event, status string, at time.Time) error {
	em := EventMessage{ID: m.ID, SenderServiceID: m.SenderServiceID, Reference: m.Reference, Callbacks: m.Callbacks, Test: m.Test}
	return callback(ctx, q, em, event, "", status, "", at)
}

// channelEvent names the callback of a channel's final status.
func channelEvent(s ChannelStatus) string {
	return "notification." + strings.ToLower(string(s))
}
