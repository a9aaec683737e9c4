package callbacks_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/digital-citizenship/functions/pkg/callbacks"
	"github.com/digital-citizenship/functions/pkg/storetest"
)

type receiver struct {
	mu     sync.Mutex
	status int
	got    []*http.Request
	bodies [][]byte
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	b, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got, r.bodies = append(r.got, req), append(r.bodies, b)
	if r.status == http.StatusFound {
		http.Redirect(w, req, "/elsewhere", http.StatusFound)
		return
	}
	w.WriteHeader(r.status)
	_, _ = w.Write([]byte(strings.Repeat("x", 10000))) // more than a callback reads
}

func setup(t *testing.T, status int, events ...string) (*callbacks.Deliverer, *receiver, *storetest.Queue, *time.Time) {
	t.Helper()
	rec := &receiver{status: status}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	st, q := &storetest.Services{}, &storetest.Queue{}
	if len(events) == 0 {
		events = callbacks.AllEvents
	}
	if err := st.PutCallback(context.Background(), callbacks.Config{ServiceID: "svc", URL: srv.URL + "/cb", BearerToken: "tok-0123456789",
		Events: events, SigningSecret: "whsec_test"}); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	d := &callbacks.Deliverer{Store: st, Queue: q, HTTP: callbacks.NewClient(true), Now: func() time.Time { return now },
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	return d, rec, q, &now
}

func event(n int) callbacks.Event {
	return callbacks.NewEvent(callbacks.NotificationSent, "svc", "01MSG"+strings.Repeat("0", n), "ref-1", "EMAIL", "SENT", "",
		time.Date(2026, 12, 6, 9, 59, 0, 0, time.UTC))
}

// TestDeliver_Signed: a 2xx delivers, with the bearer token and a signature
// the receiver verifies; the body has no service and no fiscal code.
func TestDeliver_Signed(t *testing.T) {
	d, rec, q, now := setup(t, 204)
	if err := d.Deliver(context.Background(), event(1)); err != nil {
		t.Fatal(err)
	}
	if len(rec.got) != 1 || len(q.Sent) != 0 {
		t.Fatalf("%d calls, %d taken back", len(rec.got), len(q.Sent))
	}
	req, body := rec.got[0], rec.bodies[0]
	if req.Header.Get("Authorization") != "Bearer tok-0123456789" || req.Header.Get("Content-Type") != "application/json" ||
		!callbacks.Verify("whsec_test", req.Header.Get("X-Signature"), body, *now, 5*time.Minute) {
		t.Fatalf("headers %v", req.Header)
	}
	if callbacks.Verify("whsec_other", req.Header.Get("X-Signature"), body, *now, 5*time.Minute) ||
		callbacks.Verify("whsec_test", req.Header.Get("X-Signature"), append(body, ' '), *now, 5*time.Minute) ||
		callbacks.Verify("whsec_test", req.Header.Get("X-Signature"), body, now.Add(time.Hour), 5*time.Minute) {
		t.Fatal("a signature verified with another secret, body or time")
	}
	var b map[string]any
	if err := json.Unmarshal(body, &b); err != nil || b["event"] != "notification.sent" || b["channel"] != "email" ||
		b["reference"] != "ref-1" || b["service_id"] != nil || b["attempts"] != nil || b["id"] == "" {
		t.Fatalf("body %s", body)
	}
}

// TestDeliver_RetriesSuspendsResumes: a failure is taken back with a
// growing delay; the 25th within 5 minutes suspends the service's
// callbacks, whose events are then kept (taken back unsent) until a PUT
// makes them ACTIVE; after a day of failures an event is given up.
func TestDeliver_RetriesSuspendsResumes(t *testing.T) {
	d, rec, q, now := setup(t, 500)
	e := event(2)
	for i := range callbacks.SuspendAfter {
		if err := d.Deliver(context.Background(), e); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(q.Sent[len(q.Sent)-1], &e); err != nil {
			t.Fatal(err)
		}
		if e.Attempts != i+1 || !e.FirstFailure.Equal(time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)) ||
			q.Delays[len(q.Delays)-1] != callbacks.RetryDelay(i+1) {
			t.Fatalf("attempt %d: %+v, delay %v", i+1, e, q.Delays[len(q.Delays)-1])
		}
		*now = now.Add(5 * time.Second)
	}
	c, _ := d.Store.Callback(context.Background(), "svc")
	if c.Status != callbacks.Suspended || len(c.Failures) == 0 || c.Failures[0].Reason != "HTTP 500" {
		t.Fatalf("after 25 failures in 2 minutes: %+v", c)
	}
	calls := len(rec.got)
	*now = now.Add(10 * time.Second) // past the environment's cache
	if err := d.Deliver(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	if len(rec.got) != calls || q.Delays[len(q.Delays)-1] != callbacks.SuspendedPoll {
		t.Fatalf("suspended: %d calls (was %d), delay %v", len(rec.got), calls, q.Delays[len(q.Delays)-1])
	}
	// A PUT resumes: the kept event is delivered.
	c.Status, rec.status = callbacks.Active, 200
	_ = d.Store.PutCallback(context.Background(), c)
	*now = now.Add(10 * time.Second)
	sent := len(q.Sent)
	if err := d.Deliver(context.Background(), e); err != nil || len(rec.got) != calls+1 || len(q.Sent) != sent {
		t.Fatalf("after a put: %v, %d calls, %d taken back", err, len(rec.got)-calls, len(q.Sent)-sent)
	}
	// A day after its first failure, an event is given up.
	rec.status = 503
	e.FirstFailure = now.Add(-callbacks.RetryFor)
	if err := d.Deliver(context.Background(), e); err != nil || len(q.Sent) != sent {
		t.Fatalf("a day of failures: %v, %d taken back", err, len(q.Sent)-sent)
	}
	if callbacks.RetryDelay(1) != 5*time.Second || callbacks.RetryDelay(3) != 20*time.Second || callbacks.RetryDelay(30) != 15*time.Minute {
		t.Fatalf("delays %v %v %v", callbacks.RetryDelay(1), callbacks.RetryDelay(3), callbacks.RetryDelay(30))
	}
}

// TestDeliver_Refusals: a redirect is a failure (never followed), an event
// the service did not ask for or without a configuration is dropped, and
// the client of AWS refuses loopback addresses at the connection.
func TestDeliver_Refusals(t *testing.T) {
	d, rec, q, _ := setup(t, http.StatusFound)
	if err := d.Deliver(context.Background(), event(3)); err != nil || len(rec.got) != 1 || len(q.Sent) != 1 {
		t.Fatalf("a redirect: %v, %d calls, %d taken back", err, len(rec.got), len(q.Sent))
	}
	d, rec, q, _ = setup(t, 200, callbacks.MessageProcessed)
	if err := d.Deliver(context.Background(), event(4)); err != nil || len(rec.got) != 0 || len(q.Sent) != 0 {
		t.Fatalf("an event not asked for: %v, %d calls", err, len(rec.got))
	}
	other := event(5)
	other.ServiceID = "no-config"
	if err := d.Deliver(context.Background(), other); err != nil || len(rec.got) != 0 || len(q.Sent) != 0 {
		t.Fatalf("no configuration: %v, %d calls", err, len(rec.got))
	}
	d, rec, q, _ = setup(t, 200)
	d.HTTP = callbacks.NewClient(false) // as in AWS: the receiver is on loopback
	if err := d.Deliver(context.Background(), event(6)); err != nil || len(rec.got) != 0 || len(q.Sent) != 1 {
		t.Fatalf("a loopback receiver in AWS: %v, %d calls, %d taken back", err, len(rec.got), len(q.Sent))
	}
	c, _ := d.Store.Callback(context.Background(), "svc")
	if len(c.Failures) != 1 || c.Failures[0].Reason != "the connection failed" {
		t.Fatalf("failures %+v", c.Failures)
	}
}

func TestCheckURL(t *testing.T) {
	for raw, ok := range map[string]bool{
		"https://pa.example.it/cb": true, "https://93.184.216.34/cb": true, "http://pa.example.it/cb": false,
		"https://127.0.0.1/cb": false, "https://10.0.0.1/": false, "https://172.16.5.4/": false, "https://192.168.1.1/": false,
		"https://169.254.169.254/": false, "https://[fd00:ec2::254]/": false, "https://[::1]/": false, "https://100.64.1.1/": false,
		"https://0.0.0.0/": false, "https://localhost/": false, "https://a.localhost/": false, "ftp://pa.example.it/": false,
		"https://u:p@pa.example.it/": false, "/relative": false,
	} {
		if err := callbacks.CheckURL(raw, false); (err == nil) != ok {
			t.Errorf("CheckURL(%s) = %v", raw, err)
		}
	}
	for raw, ok := range map[string]bool{
		"http://127.0.0.1:3002/callbacks": true, "http://localhost:3002/": true, "http://[::1]:3002/": true, "https://pa.example.it/": true,
		"http://169.254.169.254/latest/meta-data/": false, "http://[fd00:ec2::254]/": false, "http://[::ffff:169.254.169.254]/": false,
		"http://0.0.0.0:3002/": false, "http://10.0.0.1/": false, "http://224.0.0.1/": false, "ftp://127.0.0.1/": false,
	} {
		if err := callbacks.CheckURL(raw, true); (err == nil) != ok {
			t.Errorf("the local stack: CheckURL(%s) = %v", raw, err)
		}
	}
}
