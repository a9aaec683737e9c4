// Command put-callback serves PUT /api/v1/callback: the calling service's
// delivery callbacks, with a new signing secret.
package main

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/digital-citizenship/functions/pkg/apigateway"
	"github.com/digital-citizenship/functions/pkg/apigateway/controlplane"
	"github.com/digital-citizenship/functions/pkg/config"
	store "github.com/digital-citizenship/functions/pkg/dynamodb"
	"github.com/digital-citizenship/functions/pkg/httpapi"
)

func main() {
	cfg, env := config.MustLoad("SERVICES_TABLE", "AUTHORIZER_CACHE_TTL", "CALLBACK_ALLOW_LOCAL")
	svcs := store.NewServices(dynamodb.NewFromConfig(cfg), env["SERVICES_TABLE"])
	flush := controlplane.NewCacheFlusher(cfg, env["AUTHORIZER_CACHE_TTL"]) // none when nothing is cached (the local stack)
	op := httpapi.PutCallback(svcs, svcs, flush, env["CALLBACK_ALLOW_LOCAL"] == "true", time.Now)
	apigateway.Start(httpapi.NewMux(op))
}
