// Command get-third-party-message serves
// GET /api/v1/third-party-messages/{fiscal_code}/{id} to the app backend: a
// message whose content is at its sender's, read from the sender's system
// now, through its remote-content configuration.
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
)

func main() {
	cfg, env := config.MustLoad("SERVICES_TABLE", "MESSAGES_TABLE", "CALLBACK_ALLOW_LOCAL")
	db := dynamodb.NewFromConfig(cfg)
	rd := remotecontent.Reader{
		Messages:       store.NewMessages(db, env["MESSAGES_TABLE"]),
		Configurations: store.NewRemoteContents(db, env["SERVICES_TABLE"]),
		// The callbacks' safe client (http and loopback in the local stack).
		Sender: remotecontent.NewCaller(callbacks.NewClient(env["CALLBACK_ALLOW_LOCAL"] == "true")),
		Now:    time.Now,
	}
	apigateway.Start(httpapi.NewMux(httpapi.GetThirdPartyMessage(store.NewServices(db, env["SERVICES_TABLE"]), rd)))
}
