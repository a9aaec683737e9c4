package dynamodb

import (
	"context"
	"fmt"

	"github.com/digital-citizenship/functions/pkg/profiles"
)

// Profiles stores profile versions in the profiles table.
type Profiles struct{ t table }

// NewProfiles returns the profiles store on table name.
func NewProfiles(api API, name string) *Profiles { return &Profiles{table{api, name}} }

type profileItem struct {
	PK                     string              `dynamodbav:"pk"`
	SK                     string              `dynamodbav:"sk"`
	FiscalCode             string              `dynamodbav:"fiscal_code"`
	Email                  string              `dynamodbav:"email,omitempty"`
	BlockedInboxOrChannels map[string][]string `dynamodbav:"blocked_inbox_or_channels,omitempty"`
	PreferredLanguages     []string            `dynamodbav:"preferred_languages,omitempty"`
	IsInboxEnabled         bool                `dynamodbav:"is_inbox_enabled"`
	IsWebhookEnabled       bool                `dynamodbav:"is_webhook_enabled"`
	AcceptedTosVersion     *float64            `dynamodbav:"accepted_tos_version,omitempty"`
	Version                int                 `dynamodbav:"version"`
}

// Latest implements profiles.Store.
func (s *Profiles) Latest(ctx context.Context, fiscalCode string) (profiles.Profile, error) {
	var it profileItem
	if err := s.t.latest(ctx, profilePK(fiscalCode), &it); err != nil {
		return profiles.Profile{}, fmt.Errorf("latest profile: %w", err)
	}
	return profiles.Profile{FiscalCode: it.FiscalCode, Email: it.Email, BlockedInboxOrChannels: it.BlockedInboxOrChannels,
		PreferredLanguages: it.PreferredLanguages, IsInboxEnabled: it.IsInboxEnabled, IsWebhookEnabled: it.IsWebhookEnabled,
		AcceptedTosVersion: it.AcceptedTosVersion, Version: it.Version}, nil
}

// Create implements profiles.Store.
func (s *Profiles) Create(ctx context.Context, p profiles.Profile) error {
	it := profileItem{profilePK(p.FiscalCode), versionSK(p.Version), p.FiscalCode, p.Email, p.BlockedInboxOrChannels,
		p.PreferredLanguages, p.IsInboxEnabled, p.IsWebhookEnabled, p.AcceptedTosVersion, p.Version}
	if err := s.t.create(ctx, it); err != nil {
		return fmt.Errorf("create profile version: %w", err)
	}
	return nil
}
