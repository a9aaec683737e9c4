// Package simulator gives test keys (and, in the local stack, any key) the
// outcomes integrators need to see their code handle: documented sandbox
// citizens whose messages are delivered, rejected, bounce, fail and are
// retried, fail on push or arrive late, without anything reaching SES, SNS
// or the app backend.
//
// A simulated message goes through the whole pipeline (statuses, callbacks,
// the sent list) like any other. Only two places differ: process-message
// reads a simulated citizen from sandbox.Citizens instead of the profiles table
// (nothing to set up, in any environment), and each channel's Sender is
// replaced by an outcome decided here, by the citizen's fiscal code or the
// address the e-mail goes to. A test key's message to a development profile
// of the integrator's own (any sandbox fiscal code) is read from the table
// as usual, and its channels are simulated the same way: delivered, unless
// its address is one of the simulated ones.
package simulator

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/digital-citizenship/functions/pkg/messages"
	"github.com/digital-citizenship/functions/pkg/problem"
	"github.com/digital-citizenship/functions/pkg/profiles"
	"github.com/digital-citizenship/functions/pkg/sandbox"
	"github.com/digital-citizenship/functions/pkg/sqs"
)

// outcomeOfAddress is the outcome an e-mail to address gives: that of the
// documented citizen whose address it is, DELIVERED for any other.
func outcomeOfAddress(address string) string {
	for _, c := range sandbox.Citizens {
		if c.Email != "" && strings.EqualFold(c.Email, address) {
			return c.Outcome
		}
	}
	return sandbox.Delivered
}

// Simulation decides which messages are simulated (messages.Simulation).
type Simulation struct {
	// AnyKey simulates the documented citizens' messages whatever the key
	// (the local stack); otherwise test keys' messages only.
	AnyKey bool
}

// Simulated implements messages.Simulation: a test key's message, or with
// AnyKey a message to a documented citizen.
func (s Simulation) Simulated(em messages.EventMessage) bool {
	if em.Test {
		return true
	}
	_, documented := sandbox.ByFiscalCode(em.FiscalCode)
	return s.AnyKey && documented
}

// Recipient implements messages.Simulation: the documented citizen's
// profile, as if read from the table (ok false for any other fiscal code;
// problem.ErrNotFound for the one without a profile).
func (s Simulation) Recipient(fiscalCode string) (profiles.Recipient, bool, error) {
	c, ok := sandbox.ByFiscalCode(fiscalCode)
	if !ok {
		return profiles.Recipient{}, false, nil
	}
	if c.Outcome == sandbox.NotFound {
		return profiles.Recipient{}, true, fmt.Errorf("simulated citizen: %w", problem.ErrNotFound)
	}
	p := profiles.Profile{FiscalCode: c.FiscalCode, Email: c.Email, IsEmailValidated: true, IsInboxEnabled: true,
		IsWebhookEnabled: true, PreferredLanguages: []string{"it_IT"}, Settings: profiles.Settings{Mode: profiles.Auto}}
	if c.Outcome == sandbox.NotAllowed {
		// MANUAL with no preference: no service may reach the citizen.
		p.Settings.Mode = profiles.Manual
	}
	devices := []profiles.Device{
		{InstallationID: "simulated-apns", Platform: "apns", EndpointARN: "simulated:apns"},
		{InstallationID: "simulated-fcm", Platform: "fcm", EndpointARN: "simulated:fcm"},
	}
	return profiles.Recipient{Profile: p, Devices: devices}, true, nil
}

// Marks records undeliverable addresses (the profiles store).
type Marks interface {
	MarkUndeliverable(ctx context.Context, fiscalCode, address, reason string, at time.Time) error
}

// Reasons of simulated failures, recorded with the channel's FAILED status.
const (
	ReasonBounce   = "The address bounced (simulated hard bounce); it is marked undeliverable."
	ReasonPushFail = "No device of the citizen accepted the notification (simulated)."
)

// Sender is a channel's sender that simulates the outcome of simulated
// messages and hands every other one to Real.
type Sender struct {
	Real messages.Sender
	// Marks, for the e-mail channel, marks a development profile's
	// bounced address undeliverable, as handle-bounce marks a real one
	// (the documented citizens are never stored: they bounce every time).
	Marks Marks
	Now   func() time.Time
}

// Send implements messages.Sender.
func (s Sender) Send(ctx context.Context, ev messages.NotificationEvent, delivered []string) ([]string, error) {
	if !ev.Message.Simulated {
		return s.Real.Send(ctx, ev, delivered)
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	outcome := sandbox.Delivered
	c, documented := sandbox.ByFiscalCode(ev.Message.FiscalCode)
	if documented {
		outcome = c.Outcome
	}
	email := ev.Channel == messages.Email || ev.Channel == ""
	if email && ev.ToAddress != "" {
		outcome = outcomeOfAddress(ev.ToAddress)
	}
	if outcome == sandbox.Late {
		if due := ev.Message.CreatedAt.Add(sandbox.LateBySeconds * time.Second); now().Before(due) {
			return delivered, retryAt(due.Sub(now()))
		}
	}
	switch {
	case email && outcome == sandbox.Bounce:
		if !documented && s.Marks != nil {
			if err := s.Marks.MarkUndeliverable(ctx, ev.Message.FiscalCode, ev.ToAddress, "hard bounce", now()); err != nil {
				return nil, fmt.Errorf("mark the simulated bounce: %w", err)
			}
		}
		return nil, messages.Permanent(ReasonBounce, nil)
	case email && outcome == sandbox.TempFail && sqs.ReceiveCount(ctx) <= sandbox.FailuresBeforeSuccess:
		return nil, retryAt(time.Second)
	case ev.Channel == messages.Push && outcome == sandbox.PushFailure:
		return nil, messages.Permanent(ReasonPushFail, nil)
	}
	done := slices.Clone(delivered)
	for _, d := range ev.Devices {
		if !slices.Contains(done, d.InstallationID) {
			done = append(done, d.InstallationID)
		}
	}
	return done, nil
}

// retryAt is a simulated transient failure, retried after d.
func retryAt(d time.Duration) error {
	return sqs.RetryAfter(fmt.Errorf("simulated temporary failure"), d)
}
