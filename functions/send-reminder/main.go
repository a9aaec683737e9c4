// Command send-reminder consumes the reminders queue: for each message whose
// reminder is due, it records the reminder and queues it on the citizen's
// e-mail and push channels (or stops the message's reminders).
package main

import (
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/digital-citizenship/functions/pkg/config"
	store "github.com/digital-citizenship/functions/pkg/dynamodb"
	"github.com/digital-citizenship/functions/pkg/messages"
	queue "github.com/digital-citizenship/functions/pkg/sqs"
)

func main() {
	cfg, env := config.MustLoad("SERVICES_TABLE", "PROFILES_TABLE", "MESSAGES_TABLE", "REMINDERS_QUEUE_URL",
		"EMAIL_QUEUE_URL", "EMAIL_PRIORITY_QUEUE_URL", "PUSH_QUEUE_URL", "PUSH_PRIORITY_QUEUE_URL")
	db, q := dynamodb.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	msgs := store.NewMessages(db, env["MESSAGES_TABLE"])
	r := messages.Reminders{
		Store: msgs, Reminders: msgs, Payments: msgs,
		Profiles: store.NewProfiles(db, env["PROFILES_TABLE"]),
		Services: store.NewServices(db, env["SERVICES_TABLE"]),
		// Reminders are priority (messages/lanes.go).
		Emails: queue.LanesOf(q, env, "EMAIL_QUEUE_URL"),
		Pushes: queue.LanesOf(q, env, "PUSH_QUEUE_URL"),
		Scale:  config.Scale("REMINDER_TIME_SCALE"),
		Now:    time.Now,
	}
	c := queue.Consumer[messages.ReminderJob]{API: q, QueueURL: env["REMINDERS_QUEUE_URL"], Handle: r.Handle, Log: slog.Default()}
	lambda.Start(c.HandleBatch)
}
