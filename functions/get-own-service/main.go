// Command get-own-service serves GET /api/v1/service: the calling service,
// the groups of the key, and the service's messages counted each day of
// the last 30 against its daily limit (the developer portal's service and
// usage pages).
package main

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/digital-citizenship/functions/pkg/apigateway"
	"github.com/digital-citizenship/functions/pkg/config"
	store "github.com/digital-citizenship/functions/pkg/dynamodb"
	"github.com/digital-citizenship/functions/pkg/httpapi"
)

func main() {
	cfg, env := config.MustLoad("SERVICES_TABLE", "MESSAGES_TABLE")
	db := dynamodb.NewFromConfig(cfg)
	apigateway.Start(httpapi.NewMux(httpapi.GetOwnService(store.NewServices(db, env["SERVICES_TABLE"]),
		store.NewMessages(db, env["MESSAGES_TABLE"]), time.Now)))
}
