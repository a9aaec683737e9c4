package dynamodb

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/digital-citizenship/functions/pkg/paging"
	"github.com/digital-citizenship/functions/pkg/problem"
	"github.com/digital-citizenship/functions/pkg/services"
)

// Services stores service versions in the services table.
type Services struct{ t table }

// NewServices returns the services store on table name.
func NewServices(api API, name string) *Services { return &Services{table{api, name}} }

type serviceItem struct {
	PK                      string   `dynamodbav:"pk"`
	SK                      string   `dynamodbav:"sk"`
	ServiceID               string   `dynamodbav:"service_id"`
	ServiceName             string   `dynamodbav:"service_name"`
	OrganizationName        string   `dynamodbav:"organization_name"`
	DepartmentName          string   `dynamodbav:"department_name"`
	OrganizationFiscalCode  string   `dynamodbav:"organization_fiscal_code"`
	AuthorizedCIDRs         []string `dynamodbav:"authorized_cidrs"`
	AuthorizedRecipients    []string `dynamodbav:"authorized_recipients"`
	IsVisible               bool     `dynamodbav:"is_visible"`
	MaxAllowedPaymentAmount int64    `dynamodbav:"max_allowed_payment_amount"`
	Version                 int      `dynamodbav:"version"`
	ReminderOffsets         []int    `dynamodbav:"reminder_offsets,omitempty"`
	DailyMessageLimit       int      `dynamodbav:"daily_message_limit,omitempty"`
	RequireSecureChannels   bool     `dynamodbav:"require_secure_channels,omitempty"`
	OpeningDeadlineDays     int      `dynamodbav:"opening_deadline_days,omitempty"`
	BulkThresholdPerMinute  int      `dynamodbav:"bulk_threshold_per_minute,omitempty"`
}

// Latest implements services.Store.
func (s *Services) Latest(ctx context.Context, id string) (services.Service, error) {
	// One query, backwards: the callback configuration, if any, then the
	// latest version.
	kc := expression.Key(attrPK).Equal(expression.Value(servicePK(id)))
	e, err := expression.NewBuilder().WithKeyCondition(kc).Build()
	if err != nil {
		return services.Service{}, err
	}
	res, err := s.t.api.Query(ctx, &dynamodb.QueryInput{TableName: &s.t.name, KeyConditionExpression: e.KeyCondition(),
		ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values(), ScanIndexForward: aws.Bool(false), Limit: aws.Int32(2)})
	if err != nil {
		return services.Service{}, fmt.Errorf("latest service: %w", err)
	}
	var it serviceItem
	var events []string
	found := false
	for _, item := range res.Items {
		if isVersion(item) {
			if err := attributevalue.UnmarshalMap(item, &it); err != nil {
				return services.Service{}, err
			}
			found = true
			break
		}
		events = callbackEvents(item)
	}
	if !found {
		return services.Service{}, fmt.Errorf("latest service: %w", problem.ErrNotFound)
	}
	return services.Service{ServiceID: it.ServiceID, ServiceName: it.ServiceName, OrganizationName: it.OrganizationName,
		DepartmentName: it.DepartmentName, OrganizationFiscalCode: it.OrganizationFiscalCode,
		AuthorizedCIDRs: nonNil(it.AuthorizedCIDRs), AuthorizedRecipients: nonNil(it.AuthorizedRecipients),
		IsVisible: it.IsVisible, MaxAllowedPaymentAmount: it.MaxAllowedPaymentAmount, Version: it.Version,
		ReminderOffsets: it.ReminderOffsets, DailyMessageLimit: it.DailyMessageLimit, CallbackEvents: events,
		RequireSecureChannels: it.RequireSecureChannels, OpeningDeadlineDays: it.OpeningDeadlineDays,
		BulkThresholdPerMinute: it.BulkThresholdPerMinute}, nil
}

type visibleItem struct {
	PK        string `dynamodbav:"pk"`
	SK        string `dynamodbav:"sk"`
	ServiceID string `dynamodbav:"service_id"`
	Version   int    `dynamodbav:"version"`
}

// Create implements services.Store: the version and the catalogue entry
// change in one transaction, so the catalogue follows the latest version
// whatever the order of concurrent writers (only one writes each version).
func (s *Services) Create(ctx context.Context, v services.Service) error {
	it := serviceItem{servicePK(v.ServiceID), versionSK(v.Version), v.ServiceID, v.ServiceName, v.OrganizationName,
		v.DepartmentName, v.OrganizationFiscalCode, v.AuthorizedCIDRs, v.AuthorizedRecipients, v.IsVisible,
		v.MaxAllowedPaymentAmount, v.Version, v.ReminderOffsets, v.DailyMessageLimit, v.RequireSecureChannels, v.OpeningDeadlineDays,
		v.BulkThresholdPerMinute}
	put, err := s.t.createInput(it)
	if err != nil {
		return err
	}
	catalogue := types.TransactWriteItem{Delete: &types.Delete{TableName: &s.t.name, Key: key(visiblePK, visibleSK(v.ServiceID))}}
	if v.IsVisible {
		av, err := attributevalue.MarshalMap(visibleItem{visiblePK, visibleSK(v.ServiceID), v.ServiceID, v.Version})
		if err != nil {
			return err
		}
		catalogue = types.TransactWriteItem{Put: &types.Put{TableName: &s.t.name, Item: av}}
	}
	if err := s.t.transact(ctx, types.TransactWriteItem{Put: put}, catalogue); err != nil {
		return fmt.Errorf("create service version: %w", err)
	}
	return nil
}

// Visible implements services.Store.
func (s *Services) Visible(ctx context.Context, r paging.Request) (paging.Page[services.Tuple], error) {
	items, next, err := s.t.page(ctx, visiblePK, servicePfx, r, false, nil, nil)
	if err != nil {
		return paging.Page[services.Tuple]{}, fmt.Errorf("list visible services: %w", err)
	}
	page := paging.Page[services.Tuple]{Items: []services.Tuple{}, Next: next}
	for _, av := range items {
		var it visibleItem
		if err := attributevalue.UnmarshalMap(av, &it); err != nil {
			return paging.Page[services.Tuple]{}, err
		}
		page.Items = append(page.Items, services.Tuple{ServiceID: it.ServiceID, Version: it.Version})
	}
	return page, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
