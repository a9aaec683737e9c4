package messages

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/digital-citizenship/functions/pkg/metrics"
	"github.com/digital-citizenship/functions/pkg/problem"
)

// ErrClaimed is ClaimChannel's answer while another attempt holds the
// channel: the event is retried later, and nothing is sent twice at once.
var ErrClaimed = errors.New("channel claimed by another attempt")

// PermanentError is a send failure that retrying cannot fix; Reason is
// recorded with the channel's FAILED status (no personal data in it).
type PermanentError struct {
	Reason string
	Err    error
}

func (e *PermanentError) Error() string {
	if e.Err == nil {
		return e.Reason
	}
	return e.Reason + ": " + e.Err.Error()
}

func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent returns a PermanentError.
func Permanent(reason string, err error) error { return &PermanentError{Reason: reason, Err: err} }

// Sender sends one notification on a channel. delivered are the targets
// that accepted it in earlier attempts (push devices); Send returns every
// target that has accepted it now, those included. A *PermanentError means
// FAILED; any other error a retry.
type Sender interface {
	Send(ctx context.Context, ev NotificationEvent, delivered []string) ([]string, error)
}

// DefaultLease is how long a delivery attempt holds its channel: longer
// than a channel function's timeout (30 s), so that a live attempt is never
// overtaken, and no longer than its queue's visibility timeout, so that the
// redelivery after a crash finds the claim expired.
const DefaultLease = 60 * time.Second

// Dispatcher delivers notifications on one channel with the same rules for
// every channel: expiry at the message's time to live (EXPIRED), a claim by
// conditional write before sending (a redelivered event whose channel is
// final sends nothing; a concurrent one waits), retries of transient
// failures (THROTTLED, the queue backs off), FAILED on a permanent failure
// or when the dead-letter queue gives the event up.
//
// The one window where a notification can go twice is between the
// provider's acceptance and the status write: a crash there, a store that
// refuses the write until the invocation's deadline, or an answer from the
// provider lost on the way (the send's outcome is unknown), and the
// redelivered event finds the channel open once the claim's lease has
// passed and sends again. The fault tests measure the window (make test
// prints it; docs/delivery-guarantees.md).
type Dispatcher struct {
	Channel string
	Store   Store
	Sender  Sender
	Lease   time.Duration
	Now     func() time.Time
	// Metrics, when set, hears of each final status (and the time from
	// acceptance to SENT).
	Metrics metrics.Sink
	// Callbacks, when set, takes the delivery callback of each final
	// status its sender asked for (notification.sent, .failed, .expired).
	Callbacks Queue
}

// Notify handles one NotificationEvent of the dispatcher's channel. It
// returns nil once the channel reached a final status (or was final
// already), and an error when the event must be retried.
func (d Dispatcher) Notify(ctx context.Context, ev NotificationEvent) error {
	em := ev.Message
	if ev.ChannelKey != "" {
		d.Channel = ev.ChannelKey // a reminder's channel
	}
	if ev.expired(d.Now()) {
		return d.final(ctx, em, ChannelExpired, "")
	}
	lease := d.Lease
	if lease <= 0 {
		lease = DefaultLease
	}
	claim, err := d.Store.ClaimChannel(ctx, em.FiscalCode, em.ID, d.Channel, d.Now(), lease)
	switch {
	case errors.Is(err, problem.ErrConflict):
		return nil
	case err != nil:
		return fmt.Errorf("claim %s channel: %w", d.Channel, err)
	}
	delivered, err := d.Sender.Send(ctx, ev, claim.Delivered)
	var perm *PermanentError
	switch {
	case err == nil:
		// Sent: a record that fails now would have the redelivery send
		// again, so it is tried harder than the SDK's own retries.
		return persist(ctx, func() error { return d.final(ctx, em, ChannelSent, "") })
	case errors.As(err, &perm):
		return d.final(ctx, em, ChannelFailed, perm.Reason)
	}
	// Transient: keep what was delivered, release the claim, retry later.
	if len(delivered) > len(claim.Delivered) {
		rerr := persist(ctx, func() error {
			if err := d.Store.RecordDelivered(ctx, em.FiscalCode, em.ID, d.Channel, delivered); !errors.Is(err, problem.ErrConflict) {
				return err
			}
			return nil
		})
		if rerr != nil {
			err = errors.Join(err, rerr)
		}
	}
	if serr := d.Store.SetChannelStatus(ctx, em.FiscalCode, em.ID, d.Channel, ChannelThrottled, "", d.Now()); serr != nil &&
		!errors.Is(serr, problem.ErrConflict) {
		err = errors.Join(err, serr)
	}
	return fmt.Errorf("send %s: %w", d.Channel, err)
}

func (d Dispatcher) final(ctx context.Context, em EventMessage, s ChannelStatus, reason string) error {
	err := d.Store.SetChannelStatus(ctx, em.FiscalCode, em.ID, d.Channel, s, reason, d.Now())
	if err != nil && !errors.Is(err, problem.ErrConflict) {
		return fmt.Errorf("set %s status %s: %w", d.Channel, s, err)
	}
	if err == nil && d.Metrics != nil {
		d.Metrics.Emit(metrics.Notifications, "Count", 1, map[string]string{"Channel": metricChannel(d.Channel), "Outcome": string(s)})
		if s == ChannelSent && !em.CreatedAt.IsZero() && !IsReminderChannel(d.Channel) {
			d.Metrics.Emit(metrics.DeliveryLatency, "Milliseconds", float64(d.Now().Sub(em.CreatedAt).Milliseconds()),
				map[string]string{"Channel": d.Channel})
		}
	}
	if err == nil && !IsReminderChannel(d.Channel) {
		if err := callback(ctx, d.Callbacks, em, channelEvent(s), d.Channel, string(s), reason, d.Now()); err != nil {
			return fmt.Errorf("queue the %s callback: %w", channelEvent(s), err)
		}
	}
	return nil
}

// recordBackoff is persist's first pause; pauses double up to a second.
// Without a deadline in the context, persist gives up after persistFor.
var (
	recordBackoff = 100 * time.Millisecond
	persistFor    = 10 * time.Second
)

// persist runs a write that records a delivery until it succeeds, backing
// off between attempts, for as long as the invocation's deadline allows
// (less a second to answer): what a failed record costs is a duplicate, so
// a store that is unreachable for a while is waited for.
func persist(ctx context.Context, write func() error) error {
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(persistFor)
	}
	deadline = deadline.Add(-time.Second)
	wait := recordBackoff
	for {
		err := write()
		if err == nil || time.Now().Add(wait).After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(wait):
		}
		wait = min(2*wait, time.Second)
	}
}

// ReasonGivenUp is the reason of a channel FAILED by its dead-letter queue.
const ReasonGivenUp = "Not delivered after every retry."

// Fail marks the event's channel FAILED after its queue gave the event up
// (the dead-letter consumer), unless the channel is final already.
func (d Dispatcher) Fail(ctx context.Context, ev NotificationEvent) error {
	d.Channel = ev.key()
	return d.final(ctx, ev.Message, ChannelFailed, ReasonGivenUp)
}
