// Command send-webhook consumes the webhook queue: it POSTs each processed
// message to the app backend (WEBHOOK_CHANNEL_URL) in the original's notify
// shape, recording the channel's status.
package main

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/digital-citizenship/functions/pkg/config"
	store "github.com/digital-citizenship/functions/pkg/dynamodb"
	"github.com/digital-citizenship/functions/pkg/messages"
	"github.com/digital-citizenship/functions/pkg/metrics"
	"github.com/digital-citizenship/functions/pkg/simulator"
	queue "github.com/digital-citizenship/functions/pkg/sqs"
)

func main() {
	cfg, env := config.MustLoad("MESSAGES_TABLE", "WEBHOOK_QUEUE_URL", "WEBHOOK_CHANNEL_URL", "CALLBACKS_QUEUE_URL")
	sqsClient := sqs.NewFromConfig(cfg)
	d := messages.Dispatcher{
		Channel: messages.Webhook,
		Store:   store.NewMessages(dynamodb.NewFromConfig(cfg), env["MESSAGES_TABLE"]),
		// Simulated messages (test keys') do not reach the app backend.
		Sender: simulator.Sender{Real: messages.WebhookSender{URL: env["WEBHOOK_CHANNEL_URL"],
			Client: &http.Client{Timeout: config.Seconds("WEBHOOK_TIMEOUT_SECONDS", 10*time.Second)}}},
		Lease:   config.Seconds("CLAIM_LEASE_SECONDS", messages.DefaultLease),
		Now:     time.Now,
		Metrics: metrics.Stdout,
		// The delivery callbacks of each final status, as senders asked.
		Callbacks: queue.Queue{API: sqsClient, URL: env["CALLBACKS_QUEUE_URL"]},
	}
	c := queue.Consumer[messages.NotificationEvent]{API: sqsClient, QueueURL: env["WEBHOOK_QUEUE_URL"], Handle: d.Notify, Log: slog.Default(),
		Parallel: 10} // a batch waits one timeout at most
	lambda.Start(c.HandleBatch)
}
