// Command test-callback serves POST /api/v1/callback/test: a callback.test
// event queued for the calling service's delivery callbacks.
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
	cfg, env := config.MustLoad("SERVICES_TABLE", "CALLBACKS_QUEUE_URL")
	svcs := store.NewServices(dynamodb.NewFromConfig(cfg), env["SERVICES_TABLE"])
	q := queue.Queue{API: sqs.NewFromConfig(cfg), URL: env["CALLBACKS_QUEUE_URL"]}
	apigateway.Start(httpapi.NewMux(httpapi.TestCallback(svcs, svcs, q, time.Now)))
}
