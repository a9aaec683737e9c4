package messages

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/digital-citizenship/functions/pkg/problem"
	"github.com/digital-citizenship/functions/pkg/services"
)

// DefaultRequeueAfter is how long a message may stay ACCEPTED (never
// received by process-message) before requeue-messages queues it again.
const DefaultRequeueAfter = 5 * time.Minute

// MaxBacklog is the created-messages queue's visible backlog above which
// requeue-messages waits: a message stale in a long backlog may still be in
// the queue, and queueing it again would add work when there is most.
const MaxBacklog = 1000

// requeueBatch is how many stale messages one run takes at most.
const requeueBatch = 100

// Requeuer finds messages left ACCEPTED without an event in the created-
// messages queue and queues them again (the scheduled requeue-messages).
// Submission writes the message, then queues its event: a submission that
// dies between the two (a crash, a timeout, a queue and a store failing
// together) leaves a message nothing would ever process. Processing is
// idempotent, so a message queued twice is processed once.
type Requeuer struct {
	Store    Store
	Services services.Store
	Created  Queue
	// Backlog returns the created-messages queue's visible messages.
	Backlog func(ctx context.Context) (int, error)
	// After is how long a message stays ACCEPTED before it is queued
	// again; each later requeue waits twice as long as the one before.
	After time.Duration
	Now   func() time.Time
}

// Run queues again the messages that stayed ACCEPTED longer than After and
// returns how many; it does nothing while the queue has a backlog.
func (r Requeuer) Run(ctx context.Context) (int, error) {
	backlog, err := r.Backlog(ctx)
	if err != nil {
		return 0, fmt.Errorf("read the created-messages backlog: %w", err)
	}
	if backlog > MaxBacklog {
		return 0, nil
	}
	now := r.Now()
	stale, err := r.Store.Stale(ctx, now.Add(-r.After), requeueBatch)
	if err != nil {
		return 0, fmt.Errorf("find stale messages: %w", err)
	}
	n := 0
	var errs []error
	for _, m := range stale {
		if err := r.requeue(ctx, m, now); err != nil {
			errs = append(errs, fmt.Errorf("requeue a message: %w", err))
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}

func (r Requeuer) requeue(ctx context.Context, m Message, now time.Time) error {
	svc, err := r.Services.Latest(ctx, m.SenderServiceID)
	if err != nil && !errors.Is(err, problem.ErrNotFound) {
		return fmt.Errorf("read its service: %w", err)
	}
	if err := r.Created.Send(ctx, createdEvent(m, svc)); err != nil {
		return err
	}
	// Due again after After, 2×After, 4×After... (at most 128×After).
	n := m.Requeues + 1
	next := now.Add(r.After * time.Duration(1<<min(n, 7)-1))
	if err := r.Store.MarkRequeued(ctx, m.FiscalCode, m.ID, n, next); err != nil && !errors.Is(err, problem.ErrConflict) {
		return err // queued again at the next run: harmless
	}
	return nil
}
