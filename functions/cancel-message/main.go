// Command cancel-message serves DELETE /api/v1/messages/{fiscal_code}/{id}:
// the sender cancels a message while it is SCHEDULED.
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
	msgs := store.NewMessages(db, env["MESSAGES_TABLE"])
	op := httpapi.CancelMessage(store.NewServices(db, env["SERVICES_TABLE"]), msgs, msgs, time.Now)
	apigateway.Start(httpapi.NewMux(op))
}
