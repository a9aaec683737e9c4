package emailvalidation

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/digital-citizenship/functions/pkg/emails"
	"github.com/digital-citizenship/functions/pkg/ids"
	"github.com/digital-citizenship/functions/pkg/problem"
	"github.com/digital-citizenship/functions/pkg/profiles"
)

// Starter consumes profile events: it e-mails a validation link when an
// event sets or changes the address, or asks for a new link. Each event
// sends its link once (the last one e-mailed is marked); a crash between
// the send and the mark sends it again, like any e-mail.
type Starter struct {
	Store    Store
	Profiles profiles.Recipients
	Mailer   emails.Mailer
	From     string
	// PublicURL is the API's base URL, where the link points.
	PublicURL string
	// Wait is how long an event waits for the version it announces.
	Wait time.Duration
	Now  func() time.Time
}

// Handle implements the profile-events consumer; an error asks for a retry.
func (s Starter) Handle(ctx context.Context, ev profiles.Event) error {
	if !ev.EmailChanged && ev.Kind != profiles.EmailValidationRequested {
		return nil
	}
	rec, ok, err := profiles.Announced(ctx, s.Profiles, ev, s.Now(), s.Wait)
	if !ok {
		return err
	}
	p := rec.Profile
	switch {
	case p.Email == "", p.IsEmailValidated:
		return nil
	case rec.Undeliverable != nil && strings.EqualFold(rec.Undeliverable.Address, p.Email):
		return nil // it bounced: SES would refuse it again
	}
	key := fmt.Sprintf("v%d", ev.Version)
	if ev.Kind == profiles.EmailValidationRequested {
		key = "r" + ev.Request
	}
	last, err := s.Store.Started(ctx, ev.FiscalCode)
	if err != nil {
		return err
	}
	if last == key {
		return nil
	}
	t, secret := NewToken(ev.FiscalCode, p.Email, s.Now())
	if err := s.Store.PutToken(ctx, t); err != nil {
		return err
	}
	e := Email(p.PreferredLanguages, s.Link(secret))
	e.From, e.To = s.From, p.Email
	e.Tags = map[string]string{"fiscal_code": ev.FiscalCode, "purpose": "email_validation"}
	if err := s.Mailer.Send(ctx, e); err != nil && !errors.Is(err, emails.ErrRejected) {
		return fmt.Errorf("send the validation e-mail: %w", err)
	}
	return s.Store.MarkStarted(ctx, ev.FiscalCode, key, t.ID)
}

// Link is the validation link of a token's secret.
func (s Starter) Link(secret string) string {
	return strings.TrimRight(s.PublicURL, "/") + "/api/v1/validate-email?token=" + url.QueryEscape(secret)
}

// Problems of following a link (the page shows them).
var (
	ErrMalformed = problem.New(problem.Invalid, "Invalid token",
		"The link is incomplete: copy the whole link from the e-mail.")
	ErrUnknown = problem.New(problem.NotFound, "Unknown token",
		"The link is not valid or was used already.")
	ErrExpired = problem.New(problem.Gone, "Expired token",
		"The link expired; ask for a new one from the app.")
	ErrChanged = problem.New(problem.Conflict, "Address changed",
		"The profile's e-mail address changed since this link was sent; follow the link sent to the new address.")
)

// Validate follows a link: the token's address becomes the citizen's
// validated address, once, within its validity, and only while it is still
// the profile's address.
func Validate(ctx context.Context, st Store, profs profiles.Recipients, secret string, now time.Time) error {
	id, validator, ok := parseSecret(secret)
	if !ok {
		return ErrMalformed
	}
	t, err := st.Token(ctx, id)
	switch {
	case errors.Is(err, problem.ErrNotFound):
		return ErrUnknown
	case err != nil:
		return problem.Wrap(problem.Internal, err, "Query error", "The link could not be checked now; retry later.")
	case !t.matches(validator):
		return ErrUnknown
	case !now.Before(t.ExpiresAt):
		return ErrExpired
	}
	rec, err := profs.Recipient(ctx, t.FiscalCode)
	switch {
	case errors.Is(err, problem.ErrNotFound):
		return ErrUnknown
	case err != nil:
		return problem.Wrap(problem.Internal, err, "Query error", "The link could not be checked now; retry later.")
	case !strings.EqualFold(rec.Profile.Email, t.Email):
		return ErrChanged
	}
	err = st.Validate(ctx, t, now)
	if errors.Is(err, problem.ErrNotFound) {
		return ErrUnknown
	}
	if err != nil {
		return problem.Wrap(problem.Internal, err, "Query error", "The address could not be validated now; retry later.")
	}
	return nil
}

// Conflicts of startEmailValidationProcess.
var (
	ErrNoAddress = problem.New(problem.Conflict, "No e-mail address",
		"The profile has no e-mail address to validate; set one with upsertProfile.")
	ErrValidated = problem.New(problem.Conflict, "E-mail address validated",
		"The profile's e-mail address is validated already.")
)

// Start is startEmailValidationProcess: it queues the citizen's request for
// a new link (sent by the profile-events consumer).
func Start(ctx context.Context, profs profiles.Recipients, events profiles.Queue, fiscalCode string, now time.Time) error {
	rec, err := profs.Recipient(ctx, fiscalCode)
	switch {
	case errors.Is(err, problem.ErrNotFound):
		return profiles.ErrNotFound
	case err != nil:
		return problem.Wrap(problem.Internal, err, "Query error", "Error while reading the profile")
	case rec.Profile.Email == "":
		return ErrNoAddress
	case rec.Profile.IsEmailValidated:
		return ErrValidated
	}
	ev := profiles.Event{Kind: profiles.EmailValidationRequested, FiscalCode: fiscalCode, Version: rec.Profile.Version,
		At: now, Request: ids.ULID(now)}
	if err := events.Send(ctx, ev); err != nil {
		return problem.Wrap(problem.Unavailable, err, "Service unavailable", "The request could not be queued now; retry later.")
	}
	return nil
}
