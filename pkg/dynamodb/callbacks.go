package dynamodb

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/digital-citizenship/functions/pkg/callbacks"
	"github.com/digital-citizenship/functions/pkg/problem"
)

// callbackItem is a service's callback configuration, in the service's
// partition after its versions (~CALLBACK), so that the read of the latest
// version reads it too.
type callbackItem struct {
	PK            string     `dynamodbav:"pk"`
	SK            string     `dynamodbav:"sk"`
	URL           string     `dynamodbav:"url"`
	BearerToken   string     `dynamodbav:"bearer_token,omitempty"`
	Events        []string   `dynamodbav:"events"`
	SigningSecret string     `dynamodbav:"signing_secret"`
	Status        string     `dynamodbav:"status"`
	UpdatedAt     time.Time  `dynamodbav:"updated_at"`
	SuspendedAt   *time.Time `dynamodbav:"suspended_at,omitempty"`
	// The failures of the current window (epoch ms of its start, count),
	// and the recent failures by slot (a ring of failureSlots).
	WindowStart int64                        `dynamodbav:"window_start"`
	WindowCount int                          `dynamodbav:"window_count"`
	Failures    map[string]callbacks.Failure `dynamodbav:"failures"`
}

// failureSlots is how many recent failures a configuration keeps.
const failureSlots = 10

func (it callbackItem) config(serviceID string) callbacks.Config {
	c := callbacks.Config{ServiceID: serviceID, URL: it.URL, BearerToken: it.BearerToken, Events: it.Events,
		SigningSecret: it.SigningSecret, Status: it.Status, UpdatedAt: it.UpdatedAt}
	if it.SuspendedAt != nil {
		c.SuspendedAt = *it.SuspendedAt
	}
	for _, f := range it.Failures {
		c.Failures = append(c.Failures, f)
	}
	slices.SortFunc(c.Failures, func(a, b callbacks.Failure) int { return b.At.Compare(a.At) })
	return c
}

// Callback implements callbacks.Store.
func (s *Services) Callback(ctx context.Context, serviceID string) (callbacks.Config, error) {
	var it callbackItem
	if err := s.t.get(ctx, servicePK(serviceID), callbackSK, &it); err != nil {
		return callbacks.Config{}, wrap("read callback", err)
	}
	return it.config(serviceID), nil
}

// PutCallback implements callbacks.Store.
func (s *Services) PutCallback(ctx context.Context, c callbacks.Config) error {
	return wrap("put callback", s.t.put(ctx, callbackItem{PK: servicePK(c.ServiceID), SK: callbackSK, URL: c.URL,
		BearerToken: c.BearerToken, Events: c.Events, SigningSecret: c.SigningSecret, Status: callbacks.Active,
		UpdatedAt: c.UpdatedAt, Failures: map[string]callbacks.Failure{}}))
}

// DeleteCallback implements callbacks.Store.
func (s *Services) DeleteCallback(ctx context.Context, serviceID string) error {
	_, err := s.t.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &s.t.name, Key: key(servicePK(serviceID), callbackSK)})
	return wrap("delete callback", err)
}

// RecordFailure implements callbacks.Store: one update counts the failure
// in the current window (or, when the window is over, starts a new one)
// and keeps it among the recent ones; the one that reaches SuspendAfter
// suspends the configuration, on condition that it is ACTIVE, so that one
// writer reports the suspension.
func (s *Services) RecordFailure(ctx context.Context, serviceID string, f callbacks.Failure) (bool, error) {
	slot := expression.Name("failures.s" + fmt.Sprint(f.At.Unix()%failureSlots))
	exists := expression.AttributeExists(expression.Name(attrPK))
	cutoff := f.At.Add(-callbacks.SuspendWindow).UnixMilli()
	item, err := s.t.updateItem(ctx, servicePK(serviceID), callbackSK,
		expression.Add(expression.Name("window_count"), expression.Value(1)).Set(slot, expression.Value(f)),
		exists.And(expression.Name("window_start").GreaterThan(expression.Value(cutoff))), types.ReturnValueAllNew, nil)
	if errors.Is(err, problem.ErrConflict) { // a new window, or no configuration
		item, err = s.t.updateItem(ctx, servicePK(serviceID), callbackSK,
			expression.Set(expression.Name("window_count"), expression.Value(1)).
				Set(expression.Name("window_start"), expression.Value(f.At.UnixMilli())).Set(slot, expression.Value(f)),
			exists, types.ReturnValueAllNew, nil)
	}
	if errors.Is(err, problem.ErrConflict) {
		return false, nil // deleted meanwhile
	}
	if err != nil {
		return false, wrap("record callback failure", err)
	}
	var it callbackItem
	if err := attributevalue.UnmarshalMap(item, &it); err != nil {
		return false, err
	}
	if it.WindowCount < callbacks.SuspendAfter || it.Status != callbacks.Active {
		return false, nil
	}
	err = s.t.update(ctx, servicePK(serviceID), callbackSK,
		expression.Set(expression.Name("status"), expression.Value(callbacks.Suspended)).
			Set(expression.Name("suspended_at"), expression.Value(f.At)),
		expression.Name("status").Equal(expression.Value(callbacks.Active)), nil)
	if errors.Is(err, problem.ErrConflict) {
		return false, nil // suspended by another failure, or deleted
	}
	return err == nil, wrap("suspend callbacks", err)
}

// callbackEvents returns the events a service's callback item asks for
// (none when the item is not one).
func callbackEvents(item map[string]types.AttributeValue) []string {
	if stringAttr(item, attrSK) != callbackSK {
		return nil
	}
	var it callbackItem
	if err := attributevalue.UnmarshalMap(item, &it); err != nil {
		return nil
	}
	return it.Events
}

var _ callbacks.Store = (*Services)(nil)

// isVersion reports whether a service partition's item is a version.
func isVersion(item map[string]types.AttributeValue) bool {
	return strings.HasPrefix(stringAttr(item, attrSK), versionPfx)
}
