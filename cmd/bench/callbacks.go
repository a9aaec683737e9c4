package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/digital-citizenship/functions/pkg/localstack"
)

// CallbackBench is what delivery callbacks add: the AWS requests of one
// e-mail's path with callbacks for message.processed and notification.sent
// (send-callback's own included), and, by event, the time from the status
// written (the event's "at") to the receiver's getting it, with the
// pipeline at half its closed-loop rate.
type CallbackBench struct {
	Path     PathCost           `json:"one_email_with_callbacks"`
	Added    int                `json:"requests_added"`
	Messages int                `json:"messages"`
	Rate     float64            `json:"rate"`
	Latency  map[string]Latency `json:"status_to_receiver"`
}

// addedBy names the requests added to without, by function and operation.
func (b CallbackBench) addedBy(without PathCost) string {
	var out []string
	for _, f := range sortedKeys(b.Path.ByFunction) {
		for _, op := range sortedKeys(b.Path.ByFunction[f]) {
			if d := b.Path.ByFunction[f][op] - without.ByFunction[f][op]; d != 0 {
				out = append(out, fmt.Sprintf("%s %s×%d", strings.TrimSuffix(f, "Function"), op, d))
			}
		}
	}
	return strings.Join(out, ", ")
}

var benchCallbackEvents = []string{"message.processed", "notification.sent"}

// measureCallbacks sets the bench service's callback to the local
// receiver, measures one e-mail's path with it, then sends n messages at
// rate and times every callback; the callback is deleted afterwards.
func measureCallbacks(ctx context.Context, s *localstack.Stack, c client, citizens []string, n int, rate float64, without PathCost) (CallbackBench, error) {
	events, _ := json.Marshal(benchCallbackEvents)
	if _, err := c.must(200, "PUT", "/api/v1/callback", fmt.Sprintf(`{"url":%q,"events":%s}`, s.Callbacks.URL(), events), c.key); err != nil {
		return CallbackBench{}, err
	}
	defer func() { _, _, _ = c.do("DELETE", "/api/v1/callback", "", c.key) }()
	want := len(benchCallbackEvents)
	p, err := onePath(ctx, s, c, citizens, want)
	if err != nil {
		return CallbackBench{}, err
	}
	b := CallbackBench{Path: p, Added: p.Functions - without.Functions, Messages: n, Rate: rate, Latency: map[string]Latency{}}

	before := len(s.Callbacks.Calls())
	if _, _, err := c.submit(n, 64, rate, citizens); err != nil {
		return CallbackBench{}, err
	}
	if err := waitCallbackCalls(ctx, s, before, want*n, 5*time.Minute); err != nil {
		return CallbackBench{}, err
	}
	lat := map[string][]time.Duration{}
	for _, call := range s.Callbacks.Calls()[before:] {
		var ev struct {
			Event string `json:"event"`
			At    string `json:"at"`
		}
		if json.Unmarshal(call.Body, &ev) != nil || !slices.Contains(benchCallbackEvents, ev.Event) {
			continue
		}
		at, err := time.Parse(time.RFC3339Nano, ev.At)
		if err != nil {
			return CallbackBench{}, fmt.Errorf("a callback's at %q: %w", ev.At, err)
		}
		lat[ev.Event] = append(lat[ev.Event], call.At.Sub(at))
	}
	for ev, ds := range lat {
		b.Latency[ev] = distribution(ds)
	}
	return b, nil
}

// waitCallbackCalls waits until the local receiver has had want calls
// after its first from, for at most within.
func waitCallbackCalls(ctx context.Context, s *localstack.Stack, from, want int, within time.Duration) error {
	deadline := time.Now().Add(within)
	for len(s.Callbacks.Calls()) < from+want {
		if time.Now().After(deadline) {
			return fmt.Errorf("%d callbacks of %d after %s", len(s.Callbacks.Calls())-from, want, within)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return nil
}
