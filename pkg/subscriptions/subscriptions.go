// Package subscriptions provides users (owners of subscriptions, with their
// groups), subscriptions (one per service: subscription id = service id) and
// their two keys, which are stored only as SHA-256 hashes.
package subscriptions

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/digital-citizenship/functions/pkg/auth"
	"github.com/digital-citizenship/functions/pkg/ids"
	"github.com/digital-citizenship/functions/pkg/problem"
)

// KeyType names one of a subscription's two keys.
type KeyType string

// The two keys of a subscription.
const (
	Primary   KeyType = "PRIMARY_KEY"
	Secondary KeyType = "SECONDARY_KEY"
)

// Kinds of subscription (the key_type of createSubscription): a LIVE
// subscription's keys reach citizens; a TEST subscription's keys send only
// to development profiles, with simulated outcomes (pkg/simulator).
const (
	Live = "LIVE"
	Test = "TEST"
)

// User owns subscriptions; its groups are the scopes of all its keys.
type User struct {
	ID     string
	Email  string
	Groups []auth.Group
}

// Subscription gives a service its keys.
type Subscription struct {
	ID          string
	OwnerEmail  string
	ProductName string
	// Hashes of the keys, by type.
	KeyHashes map[KeyType]string
	CreatedAt time.Time
	// Kind is LIVE or TEST (empty, in subscriptions stored before kinds:
	// LIVE); it never changes.
	Kind string
}

// IsTest reports whether s is a TEST subscription.
func (s Subscription) IsTest() bool { return s.Kind == Test }

// Key is what a key hash resolves to.
type Key struct {
	Hash           string
	SubscriptionID string
	OwnerEmail     string
	Type           KeyType
	// Test is true for a TEST subscription's key.
	Test bool
}

// Store keeps users, subscriptions and the key index.
type Store interface {
	// User returns a user, or problem.ErrNotFound.
	User(ctx context.Context, email string) (User, error)
	// PutUser creates or replaces a user's groups.
	PutUser(ctx context.Context, u User) error
	// CreateSubscription stores s and indexes its keys at once;
	// problem.ErrConflict if the subscription exists.
	CreateSubscription(ctx context.Context, s Subscription) error
	// Subscription returns a subscription, or problem.ErrNotFound.
	Subscription(ctx context.Context, id string) (Subscription, error)
	// ReplaceKey swaps the key of type t from oldHash to newHash at once
	// (the old key stops resolving); problem.ErrConflict if it changed meanwhile.
	ReplaceKey(ctx context.Context, id string, t KeyType, oldHash, newHash string) error
	// Key resolves a key hash, or problem.ErrNotFound.
	Key(ctx context.Context, hash string) (Key, error)
}

// UsagePlan throttles each subscription separately (API Gateway's usage plan).
type UsagePlan interface {
	// Register adds the subscription's usage key to the plan; registering
	// twice is harmless.
	Register(ctx context.Context, subscriptionID, usageKey string) error
}

// UsageKey is the identifier the authorizer gives API Gateway for a
// subscription's usage plan: derived from the id, so nothing is stored and
// both keys of a subscription share one quota. It grants nothing: clients
// cannot present it, only the authorizer can.
func UsageKey(subscriptionID string) string { return Hash("usage-plan:" + subscriptionID) }

// NewKey returns a fresh key: 128 random bits as 32 hexadecimal characters,
// the format of the original's API Management keys.
func NewKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // never fails (Go >= 1.24)
	return hex.EncodeToString(b)
}

// Hash returns the stored form of a key.
func Hash(key string) string {
	h := sha256.Sum256([]byte(key))
	return hex.EncodeToString(h[:])
}

// ErrUnknownKey means a key that resolves to nothing: the caller is refused.
var ErrUnknownKey = errors.New("unknown subscription key")

// Authenticate resolves a key to its caller identity, or ErrUnknownKey.
func Authenticate(ctx context.Context, st Store, key string) (auth.Caller, error) {
	if key == "" {
		return auth.Caller{}, ErrUnknownKey
	}
	h := Hash(key)
	k, err := st.Key(ctx, h)
	if errors.Is(err, problem.ErrNotFound) {
		return auth.Caller{}, ErrUnknownKey
	}
	if err != nil {
		return auth.Caller{}, fmt.Errorf("resolve key: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(k.Hash), []byte(h)) != 1 {
		return auth.Caller{}, ErrUnknownKey
	}
	u, err := st.User(ctx, k.OwnerEmail)
	if errors.Is(err, problem.ErrNotFound) {
		return auth.Caller{}, ErrUnknownKey
	}
	if err != nil {
		return auth.Caller{}, fmt.Errorf("load owner: %w", err)
	}
	return auth.Caller{SubscriptionID: k.SubscriptionID, UserID: u.ID, Email: u.Email, Groups: u.Groups, Test: k.Test}, nil
}

// SetGroups creates the user if needed and replaces its groups; an unknown
// group is a 400 naming it.
func SetGroups(ctx context.Context, st Store, email string, groups []string) (User, error) {
	u, err := st.User(ctx, email)
	switch {
	case errors.Is(err, problem.ErrNotFound):
		u = User{ID: ids.ULID(time.Now()), Email: email}
	case err != nil:
		return User{}, problem.Wrap(problem.Internal, err, "Query error", "Error while retrieving the user")
	}
	u.Groups = make([]auth.Group, 0, len(groups))
	for i, g := range groups {
		if !auth.Known(auth.Group(g)) {
			return User{}, problem.Invalidf("Invalid groups", "value.groups.%d is not a known group: %q", i, g)
		}
		if !slices.Contains(u.Groups, auth.Group(g)) {
			u.Groups = append(u.Groups, auth.Group(g))
		}
	}
	if err := st.PutUser(ctx, u); err != nil {
		return User{}, problem.Wrap(problem.Internal, err, "Query error", "Error while updating the user")
	}
	return u, nil
}

// Keys are keys in clear, shown once.
type Keys struct {
	Primary   string
	Secondary string
}

// Create makes the subscription id for the user email with two new keys (or
// with the given keys, for bootstrap provisioning) and registers it in the
// usage plan. The user must exist.
func Create(ctx context.Context, st Store, plan UsagePlan, email, id, product, kind string, given *Keys) (Subscription, Keys, error) {
	switch kind {
	case "":
		kind = Live
	case Live, Test:
	default:
		return Subscription{}, Keys{}, problem.Invalidf("Invalid subscription", "value.key_type is not one of %s, %s", Live, Test)
	}
	if _, err := st.User(ctx, email); errors.Is(err, problem.ErrNotFound) {
		return Subscription{}, Keys{}, problem.New(problem.NotFound, "User not found",
			"Set the user's groups (PUT /adm/users/{email}/groups) before creating its subscriptions.")
	} else if err != nil {
		return Subscription{}, Keys{}, problem.Wrap(problem.Internal, err, "Query error", "Error while retrieving the user")
	}
	if err := plan.Register(ctx, id, UsageKey(id)); err != nil {
		return Subscription{}, Keys{}, problem.Wrap(problem.Internal, err, "Internal server error",
			"Error while registering the subscription in the usage plan")
	}
	keys := Keys{Primary: NewKey(), Secondary: NewKey()}
	if given != nil {
		keys = *given
	}
	s := Subscription{ID: id, OwnerEmail: email, ProductName: product, CreatedAt: time.Now().UTC(), Kind: kind,
		KeyHashes: map[KeyType]string{Primary: Hash(keys.Primary), Secondary: Hash(keys.Secondary)}}
	err := st.CreateSubscription(ctx, s)
	if errors.Is(err, problem.ErrConflict) {
		return Subscription{}, Keys{}, problem.New(problem.Conflict, "Conflict",
			fmt.Sprintf("The subscription %q exists already.", id))
	}
	if err != nil {
		return Subscription{}, Keys{}, problem.Wrap(problem.Internal, err, "Query error", "Error while creating the subscription")
	}
	return s, keys, nil
}

// Regenerate replaces one key of subscription id and returns it in clear;
// the old key stops resolving at once.
func Regenerate(ctx context.Context, st Store, id string, t KeyType) (string, error) {
	if t != Primary && t != Secondary {
		return "", problem.Invalidf("Invalid key_type", "value.key_type is not one of PRIMARY_KEY, SECONDARY_KEY")
	}
	s, err := st.Subscription(ctx, id)
	if errors.Is(err, problem.ErrNotFound) {
		return "", problem.New(problem.NotFound, "Subscription not found",
			"There is no subscription for the service you requested.")
	}
	if err != nil {
		return "", problem.Wrap(problem.Internal, err, "Query error", "Error while retrieving the subscription")
	}
	key := NewKey()
	err = st.ReplaceKey(ctx, id, t, s.KeyHashes[t], Hash(key))
	if errors.Is(err, problem.ErrConflict) {
		return "", problem.New(problem.Conflict, "Conflict", "The key was regenerated concurrently; retry.")
	}
	if err != nil {
		return "", problem.Wrap(problem.Internal, err, "Query error", "Error while regenerating the key")
	}
	return key, nil
}
