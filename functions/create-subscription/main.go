// Command create-subscription serves
// PUT /adm/users/{email}/subscriptions/{subscription_id}.
package main

import (
	apigw "github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/digital-citizenship/functions/pkg/apigateway"
	"github.com/digital-citizenship/functions/pkg/apigateway/controlplane"
	"github.com/digital-citizenship/functions/pkg/config"
	store "github.com/digital-citizenship/functions/pkg/dynamodb"
	"github.com/digital-citizenship/functions/pkg/httpapi"
)

func main() {
	cfg, env := config.MustLoad("ACCOUNTS_TABLE", "SERVICES_TABLE", "USAGE_PLAN_NAME")
	db := dynamodb.NewFromConfig(cfg)
	plan := &controlplane.UsagePlan{API: apigw.NewFromConfig(cfg), Name: env["USAGE_PLAN_NAME"]}
	op := httpapi.CreateSubscription(store.NewAccounts(db, env["ACCOUNTS_TABLE"]), store.NewServices(db, env["SERVICES_TABLE"]), plan)
	apigateway.Start(httpapi.NewMux(op))
}
