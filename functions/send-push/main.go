// Command send-push consumes the push queue: it publishes each processed
// message's notification to every device of the citizen with SNS mobile
// push, recording the channel's status.
package main

import (
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/digital-citizenship/functions/pkg/config"
	store "github.com/digital-citizenship/functions/pkg/dynamodb"
	"github.com/digital-citizenship/functions/pkg/messages"
	"github.com/digital-citizenship/functions/pkg/metrics"
	"github.com/digital-citizenship/functions/pkg/simulator"
	"github.com/digital-citizenship/functions/pkg/sns"
	queue "github.com/digital-citizenship/functions/pkg/sqs"
)

func main() {
	cfg, env := config.MustLoad(append(queue.LaneVars("PUSH_QUEUE_URL"), "MESSAGES_TABLE", "PROFILES_TABLE", "CALLBACKS_QUEUE_URL")...)
	sqsClient := sqs.NewFromConfig(cfg)
	db := dynamodb.NewFromConfig(cfg)
	d := messages.Dispatcher{
		Channel: messages.Push,
		Store:   store.NewMessages(db, env["MESSAGES_TABLE"]),
		// Simulated messages (test keys') reach no device: their outcome is decided.
		Sender: simulator.Sender{Real: messages.PushSender{
			Publisher:     sns.Push{API: awssns.NewFromConfig(cfg)},
			Installations: store.NewInstallations(db, env["PROFILES_TABLE"]),
		}},
		Lease:   config.Seconds("CLAIM_LEASE_SECONDS", messages.DefaultLease),
		Now:     time.Now,
		Metrics: metrics.Stdout,
		// The delivery callbacks of each final status, as senders asked.
		Callbacks: queue.Queue{API: sqsClient, URL: env["CALLBACKS_QUEUE_URL"]},
	}
	c := queue.Consumer[messages.NotificationEvent]{API: sqsClient, QueueURLs: queue.LanesOf(sqsClient, env, "PUSH_QUEUE_URL").URLs(), Handle: d.Notify, Log: slog.Default(),
		Parallel: 4}
	lambda.Start(c.HandleBatch)
}
