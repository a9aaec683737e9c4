package remotecontent

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/digital-citizenship/functions/pkg/messages"
	"github.com/digital-citizenship/functions/pkg/problem"
)

// FiscalCodeHeader carries the citizen's fiscal code to the sender's
// system, as IO's remote content does.
const FiscalCodeHeader = "fiscal_code"

// Bounds of the sender's answers: what is read past them is refused.
const (
	MaxMessage      = 1 << 20
	MaxPrecondition = 64 << 10
	MaxAttachment   = messages.MaxAttachmentSize
)

// Remote is the sender's answer about a message: its details (the
// subject and markdown of remote content among them) and its documents.
type Remote struct {
	Details     map[string]any     `json:"details,omitempty"`
	Attachments []RemoteAttachment `json:"attachments,omitempty"`
	// Digest is the SHA-256 of the answer's bytes as the sender sent them
	// ("sha256:" and base64url): what an opening's receipt signs.
	Digest string `json:"-"`
}

// RemoteAttachment is a document at the sender's: its url is relative to
// the message's, {base_url}/messages/{id}/.
type RemoteAttachment struct {
	ID          string `json:"id"`
	Name        string `json:"name,omitempty"`
	ContentType string `json:"content_type,omitempty"`
	URL         string `json:"url"`
	Category    string `json:"category,omitempty"`
}

// Precondition is the opening condition's screen.
type Precondition struct {
	Title    string `json:"title"`
	Markdown string `json:"markdown"`
	Digest   string `json:"-"`
}

// Caller calls senders' systems: one GET each, with the environment's key
// and the citizen's fiscal code, answered within the client's timeout.
type Caller struct {
	// HTTP is the callbacks' safe client: https only (http and loopback
	// in the local stack), no internal address, resolved at each
	// connection, no redirect, no proxy, 5 s.
	HTTP *http.Client
}

// NewCaller returns a Caller on the callbacks' client.
func NewCaller(client *http.Client) Caller { return Caller{HTTP: client} }

// Message fetches the sender's message id for a citizen.
func (c Caller) Message(ctx context.Context, env Environment, id, fiscalCode string) (Remote, error) {
	raw, err := c.get(ctx, env, messagePath(id), fiscalCode, MaxMessage)
	if err != nil {
		return Remote{}, err
	}
	var r Remote
	if err := json.Unmarshal(raw, &r); err != nil {
		return Remote{}, badAnswer("its message is not JSON")
	}
	for _, a := range r.Attachments {
		if a.ID == "" || a.URL == "" {
			return Remote{}, badAnswer("a document without id or url")
		}
	}
	r.Digest = Digest(raw)
	return r, nil
}

// Precondition fetches the opening condition of the sender's message id.
func (c Caller) Precondition(ctx context.Context, env Environment, id, fiscalCode string) (Precondition, error) {
	raw, err := c.get(ctx, env, messagePath(id)+"/precondition", fiscalCode, MaxPrecondition)
	if err != nil {
		return Precondition{}, err
	}
	var p Precondition
	if err := json.Unmarshal(raw, &p); err != nil || p.Title == "" || p.Markdown == "" {
		return Precondition{}, badAnswer("its precondition is not {title, markdown}")
	}
	p.Digest = Digest(raw)
	return p, nil
}

// Attachment fetches a document of the sender's message id (its url as
// the message lists it): a PDF of at most MaxAttachment bytes.
func (c Caller) Attachment(ctx context.Context, env Environment, id, attachmentURL, fiscalCode string) ([]byte, error) {
	raw, err := c.get(ctx, env, messagePath(id)+"/"+escapePath(strings.TrimLeft(attachmentURL, "/")), fiscalCode, MaxAttachment)
	if err != nil {
		return nil, err
	}
	if !bytes.HasPrefix(raw, []byte("%PDF-")) {
		return nil, badAnswer("the document is not a PDF")
	}
	return raw, nil
}

func messagePath(id string) string { return "/messages/" + url.PathEscape(id) }

// escapePath escapes each segment of a relative path.
func escapePath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

// get calls GET {base_url}{path}; the answer must be a 2xx of at most max
// bytes. The errors are problems for the app backend (502, 504, 404) whose
// causes name no URL, fiscal code or content.
func (c Caller) get(ctx context.Context, env Environment, path, fiscalCode string, max int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, env.BaseURL+path, nil)
	if err != nil {
		return nil, badAnswer("its base_url does not make a URL")
	}
	req.Header.Set(env.Auth.HeaderKeyName, env.Auth.Key)
	req.Header.Set(FiscalCodeHeader, fiscalCode)
	req.Header.Set("Accept", "application/json, application/pdf")
	res, err := c.HTTP.Do(req)
	if err != nil {
		return nil, unreachable(err)
	}
	defer res.Body.Close()
	switch {
	case res.StatusCode == http.StatusNotFound:
		return nil, ErrNotAtSender
	case res.StatusCode < 200 || res.StatusCode > 299:
		return nil, problem.Wrap(problem.BadGateway, fmt.Errorf("the sender answered %d", res.StatusCode), "Bad gateway",
			fmt.Sprintf("The sender's system answered %d.", res.StatusCode))
	}
	raw, err := io.ReadAll(io.LimitReader(res.Body, max+1))
	if err != nil {
		return nil, unreachable(err)
	}
	if int64(len(raw)) > max {
		return nil, badAnswer(fmt.Sprintf("its answer is larger than %d bytes", max))
	}
	return raw, nil
}

// ErrNotAtSender answers a message the sender's system does not know.
var ErrNotAtSender = problem.New(problem.NotFound, "Not found at the sender",
	"The sender's system does not know this message.")

func badAnswer(why string) error {
	return problem.New(problem.BadGateway, "Bad gateway", "The sender's system gave an answer the platform cannot use: "+why+".")
}

// unreachable is a failed call: a timeout is a 504, anything else (no
// connection, a refused address) a 502. The cause keeps no URL.
func unreachable(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // the URL carries the sender's id of the message
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) || isTimeout(err) {
		return problem.Wrap(problem.GatewayTimeout, err, "Gateway timeout", "The sender's system did not answer in time.")
	}
	return problem.Wrap(problem.BadGateway, err, "Bad gateway", "The sender's system could not be reached.")
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// Digest is the SHA-256 of b as receipts write it: "sha256:" and base64url.
func Digest(b []byte) string {
	h := sha256.Sum256(b)
	return "sha256:" + base64.RawURLEncoding.EncodeToString(h[:])
}
