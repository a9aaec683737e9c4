// Command requeue-messages runs on a schedule: messages left ACCEPTED by a
// submission that stopped between its write and its queue message are
// queued again, so that every accepted message is processed.
package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/digital-citizenship/functions/pkg/config"
	store "github.com/digital-citizenship/functions/pkg/dynamodb"
	"github.com/digital-citizenship/functions/pkg/messages"
	queue "github.com/digital-citizenship/functions/pkg/sqs"
)

func main() {
	cfg, env := config.MustLoad(append(queue.LaneVars("CREATED_MESSAGES_QUEUE_URL"), "SERVICES_TABLE", "MESSAGES_TABLE")...)
	db, q := dynamodb.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	created := queue.LanesOf(q, env, "CREATED_MESSAGES_QUEUE_URL")
	r := messages.Requeuer{
		Store:    store.NewMessages(db, env["MESSAGES_TABLE"]),
		Services: store.NewServices(db, env["SERVICES_TABLE"]),
		// Each message back in its own lane; the backlog is the lanes'.
		Created: created,
		Backlog: queue.Backlog{API: q, URLs: created.URLs()}.Visible,
		After:   config.Seconds("REQUEUE_AFTER_SECONDS", messages.DefaultRequeueAfter),
		Now:     time.Now,
	}
	lambda.Start(func(ctx context.Context, _ events.CloudWatchEvent) error {
		n, err := r.Run(ctx)
		if n > 0 {
			slog.Info("messages queued again", "count", n)
		}
		return err
	})
}
