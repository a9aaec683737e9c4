// Command regenerate-key serves PUT /adm/services/{service_id}/keys.
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
	cfg, env := config.MustLoad("ACCOUNTS_TABLE", "AUTHORIZER_CACHE_TTL")
	accounts := store.NewAccounts(dynamodb.NewFromConfig(cfg), env["ACCOUNTS_TABLE"])
	flush := controlplane.NewCacheFlusher(cfg, env["AUTHORIZER_CACHE_TTL"]) // none when nothing is cached (the local stack)
	apigateway.Start(httpapi.NewMux(httpapi.RegenerateKey(accounts, flush)))
}
