// Command create-development-profile serves the admin
// createDevelopmentProfile (POST /adm/development-profiles/{fiscal_code}).
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
	cfg, env := config.MustLoad("PROFILES_TABLE", "PROFILE_EVENTS_QUEUE_URL")
	events := queue.Queue{API: sqs.NewFromConfig(cfg), URL: env["PROFILE_EVENTS_QUEUE_URL"]}
	op := httpapi.CreateDevelopmentProfile(store.NewProfiles(dynamodb.NewFromConfig(cfg), env["PROFILES_TABLE"]), events, time.Now)
	apigateway.Start(httpapi.NewMux(op))
}
