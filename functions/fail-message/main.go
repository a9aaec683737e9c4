// Command fail-message consumes the created-messages dead-letter queue: a
// message whose processing was given up on is marked FAILED.
package main

import (
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/digital-citizenship/functions/pkg/config"
	store "github.com/digital-citizenship/functions/pkg/dynamodb"
	"github.com/digital-citizenship/functions/pkg/messages"
	queue "github.com/digital-citizenship/functions/pkg/sqs"
)

func main() {
	cfg, env := config.MustLoad("MESSAGES_TABLE")
	p := messages.Processor{Store: store.NewMessages(dynamodb.NewFromConfig(cfg), env["MESSAGES_TABLE"]), Now: time.Now}
	lambda.Start(queue.Consumer[messages.CreatedEvent]{Handle: p.Fail, Log: slog.Default()}.HandleBatch)
}
