// Command handle-bounce consumes SES's bounce and complaint events (through
// SNS and the bounce queue): the citizen's address is marked undeliverable.
package main

import (
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/digital-citizenship/functions/pkg/bounces"
	"github.com/digital-citizenship/functions/pkg/config"
	store "github.com/digital-citizenship/functions/pkg/dynamodb"
	queue "github.com/digital-citizenship/functions/pkg/sqs"
)

func main() {
	cfg, env := config.MustLoad("PROFILES_TABLE")
	h := bounces.Handler{Profiles: store.NewProfiles(dynamodb.NewFromConfig(cfg), env["PROFILES_TABLE"]), Now: time.Now}
	lambda.Start(queue.Consumer[bounces.Notification]{Handle: h.Handle, Log: slog.Default()}.HandleBatch)
}
