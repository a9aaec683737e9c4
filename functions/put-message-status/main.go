// Command put-message-status serves upsertMessageStatus
// (PUT /api/v1/messages/{fiscal_code}/{id}/message-status).
package main

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/digital-citizenship/functions/pkg/apigateway"
	"github.com/digital-citizenship/functions/pkg/config"
	store "github.com/digital-citizenship/functions/pkg/dynamodb"
	"github.com/digital-citizenship/functions/pkg/httpapi"
	queue "github.com/digital-citizenship/functions/pkg/sqs"
)

func main() {
	cfg, env := config.MustLoad("SERVICES_TABLE", "MESSAGES_TABLE", "PROFILES_TABLE", "CALLBACKS_QUEUE_URL")
	db := dynamodb.NewFromConfig(cfg)
	// A read is the message.read callback of a sender that asked for it.
	callbacks := queue.Queue{API: sqs.NewFromConfig(cfg), URL: env["CALLBACKS_QUEUE_URL"]}
	op := httpapi.PutMessageStatus(store.NewServices(db, env["SERVICES_TABLE"]), store.NewMessages(db, env["MESSAGES_TABLE"]),
		store.NewProfiles(db, env["PROFILES_TABLE"]), callbacks, time.Now)
	apigateway.Start(httpapi.NewMux(op))
}
