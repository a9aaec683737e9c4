package sqs

import (
	"context"
	"time"
)

// Laned is an event that names its lane (priority, normal or bulk).
type Laned interface{ SendingLane() string }

// Lanes publishes each event to its lane's queue: Normal for an event
// without a lane or with an unknown one. A lane without a queue URL (a
// function that sends to one lane only) takes its events to Normal's.
type Lanes struct {
	Priority, Normal, Bulk Queue
}

// LanesOf returns the lanes of one kind of queue from the environment's
// URLs: name is the normal lane's variable (EMAIL_QUEUE_URL), and the others
// are its name with _PRIORITY or _BULK before _QUEUE_URL.
func LanesOf(api API, env map[string]string, name string) Lanes {
	stem := name[:len(name)-len("_QUEUE_URL")]
	return Lanes{Priority: Queue{api, env[stem+"_PRIORITY_QUEUE_URL"]}, Normal: Queue{api, env[name]},
		Bulk: Queue{api, env[stem+"_BULK_QUEUE_URL"]}}
}

// URLs are the lanes' queue URLs, for a consumer of all three.
func (l Lanes) URLs() []string { return []string{l.Priority.URL, l.Normal.URL, l.Bulk.URL} }

// For returns the queue of a lane.
func (l Lanes) For(lane string) Queue {
	q := l.Normal
	switch lane {
	case "priority":
		q = l.Priority
	case "bulk":
		q = l.Bulk
	}
	if q.URL == "" {
		return l.Normal
	}
	return q
}

func (l Lanes) of(event any) Queue {
	if e, ok := event.(Laned); ok {
		return l.For(e.SendingLane())
	}
	return l.Normal
}

// Send implements messages.Queue.
func (l Lanes) Send(ctx context.Context, event any) error { return l.of(event).Send(ctx, event) }

// SendAfter implements messages.DelayedQueue.
func (l Lanes) SendAfter(ctx context.Context, event any, delay time.Duration) error {
	return l.of(event).SendAfter(ctx, event, delay)
}

// SendBatchAfter implements messages.BatchQueue: one batch per lane.
func (l Lanes) SendBatchAfter(ctx context.Context, events []any, delays []time.Duration) error {
	byURL := map[string][]int{}
	var order []Queue
	for i, ev := range events {
		q := l.of(ev)
		if _, ok := byURL[q.URL]; !ok {
			order = append(order, q)
		}
		byURL[q.URL] = append(byURL[q.URL], i)
	}
	for _, q := range order {
		var evs []any
		var ds []time.Duration
		for _, i := range byURL[q.URL] {
			evs = append(evs, events[i])
			if delays != nil {
				ds = append(ds, delays[i])
			}
		}
		if err := q.SendBatchAfter(ctx, evs, ds); err != nil {
			return err
		}
	}
	return nil
}

// LaneVars returns the environment variables of one kind of queue's lanes:
// name (the normal lane's) and its priority and bulk lanes'.
func LaneVars(name string) []string {
	stem := name[:len(name)-len("_QUEUE_URL")]
	return []string{stem + "_PRIORITY_QUEUE_URL", name, stem + "_BULK_QUEUE_URL"}
}
