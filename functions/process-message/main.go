// Command process-message consumes the created-messages queue: it accepts or
// rejects each message for its recipient and queues its notifications.
package main

import (
	"log/slog"
	"os"
	"slices"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/digital-citizenship/functions/pkg/config"
	store "github.com/digital-citizenship/functions/pkg/dynamodb"
	"github.com/digital-citizenship/functions/pkg/messages"
	"github.com/digital-citizenship/functions/pkg/metrics"
	"github.com/digital-citizenship/functions/pkg/s3"
	"github.com/digital-citizenship/functions/pkg/simulator"
	queue "github.com/digital-citizenship/functions/pkg/sqs"
)

func main() {
	vars := slices.Concat(queue.LaneVars("CREATED_MESSAGES_QUEUE_URL"), queue.LaneVars("EMAIL_QUEUE_URL"), queue.LaneVars("PUSH_QUEUE_URL"))
	cfg, env := config.MustLoad(append(vars, "PROFILES_TABLE", "MESSAGES_TABLE", "WEBHOOK_QUEUE_URL", "DOCUMENTS_BUCKET", "CALLBACKS_QUEUE_URL")...)
	db, q := dynamodb.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	// A message's events stay in its lane (messages/lanes.go).
	created := queue.LanesOf(q, env, "CREATED_MESSAGES_QUEUE_URL")
	p := messages.Processor{
		Profiles: store.NewProfiles(db, env["PROFILES_TABLE"]),
		Store:    store.NewMessages(db, env["MESSAGES_TABLE"]),
		Emails:   queue.LanesOf(q, env, "EMAIL_QUEUE_URL"),
		Pushes:   queue.LanesOf(q, env, "PUSH_QUEUE_URL"),
		Webhooks: queue.Queue{API: q, URL: env["WEBHOOK_QUEUE_URL"]},
		Webhook:  os.Getenv("WEBHOOK_CHANNEL_URL") != "",
		Platform: os.Getenv("PLATFORM_SERVICE_ID"),
		Now:      time.Now,
		Metrics:  metrics.Stdout,
		// Reminder times scale with REMINDER_TIME_SCALE (1 in AWS).
		ReminderScale: config.Scale("REMINDER_TIME_SCALE"),
		// Documents are checked before the message is processed.
		Documents: s3.Documents{Bucket: s3.New(cfg, env["DOCUMENTS_BUCKET"])},
		Created:   created,
		Callbacks: queue.Queue{API: q, URL: env["CALLBACKS_QUEUE_URL"]},
		// Test keys' messages, and the documented sandbox citizens'.
		Simulation: simulator.Simulation{AnyKey: os.Getenv("SIMULATED_OUTCOMES") == "ANY_KEY"},
	}
	c := queue.Consumer[messages.CreatedEvent]{API: q, QueueURLs: created.URLs(), Handle: p.Process, Log: slog.Default()}
	lambda.Start(c.HandleBatch)
}
