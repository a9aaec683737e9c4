// Command sweep-openings runs on a schedule: each message with an opening
// condition not opened by its deadline gets a signed receipt of
// non-opening (kept under Object Lock) and its message.not_opened callback.
package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/digital-citizenship/functions/pkg/config"
	store "github.com/digital-citizenship/functions/pkg/dynamodb"
	"github.com/digital-citizenship/functions/pkg/kms"
	"github.com/digital-citizenship/functions/pkg/receipts"
	"github.com/digital-citizenship/functions/pkg/s3/presign"
	queue "github.com/digital-citizenship/functions/pkg/sqs"
)

func main() {
	cfg, env := config.MustLoad("SERVICES_TABLE", "MESSAGES_TABLE", "RECEIPTS_BUCKET", "RECEIPT_SIGNING_KEY", "RECIPIENT_HASH_KEY",
		"CALLBACKS_QUEUE_URL")
	db, k := dynamodb.NewFromConfig(cfg), awskms.NewFromConfig(cfg)
	n := receipts.Notary{
		Store:          store.NewMessages(db, env["MESSAGES_TABLE"]),
		Signer:         kms.Signer{API: k, Key: env["RECEIPT_SIGNING_KEY"]},
		Hasher:         &kms.Hasher{API: k, Key: env["RECIPIENT_HASH_KEY"]},
		Archive:        presign.Receipts{Objects: presign.NewObjects(cfg, env["RECEIPTS_BUCKET"])},
		Configurations: store.NewRemoteContents(db, env["SERVICES_TABLE"]),
		Callbacks:      queue.Queue{API: sqs.NewFromConfig(cfg), URL: env["CALLBACKS_QUEUE_URL"]},
		Now:            time.Now,
	}
	lambda.Start(func(ctx context.Context, _ events.CloudWatchEvent) error {
		_, err := n.Sweep(ctx, slog.Default())
		return err
	})
}
