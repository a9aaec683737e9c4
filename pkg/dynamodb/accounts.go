package dynamodb

import (
	"cmp"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/digital-citizenship/functions/pkg/auth"
	"github.com/digital-citizenship/functions/pkg/subscriptions"
)

// Accounts stores users, subscriptions and the key index.
type Accounts struct{ t table }

// NewAccounts returns the accounts store on table name.
func NewAccounts(api API, name string) *Accounts { return &Accounts{table{api, name}} }

type userItem struct {
	PK     string   `dynamodbav:"pk"`
	SK     string   `dynamodbav:"sk"`
	ID     string   `dynamodbav:"id"`
	Email  string   `dynamodbav:"email"`
	Groups []string `dynamodbav:"groups"`
}

type subscriptionItem struct {
	PK          string            `dynamodbav:"pk"`
	SK          string            `dynamodbav:"sk"`
	ID          string            `dynamodbav:"id"`
	OwnerEmail  string            `dynamodbav:"owner_email"`
	ProductName string            `dynamodbav:"product_name,omitempty"`
	KeyHashes   map[string]string `dynamodbav:"key_hashes"`
	CreatedAt   time.Time         `dynamodbav:"created_at"`
	Kind        string            `dynamodbav:"kind,omitempty"`
}

type keyItem struct {
	PK             string `dynamodbav:"pk"`
	SK             string `dynamodbav:"sk"`
	Hash           string `dynamodbav:"hash"`
	SubscriptionID string `dynamodbav:"subscription_id"`
	OwnerEmail     string `dynamodbav:"owner_email"`
	Type           string `dynamodbav:"key_type"`
	// Test marks a TEST subscription's key, so that the authorizer knows
	// it from this one read.
	Test bool `dynamodbav:"test,omitempty"`
}

// User implements subscriptions.Store.
func (a *Accounts) User(ctx context.Context, email string) (subscriptions.User, error) {
	var it userItem
	if err := a.t.get(ctx, userPK(email), metaSK, &it); err != nil {
		return subscriptions.User{}, fmt.Errorf("get user: %w", err)
	}
	return subscriptions.User{ID: it.ID, Email: it.Email, Groups: auth.ParseGroups(strings.Join(it.Groups, ","))}, nil
}

// PutUser implements subscriptions.Store.
func (a *Accounts) PutUser(ctx context.Context, u subscriptions.User) error {
	groups := make([]string, len(u.Groups))
	for i, g := range u.Groups {
		groups[i] = string(g)
	}
	if err := a.t.put(ctx, userItem{userPK(u.Email), metaSK, u.ID, u.Email, groups}); err != nil {
		return fmt.Errorf("put user: %w", err)
	}
	return nil
}

// CreateSubscription implements subscriptions.Store.
func (a *Accounts) CreateSubscription(ctx context.Context, s subscriptions.Subscription) error {
	hashes := map[string]string{}
	for t, h := range s.KeyHashes {
		hashes[string(t)] = h
	}
	kind := s.Kind
	if kind == subscriptions.Live {
		kind = "" // LIVE is the default: what subscriptions stored before kinds are
	}
	items := []any{subscriptionItem{subscriptionPK(s.ID), metaSK, s.ID, s.OwnerEmail, s.ProductName, hashes, s.CreatedAt, kind}}
	for t, h := range s.KeyHashes {
		items = append(items, keyItem{keyPK(h), metaSK, h, s.ID, s.OwnerEmail, string(t), s.IsTest()})
	}
	var writes []types.TransactWriteItem
	for _, it := range items {
		put, err := a.t.createInput(it)
		if err != nil {
			return err
		}
		writes = append(writes, types.TransactWriteItem{Put: put})
	}
	if err := a.t.transact(ctx, writes...); err != nil {
		return fmt.Errorf("create subscription: %w", err)
	}
	return nil
}

// Subscription implements subscriptions.Store.
func (a *Accounts) Subscription(ctx context.Context, id string) (subscriptions.Subscription, error) {
	var it subscriptionItem
	if err := a.t.get(ctx, subscriptionPK(id), metaSK, &it); err != nil {
		return subscriptions.Subscription{}, fmt.Errorf("get subscription: %w", err)
	}
	s := subscriptions.Subscription{ID: it.ID, OwnerEmail: it.OwnerEmail, ProductName: it.ProductName,
		CreatedAt: it.CreatedAt, KeyHashes: map[subscriptions.KeyType]string{}, Kind: cmp.Or(it.Kind, subscriptions.Live)}
	for t, h := range it.KeyHashes {
		s.KeyHashes[subscriptions.KeyType(t)] = h
	}
	return s, nil
}

// ReplaceKey implements subscriptions.Store: the subscription's hash, the old
// index entry and the new one change in one transaction.
func (a *Accounts) ReplaceKey(ctx context.Context, id string, t subscriptions.KeyType, oldHash, newHash string) error {
	hashAttr := expression.Name("key_hashes." + string(t))
	upd, err := a.t.updateInput(subscriptionPK(id), metaSK, expression.Set(hashAttr, expression.Value(newHash)),
		expression.Equal(hashAttr, expression.Value(oldHash)))
	if err != nil {
		return err
	}
	var sub subscriptionItem
	if err := a.t.get(ctx, subscriptionPK(id), metaSK, &sub); err != nil {
		return fmt.Errorf("replace key: %w", err)
	}
	put, err := a.t.createInput(keyItem{keyPK(newHash), metaSK, newHash, id, sub.OwnerEmail, string(t), sub.Kind == subscriptions.Test})
	if err != nil {
		return err
	}
	del := &types.Delete{TableName: &a.t.name, Key: key(keyPK(oldHash), metaSK)}
	if err := a.t.transact(ctx, types.TransactWriteItem{Update: upd}, types.TransactWriteItem{Delete: del},
		types.TransactWriteItem{Put: put}); err != nil {
		return fmt.Errorf("replace key: %w", err)
	}
	return nil
}

// Key implements subscriptions.Store.
func (a *Accounts) Key(ctx context.Context, hash string) (subscriptions.Key, error) {
	var it keyItem
	if err := a.t.get(ctx, keyPK(hash), metaSK, &it); err != nil {
		return subscriptions.Key{}, fmt.Errorf("get key: %w", err)
	}
	return subscriptions.Key{Hash: it.Hash, SubscriptionID: it.SubscriptionID, OwnerEmail: it.OwnerEmail,
		Type: subscriptions.KeyType(it.Type), Test: it.Test}, nil
}
