package campaign

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Client calls the public API with a subscription key.
type Client struct {
	// API is the base URL (https://.../prod, or http://127.0.0.1:3000).
	API  string
	Key  string
	HTTP *http.Client
	// Attempts bounds the tries of one request (429s, 5xx, network
	// errors); MaxWait bounds one wait between them.
	Attempts int
	MaxWait  time.Duration
	// Limiter, when set, paces every request.
	Limiter *rate.Limiter
	// Throttled counts the 429s met (what the progress line shows).
	Throttled *Counter
}

// Counter is a counter safe for concurrent use.
type Counter struct {
	mu sync.Mutex
	n  int
}

// Add adds one.
func (c *Counter) Add() {
	if c != nil {
		c.mu.Lock()
		c.n++
		c.mu.Unlock()
	}
}

// N returns the count.
func (c *Counter) N() int {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// Response is an API answer.
type Response struct {
	Status int
	Body   map[string]any
	Raw    string
}

// Do sends one request, retrying 429 (after Retry-After when the API gives
// one, else with exponential back-off and jitter), 5xx and network errors.
// Other answers are returned as they are.
func (c Client) Do(ctx context.Context, method, path string, body []byte, headers map[string]string) (Response, error) {
	attempts := max(c.Attempts, 1)
	var last error
	for i := range attempts {
		if c.Limiter != nil {
			if err := c.Limiter.Wait(ctx); err != nil {
				return Response{}, err
			}
		}
		r, wait, err := c.once(ctx, method, path, body, headers)
		if err == nil && wait == 0 {
			return r, nil
		}
		last = err
		if err == nil {
			last = fmt.Errorf("HTTP %d: %s", r.Status, strings.TrimSpace(r.Raw))
		}
		if i == attempts-1 {
			break
		}
		if wait < 0 { // no advice: back off
			backoff := 250 * time.Millisecond << min(i, 10) // doubling from a quarter second
			wait = time.Duration(float64(backoff) * (0.5 + rand.Float64()))
		}
		select {
		case <-ctx.Done():
			return Response{}, ctx.Err()
		case <-time.After(min(wait, c.maxWait())):
		}
	}
	return Response{}, fmt.Errorf("gave up after %d attempts: %w", attempts, last)
}

func (c Client) maxWait() time.Duration {
	if c.MaxWait > 0 {
		return c.MaxWait
	}
	return 30 * time.Second
}

// once sends one request. wait is 0 when the answer is final, -1 when it
// is worth a retry with back-off, or the wait Retry-After asks for.
func (c Client) once(ctx context.Context, method, path string, body []byte, headers map[string]string) (Response, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.API, "/")+path, bytes.NewReader(body))
	if err != nil {
		return Response{}, 0, err
	}
	req.Header.Set("Ocp-Apim-Subscription-Key", c.Key)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	res, err := hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return Response{}, 0, ctx.Err()
		}
		return Response{}, -1, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return Response{}, -1, err
	}
	r := Response{Status: res.StatusCode, Raw: string(raw)}
	_ = json.Unmarshal(raw, &r.Body)
	switch {
	case res.StatusCode == http.StatusTooManyRequests:
		c.Throttled.Add()
		if s, err := strconv.Atoi(res.Header.Get("Retry-After")); err == nil && s >= 0 {
			return r, max(time.Duration(s)*time.Second, time.Millisecond), nil
		}
		return r, -1, nil
	case res.StatusCode >= 500:
		return r, -1, nil
	}
	return r, 0, nil
}

// Result is what became of one row.
type Result struct {
	Line       int
	FiscalCode string
	MessageID  string
	Error      string
}

// Progress hears of each row done.
type Progress interface {
	Done(r Result)
}

// Send sends rows, concurrency at a time (the client's limiter paces them),
// and reports each result as it comes; on ctx's end it stops taking rows
// and returns the results so far with ctx's error.
func Send(ctx context.Context, c Client, rows []Row, concurrency int, p Progress) ([]Result, error) {
	work := make(chan Row)
	out := make(chan Result)
	var wg sync.WaitGroup
	for range max(concurrency, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for row := range work {
				res, err := c.Do(ctx, "POST", "/api/v1/messages", row.Body, map[string]string{"Idempotency-Key": row.Key})
				if err != nil && ctx.Err() != nil {
					continue // interrupted: the row is not done
				}
				r := Result{Line: row.Line, FiscalCode: row.FiscalCode}
				switch {
				case err != nil:
					r.Error = err.Error()
				case res.Status == http.StatusCreated:
					r.MessageID, _ = res.Body["id"].(string)
				default:
					r.Error = describe(res)
				}
				out <- r
			}
		}()
	}
	go func() {
		defer close(work)
		for _, row := range rows {
			select {
			case work <- row:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() { wg.Wait(); close(out) }()
	var results []Result
	for r := range out {
		results = append(results, r)
		if p != nil {
			p.Done(r)
		}
	}
	return results, ctx.Err()
}

// describe is a refusal in one line: the problem's status, title and detail.
func describe(r Response) string {
	title, _ := r.Body["title"].(string)
	detail, _ := r.Body["detail"].(string)
	if title == "" && detail == "" {
		return fmt.Sprintf("HTTP %d: %s", r.Status, strings.TrimSpace(r.Raw))
	}
	return strings.ReplaceAll(fmt.Sprintf("HTTP %d %s: %s", r.Status, title, detail), "\n", "; ")
}
