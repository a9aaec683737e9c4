package profiles

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/digital-citizenship/functions/pkg/feed"
	"github.com/digital-citizenship/functions/pkg/problem"
	"github.com/digital-citizenship/functions/pkg/validate"
)

// ErrNotFound is getProfile's answer for an unknown citizen.
var ErrNotFound = problem.New(problem.NotFound, "Profile not found",
	"The profile you requested was not found in the system.")

// Upsert creates version 0 of a new profile (the body's version is ignored)
// or, when body.Version is the latest version, stores the next version with
// every attribute replaced. Any other version, or a concurrent writer that
// got there first, is a 409: exactly one writer of a version wins.
//
// body.Settings.Mode is the requested mode of preferences, if any: a new
// profile is AUTO unless it asks otherwise, an existing one keeps its mode.
// A change of mode bumps the settings version and starts from no
// preferences, or from the blocks when leaving LEGACY, in the same write;
// going back to LEGACY is a 409. Without a change of mode, the services
// whose blocks the body changes get the preference the blocks say (so that
// the original's clients keep working).
//
// The profile event is queued before the write: a failure to queue it is a
// 503 that writes nothing.
func Upsert(ctx context.Context, st Store, events Queue, body Profile, now time.Time) (Profile, error) {
	requested, mode := body.Version, body.Settings.Mode
	curRec, err := st.Recipient(ctx, body.FiscalCode)
	cur := curRec.Profile
	var prefs, changedPrefs Preferences
	switch {
	case errors.Is(err, problem.ErrNotFound):
		body.Version = 0
		switch mode {
		case Legacy:
			body.Settings = LegacySettings
		case "":
			mode = Auto
			fallthrough
		default:
			body.Settings = Settings{mode, 0}
			prefs = fromBlocks(body.BlockedInboxOrChannels, body.Settings)
		}
	case err != nil:
		return Profile{}, problem.Wrap(problem.Internal, err, "Query error", "Error")
	case body.Version != cur.Version:
		return Profile{}, conflict(body.Version)
	default:
		body.Version = cur.Version + 1
		cs := cur.settings()
		switch mode {
		case "", cs.Mode:
			body.Settings = cur.Settings
			if cs.Mode != Legacy {
				// An original client, which knows blocks only, still
				// switches senders: a changed block is a preference.
				changedPrefs = changedBlocks(cur.BlockedInboxOrChannels, body.BlockedInboxOrChannels, cs)
			}
		case Legacy:
			return Profile{}, ErrBackToLegacy
		default:
			body.Settings = Settings{mode, cs.Version + 1}
			prefs = Preferences{}
			if cs.Mode == Legacy {
				prefs = fromBlocks(body.BlockedInboxOrChannels, body.Settings)
			}
		}
	}
	kind := Created
	if body.Version > 0 {
		kind = Updated
	}
	// The address keeps its validation while it stays the same; a new one
	// starts its own (and is not validated until its link is followed).
	validated := err == nil && cur.IsEmailValidated && sameAddress(cur.Email, body.Email)
	changed := body.Email != "" && (err != nil || !sameAddress(cur.Email, body.Email))
	body.IsEmailValidated = false // read-only: the store records validations
	// The subscriptions feed's changes: who may reach the citizen before
	// and after, with the preferences this write leaves.
	before, after := feed.State{}, curRec.Preferences
	if err == nil {
		before = SubscriptionState(cur, curRec.Preferences)
	}
	switch {
	case prefs != nil:
		after = prefs
	case len(changedPrefs) > 0:
		after = maps.Clone(curRec.Preferences)
		if after == nil {
			after = Preferences{}
		}
		maps.Copy(after, changedPrefs)
	}
	ev := Event{Kind: kind, FiscalCode: body.FiscalCode, Version: body.Version, At: now, EmailChanged: changed,
		Feed: feed.Diff(before, SubscriptionState(body, after))}
	if err := events.Send(ctx, ev); err != nil {
		return Profile{}, problem.Wrap(problem.Unavailable, err, "Service unavailable",
			"The profile could not be saved now; it was not changed. Retry later.")
	}
	if len(changedPrefs) > 0 {
		err = st.CreateSetting(ctx, body, changedPrefs)
	} else {
		err = st.Create(ctx, body, prefs)
	}
	if errors.Is(err, problem.ErrConflict) {
		return Profile{}, conflict(requested)
	}
	if err != nil {
		return Profile{}, problem.Wrap(problem.Internal, err, "Query error", "Error while updating the existing profile")
	}
	body.IsEmailValidated = validated
	return body, nil
}

// ErrBackToLegacy answers a profile update that asks for the LEGACY mode
// after leaving it.
var ErrBackToLegacy = problem.New(problem.Conflict, "Conflict",
	"service_preferences_settings cannot go back to LEGACY mode.")

// sameAddress compares e-mail addresses as their owners write them.
func sameAddress(a, b string) bool { return strings.EqualFold(a, b) }

func conflict(v int) error {
	return problem.New(problem.Conflict, "Conflict", fmt.Sprintf("Version %d is not the latest version.", v))
}

// SandboxPattern is the pattern of the fiscal codes of development profiles
// (test citizens): no real fiscal code has Y and X where it has them.
const SandboxPattern = "[A-Z]{6}[0-9]{2}A[0-9]{2}Y[0-9]{3}X"

// IsSandbox reports whether fiscalCode matches SandboxPattern.
func IsSandbox(fiscalCode string) bool {
	if len(fiscalCode) != 16 {
		return false
	}
	for i, c := range fiscalCode {
		var ok bool
		switch {
		case i < 6:
			ok = c >= 'A' && c <= 'Z'
		case i == 8:
			ok = c == 'A'
		case i == 11:
			ok = c == 'Y'
		case i == 15:
			ok = c == 'X'
		default:
			ok = c >= '0' && c <= '9'
		}
		if !ok {
			return false
		}
	}
	return true
}

// DevelopmentTitle is the title of every 400 about a development profile.
const DevelopmentTitle = "Invalid DevelopmentProfile"

// ParseDevelopment validates a development profile request: a sandbox
// fiscal code and a body {email}.
func ParseDevelopment(fiscalCode string, body []byte) (Profile, error) {
	if !IsSandbox(fiscalCode) {
		return Profile{}, problem.Invalidf(DevelopmentTitle, "value.fiscal_code is not a sandbox fiscal code (pattern %s)", SandboxPattern)
	}
	var in struct {
		Email *string `json:"email"`
	}
	if err := validate.DecodeJSON(body, &in, DevelopmentTitle); err != nil {
		return Profile{}, err
	}
	if in.Email == nil || !validate.Email(*in.Email) {
		return Profile{}, problem.Invalidf(DevelopmentTitle, "value.email is not an e-mail address")
	}
	return Profile{FiscalCode: fiscalCode, Email: *in.Email, IsEmailValidated: true, IsInboxEnabled: true, IsWebhookEnabled: true,
		Settings: Settings{Auto, 0}}, nil
}

// CreateDevelopment creates version 0 of a test citizen's profile, inbox and
// webhook enabled, preferences AUTO, the address validated (the integrator
// gave it), announced like any profile write (the
// test citizen is welcomed); a 409 if the profile exists.
func CreateDevelopment(ctx context.Context, st Store, events Queue, p Profile, now time.Time) (Profile, error) {
	ev := Event{Kind: Created, FiscalCode: p.FiscalCode, At: now, Feed: feed.Diff(feed.State{}, SubscriptionState(p, Preferences{}))}
	if err := events.Send(ctx, ev); err != nil {
		return Profile{}, problem.Wrap(problem.Unavailable, err, "Service unavailable",
			"The profile could not be created now; retry later.")
	}
	err := st.Create(ctx, p, Preferences{})
	if errors.Is(err, problem.ErrConflict) {
		return Profile{}, problem.New(problem.Conflict, "Conflict",
			"A profile for this fiscal code exists already; update it with upsertProfile.")
	}
	if err != nil {
		return Profile{}, problem.Wrap(problem.Internal, err, "Query error", "Error while creating the development profile")
	}
	return p, nil
}
