// Command put-payment-status serves
// PUT /api/v1/messages/{fiscal_code}/{id}/payment-status: a sender records
// that its notice was paid elsewhere.
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
	cfg, env := config.MustLoad("SERVICES_TABLE", "MESSAGES_TABLE", "CALLBACKS_QUEUE_URL")
	db := dynamodb.NewFromConfig(cfg)
	msgs := store.NewMessages(db, env["MESSAGES_TABLE"])
	// The message.paid callback of a sender that asked for it.
	callbacks := queue.Queue{API: sqs.NewFromConfig(cfg), URL: env["CALLBACKS_QUEUE_URL"]}
	op := httpapi.PutPaymentStatus(store.NewServices(db, env["SERVICES_TABLE"]), msgs, msgs, callbacks, time.Now)
	apigateway.Start(httpapi.NewMux(op))
}
