// Command post-payment serves POST /api/v1/payments: the payment system's
// receipts mark the notice's messages PAID.
package main

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/digital-citizenship/functions/pkg/apigateway"
	"github.com/digital-citizenship/functions/pkg/config"
	store "github.com/digital-citizenship/functions/pkg/dynamodb"
	"github.com/digital-citizenship/functions/pkg/httpapi"
	"github.com/digital-citizenship/functions/pkg/messages"
)

func main() {
	cfg, env := config.MustLoad("SERVICES_TABLE", "MESSAGES_TABLE")
	db := dynamodb.NewFromConfig(cfg)
	c := messages.Cashier{Payments: store.NewMessages(db, env["MESSAGES_TABLE"]), Now: time.Now}
	apigateway.Start(httpapi.NewMux(httpapi.PostPayment(store.NewServices(db, env["SERVICES_TABLE"]), c)))
}
