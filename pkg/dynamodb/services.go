package dynamodb

import (
	"context"
	"fmt"

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
}

// Latest implements services.Store.
func (s *Services) Latest(ctx context.Context, id string) (services.Service, error) {
	var it serviceItem
	if err := s.t.latest(ctx, servicePK(id), &it); err != nil {
		return services.Service{}, fmt.Errorf("latest service: %w", err)
	}
	return services.Service{ServiceID: it.ServiceID, ServiceName: it.ServiceName, OrganizationName: it.OrganizationName,
		DepartmentName: it.DepartmentName, OrganizationFiscalCode: it.OrganizationFiscalCode,
		AuthorizedCIDRs: nonNil(it.AuthorizedCIDRs), AuthorizedRecipients: nonNil(it.AuthorizedRecipients),
		IsVisible: it.IsVisible, MaxAllowedPaymentAmount: it.MaxAllowedPaymentAmount, Version: it.Version}, nil
}

// Create implements services.Store.
func (s *Services) Create(ctx context.Context, v services.Service) error {
	it := serviceItem{servicePK(v.ServiceID), versionSK(v.Version), v.ServiceID, v.ServiceName, v.OrganizationName,
		v.DepartmentName, v.OrganizationFiscalCode, v.AuthorizedCIDRs, v.AuthorizedRecipients, v.IsVisible,
		v.MaxAllowedPaymentAmount, v.Version}
	if err := s.t.create(ctx, it); err != nil {
		return fmt.Errorf("create service version: %w", err)
	}
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
