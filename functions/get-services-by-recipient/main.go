// Command get-services-by-recipient serves getServicesByRecipient
// (GET /api/v1/profiles/{fiscal_code}/sender-services).
package main

import (
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/digital-citizenship/functions/pkg/apigateway"
	"github.com/digital-citizenship/functions/pkg/config"
	store "github.com/digital-citizenship/functions/pkg/dynamodb"
	"github.com/digital-citizenship/functions/pkg/httpapi"
)

func main() {
	cfg, env := config.MustLoad("SERVICES_TABLE", "MESSAGES_TABLE")
	db := dynamodb.NewFromConfig(cfg)
	op := httpapi.GetServicesByRecipient(store.NewServices(db, env["SERVICES_TABLE"]), store.NewMessages(db, env["MESSAGES_TABLE"]))
	apigateway.Start(httpapi.NewMux(op))
}
