// Command export-user-data runs on a schedule: the citizens' downloads
// that are due, each a JSON archive in S3 whose link reaches the citizen as
// a message from the platform's service.
package main

import (
	"context"
	"log"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/digital-citizenship/functions/pkg/config"
	store "github.com/digital-citizenship/functions/pkg/dynamodb"
	"github.com/digital-citizenship/functions/pkg/messages"
	"github.com/digital-citizenship/functions/pkg/metrics"
	"github.com/digital-citizenship/functions/pkg/s3/presign"
	queue "github.com/digital-citizenship/functions/pkg/sqs"
	"github.com/digital-citizenship/functions/pkg/userdata"
	"github.com/digital-citizenship/functions/pkg/welcome"
)

// batch is how many requests one run takes; the rest wait for the next.
const batch = 20

func main() {
	cfg, env := config.MustLoad("SERVICES_TABLE", "PROFILES_TABLE", "MESSAGES_TABLE", "CREATED_MESSAGES_QUEUE_URL", "CREATED_MESSAGES_PRIORITY_QUEUE_URL",
		"PLATFORM_SERVICE_ID", "USER_DATA_BUCKET", "DOCUMENTS_BUCKET")
	db := dynamodb.NewFromConfig(cfg)
	svc := welcome.PlatformService(env["PLATFORM_SERVICE_ID"])
	if err := welcome.EnsureService(context.Background(), store.NewServices(db, env["SERVICES_TABLE"]), svc); err != nil {
		log.Fatal(err)
	}
	e := userdata.Exporter{
		Store:    store.NewUserData(db, env["PROFILES_TABLE"]),
		Holdings: store.NewHoldings(db, env["PROFILES_TABLE"], env["MESSAGES_TABLE"]),
		Files:    presign.Archives{Objects: presign.NewObjects(cfg, env["USER_DATA_BUCKET"])},
		Profiles: store.NewProfiles(db, env["PROFILES_TABLE"]),
		Submitter: messages.Submitter{Store: store.NewMessages(db, env["MESSAGES_TABLE"]),
			// The archive's link is priority: the citizen asked for it.
			Created: queue.LanesOf(sqs.NewFromConfig(cfg), env, "CREATED_MESSAGES_QUEUE_URL"), Lane: messages.LanePriority,
			Now: time.Now, Metrics: metrics.Stdout},
		Service:   svc,
		Documents: presign.Documents{Bucket: presign.New(cfg, env["DOCUMENTS_BUCKET"])},
		Now:       time.Now,
		Log:       slog.Default(),
	}
	lambda.Start(func(ctx context.Context, _ events.CloudWatchEvent) error { return e.Run(ctx, batch) })
}
