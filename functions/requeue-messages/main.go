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
	cfg, env := config.MustLoad("SERVICES_TABLE", "MESSAGES_TABLE", "CREATED_MESSAGES_QUEUE_URL")
	db, q := dynamodb.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	r := messages.Requeuer{
		Store:    store.NewMessages(db, env["MESSAGES_TABLE"]),
		Services: store.NewServices(db, env["SERVICES_TABLE"]),
		Created:  queue.Queue{API: q, URL: env["CREATED_MESSAGES_QUEUE_URL"]},
		Backlog:  queue.Backlog{API: q, URL: env["CREATED_MESSAGES_QUEUE_URL"]}.Visible,
		After:    config.Seconds("REQUEUE_AFTER_SECONDS", messages.DefaultRequeueAfter),
		Now:      time.Now,
	}
	lambda.Start(func(ctx context.Context, _ events.CloudWatchEvent) error {
		n, err := r.Run(ctx)
		if n > 0 {
			slog.Info("messages queued again", "count", n)
		}
		return err
	})
}
