// Command create-remote-content-configuration serves
// POST /api/v1/remote-contents/configurations: how the platform reaches the
// calling service's system for its messages' remote content.
package main

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/digital-citizenship/functions/pkg/apigateway"
	"github.com/digital-citizenship/functions/pkg/config"
	store "github.com/digital-citizenship/functions/pkg/dynamodb"
	"github.com/digital-citizenship/functions/pkg/httpapi"
	"github.com/digital-citizenship/functions/pkg/remotecontent"
)

func main() {
	cfg, env := config.MustLoad("SERVICES_TABLE", "CALLBACK_ALLOW_LOCAL")
	db := dynamodb.NewFromConfig(cfg)
	u := remotecontent.Configurations{Store: store.NewRemoteContents(db, env["SERVICES_TABLE"]),
		AllowLocal: env["CALLBACK_ALLOW_LOCAL"] == "true", Now: time.Now}
	apigateway.Start(httpapi.NewMux(httpapi.CreateRemoteContentConfiguration(store.NewServices(db, env["SERVICES_TABLE"]), u)))
}
