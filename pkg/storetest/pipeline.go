package storetest

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/digital-citizenship/functions/pkg/emails"
)

// Queue is an in-memory messages.Queue that keeps what was sent as JSON.
type Queue struct {
	mu   sync.Mutex
	Sent [][]byte
	// Err, when set, is returned by Send (a failing queue).
	Err error
	// Delays are the delays of the events sent with SendAfter.
	Delays []time.Duration
}

// Send implements messages.Queue.
func (q *Queue) Send(_ context.Context, ev any) error {
	if q.Err != nil {
		return q.Err
	}
	b, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	q.Sent = append(q.Sent, b)
	return nil
}

// SendAfter implements messages.DelayedQueue: the event is kept as sent,
// and its delay in Delays.
func (q *Queue) SendAfter(ctx context.Context, ev any, delay time.Duration) error {
	if err := q.Send(ctx, ev); err != nil {
		return err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	q.Delays = append(q.Delays, delay)
	return nil
}

// SendBatchAfter implements messages.BatchQueue: each event as SendAfter.
func (q *Queue) SendBatchAfter(ctx context.Context, evs []any, delays []time.Duration) error {
	for i, ev := range evs {
		if err := q.SendAfter(ctx, ev, delays[i]); err != nil {
			return err
		}
	}
	return nil
}

// Mailer is an in-memory emails.Mailer.
type Mailer struct {
	mu   sync.Mutex
	Sent []emails.Email
	// Err, when set, is returned by Send.
	Err error
}

// Send implements emails.Mailer.
func (m *Mailer) Send(_ context.Context, e emails.Email) error {
	if m.Err != nil {
		return m.Err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.Sent = append(m.Sent, e)
	return nil
}

// UsagePlan is an in-memory subscriptions.UsagePlan.
type UsagePlan struct {
	mu   sync.Mutex
	Keys map[string]string // subscription id -> usage key
}

// Register implements subscriptions.UsagePlan.
func (u *UsagePlan) Register(_ context.Context, id, key string) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.Keys == nil {
		u.Keys = map[string]string{}
	}
	u.Keys[id] = key
	return nil
}

// PushEndpoints is an in-memory push.Endpoints: one endpoint per platform
// and token, as SNS gives.
type PushEndpoints struct {
	mu      sync.Mutex
	Live    map[string]string // endpoint -> token
	Deleted []string
}

// Create implements push.Endpoints.
func (p *PushEndpoints) Create(_ context.Context, platform, token string) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.Live == nil {
		p.Live = map[string]string{}
	}
	arn := "arn:endpoint/" + platform + "/" + token
	p.Live[arn] = token
	return arn, nil
}

// Delete implements push.Endpoints.
func (p *PushEndpoints) Delete(_ context.Context, arn string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.Live, arn)
	p.Deleted = append(p.Deleted, arn)
	return nil
}
