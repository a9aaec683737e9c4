package dynamodb

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/digital-citizenship/functions/pkg/emailvalidation"
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
	PrefsMode              string              `dynamodbav:"prefs_mode,omitempty"`
	PrefsVersion           int                 `dynamodbav:"prefs_version,omitempty"`
	Version                int                 `dynamodbav:"version"`
	ReminderStatus         string              `dynamodbav:"reminder_status,omitempty"`
}

func (it profileItem) profile() profiles.Profile {
	p := profiles.Profile{FiscalCode: it.FiscalCode, Email: it.Email, BlockedInboxOrChannels: it.BlockedInboxOrChannels,
		PreferredLanguages: it.PreferredLanguages, IsInboxEnabled: it.IsInboxEnabled, IsWebhookEnabled: it.IsWebhookEnabled,
		AcceptedTosVersion: it.AcceptedTosVersion, PushContent: it.PushContent, Version: it.Version,
		ReminderStatus: it.ReminderStatus}
	if it.PrefsMode != "" {
		p.Settings = profiles.Settings{Mode: it.PrefsMode, Version: it.PrefsVersion}
	}
	return p
}

// Latest implements profiles.Store: the latest version as Recipient reads
// it (one query), so that IsEmailValidated is known.
func (s *Profiles) Latest(ctx context.Context, fiscalCode string) (profiles.Profile, error) {
	r, err := s.Recipient(ctx, fiscalCode)
	if err != nil {
		return profiles.Profile{}, fmt.Errorf("latest profile: %w", err)
	}
	return r.Profile, nil
}

// Create implements profiles.Store: the version alone, or with the
// citizen's preferences replaced in the same transaction.
func (s *Profiles) Create(ctx context.Context, p profiles.Profile, prefs profiles.Preferences) error {
	it := s.item(p)
	if prefs == nil && !p.IsEmailValidated {
		if err := s.t.create(ctx, it); err != nil {
			return fmt.Errorf("create profile version: %w", err)
		}
		return nil
	}
	put, err := s.t.createInput(it)
	if err != nil {
		return err
	}
	items := []types.TransactWriteItem{{Put: put}}
	if prefs != nil {
		pav, err := preferencesItem(p.FiscalCode, p.Settings.Version, prefs)
		if err != nil {
			return err
		}
		items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: &s.t.name, Item: pav}})
	}
	if p.IsEmailValidated && p.Email != "" {
		upd, err := s.validatedInput(p.FiscalCode, p.Email, time.Now())
		if err != nil {
			return err
		}
		items = append(items, types.TransactWriteItem{Update: upd})
	}
	if err := s.t.transact(ctx, items...); err != nil {
		return fmt.Errorf("create profile version with preferences: %w", err)
	}
	return nil
}

// CreateSetting implements profiles.Store: the version and an update of
// the ~PREFS item's entries for set, conditional on its settings version,
// in one transaction.
func (s *Profiles) CreateSetting(ctx context.Context, p profiles.Profile, set profiles.Preferences) error {
	put, err := s.t.createInput(s.item(p))
	if err != nil {
		return err
	}
	names := map[string]string{"#p": attrPrefs, "#v": attrSettingsVersion}
	values := map[string]types.AttributeValue{":v": &types.AttributeValueMemberN{Value: fmt.Sprint(p.Settings.Version)}}
	var sets []string
	i := 0
	for svc, pref := range set {
		av, err := attributevalue.Marshal(preferenceItem{pref.IsInboxEnabled, pref.IsEmailEnabled, pref.IsWebhookEnabled, pref.CanAccessMessageReadStatus})
		if err != nil {
			return err
		}
		// Written by hand, as in SetPreference: service ids may hold dots.
		names[fmt.Sprintf("#s%d", i)], values[fmt.Sprintf(":p%d", i)] = svc, av
		sets = append(sets, fmt.Sprintf("#p.#s%d = :p%d", i, i))
		i++
	}
	upd := &types.Update{TableName: &s.t.name, Key: key(profilePK(p.FiscalCode), preferencesSK),
		UpdateExpression: aws.String("SET " + strings.Join(sets, ", ")), ConditionExpression: aws.String("#v = :v"),
		ExpressionAttributeNames: names, ExpressionAttributeValues: values}
	if err := s.t.transact(ctx, types.TransactWriteItem{Put: put}, types.TransactWriteItem{Update: upd}); err != nil {
		return fmt.Errorf("create profile version setting preferences: %w", err)
	}
	return nil
}

func (s *Profiles) item(p profiles.Profile) profileItem {
	return profileItem{profilePK(p.FiscalCode), versionSK(p.Version), p.FiscalCode, p.Email, p.BlockedInboxOrChannels,
		p.PreferredLanguages, p.IsInboxEnabled, p.IsWebhookEnabled, p.AcceptedTosVersion, p.PushContent,
		p.Settings.Mode, p.Settings.Version, p.Version, p.ReminderStatus}
}

type preferenceItem struct {
	Inbox   bool `dynamodbav:"inbox"`
	Email   bool `dynamodbav:"email"`
	Webhook bool `dynamodbav:"webhook"`
	Read    bool `dynamodbav:"read_status"`
}

// preferencesItem is the ~PREFS item: the settings version and, in the map
// "prefs" (always present, so that one service can be set in it), the
// preference of each service.
func preferencesItem(fiscalCode string, version int, prefs profiles.Preferences) (map[string]types.AttributeValue, error) {
	m := map[string]types.AttributeValue{}
	for svc, p := range prefs {
		av, err := attributevalue.MarshalMap(preferenceItem{p.IsInboxEnabled, p.IsEmailEnabled, p.IsWebhookEnabled, p.CanAccessMessageReadStatus})
		if err != nil {
			return nil, err
		}
		m[svc] = &types.AttributeValueMemberM{Value: av}
	}
	return map[string]types.AttributeValue{
		attrPK: &types.AttributeValueMemberS{Value: profilePK(fiscalCode)}, attrSK: &types.AttributeValueMemberS{Value: preferencesSK},
		attrSettingsVersion: &types.AttributeValueMemberN{Value: fmt.Sprint(version)}, attrPrefs: &types.AttributeValueMemberM{Value: m},
	}, nil
}

func preferencesOf(av map[string]types.AttributeValue) (profiles.Preferences, error) {
	var it struct {
		Version int                       `dynamodbav:"settings_version"`
		Prefs   map[string]preferenceItem `dynamodbav:"prefs"`
	}
	if err := attributevalue.UnmarshalMap(av, &it); err != nil {
		return nil, err
	}
	out := profiles.Preferences{}
	for svc, p := range it.Prefs {
		out[svc] = profiles.Preference{IsInboxEnabled: p.Inbox, IsEmailEnabled: p.Email, IsWebhookEnabled: p.Webhook,
			CanAccessMessageReadStatus: p.Read, SettingsVersion: it.Version}
	}
	return out, nil
}

// SetPreference implements profiles.PreferenceStore: one service's entry in
// the ~PREFS item, on condition that its settings version is still
// pref.SettingsVersion.
func (s *Profiles) SetPreference(ctx context.Context, fiscalCode, serviceID string, pref profiles.Preference) error {
	av, err := attributevalue.Marshal(preferenceItem{pref.IsInboxEnabled, pref.IsEmailEnabled, pref.IsWebhookEnabled, pref.CanAccessMessageReadStatus})
	if err != nil {
		return err
	}
	// Written by hand: the builder splits names on "." and a service id may
	// hold one.
	_, err = s.t.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &s.t.name, Key: key(profilePK(fiscalCode), preferencesSK),
		UpdateExpression: aws.String("SET #p.#s = :p"), ConditionExpression: aws.String("#v = :v"),
		ExpressionAttributeNames: map[string]string{"#p": attrPrefs, "#s": serviceID, "#v": attrSettingsVersion},
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": av,
			":v": &types.AttributeValueMemberN{Value: fmt.Sprint(pref.SettingsVersion)}}})
	if err := conflictOn(err); err != nil {
		return fmt.Errorf("set preference: %w", err)
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
// partition read backwards from its end holds the preferences, the
// validated address, the devices, the address that bounced and then the
// latest version (keys.go).
func (s *Profiles) Recipient(ctx context.Context, fiscalCode string) (profiles.Recipient, error) {
	kc := expression.Key(attrPK).Equal(expression.Value(profilePK(fiscalCode)))
	e, err := expression.NewBuilder().WithKeyCondition(kc).Build()
	if err != nil {
		return profiles.Recipient{}, err
	}
	res, err := s.t.api.Query(ctx, &dynamodb.QueryInput{TableName: &s.t.name, KeyConditionExpression: e.KeyCondition(),
		ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values(),
		ScanIndexForward: aws.Bool(false), Limit: aws.Int32(5)})
	if err != nil {
		return profiles.Recipient{}, fmt.Errorf("read recipient: %w", err)
	}
	var r profiles.Recipient
	var validated string
	found := false
	for _, av := range res.Items {
		switch sk := skOf(av); {
		case sk == devicesSK:
			r.Devices = devicesOf(av)
		case sk == preferencesSK:
			if r.Preferences, err = preferencesOf(av); err != nil {
				return profiles.Recipient{}, err
			}
		case sk == emailSK:
			var it emailItem
			if err := attributevalue.UnmarshalMap(av, &it); err != nil {
				return profiles.Recipient{}, err
			}
			validated = it.Validated
		case sk == undeliverableSK:
			var it undeliverableItem
			if err := attributevalue.UnmarshalMap(av, &it); err != nil {
				return profiles.Recipient{}, err
			}
			r.Undeliverable = &profiles.Undeliverable{Address: it.Address, Reason: it.Reason}
		case strings.HasPrefix(sk, versionPfx) && !found:
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
	r.Profile.IsEmailValidated = r.Profile.Email != "" && strings.EqualFold(r.Profile.Email, validated)
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

type welcomeItem struct {
	PK string    `dynamodbav:"pk"`
	SK string    `dynamodbav:"sk"`
	At time.Time `dynamodbav:"at"`
}

// Welcomed implements welcome.Marks.
func (s *Profiles) Welcomed(ctx context.Context, fiscalCode string) (bool, error) {
	var it welcomeItem
	err := s.t.get(ctx, welcomePK(fiscalCode), metaSK, &it)
	if errors.Is(err, problem.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read welcome mark: %w", err)
	}
	return true, nil
}

// MarkWelcomed implements welcome.Marks.
func (s *Profiles) MarkWelcomed(ctx context.Context, fiscalCode string, at time.Time) error {
	if err := s.t.put(ctx, welcomeItem{welcomePK(fiscalCode), metaSK, at}); err != nil {
		return fmt.Errorf("mark welcomed: %w", err)
	}
	return nil
}

// emailItem is the ~EMAIL item: the address the citizen validated, the
// last validation request e-mailed, and the ids of the tokens sent
// (attrTokens, a string set).
type emailItem struct {
	Validated string `dynamodbav:"validated,omitempty"`
	Started   string `dynamodbav:"started,omitempty"`
}

// validatedInput records address as the citizen's validated address.
func (s *Profiles) validatedInput(fiscalCode, address string, at time.Time) (*types.Update, error) {
	return s.t.updateInput(profilePK(fiscalCode), emailSK,
		expression.Set(expression.Name("validated"), expression.Value(address)).
			Set(expression.Name("validated_at"), expression.Value(at.UTC().Format(time.RFC3339))), expression.ConditionBuilder{})
}

type tokenItem struct {
	PK            string `dynamodbav:"pk"`
	SK            string `dynamodbav:"sk"`
	FiscalCode    string `dynamodbav:"fiscal_code"`
	Email         string `dynamodbav:"email"`
	ValidatorHash string `dynamodbav:"validator_hash"`
	// ExpiresAt is the table's TTL attribute (epoch seconds).
	ExpiresAt int64 `dynamodbav:"expires_at"`
}

// PutToken implements emailvalidation.Store.
func (s *Profiles) PutToken(ctx context.Context, t emailvalidation.Token) error {
	if err := s.t.put(ctx, tokenItem{tokenPK(t.ID), metaSK, t.FiscalCode, t.Email, t.ValidatorHash, t.ExpiresAt.Unix()}); err != nil {
		return fmt.Errorf("store validation token: %w", err)
	}
	return nil
}

// Token implements emailvalidation.Store.
func (s *Profiles) Token(ctx context.Context, id string) (emailvalidation.Token, error) {
	var it tokenItem
	if err := s.t.get(ctx, tokenPK(id), metaSK, &it); err != nil {
		return emailvalidation.Token{}, fmt.Errorf("read validation token: %w", err)
	}
	return emailvalidation.Token{ID: id, FiscalCode: it.FiscalCode, Email: it.Email, ValidatorHash: it.ValidatorHash,
		ExpiresAt: time.Unix(it.ExpiresAt, 0)}, nil
}

// Validate implements emailvalidation.Store: the token's deletion, on
// condition that it is still there, and the validated address, in one
// transaction.
func (s *Profiles) Validate(ctx context.Context, t emailvalidation.Token, at time.Time) error {
	upd, err := s.validatedInput(t.FiscalCode, t.Email, at)
	if err != nil {
		return err
	}
	del := &types.Delete{TableName: &s.t.name, Key: key(tokenPK(t.ID), metaSK),
		ConditionExpression: aws.String("attribute_exists(pk)")}
	err = s.t.transact(ctx, types.TransactWriteItem{Delete: del}, types.TransactWriteItem{Update: upd})
	if errors.Is(err, problem.ErrConflict) {
		return fmt.Errorf("validate e-mail: the token was used: %w", problem.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("validate e-mail: %w", err)
	}
	return nil
}

// Started implements emailvalidation.Store.
func (s *Profiles) Started(ctx context.Context, fiscalCode string) (string, error) {
	var it emailItem
	err := s.t.get(ctx, profilePK(fiscalCode), emailSK, &it)
	if errors.Is(err, problem.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read e-mail validation: %w", err)
	}
	return it.Started, nil
}

// MarkStarted implements emailvalidation.Store.
func (s *Profiles) MarkStarted(ctx context.Context, fiscalCode, key, tokenID string) error {
	err := s.t.update(ctx, profilePK(fiscalCode), emailSK, expression.Set(expression.Name("started"), expression.Value(key)).
		Add(expression.Name(attrTokens), expression.Value(&types.AttributeValueMemberSS{Value: []string{tokenID}})),
		expression.ConditionBuilder{}, nil)
	if err != nil {
		return fmt.Errorf("mark e-mail validation started: %w", err)
	}
	return nil
}
