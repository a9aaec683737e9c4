// Command list-remote-content-configurations serves
// GET /api/v1/remote-contents/configurations: the calling service's
// configurations, without their keys.
package main

import (
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/digital-citizenship/functions/pkg/apigateway"
	"github.com/digital-citizenship/functions/pkg/config"
	store "github.com/digital-citizenship/functions/pkg/dynamodb"
	"github.com/digital-citizenship/functions/pkg/httpapi"
	"github.com/digital-citizenship/functions/pkg/remotecontent"
)

func main() {
	cfg, env := config.MustLoad("SERVICES_TABLE")
	db := dynamodb.NewFromConfig(cfg)
	u := remotecontent.Configurations{Store: store.NewRemoteContents(db, env["SERVICES_TABLE"])}
	apigateway.Start(httpapi.NewMux(httpapi.ListRemoteContentConfigurations(store.NewServices(db, env["SERVICES_TABLE"]), u)))
}
