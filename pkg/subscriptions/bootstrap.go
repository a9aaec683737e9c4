package subscriptions

import (
	"context"
	"errors"
	"fmt"

	"github.com/digital-citizenship/functions/pkg/auth"
	"github.com/digital-citizenship/functions/pkg/problem"
	"github.com/digital-citizenship/functions/pkg/services"
)

// AdminServiceID is the service (and subscription) of the first
// administrator.
const AdminServiceID = "admin"

// Bootstrap creates the first administrator of a deployment: the service
// "admin", a user email in every group, and the service's subscription with
// primary key key (a new one when key is empty). What exists is kept:
// created is false when the subscription existed, and its keys are then
// neither changed nor shown (primary is empty).
func Bootstrap(ctx context.Context, svcs services.Store, accounts Store, plan UsagePlan, email, key string) (primary string, created bool, err error) {
	_, err = services.Create(ctx, svcs, services.Service{ServiceID: AdminServiceID, ServiceName: "Platform administration",
		OrganizationName: "Digital Citizenship Platform", DepartmentName: "Operations", OrganizationFiscalCode: "00000000000",
		AuthorizedCIDRs: []string{}, AuthorizedRecipients: []string{}})
	if err != nil && problem.KindOf(err) != problem.Conflict {
		return "", false, fmt.Errorf("admin service: %w", err)
	}
	groups := make([]string, len(auth.AllGroups))
	for i, g := range auth.AllGroups {
		groups[i] = string(g)
	}
	if _, err := SetGroups(ctx, accounts, email, groups); err != nil {
		return "", false, fmt.Errorf("admin user: %w", err)
	}
	if key == "" {
		key = NewKey()
	}
	_, _, err = Create(ctx, accounts, plan, email, AdminServiceID, "bootstrap", Live, &Keys{Primary: key, Secondary: NewKey()})
	var p *problem.Error
	switch {
	case errors.As(err, &p) && p.Kind == problem.Conflict:
		return "", false, nil
	case err != nil:
		return "", false, fmt.Errorf("admin subscription: %w", err)
	}
	return key, true, nil
}
