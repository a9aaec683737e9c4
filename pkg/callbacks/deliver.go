package callbacks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/digital-citizenship/functions/pkg/metrics"
	"github.com/digital-citizenship/functions/pkg/problem"
)

// DelayedQueue takes an event back, to be received after a delay (SQS
// delays reach 15 minutes).
type DelayedQueue interface {
	SendAfter(ctx context.Context, event any, delay time.Duration) error
}

// Delivery timings: the first retry's wait, doubling up to the queue's
// longest delay; and how often suspended events look for a resumed
// configuration.
var (
	FirstRetry    = 5 * time.Second
	MaxRetryDelay = 15 * time.Minute
	SuspendedPoll = time.Minute
)

// configTTL is how long an environment keeps a configuration it read: a
// PUT (resume) or a suspension is seen within it.
const configTTL = 5 * time.Second

// Deliverer POSTs callback events to their services' receivers.
type Deliverer struct {
	Store Store
	// Queue takes an event back for a retry, or while its service's
	// callbacks are suspended.
	Queue   DelayedQueue
	HTTP    *http.Client
	Now     func() time.Time
	Metrics metrics.Sink
	Log     *slog.Logger

	mu    sync.Mutex
	cache map[string]cached
}

type cached struct {
	c    Config
	err  error
	read time.Time
}

// config returns a service's configuration, read at most every configTTL.
func (d *Deliverer) config(ctx context.Context, serviceID string) (Config, error) {
	now := d.Now()
	d.mu.Lock()
	if c, ok := d.cache[serviceID]; ok && now.Sub(c.read) < configTTL {
		d.mu.Unlock()
		return c.c, c.err
	}
	d.mu.Unlock()
	c, err := d.Store.Callback(ctx, serviceID)
	if err != nil && !errors.Is(err, problem.ErrNotFound) {
		return Config{}, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cache == nil {
		d.cache = map[string]cached{}
	}
	d.cache[serviceID] = cached{c, err, now}
	return c, err
}

// forget drops a cached configuration (after this environment suspended it).
func (d *Deliverer) forget(serviceID string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.cache, serviceID)
}

// Outcomes of the Callbacks metric.
const (
	OutcomeDelivered = "DELIVERED"
	OutcomeFailed    = "FAILED"
	OutcomeGivenUp   = "GIVEN_UP"
)

// Deliver handles one event: dropped when its service has no configuration
// or does not ask for it; taken back for later while the service's
// callbacks are suspended; else POSTed, and on failure recorded against the
// service (which may suspend it) and taken back with a growing delay until
// RetryFor after its first failure. It returns an error only when the event
// must be received again as it is.
func (d *Deliverer) Deliver(ctx context.Context, e Event) error {
	c, err := d.config(ctx, e.ServiceID)
	switch {
	case errors.Is(err, problem.ErrNotFound):
		return nil
	case err != nil:
		return fmt.Errorf("read the callback configuration: %w", err)
	case !c.Wants(e.Event):
		return nil
	case c.Status == Suspended:
		return d.Queue.SendAfter(ctx, e, SuspendedPoll)
	}
	reason := d.post(ctx, c, e)
	if reason == "" {
		metrics.Count(d.Metrics, metrics.Callbacks, map[string]string{"Outcome": OutcomeDelivered})
		return nil
	}
	now := d.Now()
	metrics.Count(d.Metrics, metrics.Callbacks, map[string]string{"Outcome": OutcomeFailed})
	suspended, err := d.Store.RecordFailure(ctx, e.ServiceID, Failure{At: now, Event: e.Event, Reason: reason})
	if err != nil {
		d.Log.Warn("callback failure not recorded", "service_id", e.ServiceID, "error", err.Error())
	}
	if suspended {
		d.forget(e.ServiceID)
		d.Log.Warn("callbacks suspended", "service_id", e.ServiceID, "failures", SuspendAfter, "window", SuspendWindow.String())
		if d.Metrics != nil {
			metrics.EmitWithProperties(d.Metrics, metrics.CallbacksSuspended, "Count", 1, nil, map[string]string{"ServiceId": e.ServiceID})
		}
	}
	if e.FirstFailure.IsZero() {
		e.FirstFailure = now
	}
	e.Attempts++
	if now.Sub(e.FirstFailure) >= RetryFor {
		metrics.Count(d.Metrics, metrics.Callbacks, map[string]string{"Outcome": OutcomeGivenUp})
		d.Log.Warn("callback given up", "service_id", e.ServiceID, "event_id", e.ID, "attempts", e.Attempts)
		return nil
	}
	return d.Queue.SendAfter(ctx, e, RetryDelay(e.Attempts))
}

// RetryDelay is the wait before attempt n+1 after n failed ones.
func RetryDelay(n int) time.Duration {
	d := FirstRetry
	for i := 1; i < n && d < MaxRetryDelay; i++ {
		d *= 2
	}
	return min(d, MaxRetryDelay)
}

// post makes one attempt and returns why it failed, "" on a 2xx.
func (d *Deliverer) post(ctx context.Context, c Config, e Event) string {
	body := e.Body()
	ctx, cancel := context.WithTimeout(ctx, AttemptTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL, bytes.NewReader(body))
	if err != nil {
		return "the URL cannot be called"
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "digital-citizenship-callbacks/1")
	req.Header.Set("X-Signature", Sign(c.SigningSecret, d.Now(), body))
	if c.BearerToken != "" {
		req.Header.Set("Authorization", "Bearer "+c.BearerToken)
	}
	res, err := d.HTTP.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fmt.Sprintf("no answer within %s", AttemptTimeout)
		}
		return "the connection failed"
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, MaxAnswer))
	_ = res.Body.Close()
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return fmt.Sprintf("HTTP %d", res.StatusCode)
	}
	return ""
}
