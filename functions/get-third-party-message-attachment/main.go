// Command get-third-party-message-attachment serves
// GET /api/v1/third-party-messages/{fiscal_code}/{id}/attachments/{attachment_url+}
// to the app backend: a document of a message at its sender's, fetched and
// handed over through the transit bucket by a 5-minute link.
package main

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/digital-citizenship/functions/pkg/apigateway"
	"github.com/digital-citizenship/functions/pkg/callbacks"
	"github.com/digital-citizenship/functions/pkg/config"
	store "github.com/digital-citizenship/functions/pkg/dynamodb"
	"github.com/digital-citizenship/functions/pkg/httpapi"
	"github.com/digital-citizenship/functions/pkg/remotecontent"
	"github.com/digital-citizenship/functions/pkg/s3/presign"
)

func main() {
	cfg, env := config.MustLoad("SERVICES_TABLE", "MESSAGES_TABLE", "CALLBACK_ALLOW_LOCAL", "TRANSIT_BUCKET")
	db := dynamodb.NewFromConfig(cfg)
	rd := remotecontent.Reader{
		Messages:       store.NewMessages(db, env["MESSAGES_TABLE"]),
		Configurations: store.NewRemoteContents(db, env["SERVICES_TABLE"]),
		// The callbacks' safe client (http and loopback in the local stack).
		Sender:  remotecontent.NewCaller(callbacks.NewClient(env["CALLBACK_ALLOW_LOCAL"] == "true")),
		Transit: presign.Transit{Objects: presign.NewObjects(cfg, env["TRANSIT_BUCKET"])},
		Now:     time.Now,
	}
	apigateway.Start(httpapi.NewMux(httpapi.GetThirdPartyMessageAttachment(store.NewServices(db, env["SERVICES_TABLE"]), rd)))
}
