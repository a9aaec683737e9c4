// Command handle-profile-event consumes the profile-events queue: the
// validation link when an address is set or changed (or asked for again),
// the welcome messages when a citizen's inbox is first enabled, and the
// subscriptions feed's changes.
package main

import (
	"context"
	"errors"
	"log"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/digital-citizenship/functions/pkg/config"
	store "github.com/digital-citizenship/functions/pkg/dynamodb"
	"github.com/digital-citizenship/functions/pkg/emailvalidation"
	"github.com/digital-citizenship/functions/pkg/messages"
	"github.com/digital-citizenship/functions/pkg/metrics"
	"github.com/digital-citizenship/functions/pkg/profiles"
	"github.com/digital-citizenship/functions/pkg/ses"
	queue "github.com/digital-citizenship/functions/pkg/sqs"
	"github.com/digital-citizenship/functions/pkg/welcome"
)

func main() {
	cfg, env := config.MustLoad("SERVICES_TABLE", "PROFILES_TABLE", "MESSAGES_TABLE", "CREATED_MESSAGES_QUEUE_URL", "CREATED_MESSAGES_PRIORITY_QUEUE_URL",
		"PROFILE_EVENTS_QUEUE_URL", "PLATFORM_SERVICE_ID", "MAIL_FROM", "PUBLIC_API_URL")
	db, q := dynamodb.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	svc := welcome.PlatformService(env["PLATFORM_SERVICE_ID"])
	if err := welcome.EnsureService(context.Background(), store.NewServices(db, env["SERVICES_TABLE"]), svc); err != nil {
		log.Fatal(err)
	}
	profs := store.NewProfiles(db, env["PROFILES_TABLE"])
	w := welcome.Handler{Profiles: profs, Marks: profs, Service: svc, Wait: time.Minute, Now: time.Now,
		Submitter: messages.Submitter{Store: store.NewMessages(db, env["MESSAGES_TABLE"]),
			// The welcome messages are priority: the citizen has just signed up.
			Created: queue.LanesOf(q, env, "CREATED_MESSAGES_QUEUE_URL"), Lane: messages.LanePriority, Now: time.Now, Metrics: metrics.Stdout}}
	v := emailvalidation.Starter{Store: profs, Profiles: profs, From: env["MAIL_FROM"], PublicURL: env["PUBLIC_API_URL"],
		Mailer: ses.Mailer{API: sesv2.NewFromConfig(cfg), ConfigurationSet: os.Getenv("SES_CONFIGURATION_SET")},
		Wait:   time.Minute, Now: time.Now}
	// The subscriptions feed's changes the event carries.
	f := profiles.FeedRecorder{Profiles: profs, Feed: store.NewFeed(db, env["PROFILES_TABLE"]), Wait: time.Minute, Now: time.Now}
	// All are idempotent: a retried event redoes only what is not done.
	handle := func(ctx context.Context, ev profiles.Event) error {
		return errors.Join(v.Handle(ctx, ev), w.Handle(ctx, ev), f.Handle(ctx, ev))
	}
	c := queue.Consumer[profiles.Event]{API: q, QueueURL: env["PROFILE_EVENTS_QUEUE_URL"], Handle: handle, Log: slog.Default()}
	lambda.Start(c.HandleBatch)
}
