package apiclient_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/digital-citizenship/functions/pkg/apiclient"
	"github.com/digital-citizenship/functions/pkg/apiclient/internal/generate"
)

// TestGenerated fails when api.gen.go or responses.gen.go is not what the
// descriptions in pkg/openapi generate today.
func TestGenerated(t *testing.T) {
	files, err := generate.Files()
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 {
		t.Fatalf("%d files", len(files))
	}
	for name, want := range files {
		got, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is out of date with pkg/openapi: run go generate ./pkg/apiclient", name)
		}
	}
}

// server answers each request with the next of answers, recording what it
// received.
type server struct {
	*httptest.Server
	got []*http.Request
	// bodies are the bodies received, one per request.
	bodies []string
}

type answer struct {
	status int
	header map[string]string
	body   string
}

func serve(t *testing.T, answers ...answer) *server {
	s := &server{}
	var n atomic.Int32
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.got = append(s.got, r)
		s.bodies = append(s.bodies, string(b))
		i := int(n.Add(1)) - 1
		if i >= len(answers) {
			t.Errorf("request %d: %s %s, no answer left", i+1, r.Method, r.URL)
			w.WriteHeader(599)
			return
		}
		a := answers[i]
		for k, v := range a.header {
			w.Header().Set(k, v)
		}
		if a.body != "" && a.header["Content-Type"] == "" {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(a.status)
		_, _ = io.WriteString(w, a.body)
	}))
	t.Cleanup(s.Close)
	return s
}

func client(t *testing.T, url string, o apiclient.Options) *apiclient.ClientWithResponses {
	t.Helper()
	c, err := apiclient.New(url, o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var message = apiclient.NewMessageWithFiscalCode{FiscalCode: "SPNDNL80R13C555X",
	Content: apiclient.MessageContent{Subject: "Avviso TARI 2026", Markdown: "Gentile cittadino, è disponibile il nuovo avviso di pagamento della TARI."}}

// TestRetrier_RetryAfterAndBackOff: a submission with an Idempotency-Key
// waits out a 429's Retry-After, backs off after a 429 without one and
// after a 503, and is sent again whole each time, key and all.
func TestRetrier_RetryAfterAndBackOff(t *testing.T) {
	s := serve(t,
		answer{status: 429, header: map[string]string{"Retry-After": "1"}},
		answer{status: 429},
		answer{status: 503, header: map[string]string{"Content-Type": "application/problem+json"}, body: `{"title":"Unavailable","status":503}`},
		answer{status: 201, body: `{"id":"01KX"}`},
	)
	var throttled atomic.Int32
	c := client(t, s.URL, apiclient.Options{Key: "secret", Attempts: 4, MaxWait: 2 * time.Second, Throttled: func() { throttled.Add(1) }})
	key := "tari-2026:2"
	start := time.Now()
	r, err := c.SubmitMessageforUserWithFiscalCodeInBodyWithResponse(context.Background(),
		&apiclient.SubmitMessageforUserWithFiscalCodeInBodyParams{IdempotencyKey: &key}, message)
	if err != nil || r.Err() != nil || r.JSON201 == nil || *r.JSON201.Id != "01KX" {
		t.Fatalf("%v %v %s", err, r.Err(), r.Body)
	}
	if waited := time.Since(start); waited < time.Second {
		t.Errorf("Retry-After: 1 was not waited: %s", waited)
	}
	if len(s.got) != 4 || throttled.Load() != 2 {
		t.Fatalf("%d requests, %d throttled", len(s.got), throttled.Load())
	}
	for i, req := range s.got {
		if req.Method != "POST" || req.URL.Path != "/api/v1/messages" || req.Header.Get("Idempotency-Key") != key ||
			req.Header.Get(apiclient.KeyHeader) != "secret" || s.bodies[i] != s.bodies[0] || len(s.bodies[i]) < 50 {
			t.Errorf("request %d: %s %s key %q body %q", i+1, req.Method, req.URL, req.Header.Get("Idempotency-Key"), s.bodies[i])
		}
	}
}

// TestRetrier_SafeOnly: a POST without an Idempotency-Key is not repeated
// after a 5xx (it may have been written), but is after a 429 (which writes
// nothing); a GET is repeated after a 5xx.
func TestRetrier_SafeOnly(t *testing.T) {
	s := serve(t, answer{status: 500, header: map[string]string{"Content-Type": "application/problem+json"},
		body: `{"title":"Internal server error","status":500,"detail":"the store failed"}`})
	c := client(t, s.URL, apiclient.Options{Key: "k", Attempts: 5, MaxWait: time.Millisecond})
	r, err := c.SubmitMessageforUserWithFiscalCodeInBodyWithResponse(context.Background(), nil, message)
	var p *apiclient.Problem
	if err != nil || !errors.As(r.Err(), &p) || p.Status != 500 || p.Detail != "the store failed" || len(s.got) != 1 {
		t.Fatalf("%v %v, %d requests", err, r.Err(), len(s.got))
	}

	s = serve(t, answer{status: 429}, answer{status: 201, body: `{"id":"01KY"}`})
	c = client(t, s.URL, apiclient.Options{Key: "k", Attempts: 5, MaxWait: time.Millisecond})
	if r, err := c.SubmitMessageforUserWithFiscalCodeInBodyWithResponse(context.Background(), nil, message); err != nil || r.Err() != nil || len(s.got) != 2 {
		t.Fatalf("429 then 201: %v %v, %d requests", err, r.Err(), len(s.got))
	}

	s = serve(t, answer{status: 502}, answer{status: 504}, answer{status: 200, body: `{"id":"s","service_name":"TARI"}`})
	c = client(t, s.URL, apiclient.Options{Key: "k", Attempts: 3, MaxWait: time.Millisecond})
	if r, err := c.GetCallbackWithResponse(context.Background()); err != nil || r.StatusCode() != 200 || len(s.got) != 3 {
		t.Fatalf("GET after 502, 504: %v, %d requests", err, len(s.got))
	}
}

// TestRetrier_LongRetryAfter: a daily limit's Retry-After (until midnight)
// is longer than MaxWait: the 429 comes back at once, a *Problem that says
// how long to wait.
func TestRetrier_LongRetryAfter(t *testing.T) {
	s := serve(t, answer{status: 429, header: map[string]string{"Retry-After": "36000", "Content-Type": "application/problem+json"},
		body: `{"type":"https://io.italia.it/problems/daily-limit","title":"Daily limit reached","status":429,"detail":"250000 messages today"}`})
	c := client(t, s.URL, apiclient.Options{Key: "k", Attempts: 10, MaxWait: 30 * time.Second})
	r, err := c.SubmitMessageforUserWithFiscalCodeInBodyWithResponse(context.Background(), nil, message)
	if err != nil {
		t.Fatal(err)
	}
	var p *apiclient.Problem
	if !errors.As(r.Err(), &p) || p.Status != 429 || p.Title != "Daily limit reached" || p.RetryAfter != 10*time.Hour ||
		p.Type != "https://io.italia.it/problems/daily-limit" || len(s.got) != 1 {
		t.Fatalf("%#v, %d requests", r.Err(), len(s.got))
	}
	if got := p.Error(); got != "HTTP 429 Daily limit reached: 250000 messages today" {
		t.Errorf("Error() = %q", got)
	}
}

// TestRetrier_HTTPDate: Retry-After may be an HTTP date.
func TestRetrier_HTTPDate(t *testing.T) {
	at := time.Now().Add(1500 * time.Millisecond).UTC().Format(http.TimeFormat)
	s := serve(t, answer{status: 429, header: map[string]string{"Retry-After": at}}, answer{status: 204})
	c := client(t, s.URL, apiclient.Options{Key: "k", Attempts: 2})
	start := time.Now()
	if r, err := c.DeleteCallbackWithResponse(context.Background()); err != nil || r.StatusCode() != 204 {
		t.Fatalf("%v", err)
	}
	if waited := time.Since(start); waited < 400*time.Millisecond {
		t.Errorf("waited %s for %s", waited, at)
	}
}

// TestRetrier_NetworkError: a GET is tried again after a refused
// connection, and the error names the attempts; the context's end stops
// the waits.
func TestRetrier_NetworkError(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + l.Addr().String()
	_ = l.Close()
	c := client(t, url, apiclient.Options{Key: "k", Attempts: 3, MaxWait: time.Millisecond})
	_, err = c.GetOwnServiceWithResponse(context.Background())
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte("gave up after 3 attempts")) {
		t.Fatalf("%v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	c = client(t, url, apiclient.Options{Key: "k", Attempts: 100, MaxWait: time.Hour})
	if _, err := c.GetOwnServiceWithResponse(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("%v", err)
	}
}

// TestProblem: an answer without problem+json is still a *Problem, with
// its status and its text.
func TestProblem(t *testing.T) {
	s := serve(t, answer{status: 401, header: map[string]string{"Content-Type": "text/plain"}, body: "Unauthorized\n"},
		answer{status: 404, header: map[string]string{"Content-Type": "application/problem+json"},
			body: `{"title":"Message not found","status":404,"detail":"no message\nwith this id"}`})
	c := client(t, s.URL, apiclient.Options{Key: "k"})
	r, err := c.GetMessageWithResponse(context.Background(), "SPNDNL80R13C555X", "01KX")
	if err != nil {
		t.Fatal(err)
	}
	var p *apiclient.Problem
	if !errors.As(r.Err(), &p) || p.Status != 401 || p.Error() != "HTTP 401: Unauthorized" {
		t.Fatalf("%v", r.Err())
	}
	r, _ = c.GetMessageWithResponse(context.Background(), "SPNDNL80R13C555X", "01KX")
	if r.JSON404 == nil || r.Err().Error() != "HTTP 404 Message not found: no message; with this id" {
		t.Fatalf("%v %v", r.JSON404, r.Err())
	}
	if s.got[0].URL.Path != "/api/v1/messages/SPNDNL80R13C555X/01KX" {
		t.Errorf("path %s", s.got[0].URL.Path)
	}
}
