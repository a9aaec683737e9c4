package messages

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/digital-citizenship/functions/pkg/problem"
	"github.com/digital-citizenship/functions/pkg/services"
)

// Scheduled sends: how far ahead a message may be scheduled.
const (
	MinScheduleAhead = time.Minute
	MaxScheduleAhead = 7 * 24 * time.Hour
)

// ScheduledShards spreads ScheduledIndex over partitions: a campaign of a
// million messages for one time is a million index entries written at
// submission and read by one sweep.
const ScheduledShards = 16

// ScheduledShard is the ScheduledIndex shard of message id, from the random
// end of its ULID.
func ScheduledShard(id string) int {
	if id == "" {
		return 0
	}
	return int(id[len(id)-1]) % ScheduledShards
}

// ReleaseAhead is how long before its time the sweep releases a scheduled
// message: its event waits in the queue for what remains (SQS delays), so
// that a sweep a minute processes it at its time, not up to a minute after.
const ReleaseAhead = time.Minute

// ErrNotCancellable is the answer to cancelling a message that is not
// SCHEDULED (any more).
var ErrNotCancellable = problem.New(problem.Conflict, "Message not cancellable",
	"Only a SCHEDULED message can be cancelled; this one is being processed or was processed already.")

// ScheduledStore keeps scheduled messages until their time.
type ScheduledStore interface {
	// DueScheduled returns up to limit SCHEDULED messages of a shard of
	// ScheduledIndex due at or before due, and the cursor of the next
	// page ("" at the end).
	DueScheduled(ctx context.Context, shard int, due time.Time, limit int, cursor string) ([]MessageRef, string, error)
	// ReleaseScheduled takes a SCHEDULED message out of ScheduledIndex and
	// into AcceptedIndex (requeue-messages counts from its time) and
	// returns it; problem.ErrConflict when it is not SCHEDULED or was
	// released already.
	ReleaseScheduled(ctx context.Context, fiscalCode, id string) (Message, error)
	// Cancel makes a SCHEDULED message CANCELLED (out of both indexes) and
	// returns it; problem.ErrConflict when it is not SCHEDULED,
	// problem.ErrNotFound when there is no such message.
	Cancel(ctx context.Context, fiscalCode, id string, at time.Time) (Message, error)
}

// checkSchedule refuses a scheduled_at outside the window from now.
func checkSchedule(at, now time.Time) error {
	if at.Before(now.Add(MinScheduleAhead)) || at.After(now.Add(MaxScheduleAhead)) {
		return problem.New(problem.Invalid, NewMessageTitle, fmt.Sprintf(
			"value.scheduled_at is not a UTC date-time from %s to %s ahead (it is %s)", "1 minute", "7 days", FormatTime(at)))
	}
	return nil
}

// Releaser is the sweep of scheduled messages (sweep-scheduled, every
// minute): each message due within ReleaseAhead is released and its event
// queued with the delay that remains, so that process-message receives it
// at its time. A message is released once (a conditional write); one whose
// event is lost after its release is queued again by requeue-messages.
type Releaser struct {
	Store    ScheduledStore
	Services services.Store
	Created  BatchQueue
	Now      func() time.Time
}

// BatchQueue carries up to ten events in one request, each received after
// its own delay.
type BatchQueue interface {
	SendBatchAfter(ctx context.Context, events []any, delays []time.Duration) error
}

// releasePage is how many due messages one query of a shard reads.
const releasePage = 200

// Run releases every scheduled message due within ReleaseAhead, its shards
// at once, and returns how many.
func (r Releaser) Run(ctx context.Context) (int, error) {
	now := r.Now()
	var mu sync.Mutex
	released := 0
	var errs []error
	svcs := map[string]services.Service{}
	service := func(id string) (services.Service, error) {
		mu.Lock()
		s, ok := svcs[id]
		mu.Unlock()
		if ok {
			return s, nil
		}
		s, err := r.Services.Latest(ctx, id)
		if err != nil && !errors.Is(err, problem.ErrNotFound) {
			return s, err
		}
		mu.Lock()
		svcs[id] = s
		mu.Unlock()
		return s, nil
	}
	var wg sync.WaitGroup
	for shard := range ScheduledShards {
		wg.Go(func() {
			n, err := r.shard(ctx, shard, now, service)
			mu.Lock()
			defer mu.Unlock()
			released += n
			if err != nil {
				errs = append(errs, fmt.Errorf("shard %d: %w", shard, err))
			}
		})
	}
	wg.Wait()
	return released, errors.Join(errs...)
}

func (r Releaser) shard(ctx context.Context, shard int, now time.Time, service func(string) (services.Service, error)) (int, error) {
	n, cursor := 0, ""
	var events []any
	var delays []time.Duration
	// A batch lost here is queued again by requeue-messages, RequeueAfter
	// after the messages' time: they are in AcceptedIndex once released.
	flush := func() error {
		if len(events) == 0 {
			return nil
		}
		if err := r.Created.SendBatchAfter(ctx, events, delays); err != nil {
			return fmt.Errorf("queue released messages: %w", err)
		}
		n += len(events)
		events, delays = events[:0], delays[:0]
		return nil
	}
	for {
		refs, next, err := r.Store.DueScheduled(ctx, shard, now.Add(ReleaseAhead), releasePage, cursor)
		if err != nil {
			return n, err
		}
		for _, ref := range refs {
			m, err := r.Store.ReleaseScheduled(ctx, ref.FiscalCode, ref.ID)
			if errors.Is(err, problem.ErrConflict) || errors.Is(err, problem.ErrNotFound) {
				continue // cancelled, or released by another sweep
			}
			if err != nil {
				return n, errors.Join(fmt.Errorf("release a message: %w", err), flush())
			}
			svc, err := service(m.SenderServiceID)
			if err != nil {
				return n, errors.Join(fmt.Errorf("read its service: %w", err), flush())
			}
			events, delays = append(events, createdEvent(m, svc)), append(delays, max(0, m.ScheduledAt.Sub(now)))
			if len(events) == 10 {
				if err := flush(); err != nil {
					return n, err
				}
			}
		}
		if next == "" || ctx.Err() != nil {
			return n, errors.Join(flush(), ctx.Err())
		}
		cursor = next
	}
}

// Cancel cancels a SCHEDULED message of the caller's service.
func Cancel(ctx context.Context, st Store, sched ScheduledStore, serviceID, fiscalCode, id string, now time.Time) (Message, error) {
	m, err := st.Get(ctx, fiscalCode, id)
	if errors.Is(err, problem.ErrNotFound) || err == nil && m.SenderServiceID != serviceID {
		return Message{}, ErrNotFound
	}
	if err != nil {
		return Message{}, problem.Wrap(problem.Internal, err, "Query error", "Error while retrieving the message")
	}
	if m.Status != Scheduled {
		return Message{}, ErrNotCancellable
	}
	m, err = sched.Cancel(ctx, fiscalCode, id, now)
	switch {
	case errors.Is(err, problem.ErrConflict):
		return Message{}, ErrNotCancellable
	case errors.Is(err, problem.ErrNotFound):
		return Message{}, ErrNotFound
	case err != nil:
		return Message{}, problem.Wrap(problem.Internal, err, "Query error", "Error while cancelling the message")
	}
	return m, nil
}
