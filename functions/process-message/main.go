// Command process-message consumes the created-messages queue: it accepts or
// rejects each message for its recipient and queues its notifications.
package main

import (
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/digital-citizenship/functions/pkg/config"
	store "github.com/digital-citizenship/functions/pkg/dynamodb"
	"github.com/digital-citizenship/functions/pkg/messages"
	"github.com/digital-citizenship/functions/pkg/metrics"
	"github.com/digital-citizenship/functions/pkg/s3"
	queue "github.com/digital-citizenship/functions/pkg/sqs"
)

func main() {
	cfg, env := config.MustLoad("PROFILES_TABLE", "MESSAGES_TABLE", "CREATED_MESSAGES_QUEUE_URL", "EMAIL_QUEUE_URL",
		"PUSH_QUEUE_URL", "WEBHOOK_QUEUE_URL", "DOCUMENTS_BUCKET", "CALLBACKS_QUEUE_URL")
	db, q := dynamodb.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	p := messages.Processor{
		Profiles: store.NewProfiles(db, env["PROFILES_TABLE"]),
		Store:    store.NewMessages(db, env["MESSAGES_TABLE"]),
		Emails:   queue.Queue{API: q, URL: env["EMAIL_QUEUE_URL"]},
		Pushes:   queue.Queue{API: q, URL: env["PUSH_QUEUE_URL"]},
		Webhooks: queue.Queue{API: q, URL: env["WEBHOOK_QUEUE_URL"]},
		Webhook:  os.Getenv("WEBHOOK_CHANNEL_URL") != "",
		Platform: os.Getenv("PLATFORM_SERVICE_ID"),
		Now:      time.Now,
		Metrics:  metrics.Stdout,
		// Reminder times scale with REMINDER_TIME_SCALE (1 in AWS).
		ReminderScale: config.Scale("REMINDER_TIME_SCALE"),
		// Documents are checked before the message is processed.
		Documents: s3.Documents{Bucket: s3.New(cfg, env["DOCUMENTS_BUCKET"])},
		Created:   queue.Queue{API: q, URL: env["CREATED_MESSAGES_QUEUE_URL"]},
		Callbacks: queue.Queue{API: q, URL: env["CALLBACKS_QUEUE_URL"]},
	}
	c := queue.Consumer[messages.CreatedEvent]{API: q, QueueURL: env["CREATED_MESSAGES_QUEUE_URL"], Handle: p.Process, Log: slog.Default()}
	lambda.Start(c.HandleBatch)
}
