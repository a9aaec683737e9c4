// Command handle-profile-event consumes the profile-events queue: the
// welcome messages, when a citizen's inbox is first enabled.
package main

import (
	"context"
	"log"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/digital-citizenship/functions/pkg/config"
	store "github.com/digital-citizenship/functions/pkg/dynamodb"
	"github.com/digital-citizenship/functions/pkg/messages"
	"github.com/digital-citizenship/functions/pkg/profiles"
	queue "github.com/digital-citizenship/functions/pkg/sqs"
	"github.com/digital-citizenship/functions/pkg/welcome"
)

func main() {
	cfg, env := config.MustLoad("SERVICES_TABLE", "PROFILES_TABLE", "MESSAGES_TABLE", "CREATED_MESSAGES_QUEUE_URL",
		"PROFILE_EVENTS_QUEUE_URL", "PLATFORM_SERVICE_ID")
	db, q := dynamodb.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	svc := welcome.PlatformService(env["PLATFORM_SERVICE_ID"])
	if err := welcome.EnsureService(context.Background(), store.NewServices(db, env["SERVICES_TABLE"]), svc); err != nil {
		log.Fatal(err)
	}
	profs := store.NewProfiles(db, env["PROFILES_TABLE"])
	h := welcome.Handler{Profiles: profs, Marks: profs, Service: svc, Wait: time.Minute, Now: time.Now,
		Submitter: messages.Submitter{Store: store.NewMessages(db, env["MESSAGES_TABLE"]),
			Created: queue.Queue{API: q, URL: env["CREATED_MESSAGES_QUEUE_URL"]}, Now: time.Now}}
	c := queue.Consumer[profiles.Event]{API: q, QueueURL: env["PROFILE_EVENTS_QUEUE_URL"], Handle: h.Handle, Log: slog.Default()}
	lambda.Start(c.HandleBatch)
}
