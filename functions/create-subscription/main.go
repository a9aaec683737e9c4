// Command create-subscription serves
// PUT /adm/users/{email}/subscriptions/{subscription_id}.
package main

import (
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/digital-citizenship/functions/pkg/apigateway"
	"github.com/digital-citizenship/functions/pkg/config"
	store "github.com/digital-citizenship/functions/pkg/dynamodb"
	"github.com/digital-citizenship/functions/pkg/httpapi"
)

func main() {
	cfg, env := config.MustLoad("ACCOUNTS_TABLE", "SERVICES_TABLE")
	db := dynamodb.NewFromConfig(cfg)
	op := httpapi.CreateSubscription(store.NewAccounts(db, env["ACCOUNTS_TABLE"]), store.NewServices(db, env["SERVICES_TABLE"]))
	apigateway.Start(httpapi.NewMux(op))
}
