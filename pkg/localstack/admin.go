package localstack

import (
	"context"
	"log"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	store "github.com/digital-citizenship/functions/pkg/dynamodb"
	"github.com/digital-citizenship/functions/pkg/sam"
	"github.com/digital-citizenship/functions/pkg/subscriptions"
)

// provisionAdmin creates the bootstrap administrator with key as its
// primary key, as dcp admin bootstrap does on a deployment (the same code);
// it keeps what exists already (the emulator may outlive one run).
func provisionAdmin(ctx context.Context, cfg aws.Config, st *sam.Stack, plan subscriptions.UsagePlan, key, email string, logs *log.Logger) error {
	db := dynamodb.NewFromConfig(cfg)
	_, created, err := subscriptions.Bootstrap(ctx, store.NewServices(db, st.Refs["ServicesTable"]),
		store.NewAccounts(db, st.Refs["AccountsTable"]), plan, email, key)
	switch {
	case err != nil:
		return err
	case created:
		logs.Printf("admin subscription %q for %s provisioned with ADMIN_KEY and every group", subscriptions.AdminServiceID, email)
	default:
		logs.Printf("admin subscription exists already; its keys are unchanged")
	}
	return nil
}
