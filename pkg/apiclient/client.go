package apiclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"
)

// KeyHeader carries the subscription key.
const KeyHeader = "Ocp-Apim-Subscription-Key"

// Options configure New.
type Options struct {
	// Key is the subscription key sent with every request.
	Key string
	// HTTP sends the requests (default: http.DefaultClient).
	HTTP HttpRequestDoer
	// Attempts, MaxWait, Limiter and Throttled configure the Retrier
	// (default: one attempt, no pace).
	Attempts  int
	MaxWait   time.Duration
	Limiter   *rate.Limiter
	Throttled func()
}

// New returns a client of the API at base (https://<id>.execute-api.<region>.amazonaws.com/prod,
// http://127.0.0.1:3000), signing every request with o.Key and sending it
// through a Retrier.
func New(base string, o Options) (*ClientWithResponses, error) {
	doer := o.HTTP
	if doer == nil {
		doer = http.DefaultClient
	}
	r := &Retrier{Doer: doer, Attempts: o.Attempts, MaxWait: o.MaxWait, Limiter: o.Limiter, Throttled: o.Throttled}
	return NewClientWithResponses(strings.TrimRight(base, "/"), WithHTTPClient(r),
		WithRequestEditorFn(func(_ context.Context, req *http.Request) error {
			req.Header.Set(KeyHeader, o.Key)
			return nil
		}))
}

// Retrier sends requests through Doer, retrying what is worth it:
//   - a 429, which the API answers before writing anything: after its
//     Retry-After when it gives one, else with back-off;
//   - a 5xx or a network error, with back-off, when the request is safe to
//     repeat: GET, HEAD, PUT, DELETE, or one with an Idempotency-Key.
//
// Back-off doubles from a quarter second, with jitter. A wait longer than
// MaxWait (a daily limit's Retry-After until midnight) is not waited: the
// answer is returned as it is. After the last attempt the last answer is
// returned; an error only when no answer came.
type Retrier struct {
	Doer HttpRequestDoer
	// Attempts bounds the tries of one request (default 1).
	Attempts int
	// MaxWait bounds one wait between tries (default 30 s).
	MaxWait time.Duration
	// Limiter, when set, paces every try.
	Limiter *rate.Limiter
	// Throttled, when set, hears of every 429.
	Throttled func()
}

// Do implements HttpRequestDoer.
func (r *Retrier) Do(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	attempts := max(r.Attempts, 1)
	for i := 0; ; i++ {
		if r.Limiter != nil {
			if err := r.Limiter.Wait(ctx); err != nil {
				return nil, err
			}
		}
		try := req
		if i > 0 {
			var err error
			if try, err = rewind(req); err != nil {
				return nil, err
			}
		}
		res, err := r.Doer.Do(try)
		if err != nil && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		wait, retry := r.advice(req, res, err, i)
		if !retry || i == attempts-1 {
			if err != nil && i > 0 {
				return nil, fmt.Errorf("gave up after %d attempts: %w", i+1, err)
			}
			return res, err
		}
		if res != nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 1<<16))
			_ = res.Body.Close()
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
	}
}

// advice says whether to try again after try i's outcome, and when.
func (r *Retrier) advice(req *http.Request, res *http.Response, err error, i int) (time.Duration, bool) {
	maxWait := r.MaxWait
	if maxWait <= 0 {
		maxWait = 30 * time.Second
	}
	backoff := func() time.Duration {
		d := 250 * time.Millisecond << min(i, 10)
		return min(time.Duration(float64(d)*(0.5+rand.Float64())), maxWait)
	}
	switch {
	case err != nil:
		return backoff(), repeatable(req)
	case res.StatusCode == http.StatusTooManyRequests:
		if r.Throttled != nil {
			r.Throttled()
		}
		if d, ok := retryAfter(res.Header, time.Now()); ok {
			return max(d, time.Millisecond), d <= maxWait
		}
		return backoff(), true
	case res.StatusCode >= 500:
		return backoff(), repeatable(req)
	}
	return 0, false
}

// repeatable is whether sending req twice does what sending it once does.
func repeatable(req *http.Request) bool {
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete, http.MethodOptions:
		return true
	}
	return req.Header.Get("Idempotency-Key") != ""
}

// rewind returns req ready to be sent again, its body from the start.
func rewind(req *http.Request) (*http.Request, error) {
	again := req.Clone(req.Context())
	if req.Body != nil && req.Body != http.NoBody {
		if req.GetBody == nil {
			return nil, errors.New("apiclient: the request's body cannot be sent again")
		}
		body, err := req.GetBody()
		if err != nil {
			return nil, err
		}
		again.Body = body
	}
	return again, nil
}

// retryAfter reads a Retry-After header: seconds, or an HTTP date.
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// Response is what every operation's typed response is.
type Response interface {
	// StatusCode is the answer's HTTP status.
	StatusCode() int
	// Err is nil for a 2xx answer, else its *Problem.
	Err() error
	// RawBody is the answer's body as it came.
	RawBody() []byte
}

// Problem is a refusal: the API's problem+json (RFC 7807) with the answer's
// status, or, for an answer without one, the status and the body's text.
type Problem struct {
	Status   int    `json:"status"`
	Type     string `json:"type,omitempty"`
	Title    string `json:"title,omitempty"`
	Detail   string `json:"detail,omitempty"`
	Instance string `json:"instance,omitempty"`
	// RetryAfter is the answer's Retry-After (a 429's), zero without one.
	RetryAfter time.Duration `json:"-"`
	// Body is the answer's body as it came.
	Body []byte `json:"-"`
}

// Error is the problem in one line: "HTTP 403 Forbidden: detail".
func (p *Problem) Error() string {
	if p.Title == "" && p.Detail == "" {
		return fmt.Sprintf("HTTP %d: %s", p.Status, strings.TrimSpace(string(p.Body)))
	}
	return strings.ReplaceAll(fmt.Sprintf("HTTP %d %s: %s", p.Status, p.Title, p.Detail), "\n", "; ")
}

// errOf is nil for a 2xx answer, else its *Problem.
func errOf(res *http.Response, body []byte) error {
	if res == nil {
		return errors.New("apiclient: no answer")
	}
	if res.StatusCode >= 200 && res.StatusCode < 300 {
		return nil
	}
	p := &Problem{Body: body}
	if mt, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type")); strings.HasSuffix(mt, "json") {
		_ = json.Unmarshal(body, p)
	}
	p.Status = res.StatusCode // the answer's, whatever the body says
	p.RetryAfter, _ = retryAfter(res.Header, time.Now())
	return p
}
