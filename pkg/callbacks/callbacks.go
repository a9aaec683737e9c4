// Package callbacks provides delivery callbacks: a service's configuration
// (where to POST, its bearer token, which events, its signing secret), the
// events the pipeline emits as its messages change status, their signed
// delivery with retries, and the suspension of a receiver that keeps
// failing.
package callbacks

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/digital-citizenship/functions/pkg/problem"
	"github.com/digital-citizenship/functions/pkg/validate"
)

// The events a service may ask for.
const (
	MessageProcessed    = "message.processed"
	MessageRejected     = "message.rejected"
	NotificationSent    = "notification.sent"
	NotificationFailed  = "notification.failed"
	NotificationExpired = "notification.expired"
	// MessageRead (the citizen read it, when they let the sender know) and
	// MessagePaid (its payment notice was paid).
	MessageRead = "message.read"
	MessagePaid = "message.paid"
	// MessageOpened (the citizen opened it) and MessageNotOpened (a message
	// with an opening condition was not opened by its deadline) carry the
	// signed receipt of the fact.
	MessageOpened    = "message.opened"
	MessageNotOpened = "message.not_opened"
)

// CallbackTest is the event POST /api/v1/callback/test sends: delivered
// whatever events the configuration asks for.
const CallbackTest = "callback.test"

// AllEvents are the events, in a stable order: what a configuration
// without events asks for.
var AllEvents = []string{MessageProcessed, MessageRejected, NotificationSent, NotificationFailed, NotificationExpired,
	MessageRead, MessagePaid, MessageOpened, MessageNotOpened}

// Statuses of a configuration.
const (
	Active    = "ACTIVE"
	Suspended = "SUSPENDED"
)

// Suspension: SuspendAfter failures within SuspendWindow suspend a
// service's callbacks (GOV.UK Notify's rule).
const (
	SuspendAfter  = 25
	SuspendWindow = 5 * time.Minute
)

// Delivery: each attempt waits at most AttemptTimeout; failed attempts are
// retried with back-off for RetryFor after the event's first failure.
const (
	AttemptTimeout = 5 * time.Second
	RetryFor       = 24 * time.Hour
	// MaxAnswer is how much of a receiver's answer is read.
	MaxAnswer = 4096
)

// Config is a service's callback configuration.
type Config struct {
	ServiceID   string
	URL         string
	BearerToken string
	Events      []string
	// SigningSecret signs every call (X-Signature); shown only when set.
	SigningSecret string
	Status        string
	SuspendedAt   time.Time
	UpdatedAt     time.Time
	// Failures are the recent failed attempts, newest first.
	Failures []Failure
	// RotateSecret is a PUT's request for a new signing secret (not
	// stored): without it a service keeps the secret it has.
	RotateSecret bool
}

// Failure is one failed delivery attempt.
type Failure struct {
	At     time.Time `json:"at"`
	Event  string    `json:"event"`
	Reason string    `json:"reason"`
}

// Wants reports whether the configuration asks for event.
func (c Config) Wants(event string) bool {
	return event == CallbackTest || slices.Contains(c.Events, event)
}

// Store keeps the services' configurations.
type Store interface {
	// Callback returns a service's configuration, or problem.ErrNotFound.
	Callback(ctx context.Context, serviceID string) (Config, error)
	// PutCallback replaces a service's configuration (ACTIVE, no failures).
	PutCallback(ctx context.Context, c Config) error
	// DeleteCallback removes it (nothing when there is none).
	DeleteCallback(ctx context.Context, serviceID string) error
	// RecordFailure notes a failed attempt of a service's callbacks and
	// suspends them when it is the SuspendAfter-th within SuspendWindow;
	// it reports whether this failure suspended them.
	RecordFailure(ctx context.Context, serviceID string, f Failure) (bool, error)
}

// InputTitle is the title of every 400 about a callback configuration.
const InputTitle = "Invalid callback"

// Input is the body of PUT /api/v1/callback.
type Input struct {
	URL         *string   `json:"url"`
	BearerToken *string   `json:"bearer_token"`
	Events      *[]string `json:"events"`
	// RotateSecret asks for a new signing secret; a PUT keeps the one the
	// service has otherwise.
	RotateSecret bool `json:"rotate_secret"`
}

// Parse decodes and validates a configuration body. With allowLocal (the
// local stack), http URLs and loopback hosts are accepted.
func Parse(body []byte, allowLocal bool) (Config, error) {
	var in Input
	if err := validate.DecodeJSON(body, &in, InputTitle); err != nil {
		return Config{}, err
	}
	r := validate.NewReport(InputTitle)
	c := Config{RotateSecret: in.RotateSecret}
	if in.URL == nil {
		r.Addf("url", "an https URL")
	} else if err := CheckURL(*in.URL, allowLocal); err != nil {
		r.Addf("url", "%s", err.Error())
	} else {
		c.URL = *in.URL
	}
	if t := in.BearerToken; t != nil {
		if len(*t) < 10 || len(*t) > 1000 || !validate.SingleLine(*t) || strings.ContainsAny(*t, " \t") {
			r.Addf("bearer_token", "a token of 10 to 1000 characters without spaces")
		}
		c.BearerToken = *t
	}
	c.Events = AllEvents
	if in.Events != nil {
		c.Events = nil
		for i, e := range *in.Events {
			if !slices.Contains(AllEvents, e) {
				r.Addf(fmt.Sprintf("events.%d", i), "one of %s", strings.Join(AllEvents, ", "))
			} else if !slices.Contains(c.Events, e) {
				c.Events = append(c.Events, e)
			}
		}
		if len(*in.Events) == 0 {
			r.Addf("events", "a non-empty array (leave it out for every event)")
		}
	}
	return c, r.Err()
}

// CheckURL refuses what a callback may not be sent to: anything but https
// (http too with allowLocal), userinfo, and hosts that are addresses the
// platform never calls (loopback, private, link-local, the cloud's metadata
// service; with allowLocal, loopback is allowed and the others are still
// refused). Names are checked again when they resolve, at every attempt.
func CheckURL(raw string, allowLocal bool) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Host == "" || !u.IsAbs():
		return fmt.Errorf("an absolute https URL")
	case len(raw) > 2048:
		return fmt.Errorf("a URL of at most 2048 characters")
	case u.Scheme != "https" && !(allowLocal && u.Scheme == "http"):
		return fmt.Errorf("an https URL")
	case u.User != nil:
		return fmt.Errorf("a URL without user information (use bearer_token)")
	}
	return CheckHost(u.Hostname(), allowLocal)
}

// ErrNotConfigured is the answer about a service without callbacks.
var ErrNotConfigured = problem.New(problem.NotFound, "No callback", "This service has no callback configured.")

// NewSecret returns a signing secret: 32 random bytes, hex.
func NewSecret() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go >= 1.24)
	return "whsec_" + hex.EncodeToString(b[:])
}

// Sign returns the X-Signature of body sent at t: t=<unix seconds>,v1=<hex
// HMAC-SHA256 of "<t>.<body>" keyed by the secret>.
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts + "."))
	m.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(m.Sum(nil))
}

// Verify checks a signature as a receiver would: the HMAC, and a time
// within tolerance of now.
func Verify(secret, signature string, body []byte, now time.Time, tolerance time.Duration) bool {
	var ts, v1 string
	for _, part := range strings.Split(signature, ",") {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			v1 = v
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || v1 == "" {
		return false
	}
	at := time.Unix(sec, 0)
	if at.Before(now.Add(-tolerance)) || at.After(now.Add(tolerance)) {
		return false
	}
	want := Sign(secret, at, body)
	return hmac.Equal([]byte(want), []byte("t="+ts+",v1="+v1))
}

// Event is one callback: what became of a message. Its id is the same for
// every emission of the same fact, so that a receiver drops duplicates.
type Event struct {
	ID        string `json:"id"`
	Event     string `json:"event"`
	ServiceID string `json:"service_id"`
	MessageID string `json:"message_id"`
	Reference string `json:"reference,omitempty"`
	// Channel is email, push or webhook for notification events.
	Channel string `json:"channel,omitempty"`
	Status  string `json:"status"`
	Reason  string `json:"reason,omitempty"`
	At      string `json:"at"`
	// Receipt is the signed receipt of a legal event (message.opened,
	// message.not_opened): a JWS.
	Receipt string `json:"receipt,omitempty"`
	// IsTest marks the events of a test key's messages.
	IsTest bool `json:"is_test,omitempty"`
	// Delivery state, carried by the queued event (not sent).
	Attempts     int       `json:"attempts,omitempty"`
	FirstFailure time.Time `json:"first_failure,omitzero"`
}

// MessageGroup is the event's service, its MessageGroupId on the callbacks
// queue: SQS's fair queues keep one service's backlog of callbacks (a
// campaign's, or a receiver that is down) from delaying the others'.
func (e Event) MessageGroup() string { return e.ServiceID }

// atLayout is an event's time: UTC, to the millisecond, as the API's.
const atLayout = "2006-01-02T15:04:05.000Z"

// NewEvent returns the event of fact (event on a message, and a channel
// for notifications) at at.
func NewEvent(event, serviceID, messageID, reference, channel, status, reason string, at time.Time) Event {
	h := sha256.Sum256([]byte(messageID + "|" + event + "|" + channel))
	return Event{ID: "evt_" + hex.EncodeToString(h[:12]), Event: event, ServiceID: serviceID, MessageID: messageID,
		Reference: reference, Channel: strings.ToLower(channel), Status: status, Reason: reason,
		At: at.UTC().Format(atLayout)}
}

// NewTestEvent returns a test event of a service's callbacks: a fact of its
// own each time (a random id), about no message.
func NewTestEvent(serviceID string, at time.Time) Event {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return Event{ID: "evt_" + hex.EncodeToString(b), Event: CallbackTest, ServiceID: serviceID, Status: "TEST",
		At: at.UTC().Format(atLayout)}
}

// Body is what the receiver gets: the event without the service and the
// delivery state, and no fiscal code.
func (e Event) Body() []byte {
	b, _ := json.Marshal(struct {
		ID        string `json:"id"`
		Event     string `json:"event"`
		MessageID string `json:"message_id"`
		Reference string `json:"reference,omitempty"`
		Channel   string `json:"channel,omitempty"`
		Status    string `json:"status"`
		Reason    string `json:"reason,omitempty"`
		At        string `json:"at"`
		Receipt   string `json:"receipt,omitempty"`
		IsTest    bool   `json:"is_test,omitempty"`
	}{e.ID, e.Event, e.MessageID, e.Reference, e.Channel, e.Status, e.Reason, e.At, e.Receipt, e.IsTest})
	return b
}

// Valid reports whether a decoded event can be delivered: a message's
// event, or a test event (about no message).
func (e Event) Valid() bool {
	if e.ID == "" || e.ServiceID == "" {
		return false
	}
	return e.Event == CallbackTest || e.MessageID != "" && slices.Contains(AllEvents, e.Event)
}
