package localstack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// Webhook modes: how the local app backend answers.
const (
	WebhookOK     = "ok"     // 200
	Webhook500    = "500"    // 500, a transient failure
	Webhook400    = "400"    // 400, a permanent refusal
	WebhookHang   = "hang"   // no answer until the sender gives up
	WebhookRefuse = "refuse" // nothing listens: connections are refused
)

// WebhookCall is one request the receiver got.
type WebhookCall struct {
	At     time.Time         `json:"at"`
	Path   string            `json:"path"`
	Header map[string]string `json:"headers"`
	Body   json.RawMessage   `json:"body"`
	// Answer is the mode the call was answered in.
	Answer string `json:"answer"`
}

// WebhookReceiver stands for the app backend's notify endpoint (the
// template's WebhookUrl): a real HTTP server on loopback that records every
// call and answers as its mode says.
type WebhookReceiver struct {
	addr string
	path string

	mu       sync.Mutex
	mode     string
	calls    []WebhookCall
	listener net.Listener
	srv      *http.Server
	hanging  chan struct{} // closed to release hung requests
}

// StartWebhookReceiver listens on addr ("127.0.0.1:0" picks a port).
func StartWebhookReceiver(addr string) (*WebhookReceiver, error) {
	return StartReceiver(addr, "/api/v1/notify")
}

// StartReceiver is a receiver like the app backend's whose URL has path:
// the local stack's receiver of delivery callbacks is one.
func StartReceiver(addr, path string) (*WebhookReceiver, error) {
	w := &WebhookReceiver{addr: addr, path: path, mode: WebhookOK, hanging: make(chan struct{})}
	if err := w.listen(); err != nil {
		return nil, err
	}
	w.addr = w.listener.Addr().String() // the same port after a refuse
	return w, nil
}

// URL is the notify endpoint's URL.
func (w *WebhookReceiver) URL() string { return "http://" + w.addr + w.path }

func (w *WebhookReceiver) listen() error {
	l, err := net.Listen("tcp", w.addr)
	if err != nil {
		return fmt.Errorf("webhook receiver: %w", err)
	}
	w.listener = l
	w.srv = &http.Server{Handler: http.HandlerFunc(w.serve), ReadHeaderTimeout: 10 * time.Second}
	go func(s *http.Server) { _ = s.Serve(l) }(w.srv)
	return nil
}

func (w *WebhookReceiver) serve(rw http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	call := WebhookCall{At: time.Now().UTC(), Path: r.URL.Path, Header: map[string]string{}}
	if json.Valid(body) {
		call.Body = body
	} else {
		call.Body, _ = json.Marshal(string(body))
	}
	for k := range r.Header {
		call.Header[k] = r.Header.Get(k)
	}
	w.mu.Lock()
	call.Answer = w.mode
	hanging := w.hanging
	w.calls = append(w.calls, call)
	w.mu.Unlock()
	switch call.Answer {
	case WebhookHang:
		select {
		case <-r.Context().Done():
		case <-hanging:
		}
		// Released without an answer: the connection drops, as when the
		// backend dies; never a late 200 the sender could take for success.
		panic(http.ErrAbortHandler)
	case Webhook500:
		http.Error(rw, `{"title":"Internal server error","status":500}`, http.StatusInternalServerError)
	case Webhook400:
		http.Error(rw, `{"title":"Bad request","status":400}`, http.StatusBadRequest)
	default:
		rw.Header().Set("Content-Type", "application/json")
		_, _ = rw.Write([]byte(`{"message":"ok"}`))
	}
}

// SetMode changes how the receiver answers from now on.
func (w *WebhookReceiver) SetMode(mode string) error {
	switch mode {
	case WebhookOK, Webhook500, Webhook400, WebhookHang, WebhookRefuse:
	default:
		return fmt.Errorf("unknown webhook mode %q (ok, 500, 400, hang, refuse)", mode)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	old := w.mode
	w.mode = mode
	if old == WebhookHang && mode != WebhookHang {
		close(w.hanging)
		w.hanging = make(chan struct{})
	}
	switch {
	case mode == WebhookRefuse && old != WebhookRefuse:
		_ = w.srv.Close() // the port is closed: connections are refused
	case mode != WebhookRefuse && old == WebhookRefuse:
		return w.listen()
	}
	return nil
}

// Mode returns how the receiver answers.
func (w *WebhookReceiver) Mode() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.mode
}

// Calls returns what the receiver got, oldest first.
func (w *WebhookReceiver) Calls() []WebhookCall {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]WebhookCall(nil), w.calls...)
}

// Close stops the receiver.
func (w *WebhookReceiver) Close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.mode == WebhookHang {
		close(w.hanging)
		w.hanging = make(chan struct{})
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := w.srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		_ = w.srv.Close()
	}
}
