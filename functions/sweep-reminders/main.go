// Command sweep-reminders runs on a schedule: it queues a job for every
// message whose reminder is due (ReminderIndex, sharded), for send-reminder.
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
	cfg, env := config.MustLoad("MESSAGES_TABLE", "REMINDERS_QUEUE_URL")
	db, q := dynamodb.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	jobs := queue.Queue{API: q, URL: env["REMINDERS_QUEUE_URL"]}
	s := messages.Sweeper{
		Reminders: store.NewMessages(db, env["MESSAGES_TABLE"]),
		Jobs: func(ctx context.Context, batch []messages.ReminderJob) error {
			evs := make([]any, len(batch))
			for i, j := range batch {
				evs[i] = j
			}
			return jobs.SendBatch(ctx, evs)
		},
		Backlog:  queue.Backlog{API: q, URL: env["REMINDERS_QUEUE_URL"]}.Visible,
		Parallel: messages.ReminderShards, // a shard each: 32 batches in flight
		Now:      time.Now,
	}
	lambda.Start(func(ctx context.Context, _ events.CloudWatchEvent) error {
		start := time.Now()
		n, err := s.Run(ctx)
		if n > 0 {
			slog.Info("reminders queued", "count", n, "ms", time.Since(start).Milliseconds())
		}
		return err
	})
}
