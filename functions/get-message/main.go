// Command get-message serves getMessage (GET /api/v1/messages/{fiscal_code}/{id}).
package main

import (
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/digital-citizenship/functions/pkg/apigateway"
	"github.com/digital-citizenship/functions/pkg/config"
	store "github.com/digital-citizenship/functions/pkg/dynamodb"
	"github.com/digital-citizenship/functions/pkg/httpapi"
)

func main() {
	cfg, env := config.MustLoad("SERVICES_TABLE", "MESSAGES_TABLE", "PROFILES_TABLE")
	db := dynamodb.NewFromConfig(cfg)
	op := httpapi.GetMessage(store.NewServices(db, env["SERVICES_TABLE"]), store.NewMessages(db, env["MESSAGES_TABLE"]),
		store.NewProfiles(db, env["PROFILES_TABLE"]))
	apigateway.Start(httpapi.NewMux(op))
}
