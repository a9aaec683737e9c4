// Package bounces marks citizens' e-mail addresses undeliverable when SES
// reports a hard bounce or a complaint (configuration-set events through SNS
// and SQS), so that e-mail is not sent to them again until the citizen
// changes the address.
package bounces

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/digital-citizenship/functions/pkg/problem"
	"github.com/digital-citizenship/functions/pkg/profiles"
)

// Notification is the SNS envelope the queue receives; Message is the SES
// event, as JSON.
type Notification struct {
	Type    string `json:"Type"`
	Message string `json:"Message"`
}

// Valid reports whether the envelope carries a message.
func (n Notification) Valid() bool { return n.Message != "" }

// Event is the part of an SES event (or identity notification) used here.
type Event struct {
	EventType        string `json:"eventType"`        // configuration-set events
	NotificationType string `json:"notificationType"` // identity notifications
	Bounce           *struct {
		BounceType        string      `json:"bounceType"`
		BouncedRecipients []recipient `json:"bouncedRecipients"`
	} `json:"bounce"`
	Complaint *struct {
		ComplainedRecipients []recipient `json:"complainedRecipients"`
	} `json:"complaint"`
	Mail struct {
		Tags map[string][]string `json:"tags"`
	} `json:"mail"`
}

type recipient struct {
	EmailAddress string `json:"emailAddress"`
}

// Reasons recorded with an undeliverable address.
const (
	ReasonHardBounce = "hard bounce"
	ReasonComplaint  = "complaint"
)

// Store is what the handler needs of the profiles.
type Store interface {
	Latest(ctx context.Context, fiscalCode string) (profiles.Profile, error)
	MarkUndeliverable(ctx context.Context, fiscalCode, address, reason string, at time.Time) error
}

// Handler handles SES bounce and complaint events.
type Handler struct {
	Profiles Store
	Now      func() time.Time
}

// Handle marks the citizen's address undeliverable for a permanent bounce
// or a complaint about an e-mail sent to it (the e-mail's fiscal_code tag
// names the citizen). Transient bounces, other events and addresses that
// are no longer the profile's are ignored; a failing store is retried.
func (h Handler) Handle(ctx context.Context, n Notification) error {
	var ev Event
	if err := json.Unmarshal([]byte(n.Message), &ev); err != nil {
		return nil // not an SES event: nothing to do, and retrying cannot help
	}
	kind := ev.EventType
	if kind == "" {
		kind = ev.NotificationType
	}
	var reason string
	var addrs []recipient
	switch {
	case kind == "Bounce" && ev.Bounce != nil && ev.Bounce.BounceType == "Permanent":
		reason, addrs = ReasonHardBounce, ev.Bounce.BouncedRecipients
	case kind == "Complaint" && ev.Complaint != nil:
		reason, addrs = ReasonComplaint, ev.Complaint.ComplainedRecipients
	default:
		return nil
	}
	tags := ev.Mail.Tags["fiscal_code"]
	if len(tags) == 0 {
		return nil
	}
	fc := tags[0]
	prof, err := h.Profiles.Latest(ctx, fc)
	if errors.Is(err, problem.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read profile: %w", err)
	}
	for _, a := range addrs {
		if prof.Email == "" || !strings.EqualFold(a.EmailAddress, prof.Email) {
			continue // the sender's default address, or changed meanwhile
		}
		if err := h.Profiles.MarkUndeliverable(ctx, fc, prof.Email, reason, h.Now()); err != nil {
			return err
		}
	}
	return nil
}
