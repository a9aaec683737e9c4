// Command submit-message serves submitMessageforUser
// (POST /api/v1/messages/{fiscal_code}).
package main

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/digital-citizenship/functions/pkg/apigateway"
	"github.com/digital-citizenship/functions/pkg/config"
	store "github.com/digital-citizenship/functions/pkg/dynamodb"
	"github.com/digital-citizenship/functions/pkg/httpapi"
	"github.com/digital-citizenship/functions/pkg/messages"
	"github.com/digital-citizenship/functions/pkg/metrics"
	"github.com/digital-citizenship/functions/pkg/s3/presign"
	queue "github.com/digital-citizenship/functions/pkg/sqs"
)

func main() {
	cfg, env := config.MustLoad(append(queue.LaneVars("CREATED_MESSAGES_QUEUE_URL"), "SERVICES_TABLE", "MESSAGES_TABLE", "DOCUMENTS_BUCKET")...)
	db := dynamodb.NewFromConfig(cfg)
	// third_party_data names a configuration of the sender's, checked in the message's write.
	msgs := store.NewMessages(db, env["MESSAGES_TABLE"]).WithConfigurations(env["SERVICES_TABLE"])
	// Each message goes on its lane's queue; a service over its bulk threshold goes bulk.
	sub := messages.CountedSubmitter{Quotas: msgs, BulkThreshold: config.Int("BULK_THRESHOLD_PER_MINUTE", messages.DefaultBulkThreshold), Submitter: messages.Submitter{
		Store:     msgs,
		Payments:  msgs,
		Documents: presign.Documents{Bucket: presign.New(cfg, env["DOCUMENTS_BUCKET"])},
		Created:   queue.LanesOf(sqs.NewFromConfig(cfg), env, "CREATED_MESSAGES_QUEUE_URL"),
		Now:       time.Now,
		Metrics:   metrics.Stdout,
	}}
	apigateway.Start(httpapi.NewMux(httpapi.SubmitMessage(store.NewServices(db, env["SERVICES_TABLE"]), sub)))
}
