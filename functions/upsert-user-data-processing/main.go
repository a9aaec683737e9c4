// Command upsert-user-data-processing serves upsertUserDataProcessing
// (POST /api/v1/user-data-processing/{fiscal_code}): a download is due at
// once, a deletion after its grace period.
package main

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/digital-citizenship/functions/pkg/apigateway"
	"github.com/digital-citizenship/functions/pkg/config"
	store "github.com/digital-citizenship/functions/pkg/dynamodb"
	"github.com/digital-citizenship/functions/pkg/httpapi"
	"github.com/digital-citizenship/functions/pkg/userdata"
)

func main() {
	cfg, env := config.MustLoad("SERVICES_TABLE", "PROFILES_TABLE")
	db := dynamodb.NewFromConfig(cfg)
	grace := config.Seconds("USER_DATA_DELETION_GRACE_SECONDS", userdata.Grace)
	op := httpapi.UpsertUserDataProcessing(store.NewServices(db, env["SERVICES_TABLE"]), store.NewUserData(db, env["PROFILES_TABLE"]),
		store.NewProfiles(db, env["PROFILES_TABLE"]), grace, time.Now)
	apigateway.Start(httpapi.NewMux(op))
}
