// Command abort-user-data-processing serves abortUserDataProcessing
// (DELETE /api/v1/user-data-processing/{fiscal_code}/{choice}): a pending
// deletion is ABORTED.
package main

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/digital-citizenship/functions/pkg/apigateway"
	"github.com/digital-citizenship/functions/pkg/config"
	store "github.com/digital-citizenship/functions/pkg/dynamodb"
	"github.com/digital-citizenship/functions/pkg/httpapi"
)

func main() {
	cfg, env := config.MustLoad("SERVICES_TABLE", "PROFILES_TABLE")
	db := dynamodb.NewFromConfig(cfg)
	op := httpapi.AbortUserDataProcessing(store.NewServices(db, env["SERVICES_TABLE"]), store.NewUserData(db, env["PROFILES_TABLE"]), time.Now)
	apigateway.Start(httpapi.NewMux(op))
}
