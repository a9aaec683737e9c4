package localstack

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// RemoteMessage is what the local sender's system answers about one of its
// messages (PUT /_local/remote-content/{id} sets it): its details and
// documents (GET /messages/{id}), its opening condition (GET
// /messages/{id}/precondition) and each document's bytes (GET
// /messages/{id}/{url}), answered as Mode says.
type RemoteMessage struct {
	Details      map[string]any   `json:"details,omitempty"`
	Attachments  []RemoteDocument `json:"attachments,omitempty"`
	Precondition *struct {
		Title    string `json:"title"`
		Markdown string `json:"markdown"`
	} `json:"precondition,omitempty"`
	// Mode is ok (the default), 500, 404 or hang (no answer until the
	// platform gives up).
	Mode string `json:"mode,omitempty"`
}

// RemoteDocument is a document of a RemoteMessage: as listed, and its
// bytes (base64, not listed).
type RemoteDocument struct {
	ID            string `json:"id"`
	Name          string `json:"name,omitempty"`
	ContentType   string `json:"content_type,omitempty"`
	URL           string `json:"url"`
	ContentBase64 string `json:"content_base64,omitempty"`
}

// RemoteCall is one request the local sender's system got: the headers
// carry the configured key and the citizen's fiscal code.
type RemoteCall struct {
	At     time.Time         `json:"at"`
	Path   string            `json:"path"`
	Header map[string]string `json:"headers"`
	Status int               `json:"status"`
}

// RemoteContentReceiver stands for a sender's system that keeps its
// messages' content (remote content): a real HTTP server on loopback, the
// base_url of a remote-content configuration, that answers what it was set
// to and records every call.
type RemoteContentReceiver struct {
	listener net.Listener
	srv      *http.Server

	mu       sync.Mutex
	messages map[string]RemoteMessage
	calls    []RemoteCall
	release  chan struct{}
}

// StartRemoteContentReceiver listens on addr ("127.0.0.1:0" picks a port).
func StartRemoteContentReceiver(addr string) (*RemoteContentReceiver, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("remote content receiver: %w", err)
	}
	r := &RemoteContentReceiver{listener: l, messages: map[string]RemoteMessage{}, release: make(chan struct{})}
	r.srv = &http.Server{Handler: http.HandlerFunc(r.serve), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = r.srv.Serve(l) }()
	return r, nil
}

// URL is the base_url a configuration points at.
func (r *RemoteContentReceiver) URL() string { return "http://" + r.listener.Addr().String() }

// Set makes id answer m from now on.
func (r *RemoteContentReceiver) Set(id string, m RemoteMessage) error {
	switch m.Mode {
	case "", "ok", "500", "404", "hang":
	default:
		return fmt.Errorf("unknown mode %q (ok, 500, 404, hang)", m.Mode)
	}
	for _, d := range m.Attachments {
		if d.ID == "" || d.URL == "" {
			return fmt.Errorf("a document without id or url")
		}
		if _, err := base64.StdEncoding.DecodeString(d.ContentBase64); err != nil {
			return fmt.Errorf("document %s: content_base64 is not base64", d.ID)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.messages[id] = m
	return nil
}

// Messages returns the ids set, and Calls what the receiver got.
func (r *RemoteContentReceiver) Messages() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, 0, len(r.messages))
	for id := range r.messages {
		out = append(out, id)
	}
	return out
}

// Calls returns the requests the receiver got, oldest first.
func (r *RemoteContentReceiver) Calls() []RemoteCall {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]RemoteCall(nil), r.calls...)
}

func (r *RemoteContentReceiver) serve(w http.ResponseWriter, req *http.Request) {
	call := RemoteCall{At: time.Now().UTC(), Path: req.URL.Path, Header: map[string]string{}}
	for k := range req.Header {
		call.Header[k] = req.Header.Get(k)
	}
	status, body, typ := r.answer(req)
	call.Status = status
	r.mu.Lock()
	r.calls = append(r.calls, call)
	release := r.release
	r.mu.Unlock()
	if status == 0 { // hang: no answer; the platform times out
		select {
		case <-req.Context().Done():
		case <-release:
		}
		panic(http.ErrAbortHandler)
	}
	w.Header().Set("Content-Type", typ)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// answer is what a GET of /messages/{id}[/precondition|/{url}] gets:
// status 0 for no answer.
func (r *RemoteContentReceiver) answer(req *http.Request) (int, []byte, string) {
	const js = "application/json"
	rest, ok := strings.CutPrefix(req.URL.EscapedPath(), "/messages/")
	if !ok || req.Method != http.MethodGet {
		return 404, []byte(`{"title":"Not found"}`), js
	}
	rawID, sub, _ := strings.Cut(rest, "/")
	id := unescape(rawID)
	r.mu.Lock()
	m, ok := r.messages[id]
	r.mu.Unlock()
	switch {
	case !ok || m.Mode == "404":
		return 404, []byte(`{"title":"Not found"}`), js
	case m.Mode == "500":
		return 500, []byte(`{"title":"Internal server error"}`), js
	case m.Mode == "hang":
		return 0, nil, ""
	case sub == "":
		listed := make([]RemoteDocument, len(m.Attachments))
		for i, d := range m.Attachments {
			d.ContentBase64 = ""
			listed[i] = d
		}
		b, _ := json.Marshal(struct {
			Details     map[string]any   `json:"details,omitempty"`
			Attachments []RemoteDocument `json:"attachments,omitempty"`
		}{m.Details, listed})
		return 200, b, js
	case sub == "precondition":
		if m.Precondition == nil {
			return 404, []byte(`{"title":"No precondition"}`), js
		}
		b, _ := json.Marshal(m.Precondition)
		return 200, b, js
	}
	for _, d := range m.Attachments {
		if strings.TrimLeft(d.URL, "/") == unescape(sub) {
			b, _ := base64.StdEncoding.DecodeString(d.ContentBase64)
			return 200, b, "application/pdf"
		}
	}
	return 404, []byte(`{"title":"No such document"}`), js
}

func unescape(s string) string {
	if u, err := url.PathUnescape(s); err == nil {
		return u
	}
	return s
}

// Close stops the receiver, releasing hung calls.
func (r *RemoteContentReceiver) Close() {
	r.mu.Lock()
	close(r.release)
	r.release = make(chan struct{})
	r.mu.Unlock()
	_ = r.srv.Close()
}
