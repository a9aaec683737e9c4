// Package profiles provides citizens' profiles: versioned preferences (e-mail,
// languages, inbox and channel switches, per-service blocks), their full and
// limited views, and the upsert use case with optimistic concurrency.
package profiles

import (
	"context"
	"fmt"
	"slices"

	"github.com/digital-citizenship/functions/pkg/validate"
)

// Channels and inbox a citizen can block per service.
const (
	BlockEmail   = "EMAIL"
	BlockInbox   = "INBOX"
	BlockWebhook = "WEBHOOK"
)

// Languages are the accepted preferred languages.
var Languages = []string{"it_IT", "en_GB", "es_ES", "de_DE", "fr_FR"}

// Profile is one version of a citizen's profile.
type Profile struct {
	FiscalCode string
	Email      string
	// IsEmailValidated is read-only: the store sets it when Email is the
	// address the citizen validated; Create records Email as validated
	// when it is set (development profiles).
	IsEmailValidated       bool
	BlockedInboxOrChannels map[string][]string
	PreferredLanguages     []string
	IsInboxEnabled         bool
	IsWebhookEnabled       bool
	AcceptedTosVersion     *float64
	// PushContent is FULL (the subject in push notifications) or ANONYMOUS
	// (a generic text); empty means FULL.
	PushContent string
	// ReminderStatus is ENABLED (reminders before a due date; also when
	// empty) or DISABLED.
	ReminderStatus string
	// Settings are the per-service preferences' mode and version; the zero
	// value (a profile stored before preferences existed) is LEGACY.
	Settings Settings
	Version  int
}

// Push notification contents a citizen can choose.
const (
	PushFull      = "FULL"
	PushAnonymous = "ANONYMOUS"
)

// Reminder statuses a citizen can choose.
const (
	RemindersEnabled  = "ENABLED"
	RemindersDisabled = "DISABLED"
)

// WantsReminders reports whether the citizen lets services remind them of
// due dates.
func (p Profile) WantsReminders() bool { return p.ReminderStatus != RemindersDisabled }

// Device is one of a citizen's app installations that can receive push
// notifications: an SNS platform endpoint.
type Device struct {
	InstallationID string `json:"installationId"`
	Platform       string `json:"platform"`
	EndpointARN    string `json:"endpointArn"`
}

// Undeliverable is an address that bounced or complained: e-mail is not
// sent to it again until the citizen changes the address.
type Undeliverable struct {
	Address string
	Reason  string
}

// Recipient is what delivering a message needs to know of a citizen, read
// at once: the latest profile, the devices, and the address that bounced.
type Recipient struct {
	Profile       Profile
	Devices       []Device
	Undeliverable *Undeliverable
	Preferences   Preferences
}

// Recipients reads recipients.
type Recipients interface {
	// Recipient returns the citizen's recipient record; problem.ErrNotFound
	// when the citizen has no profile.
	Recipient(ctx context.Context, fiscalCode string) (Recipient, error)
}

// Blocked reports whether the citizen blocked what (INBOX, EMAIL, WEBHOOK)
// for the service serviceID.
func (p Profile) Blocked(serviceID, what string) bool {
	return slices.Contains(p.BlockedInboxOrChannels[serviceID], what)
}

// Extended is the full view of a profile (the original's ExtendedProfile).
type Extended struct {
	AcceptedTosVersion     *float64            `json:"accepted_tos_version,omitempty"`
	BlockedInboxOrChannels map[string][]string `json:"blocked_inbox_or_channels,omitempty"`
	Email                  string              `json:"email,omitempty"`
	IsEmailValidated       bool                `json:"is_email_validated"`
	IsInboxEnabled         bool                `json:"is_inbox_enabled"`
	IsWebhookEnabled       bool                `json:"is_webhook_enabled"`
	PreferredLanguages     []string            `json:"preferred_languages,omitempty"`
	PushContent            string              `json:"push_notifications_content_type,omitempty"`
	ReminderStatus         string              `json:"reminder_status"`
	Settings               Settings            `json:"service_preferences_settings"`
	Version                int                 `json:"version"`
}

// ExtendedView returns the full view.
func (p Profile) ExtendedView() Extended {
	return Extended{p.AcceptedTosVersion, p.BlockedInboxOrChannels, p.Email, p.IsEmailValidated, p.IsInboxEnabled,
		p.IsWebhookEnabled, p.PreferredLanguages, p.PushContent, p.reminderStatus(), p.settings(), p.Version}
}

func (p Profile) reminderStatus() string {
	if p.ReminderStatus == "" {
		return RemindersEnabled
	}
	return p.ReminderStatus
}

// Limited is the view for senders: may the calling service write to the inbox?
type Limited struct {
	PreferredLanguages []string `json:"preferred_languages,omitempty"`
	SenderAllowed      bool     `json:"sender_allowed"`
}

// LimitedView returns the view seen by the service serviceID: its sender is
// allowed when the citizen's preferences let it reach the inbox.
func (r Recipient) LimitedView(serviceID string) Limited {
	return Limited{PreferredLanguages: r.Profile.PreferredLanguages, SenderAllowed: r.PreferenceFor(serviceID).IsInboxEnabled}
}

// Store keeps every version of every profile.
type Store interface {
	// Recipient reads the newest version with the devices and preferences.
	Recipients
	// Latest returns the newest version, or problem.ErrNotFound.
	Latest(ctx context.Context, fiscalCode string) (Profile, error)
	// Create stores p as a new version; problem.ErrConflict if it exists.
	// When p.IsEmailValidated, p.Email is recorded as validated in the same
	// write.
	// When prefs is not nil, the citizen's preferences are replaced by prefs
	// (of version p.Settings.Version) in the same write.
	Create(ctx context.Context, p Profile, prefs Preferences) error
	// CreateSetting stores p as a new version and, in the same write, sets
	// the preferences of the services in set (others are kept), on
	// condition that the settings version is still p.Settings.Version;
	// problem.ErrConflict if the version exists or the settings changed.
	CreateSetting(ctx context.Context, p Profile, set Preferences) error
}

// InvalidTitle is the title of every 400 about a profile body.
const InvalidTitle = "Invalid Exact<ExtendedProfile>"

type input struct {
	Email                  *string              `json:"email"`
	BlockedInboxOrChannels *map[string][]string `json:"blocked_inbox_or_channels"`
	PreferredLanguages     *[]string            `json:"preferred_languages"`
	IsInboxEnabled         *bool                `json:"is_inbox_enabled"`
	IsWebhookEnabled       *bool                `json:"is_webhook_enabled"`
	AcceptedTosVersion     *float64             `json:"accepted_tos_version"`
	PushContent            *string              `json:"push_notifications_content_type"`
	ReminderStatus         *string              `json:"reminder_status"`
	Settings               *struct {
		Mode string `json:"mode"`
	} `json:"service_preferences_settings"`
	Version *int `json:"version"`
}

// Parse decodes and validates an ExtendedProfile body for fiscalCode.
func Parse(fiscalCode string, body []byte) (Profile, error) {
	var in input
	if err := validate.DecodeJSON(body, &in, InvalidTitle); err != nil {
		return Profile{}, err
	}
	r := validate.NewReport(InvalidTitle)
	p := Profile{FiscalCode: fiscalCode, AcceptedTosVersion: in.AcceptedTosVersion}
	if in.Email != nil {
		if !validate.Email(*in.Email) {
			r.Addf("email", "an e-mail address")
		}
		p.Email = *in.Email
	}
	if in.BlockedInboxOrChannels != nil {
		for svc, blocks := range *in.BlockedInboxOrChannels {
			for i, b := range blocks {
				if b != BlockEmail && b != BlockInbox && b != BlockWebhook {
					r.Addf(fmt.Sprintf("blocked_inbox_or_channels.%s.%d", svc, i), "one of EMAIL, INBOX, WEBHOOK")
				}
			}
		}
		p.BlockedInboxOrChannels = *in.BlockedInboxOrChannels
	}
	if in.PreferredLanguages != nil {
		for i, l := range *in.PreferredLanguages {
			if !slices.Contains(Languages, l) {
				r.Addf(fmt.Sprintf("preferred_languages.%d", i), "one of %v", Languages)
			}
		}
		p.PreferredLanguages = *in.PreferredLanguages
	}
	p.IsInboxEnabled = in.IsInboxEnabled != nil && *in.IsInboxEnabled
	p.IsWebhookEnabled = in.IsWebhookEnabled != nil && *in.IsWebhookEnabled
	if in.PushContent != nil && *in.PushContent != "" {
		if *in.PushContent != PushFull && *in.PushContent != PushAnonymous {
			r.Addf("push_notifications_content_type", "one of FULL, ANONYMOUS")
		}
		p.PushContent = *in.PushContent
	}
	if in.ReminderStatus != nil {
		if *in.ReminderStatus != RemindersEnabled && *in.ReminderStatus != RemindersDisabled {
			r.Addf("reminder_status", "one of %s, %s", RemindersEnabled, RemindersDisabled)
		}
		p.ReminderStatus = *in.ReminderStatus
	}
	if in.Settings != nil {
		switch in.Settings.Mode {
		case Legacy, Auto, Manual:
			p.Settings.Mode = in.Settings.Mode
		default:
			r.Addf("service_preferences_settings.mode", "one of LEGACY, AUTO, MANUAL")
		}
	}
	if in.Version == nil {
		r.Addf("version", "an integer")
	} else {
		p.Version = *in.Version
	}
	return p, r.Err()
}
