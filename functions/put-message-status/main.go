// Command put-message-status serves upsertMessageStatus
// (PUT /api/v1/messages/{fiscal_code}/{id}/message-status).
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
	op := httpapi.PutMessageStatus(store.NewServices(db, env["SERVICES_TABLE"]), store.NewMessages(db, env["MESSAGES_TABLE"]), time.Now)
	apigateway.Start(httpapi.NewMux(op))
}
