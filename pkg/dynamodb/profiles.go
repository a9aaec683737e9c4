package dynamodb

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/digital-citizenship/functions/pkg/problem"
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
	PushContent            string              `dynamodbav:"push_content,omitempty"`
	Version                int                 `dynamodbav:"version"`
}

func (it profileItem) profile() profiles.Profile {
	return profiles.Profile{FiscalCode: it.FiscalCode, Email: it.Email, BlockedInboxOrChannels: it.BlockedInboxOrChannels,
		PreferredLanguages: it.PreferredLanguages, IsInboxEnabled: it.IsInboxEnabled, IsWebhookEnabled: it.IsWebhookEnabled,
		AcceptedTosVersion: it.AcceptedTosVersion, PushContent: it.PushContent, Version: it.Version}
}

// Latest implements profiles.Store.
func (s *Profiles) Latest(ctx context.Context, fiscalCode string) (profiles.Profile, error) {
	var it profileItem
	if err := s.t.latest(ctx, profilePK(fiscalCode), &it); err != nil {
		return profiles.Profile{}, fmt.Errorf("latest profile: %w", err)
	}
	return it.profile(), nil
}

// Create implements profiles.Store.
func (s *Profiles) Create(ctx context.Context, p profiles.Profile) error {
	it := profileItem{profilePK(p.FiscalCode), versionSK(p.Version), p.FiscalCode, p.Email, p.BlockedInboxOrChannels,
		p.PreferredLanguages, p.IsInboxEnabled, p.IsWebhookEnabled, p.AcceptedTosVersion, p.PushContent, p.Version}
	if err := s.t.create(ctx, it); err != nil {
		return fmt.Errorf("create profile version: %w", err)
	}
	return nil
}

type undeliverableItem struct {
	PK      string    `dynamodbav:"pk"`
	SK      string    `dynamodbav:"sk"`
	Address string    `dynamodbav:"address"`
	Reason  string    `dynamodbav:"reason"`
	At      time.Time `dynamodbav:"at"`
}

// Recipient implements profiles.Recipients in one query: the citizen's
// partition read backwards from its end holds the devices, the address that
// bounced and then the latest version (keys.go).
func (s *Profiles) Recipient(ctx context.Context, fiscalCode string) (profiles.Recipient, error) {
	kc := expression.Key(attrPK).Equal(expression.Value(profilePK(fiscalCode)))
	e, err := expression.NewBuilder().WithKeyCondition(kc).Build()
	if err != nil {
		return profiles.Recipient{}, err
	}
	res, err := s.t.api.Query(ctx, &dynamodb.QueryInput{TableName: &s.t.name, KeyConditionExpression: e.KeyCondition(),
		ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values(),
		ScanIndexForward: aws.Bool(false), Limit: aws.Int32(3)})
	if err != nil {
		return profiles.Recipient{}, fmt.Errorf("read recipient: %w", err)
	}
	var r profiles.Recipient
	found := false
	for _, av := range res.Items {
		sk, _ := av[attrSK].(*types.AttributeValueMemberS)
		switch {
		case sk == nil:
		case sk.Value == devicesSK:
			r.Devices = devicesOf(av)
		case sk.Value == undeliverableSK:
			var it undeliverableItem
			if err := attributevalue.UnmarshalMap(av, &it); err != nil {
				return profiles.Recipient{}, err
			}
			r.Undeliverable = &profiles.Undeliverable{Address: it.Address, Reason: it.Reason}
		case strings.HasPrefix(sk.Value, versionPfx) && !found:
			var it profileItem
			if err := attributevalue.UnmarshalMap(av, &it); err != nil {
				return profiles.Recipient{}, err
			}
			r.Profile, found = it.profile(), true
		}
	}
	if !found {
		return profiles.Recipient{}, fmt.Errorf("read recipient: %w", problem.ErrNotFound)
	}
	return r, nil
}

// MarkUndeliverable records that address bounced or complained, for the
// citizen whose profile has it; e-mail is not sent to it again until the
// citizen changes the address.
func (s *Profiles) MarkUndeliverable(ctx context.Context, fiscalCode, address, reason string, at time.Time) error {
	it := undeliverableItem{profilePK(fiscalCode), undeliverableSK, address, reason, at}
	if err := s.t.put(ctx, it); err != nil {
		return fmt.Errorf("mark address undeliverable: %w", err)
	}
	return nil
}
