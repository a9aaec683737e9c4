// Command send-email consumes the e-mail queue: it renders each accepted
// message and sends it with SES, recording the channel's status.
package main

import (
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/digital-citizenship/functions/pkg/config"
	store "github.com/digital-citizenship/functions/pkg/dynamodb"
	"github.com/digital-citizenship/functions/pkg/emails/markdown"
	"github.com/digital-citizenship/functions/pkg/messages"
	"github.com/digital-citizenship/functions/pkg/metrics"
	"github.com/digital-citizenship/functions/pkg/ses"
	"github.com/digital-citizenship/functions/pkg/simulator"
	queue "github.com/digital-citizenship/functions/pkg/sqs"
)

func main() {
	cfg, env := config.MustLoad(append(queue.LaneVars("EMAIL_QUEUE_URL"), "MESSAGES_TABLE", "PROFILES_TABLE", "MAIL_FROM", "CALLBACKS_QUEUE_URL")...)
	sqsClient, db := sqs.NewFromConfig(cfg), dynamodb.NewFromConfig(cfg)
	d := messages.Dispatcher{
		Channel: messages.Email,
		Store:   store.NewMessages(db, env["MESSAGES_TABLE"]),
		// Simulated messages (test keys') reach no one: their outcome is decided.
		Sender: simulator.Sender{Real: messages.EmailSender{
			Mailer: ses.Mailer{API: sesv2.NewFromConfig(cfg), ConfigurationSet: os.Getenv("SES_CONFIGURATION_SET")},
			Render: markdown.Render,
			From:   env["MAIL_FROM"],
		}, Marks: store.NewProfiles(db, env["PROFILES_TABLE"])},
		Lease:   config.Seconds("CLAIM_LEASE_SECONDS", messages.DefaultLease),
		Now:     time.Now,
		Metrics: metrics.Stdout,
		// The delivery callbacks of each final status, as senders asked.
		Callbacks: queue.Queue{API: sqsClient, URL: env["CALLBACKS_QUEUE_URL"]},
	}
	// The bulk lane's e-mails leave the other lanes a share of SES's sending rate.
	pacer := messages.NewPacer(config.Float("SES_MAX_SEND_RATE", 0), config.Float("SES_RESERVED_SHARE", 0), config.Int("BULK_EMAIL_CONCURRENCY", 1))
	c := queue.Consumer[messages.NotificationEvent]{API: sqsClient, QueueURLs: queue.LanesOf(sqsClient, env, "EMAIL_QUEUE_URL").URLs(),
		Handle: pacer.Paced(d.Notify), Log: slog.Default()}
	lambda.Start(c.HandleBatch)
}
