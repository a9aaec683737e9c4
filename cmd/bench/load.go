package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	store "github.com/digital-citizenship/functions/pkg/dynamodb"
	"github.com/digital-citizenship/functions/pkg/localstack"
	"github.com/digital-citizenship/functions/pkg/messages"
)

// client drives the local stack's API as a PA service would.
type client struct {
	api, key string
	http     *http.Client
	// lane, when set, is the X-Lane of its submissions.
	lane string
}

func (c client) do(method, path, body string, key string) (int, map[string]any, error) {
	status, out, _, err := c.doHeaders(method, path, body, key)
	return status, out, err
}

func (c client) doHeaders(method, path, body string, key string) (int, map[string]any, http.Header, error) {
	req, err := http.NewRequest(method, c.api+path, strings.NewReader(body))
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("Ocp-Apim-Subscription-Key", key)
	if c.lane != "" {
		req.Header.Set(messages.LaneHeader, c.lane)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return res.StatusCode, out, res.Header, nil
}

func (c client) must(want int, method, path, body, key string) (map[string]any, error) {
	_, out, _, err := c.mustHeaders(want, method, path, body, key)
	return out, err
}

func (c client) mustHeaders(want int, method, path, body, key string) (int, map[string]any, http.Header, error) {
	status, out, h, err := c.doHeaders(method, path, body, key)
	if err == nil && status != want {
		err = fmt.Errorf("%s %s: %d %v", method, path, status, out)
	}
	return status, out, h, err
}

// submission is one accepted message as the client saw it.
type submission struct {
	citizen, id string
	latency     time.Duration
	subject     string // make soak's, to find its e-mail
	at          time.Time
	lane        string // the 201's X-Lane
}

// submit sends n messages at the given concurrency (or, with rate > 0, at
// that many per second, open loop) and returns them in order of sending.
func (c client) submit(n, concurrency int, rate float64, citizens []string) ([]submission, time.Duration, error) {
	out := make([]submission, n)
	var next atomic.Int64
	var firstErr error
	var once sync.Once
	start := time.Now()
	var wg sync.WaitGroup
	for range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if rate > 0 {
					time.Sleep(time.Until(start.Add(time.Duration(float64(i) / rate * float64(time.Second)))))
				}
				fc := citizens[i%len(citizens)]
				t0 := time.Now()
				_, body, h, err := c.mustHeaders(201, "POST", "/api/v1/messages/"+fc, benchMessage(fmt.Sprintf("Avviso numero %d", i)), c.key)
				if err != nil {
					once.Do(func() { firstErr = err })
					return
				}
				id, _ := body["id"].(string)
				out[i] = submission{citizen: fc, id: id, latency: time.Since(t0), at: t0, lane: h.Get(messages.LaneHeader)}
			}
		}()
	}
	wg.Wait()
	return out, time.Since(start), firstErr
}

// Latency is a distribution in milliseconds.
type Latency struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50_ms"`
	P95 float64 `json:"p95_ms"`
	P99 float64 `json:"p99_ms"`
	Max float64 `json:"max_ms"`
}

func distribution(ds []time.Duration) Latency {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s) == 0 {
		return Latency{}
	}
	at := func(q float64) float64 {
		return float64(s[min(len(s)-1, int(q*float64(len(s))))].Microseconds()) / 1000
	}
	return Latency{N: len(s), P50: at(0.50), P95: at(0.95), P99: at(0.99), Max: float64(s[len(s)-1].Microseconds()) / 1000}
}

// waitSent waits until every submission's e-mail is SENT, reading the
// messages table (the bench's own reads, not counted for the functions),
// and returns accepted→SENT per message and the time from the first
// acceptance to the last SENT.
func waitSent(ctx context.Context, s *localstack.Stack, subs []submission, timeout time.Duration) ([]time.Duration, time.Duration, error) {
	msgs := store.NewMessages(dynamodb.NewFromConfig(s.Config), s.Resources.Refs["MessagesTable"])
	sent := make([]time.Duration, 0, len(subs))
	var first, last time.Time
	deadline := time.Now().Add(timeout)
	for _, sub := range subs {
		for {
			m, err := msgs.Get(ctx, sub.citizen, sub.id)
			if err != nil {
				return nil, 0, err
			}
			ch, ok := m.Channels[messages.Email]
			if ok && ch.Status == messages.ChannelSent {
				sent = append(sent, ch.UpdatedAt.Sub(m.CreatedAt))
				if first.IsZero() || m.CreatedAt.Before(first) {
					first = m.CreatedAt
				}
				if ch.UpdatedAt.After(last) {
					last = ch.UpdatedAt
				}
				break
			}
			if m.Status == messages.Rejected || m.Status == messages.Failed || (ok && ch.Status != messages.ChannelThrottled && ch.Status != "") {
				return nil, 0, fmt.Errorf("message ended %s, e-mail %s", m.Status, ch.Status)
			}
			if time.Now().After(deadline) {
				return nil, 0, errors.New("messages still undelivered at the deadline")
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return sent, last.Sub(first), nil
}

// waitCount waits until the function has made want requests of op (the
// stack counts them as the functions report them).
func waitCount(s *localstack.Stack, fn, op string, want int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for s.Stats()[fn].Requests[op] < want {
		if time.Now().After(deadline) {
			return fmt.Errorf("%s made %d %s, want %d", fn, s.Stats()[fn].Requests[op], op, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil
}

// fiscalCode is the i-th test citizen's: a sandbox fiscal code (development
// profiles, their addresses validated at creation).
func fiscalCode(i int) string { return fmt.Sprintf("BNCHMK80A01Y%03dX", i%1000) }

// benchMessage is a plain message (no payment_data: a payment notice's
// submission also reads the notice's receipt, one request more).
func benchMessage(subject string) string {
	b, _ := json.Marshal(map[string]any{"content": map[string]any{
		"subject":  subject,
		"markdown": "# Avviso\n\nGentile cittadino, **è disponibile** il nuovo calendario della raccolta differenziata per il 2026.\n\n* carta: lunedì\n* plastica: giovedì\n",
	}})
	return string(b)
}
