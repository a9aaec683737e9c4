// Command get-callback serves GET /api/v1/callback: the calling service's
// callback configuration (no secrets), status and recent failures.
package main

import (
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/digital-citizenship/functions/pkg/apigateway"
	"github.com/digital-citizenship/functions/pkg/config"
	store "github.com/digital-citizenship/functions/pkg/dynamodb"
	"github.com/digital-citizenship/functions/pkg/httpapi"
)

func main() {
	cfg, env := config.MustLoad("SERVICES_TABLE")
	svcs := store.NewServices(dynamodb.NewFromConfig(cfg), env["SERVICES_TABLE"])
	apigateway.Start(httpapi.NewMux(httpapi.GetCallback(svcs, svcs)))
}
