// Command record-opening serves POST /api/v1/messages/{fiscal_code}/{id}/opening:
// the app backend reports the citizen's opening of a message; its first is
// recorded and signed (KMS), the receipt kept under Object Lock and its
// callback queued; a later one answers the same receipt.
package main

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/digital-citizenship/functions/pkg/apigateway"
	"github.com/digital-citizenship/functions/pkg/callbacks"
	"github.com/digital-citizenship/functions/pkg/config"
	store "github.com/digital-citizenship/functions/pkg/dynamodb"
	"github.com/digital-citizenship/functions/pkg/httpapi"
	"github.com/digital-citizenship/functions/pkg/kms"
	"github.com/digital-citizenship/functions/pkg/receipts"
	"github.com/digital-citizenship/functions/pkg/remotecontent"
	"github.com/digital-citizenship/functions/pkg/s3/presign"
	queue "github.com/digital-citizenship/functions/pkg/sqs"
)

func main() {
	cfg, env := config.MustLoad("SERVICES_TABLE", "MESSAGES_TABLE", "RECEIPTS_BUCKET", "RECEIPT_SIGNING_KEY", "RECIPIENT_HASH_KEY",
		"CALLBACKS_QUEUE_URL", "CALLBACK_ALLOW_LOCAL")
	db, k := dynamodb.NewFromConfig(cfg), awskms.NewFromConfig(cfg)
	n := receipts.Notary{
		Store:          store.NewMessages(db, env["MESSAGES_TABLE"]),
		Signer:         kms.Signer{API: k, Key: env["RECEIPT_SIGNING_KEY"]},
		Hasher:         &kms.Hasher{API: k, Key: env["RECIPIENT_HASH_KEY"]},
		Archive:        presign.Receipts{Objects: presign.NewObjects(cfg, env["RECEIPTS_BUCKET"])},
		Configurations: store.NewRemoteContents(db, env["SERVICES_TABLE"]),
		Sender:         remotecontent.NewCaller(callbacks.NewClient(env["CALLBACK_ALLOW_LOCAL"] == "true")),
		Callbacks:      queue.Queue{API: sqs.NewFromConfig(cfg), URL: env["CALLBACKS_QUEUE_URL"]},
		Now:            time.Now,
	}
	apigateway.Start(httpapi.NewMux(httpapi.RecordOpening(store.NewServices(db, env["SERVICES_TABLE"]), n)))
}
