// Command post-payment serves POST /api/v1/payments: the payment system's
// receipts mark the notice's messages PAID.
package main

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/digital-citizenship/functions/pkg/apigateway"
	"github.com/digital-citizenship/functions/pkg/config"
	store "github.com/digital-citizenship/functions/pkg/dynamodb"
	"github.com/digital-citizenship/functions/pkg/httpapi"
	"github.com/digital-citizenship/functions/pkg/messages"
	queue "github.com/digital-citizenship/functions/pkg/sqs"
)

func main() {
	cfg, env := config.MustLoad("SERVICES_TABLE", "MESSAGES_TABLE", "CALLBACKS_QUEUE_URL")
	db := dynamodb.NewFromConfig(cfg)
	c := messages.Cashier{Payments: store.NewMessages(db, env["MESSAGES_TABLE"]), Now: time.Now,
		// The message.paid callback of each sender that asked for it.
		Callbacks: queue.Queue{API: sqs.NewFromConfig(cfg), URL: env["CALLBACKS_QUEUE_URL"]}}
	apigateway.Start(httpapi.NewMux(httpapi.PostPayment(store.NewServices(db, env["SERVICES_TABLE"]), c)))
}
