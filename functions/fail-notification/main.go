// Command fail-notification consumes the dead-letter queues of every
// notification channel (e-mail, push, webhook): a notification whose
// sending was given up on has its channel marked FAILED, and its sender's
// notification.failed callback queued when it asked for one.
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
	"github.com/digital-citizenship/functions/pkg/metrics"
	queue "github.com/digital-citizenship/functions/pkg/sqs"
)

func main() {
	cfg, env := config.MustLoad("MESSAGES_TABLE", "CALLBACKS_QUEUE_URL")
	d := messages.Dispatcher{Store: store.NewMessages(dynamodb.NewFromConfig(cfg), env["MESSAGES_TABLE"]), Now: time.Now,
		Metrics: metrics.Stdout, Callbacks: queue.Queue{API: sqs.NewFromConfig(cfg), URL: env["CALLBACKS_QUEUE_URL"]}}
	lambda.Start(queue.Consumer[messages.NotificationEvent]{Handle: d.Fail, Log: slog.Default()}.HandleBatch)
}
