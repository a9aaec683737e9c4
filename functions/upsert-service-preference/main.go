// Command upsert-service-preference serves upsertServicePreference
// (PUT /api/v1/profiles/{fiscal_code}/services/{service_id}/preferences); a
// change of subscription is announced on the profile-events queue (the
// subscriptions feed).
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
	cfg, env := config.MustLoad("SERVICES_TABLE", "PROFILES_TABLE", "PROFILE_EVENTS_QUEUE_URL")
	db := dynamodb.NewFromConfig(cfg)
	events := queue.Queue{API: sqs.NewFromConfig(cfg), URL: env["PROFILE_EVENTS_QUEUE_URL"]}
	op := httpapi.UpsertServicePreference(store.NewServices(db, env["SERVICES_TABLE"]), store.NewProfiles(db, env["PROFILES_TABLE"]), events, time.Now)
	apigateway.Start(httpapi.NewMux(op))
}
