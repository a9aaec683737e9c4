package auth

import (
	"context"
	"slices"

	"github.com/digital-citizenship/functions/pkg/problem"
)

// Caller is who is calling: the subscription the key belongs to and its owner.
// The subscription id equals the id of the service the caller speaks for.
type Caller struct {
	SubscriptionID string
	UserID         string
	Email          string
	Groups         []Group
	// SourceIP is the client address as API Gateway reports it.
	SourceIP string
	// Test is true for a test key (a TEST subscription's): it sends only
	// to development profiles, and its messages' outcomes are simulated.
	Test bool
}

// ServiceID returns the id of the service the caller speaks for.
func (c Caller) ServiceID() string { return c.SubscriptionID }

// Has reports whether the caller is in group g.
func (c Caller) Has(g Group) bool { return slices.Contains(c.Groups, g) }

// HasAny reports whether the caller is in at least one of gs.
func (c Caller) HasAny(gs ...Group) bool {
	return slices.ContainsFunc(gs, c.Has)
}

type callerKey struct{}

// WithCaller returns a context that carries c.
func WithCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// CallerFrom returns the caller carried by ctx, if any.
func CallerFrom(ctx context.Context) (Caller, bool) {
	c, ok := ctx.Value(callerKey{}).(Caller)
	return c, ok
}

// ErrTestRecipient answers a test key's message to a citizen who is not a
// development profile.
var ErrTestRecipient = problem.New(problem.Forbidden, "Recipient forbidden",
	"A test key sends only to development profiles (sandbox fiscal codes, pattern [A-Z]{6}[0-9]{2}A[0-9]{2}Y[0-9]{3}X); use a live key for real citizens.")

// The fixed 403 answers of the original (spec section 3.1).
var (
	ErrAnonymous = problem.New(problem.Forbidden, "Anonymous user",
		"The request could not be associated to a user, missing userId or subscriptionId.")
	ErrNoScopes = problem.New(problem.Forbidden, "User has no valid scopes",
		"You are not part of any valid scope, you should ask the administrator to give you the required permissions.")
	ErrNotAllowed = problem.New(problem.Forbidden, "You are not allowed here",
		"You do not have enough permission to complete the operation you requested")
	ErrRecipientForbidden = problem.New(problem.Forbidden, "Recipient forbidden",
		"You are not allowed to issue requests for the recipient.")
	ErrProductionForbidden = problem.New(problem.Forbidden, "Production call forbidden",
		"You are not allowed to issue production calls at this time.")
	ErrDefaultAddressesForbidden = problem.New(problem.Forbidden, "Call forbidden",
		"You are not allowed to send messages by providing default addresses.")
	ErrAdvancedForbidden = problem.New(problem.Forbidden, "Call forbidden",
		"You are not allowed to send messages with feature_level_type ADVANCED.")
	ErrAttachmentsForbidden = problem.New(problem.Forbidden, "Call forbidden",
		"Only messages with feature_level_type ADVANCED may carry attachments.")
)

// Authorize applies the original's first checks in their order: an anonymous
// caller, then a caller with no known group, then one in none of allowed.
func Authorize(c Caller, ok bool, allowed ...Group) error {
	switch {
	case !ok || c.SubscriptionID == "" || c.UserID == "":
		return ErrAnonymous
	case len(c.Groups) == 0:
		return ErrNoScopes
	case !c.HasAny(allowed...):
		return ErrNotAllowed
	}
	return nil
}
