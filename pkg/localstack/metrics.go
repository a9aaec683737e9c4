package localstack

import (
	"context"
	"fmt"
	"log"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/digital-citizenship/functions/pkg/metrics"
)

// tally adds up the functions' EMF metrics, as CloudWatch would, for the
// local stack's summary line.
type tally struct {
	mu      sync.Mutex
	counts  map[string]float64
	latency map[string][]float64 // DeliveryLatency by channel
	usage   map[string]float64   // DailyLimitUsage by service, the latest
	changed bool
}

func newTally() *tally {
	return &tally{counts: map[string]float64{}, latency: map[string][]float64{}, usage: map[string]float64{}}
}

func (t *tally) add(l metrics.Line) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.changed = true
	switch l.Name {
	case metrics.DeliveryLatency:
		ch := strings.ToLower(l.Dims["Channel"])
		t.latency[ch] = append(t.latency[ch], l.Value)
	case metrics.Messages:
		k := strings.ToLower(l.Dims["Outcome"])
		if r := l.Dims["Reason"]; r != "" {
			k += " " + r
		}
		t.counts["messages "+k] += l.Value
	case metrics.Notifications:
		t.counts[strings.ToLower(l.Dims["Channel"]+" "+l.Dims["Outcome"])] += l.Value
	case metrics.DailyLimitUsage:
		t.usage[l.Props["ServiceId"]] = l.Value
	case metrics.Callbacks:
		t.counts["callbacks "+strings.ToLower(l.Dims["Outcome"])] += l.Value
	case metrics.CallbacksSuspended:
		t.counts["callbacks suspended "+l.Props["ServiceId"]] += l.Value
	}
}

// line is the summary, when something changed since the last one.
func (t *tally) line() (string, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.changed {
		return "", false
	}
	t.changed = false
	keys := make([]string, 0, len(t.counts))
	for k := range t.counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys)+len(t.latency))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %.0f", k, t.counts[k]))
	}
	chans := make([]string, 0, len(t.latency))
	for ch := range t.latency {
		chans = append(chans, ch)
	}
	sort.Strings(chans)
	for _, ch := range chans {
		v := append([]float64(nil), t.latency[ch]...)
		sort.Float64s(v)
		parts = append(parts, fmt.Sprintf("%s accepted→sent p50 %.0f ms p95 %.0f ms", ch, v[len(v)/2], v[len(v)*95/100]))
	}
	services := make([]string, 0, len(t.usage))
	for svc := range t.usage {
		services = append(services, svc)
	}
	sort.Strings(services)
	for _, svc := range services {
		parts = append(parts, fmt.Sprintf("%s daily limit used %.0f %%", svc, t.usage[svc]))
	}
	return strings.Join(parts, " · "), true
}

// report logs the summary every period while metrics come in.
func (t *tally) report(ctx context.Context, period time.Duration, logs *log.Logger) {
	every(ctx, period, func() {
		if l, ok := t.line(); ok {
			logs.Printf("metrics: %s", l)
		}
	})
}

// Latencies returns every accepted→SENT time (milliseconds) a channel's
// sender reported so far, in the order they came (the DeliveryLatency
// metric); lower case channel names, as "email".
func (s *Stack) Latencies(channel string) []float64 {
	s.tally.mu.Lock()
	defer s.tally.mu.Unlock()
	return append([]float64(nil), s.tally.latency[channel]...)
}
