package profiles

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/digital-citizenship/functions/pkg/feed"
	"github.com/digital-citizenship/functions/pkg/problem"
	"github.com/digital-citizenship/functions/pkg/validate"
)

// Modes of per-service preferences. LEGACY is the original's coarse
// blocked_inbox_or_channels map; in AUTO a service without a preference may
// reach the citizen, in MANUAL it may not.
const (
	Legacy = "LEGACY"
	Auto   = "AUTO"
	Manual = "MANUAL"
)

// Settings is a profile's service_preferences_settings: the mode and its
// version, bumped on every change of mode. Preferences belong to one version:
// a change of mode starts from none (or from the LEGACY blocks when leaving
// LEGACY). LEGACY's version is -1.
type Settings struct {
	Mode    string `json:"mode"`
	Version int    `json:"version"`
}

// LegacySettings are the settings of a profile stored before preferences
// existed.
var LegacySettings = Settings{Legacy, -1}

// Preference is what a citizen allows one service (the ServicePreference of
// the successors).
type Preference struct {
	IsInboxEnabled             bool `json:"is_inbox_enabled"`
	IsEmailEnabled             bool `json:"is_email_enabled"`
	IsWebhookEnabled           bool `json:"is_webhook_enabled"`
	CanAccessMessageReadStatus bool `json:"can_access_message_read_status"`
	SettingsVersion            int  `json:"settings_version"`
}

// Preferences are the stored preferences of the current settings version,
// by service id.
type Preferences map[string]Preference

// PreferenceFor returns what the citizen allows serviceID, stored or implied
// by the mode: LEGACY reads the blocks (read status is never shared), AUTO
// allows what is not stored, MANUAL allows nothing that is not stored.
func (r Recipient) PreferenceFor(serviceID string) Preference {
	p := r.Profile
	s := p.settings()
	switch s.Mode {
	case Legacy:
		return Preference{IsInboxEnabled: !p.Blocked(serviceID, BlockInbox), IsEmailEnabled: !p.Blocked(serviceID, BlockEmail),
			IsWebhookEnabled: !p.Blocked(serviceID, BlockWebhook), SettingsVersion: s.Version}
	}
	if pref, ok := r.Preferences[serviceID]; ok && pref.SettingsVersion == s.Version {
		return pref
	}
	all := s.Mode == Auto
	return Preference{all, all, all, all, s.Version}
}

// settings returns the profile's settings, LEGACY when it has none.
func (p Profile) settings() Settings {
	if p.Settings.Mode == "" {
		return LegacySettings
	}
	return p.Settings
}

// fromBlocks turns the LEGACY blocks into preferences of settings s; read
// status is shared as s's mode shares it with services without preference.
func fromBlocks(blocks map[string][]string, s Settings) Preferences {
	out := Preferences{}
	for svc := range blocks {
		p := Profile{BlockedInboxOrChannels: blocks, Settings: LegacySettings}
		pref := Recipient{Profile: p}.PreferenceFor(svc)
		pref.CanAccessMessageReadStatus, pref.SettingsVersion = s.Mode == Auto, s.Version
		out[svc] = pref
	}
	return out
}

// changedBlocks returns, for each service whose blocks differ between from
// and to, the preference (of settings s) that to's blocks say; a service
// no longer blocked is allowed everything.
func changedBlocks(from, to map[string][]string, s Settings) Preferences {
	out := Preferences{}
	now := fromBlocks(to, s)
	for svc := range from {
		if _, ok := to[svc]; !ok {
			out[svc] = Preference{true, true, true, s.Mode == Auto, s.Version}
		}
	}
	for svc, blocks := range to {
		if !sameSet(from[svc], blocks) {
			out[svc] = now[svc]
		}
	}
	return out
}

func sameSet(a, b []string) bool {
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	for _, x := range b {
		if !slices.Contains(a, x) {
			return false
		}
	}
	return true
}

// PreferenceTitle is the title of every 400 about a preference body.
const PreferenceTitle = "Invalid ServicePreference"

// ParsePreference decodes and validates a ServicePreference body.
func ParsePreference(body []byte) (Preference, error) {
	var in struct {
		Inbox   *bool `json:"is_inbox_enabled"`
		Email   *bool `json:"is_email_enabled"`
		Webhook *bool `json:"is_webhook_enabled"`
		Read    *bool `json:"can_access_message_read_status"`
		Version *int  `json:"settings_version"`
	}
	if err := validate.DecodeJSON(body, &in, PreferenceTitle); err != nil {
		return Preference{}, err
	}
	r := validate.NewReport(PreferenceTitle)
	for _, f := range []struct {
		name string
		v    *bool
	}{{"is_inbox_enabled", in.Inbox}, {"is_email_enabled", in.Email}, {"is_webhook_enabled", in.Webhook}} {
		if f.v == nil {
			r.Addf(f.name, "a boolean")
		}
	}
	if in.Version == nil || *in.Version < 0 {
		r.Addf("settings_version", "an integer, 0 or more")
	}
	if err := r.Err(); err != nil {
		return Preference{}, err
	}
	p := Preference{*in.Inbox, *in.Email, *in.Webhook, in.Read != nil && *in.Read, *in.Version}
	if !p.IsInboxEnabled && (p.IsEmailEnabled || p.IsWebhookEnabled) {
		r.Addf("is_inbox_enabled", "true when is_email_enabled or is_webhook_enabled is (a channel needs the inbox)")
	}
	return p, r.Err()
}

// PreferenceStore keeps the preferences of the current settings version.
type PreferenceStore interface {
	Recipients
	// SetPreference stores pref for serviceID if the citizen's current
	// settings version is pref.SettingsVersion, else problem.ErrConflict.
	SetPreference(ctx context.Context, fiscalCode, serviceID string, pref Preference) error
}

// ErrLegacyMode answers a preference write on a profile still in LEGACY mode.
var ErrLegacyMode = problem.New(problem.Conflict, "Conflict",
	"The profile is in LEGACY mode: set service_preferences_settings to AUTO or MANUAL first.")

func staleSettings(want, got int) error {
	return problem.New(problem.Conflict, "Conflict",
		fmt.Sprintf("settings_version %d is not the profile's current version (%d).", got, want))
}

// GetPreference returns what the citizen allows serviceID; ErrNotFound for
// an unknown citizen.
func GetPreference(ctx context.Context, st Recipients, fiscalCode, serviceID string) (Preference, error) {
	r, err := Read(ctx, st, fiscalCode)
	if err != nil {
		return Preference{}, err
	}
	return r.PreferenceFor(serviceID), nil
}

// SetPreference stores pref for serviceID: 409 while the profile is LEGACY
// or when pref's settings version is not the current one (also when the
// mode changes concurrently). A preference that subscribes the citizen to
// the service or unsubscribes them is announced on events first (the
// subscriptions feed): a failure to queue it is a 503 that writes nothing.
func SetPreference(ctx context.Context, st PreferenceStore, events Queue, fiscalCode, serviceID string, pref Preference, now time.Time) (Preference, error) {
	r, err := Read(ctx, st, fiscalCode)
	if err != nil {
		return Preference{}, err
	}
	s := r.Profile.settings()
	switch {
	case s.Mode == Legacy:
		return Preference{}, ErrLegacyMode
	case pref.SettingsVersion != s.Version:
		return Preference{}, staleSettings(s.Version, pref.SettingsVersion)
	}
	inbox := r.Profile.IsInboxEnabled
	if was, is := inbox && r.PreferenceFor(serviceID).IsInboxEnabled, inbox && pref.IsInboxEnabled; was != is {
		ev := Event{Kind: PreferenceChanged, FiscalCode: fiscalCode, Version: r.Profile.Version, At: now,
			Feed: []feed.Change{{Service: serviceID, Subscribed: is}}}
		if err := events.Send(ctx, ev); err != nil {
			return Preference{}, problem.Wrap(problem.Unavailable, err, "Service unavailable",
				"The preference could not be saved now; it was not changed. Retry later.")
		}
	}
	err = st.SetPreference(ctx, fiscalCode, serviceID, pref)
	if errors.Is(err, problem.ErrConflict) {
		return Preference{}, problem.New(problem.Conflict, "Conflict",
			fmt.Sprintf("settings_version %d is no longer the profile's current version.", pref.SettingsVersion))
	}
	if err != nil {
		return Preference{}, problem.Wrap(problem.Internal, err, "Query error", "Error while saving the preference")
	}
	return pref, nil
}

// Read returns the recipient record of a citizen: profile, devices,
// preferences; ErrNotFound for an unknown citizen.
func Read(ctx context.Context, st Recipients, fiscalCode string) (Recipient, error) {
	r, err := st.Recipient(ctx, fiscalCode)
	if errors.Is(err, problem.ErrNotFound) {
		return Recipient{}, ErrNotFound
	}
	if err != nil {
		return Recipient{}, problem.Wrap(problem.Internal, err, "Query error", "Error while retrieving the profile")
	}
	return r, nil
}
