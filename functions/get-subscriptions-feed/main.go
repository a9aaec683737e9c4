// Command get-subscriptions-feed serves GET /api/v1/subscriptions-feed/{date}:
// who subscribed to the calling service that UTC day, and who unsubscribed
// (hashed fiscal codes).
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
	cfg, env := config.MustLoad("SERVICES_TABLE", "PROFILES_TABLE")
	db := dynamodb.NewFromConfig(cfg)
	op := httpapi.GetSubscriptionsFeed(store.NewServices(db, env["SERVICES_TABLE"]), store.NewFeed(db, env["PROFILES_TABLE"]), time.Now)
	apigateway.Start(httpapi.NewMux(op))
}
