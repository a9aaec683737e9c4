// Command update-service serves the admin updateService
// (PUT /adm/services/{service_id}).
package main

import (
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/digital-citizenship/functions/pkg/apigateway"
	"github.com/digital-citizenship/functions/pkg/apigateway/controlplane"
	"github.com/digital-citizenship/functions/pkg/config"
	store "github.com/digital-citizenship/functions/pkg/dynamodb"
	"github.com/digital-citizenship/functions/pkg/httpapi"
)

func main() {
	cfg, env := config.MustLoad("SERVICES_TABLE", "AUTHORIZER_CACHE_TTL")
	svcs := store.NewServices(dynamodb.NewFromConfig(cfg), env["SERVICES_TABLE"])
	flush := controlplane.NewCacheFlusher(cfg, env["AUTHORIZER_CACHE_TTL"]) // none when nothing is cached (the local stack)
	apigateway.Start(httpapi.NewMux(httpapi.UpdateService(svcs, flush)))
}
