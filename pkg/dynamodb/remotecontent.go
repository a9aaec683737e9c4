package dynamodb

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/digital-citizenship/functions/pkg/paging"
	"github.com/digital-citizenship/functions/pkg/problem"
	"github.com/digital-citizenship/functions/pkg/remotecontent"
)

// RemoteContents keeps the services' remote-content configurations in the
// services table, in each service's partition (RC#<id>, before its
// versions).
type RemoteContents struct{ t table }

// NewRemoteContents returns the configurations' store on table name (the
// services table).
func NewRemoteContents(api API, name string) *RemoteContents {
	return &RemoteContents{table{api, name}}
}

type environmentItem struct {
	BaseURL       string   `dynamodbav:"base_url"`
	HeaderKeyName string   `dynamodbav:"header_key_name"`
	Key           string   `dynamodbav:"key"`
	Type          string   `dynamodbav:"type"`
	TestUsers     []string `dynamodbav:"test_users,omitempty"`
}

type remoteContentItem struct {
	PK              string           `dynamodbav:"pk"`
	SK              string           `dynamodbav:"sk"`
	ID              string           `dynamodbav:"id"`
	ServiceID       string           `dynamodbav:"service_id"`
	UserID          string           `dynamodbav:"user_id,omitempty"`
	Name            string           `dynamodbav:"name"`
	Description     string           `dynamodbav:"description"`
	HasPrecondition string           `dynamodbav:"has_precondition"`
	Prod            environmentItem  `dynamodbav:"prod"`
	Test            *environmentItem `dynamodbav:"test,omitempty"`
	CreatedAt       time.Time        `dynamodbav:"created_at"`
	UpdatedAt       time.Time        `dynamodbav:"updated_at"`
}

func environmentOf(e remotecontent.Environment) environmentItem {
	return environmentItem{e.BaseURL, e.Auth.HeaderKeyName, e.Auth.Key, e.Auth.Type, e.TestUsers}
}

func (e environmentItem) environment() remotecontent.Environment {
	return remotecontent.Environment{BaseURL: e.BaseURL, TestUsers: e.TestUsers,
		Auth: remotecontent.Auth{HeaderKeyName: e.HeaderKeyName, Key: e.Key, Type: e.Type}}
}

func (it remoteContentItem) configuration() remotecontent.Configuration {
	c := remotecontent.Configuration{ID: it.ID, ServiceID: it.ServiceID, UserID: it.UserID, Name: it.Name, Description: it.Description,
		HasPrecondition: it.HasPrecondition, Prod: it.Prod.environment(), CreatedAt: it.CreatedAt, UpdatedAt: it.UpdatedAt}
	if it.Test != nil {
		t := it.Test.environment()
		c.Test = &t
	}
	return c
}

// Configuration implements remotecontent.Store.
func (s *RemoteContents) Configuration(ctx context.Context, serviceID, id string) (remotecontent.Configuration, error) {
	var it remoteContentItem
	if err := s.t.get(ctx, servicePK(serviceID), remoteContentSK(id), &it); err != nil {
		return remotecontent.Configuration{}, fmt.Errorf("get configuration: %w", err)
	}
	return it.configuration(), nil
}

// Configurations implements remotecontent.Store: the service's partition,
// oldest first.
func (s *RemoteContents) Configurations(ctx context.Context, serviceID string, r paging.Request) (paging.Page[remotecontent.Configuration], error) {
	items, next, err := s.t.page(ctx, servicePK(serviceID), remoteContentPfx, r, false, nil, nil)
	if err != nil {
		return paging.Page[remotecontent.Configuration]{}, fmt.Errorf("list configurations: %w", err)
	}
	page := paging.Page[remotecontent.Configuration]{Items: []remotecontent.Configuration{}, Next: next}
	for _, av := range items {
		var it remoteContentItem
		if err := attributevalue.UnmarshalMap(av, &it); err != nil {
			return paging.Page[remotecontent.Configuration]{}, err
		}
		page.Items = append(page.Items, it.configuration())
	}
	return page, nil
}

// PutConfiguration implements remotecontent.Store.
func (s *RemoteContents) PutConfiguration(ctx context.Context, c remotecontent.Configuration, create bool) error {
	it := remoteContentItem{PK: servicePK(c.ServiceID), SK: remoteContentSK(c.ID), ID: c.ID, ServiceID: c.ServiceID, UserID: c.UserID,
		Name: c.Name, Description: c.Description, HasPrecondition: c.HasPrecondition, Prod: environmentOf(c.Prod),
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
	if c.Test != nil {
		t := environmentOf(*c.Test)
		it.Test = &t
	}
	if create {
		return wrap("create configuration", s.t.create(ctx, it))
	}
	av, err := attributevalue.MarshalMap(it)
	if err != nil {
		return err
	}
	cond, err := expression.NewBuilder().WithCondition(expression.AttributeExists(expression.Name(attrPK))).Build()
	if err != nil {
		return err
	}
	_, err = s.t.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.t.name, Item: av, ConditionExpression: cond.Condition(),
		ExpressionAttributeNames: cond.Names(), ExpressionAttributeValues: cond.Values()})
	if err = conflictOn(err); errors.Is(err, problem.ErrConflict) {
		return fmt.Errorf("replace configuration: %w", problem.ErrNotFound)
	}
	return wrap("replace configuration", err)
}

var _ remotecontent.Store = (*RemoteContents)(nil)
