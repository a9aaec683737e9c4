package localstack

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/digital-citizenship/functions/pkg/auth"
	store "github.com/digital-citizenship/functions/pkg/dynamodb"
	"github.com/digital-citizenship/functions/pkg/problem"
	"github.com/digital-citizenship/functions/pkg/sam"
	"github.com/digital-citizenship/functions/pkg/services"
	"github.com/digital-citizenship/functions/pkg/subscriptions"
)

// AdminServiceID is the service (and subscription) of the bootstrap admin.
const AdminServiceID = "admin"

// provisionAdmin creates the bootstrap administrator: a user in every group,
// the service "admin" and its subscription whose primary key is key. It
// keeps what exists already (the emulator may outlive one run).
func provisionAdmin(ctx context.Context, cfg aws.Config, st *sam.Stack, plan subscriptions.UsagePlan, key, email string, logs *log.Logger) error {
	db := dynamodb.NewFromConfig(cfg)
	svcs := store.NewServices(db, st.Refs["ServicesTable"])
	accounts := store.NewAccounts(db, st.Refs["AccountsTable"])
	_, err := services.Create(ctx, svcs, services.Service{ServiceID: AdminServiceID, ServiceName: "Local administration",
		OrganizationName: "Local platform", DepartmentName: "Operations", OrganizationFiscalCode: "00000000000",
		AuthorizedCIDRs: []string{}, AuthorizedRecipients: []string{}})
	if err != nil && problem.KindOf(err) != problem.Conflict {
		return fmt.Errorf("admin service: %w", err)
	}
	groups := make([]string, len(auth.AllGroups))
	for i, g := range auth.AllGroups {
		groups[i] = string(g)
	}
	if _, err := subscriptions.SetGroups(ctx, accounts, email, groups); err != nil {
		return fmt.Errorf("admin user: %w", err)
	}
	_, _, err = subscriptions.Create(ctx, accounts, plan, email, AdminServiceID, "bootstrap",
		&subscriptions.Keys{Primary: key, Secondary: subscriptions.NewKey()})
	var p *problem.Error
	switch {
	case errors.As(err, &p) && p.Kind == problem.Conflict:
		logs.Printf("admin subscription exists already; its keys are unchanged")
	case err != nil:
		return fmt.Errorf("admin subscription: %w", err)
	default:
		logs.Printf("admin subscription %q for %s provisioned with ADMIN_KEY and every group", AdminServiceID, email)
	}
	return nil
}
