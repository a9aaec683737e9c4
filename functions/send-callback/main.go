// Command send-callback consumes the callbacks queue: it POSTs each event
// to its service's receiver, signed, and takes failed ones back for a
// retry with back-off (or keeps them while the service's callbacks are
// suspended).
package main

import (
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/digital-citizenship/functions/pkg/callbacks"
	"github.com/digital-citizenship/functions/pkg/config"
	store "github.com/digital-citizenship/functions/pkg/dynamodb"
	"github.com/digital-citizenship/functions/pkg/metrics"
	queue "github.com/digital-citizenship/functions/pkg/sqs"
)

func main() {
	cfg, env := config.MustLoad("SERVICES_TABLE", "CALLBACKS_QUEUE_URL", "CALLBACK_ALLOW_LOCAL")
	q := sqs.NewFromConfig(cfg)
	d := &callbacks.Deliverer{
		Store:   store.NewServices(dynamodb.NewFromConfig(cfg), env["SERVICES_TABLE"]),
		Queue:   queue.Queue{API: q, URL: env["CALLBACKS_QUEUE_URL"]},
		HTTP:    callbacks.NewClient(env["CALLBACK_ALLOW_LOCAL"] == "true"),
		Now:     time.Now,
		Metrics: metrics.Stdout,
		Log:     slog.Default(),
	}
	// A failed delivery is taken back by Deliver itself; what Deliver cannot
	// handle (the configuration unreadable, the queue refusing) waits for
	// the queue's visibility timeout (no API: no ChangeMessageVisibility).
	c := queue.Consumer[callbacks.Event]{Handle: d.Deliver, Log: slog.Default(),
		Parallel: 10} // a batch waits one attempt's timeout at most
	lambda.Start(c.HandleBatch)
}
