// Command sweep-scheduled runs every minute: it releases each scheduled
// message due within the minute (ScheduledIndex, sharded) and queues its
// event with the delay that remains, so that it is processed at its time.
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
	cfg, env := config.MustLoad("MESSAGES_TABLE", "SERVICES_TABLE", "CREATED_MESSAGES_QUEUE_URL", "CREATED_MESSAGES_BULK_QUEUE_URL")
	db := dynamodb.NewFromConfig(cfg)
	r := messages.Releaser{
		Store:    store.NewMessages(db, env["MESSAGES_TABLE"]),
		Services: store.NewServices(db, env["SERVICES_TABLE"]),
		// Released in the bulk lane (their lane since submission).
		Created: queue.LanesOf(sqs.NewFromConfig(cfg), env, "CREATED_MESSAGES_QUEUE_URL"),
		Now:     time.Now,
	}
	lambda.Start(func(ctx context.Context, _ events.CloudWatchEvent) error {
		start := time.Now()
		n, err := r.Run(ctx)
		if n > 0 {
			slog.Info("scheduled messages released", "count", n, "ms", time.Since(start).Milliseconds())
		}
		return err
	})
}
