// Command upsert-service-preference serves upsertServicePreference
// (PUT /api/v1/profiles/{fiscal_code}/services/{service_id}/preferences).
package main

import (
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/digital-citizenship/functions/pkg/apigateway"
	"github.com/digital-citizenship/functions/pkg/config"
	store "github.com/digital-citizenship/functions/pkg/dynamodb"
	"github.com/digital-citizenship/functions/pkg/httpapi"
)

func main() {
	cfg, env := config.MustLoad("SERVICES_TABLE", "PROFILES_TABLE")
	db := dynamodb.NewFromConfig(cfg)
	op := httpapi.UpsertServicePreference(store.NewServices(db, env["SERVICES_TABLE"]), store.NewProfiles(db, env["PROFILES_TABLE"]))
	apigateway.Start(httpapi.NewMux(op))
}
