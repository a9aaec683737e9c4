package messages

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/digital-citizenship/functions/pkg/problem"
)

// The lanes (docs/lanes.md): each has its own created-messages, e-mail and
// push queues and mappings, so that a backlog in one does not hold up the
// others.
//   - priority: the platform's own messages (validation and welcome,
//     data-export links) and reminders: a citizen waits for them.
//   - normal: a service's messages.
//   - bulk: a service's campaign: a submission that asks for it
//     (LaneHeader, as dcp send does), a scheduled message at its release,
//     and every submission of a service whose submissions in the last
//     minute reached its threshold.
//
// An event without a lane (queued before lanes) is normal.
const (
	LanePriority = "priority"
	LaneNormal   = "normal"
	LaneBulk     = "bulk"
)

// LaneHeader is the request header by which a submission asks for the bulk
// lane (the only value it takes); the 201 names the lane taken in it.
const LaneHeader = "X-Lane"

// ParseLane reads a submission's LaneHeader: bulk asks for the bulk lane;
// normal, or no header, leaves the lane to the platform's rule. A sender
// cannot ask for priority.
//
// `undefined` and `null`, what generated JavaScript clients send for a
// header they were not given (as for Idempotency-Key), mean no header.
func ParseLane(h string) (bulk bool, err error) {
	switch strings.ToLower(strings.TrimSpace(h)) {
	case "", "undefined", "null", LaneNormal:
		return false, nil
	case LaneBulk:
		return true, nil
	}
	return false, problem.Invalidf(NewMessageTitle, "%s is bulk or normal: the lane a sender may ask for (priority is the platform's own)", LaneHeader)
}

// DefaultBulkThreshold is the platform's default of a service's
// submissions in the last minute from which its messages go bulk: 120, two a
// second; a service's bulk_threshold_per_minute overrides it.
const DefaultBulkThreshold = 120

// bulkWindow is the window of a service's recent submissions.
const bulkWindow = time.Minute

// SendingLane returns the event's lane, for the queue that routes it.
func (e CreatedEvent) SendingLane() string { return e.Message.Lane }

// MessageGroup returns the event's sender, SQS's MessageGroupId: inside a
// lane, SQS's fair queues keep one sender's backlog from delaying others.
func (e CreatedEvent) MessageGroup() string { return e.Message.SenderServiceID }

// SendingLane returns the event's lane.
func (e NotificationEvent) SendingLane() string { return e.Message.Lane }

// MessageGroup returns the event's sender (MessageGroupId).
func (e NotificationEvent) MessageGroup() string { return e.Message.SenderServiceID }

// Pacer spaces one execution environment's bulk e-mails so that the bulk
// lane takes at most its share of SES's sending rate: the rate less the
// share reserved to the priority and normal lanes, divided among the bulk
// mapping's environments (its MaximumConcurrency), so that a bulk backlog
// cannot throttle the other lanes into retries. A nil Pacer never waits.
type Pacer struct {
	interval time.Duration
	mu       sync.Mutex
	next     time.Time
}

// maxPace is the longest a record waits for its turn; past it, the record
// is retried later (its queue's back-off), not held in the function.
const maxPace = 5 * time.Second

// ErrPaced is a bulk e-mail whose turn is further than maxPace away.
var ErrPaced = errors.New("the bulk lane's share of the SES sending rate is in use; retried later")

// NewPacer returns the pacer of one environment, nil when SES's rate is
// not limited (rate 0, as locally) or nothing is left to the bulk lane.
func NewPacer(rate, reserved float64, environments int) *Pacer {
	share := rate * (1 - min(max(reserved, 0), 1)) / float64(max(environments, 1))
	if rate <= 0 || share <= 0 {
		return nil
	}
	return &Pacer{interval: time.Duration(float64(time.Second) / share)}
}

// Paced returns handle with each bulk event waiting for its turn.
func (p *Pacer) Paced(handle func(context.Context, NotificationEvent) error) func(context.Context, NotificationEvent) error {
	if p == nil {
		return handle
	}
	return func(ctx context.Context, ev NotificationEvent) error {
		if ev.SendingLane() == LaneBulk {
			if err := p.wait(ctx); err != nil {
				return err
			}
		}
		return handle(ctx, ev)
	}
}

func (p *Pacer) wait(ctx context.Context) error {
	p.mu.Lock()
	now := time.Now()
	at := now
	if p.next.After(now) {
		at = p.next
	}
	if at.Sub(now) > maxPace {
		p.mu.Unlock()
		return ErrPaced
	}
	p.next = at.Add(p.interval)
	p.mu.Unlock()
	return sleepCtx(ctx, at.Sub(now))
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
