// Command erase-user-data runs on a schedule: the citizens' deletions whose
// grace period has passed. Each is confirmed by e-mail to the validated
// address first; then the devices' push endpoints, the archives and every
// item about the citizen go.
package main

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/digital-citizenship/functions/pkg/config"
	store "github.com/digital-citizenship/functions/pkg/dynamodb"
	"github.com/digital-citizenship/functions/pkg/push"
	"github.com/digital-citizenship/functions/pkg/s3"
	"github.com/digital-citizenship/functions/pkg/ses"
	"github.com/digital-citizenship/functions/pkg/sns"
	"github.com/digital-citizenship/functions/pkg/userdata"
)

// batch is how many requests one run takes; the rest wait for the next.
const batch = 20

func main() {
	cfg, env := config.MustLoad("PROFILES_TABLE", "MESSAGES_TABLE", "MAIL_FROM", "USER_DATA_BUCKET", "DOCUMENTS_BUCKET", "TRANSIT_BUCKET")
	db := dynamodb.NewFromConfig(cfg)
	e := userdata.Eraser{
		Store:    store.NewUserData(db, env["PROFILES_TABLE"]),
		Holdings: store.NewHoldings(db, env["PROFILES_TABLE"], env["MESSAGES_TABLE"]),
		Devices: push.Registrar{Store: store.NewInstallations(db, env["PROFILES_TABLE"]), Endpoints: sns.Push{API: awssns.NewFromConfig(cfg),
			Applications: map[string]string{push.APNS: os.Getenv("APNS_APPLICATION_ARN"), push.FCM: os.Getenv("FCM_APPLICATION_ARN")}}},
		Files:     s3.New(cfg, env["USER_DATA_BUCKET"]),
		Documents: s3.Versioned{Bucket: s3.New(cfg, env["DOCUMENTS_BUCKET"])},
		Transit:   s3.New(cfg, env["TRANSIT_BUCKET"]),
		Profiles:  store.NewProfiles(db, env["PROFILES_TABLE"]),
		Feed:      store.NewFeed(db, env["PROFILES_TABLE"]),
		Mailer:    ses.Mailer{API: sesv2.NewFromConfig(cfg), ConfigurationSet: os.Getenv("SES_CONFIGURATION_SET")},
		From:      env["MAIL_FROM"],
		Now:       time.Now,
		Log:       slog.Default(),
	}
	lambda.Start(func(ctx context.Context, _ events.CloudWatchEvent) error { return e.Run(ctx, batch) })
}
