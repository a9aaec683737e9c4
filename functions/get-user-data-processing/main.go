// Command get-user-data-processing serves getUserDataProcessing
// (GET /api/v1/user-data-processing/{fiscal_code}/{choice}).
package main

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/digital-citizenship/functions/pkg/apigateway"
	"github.com/digital-citizenship/functions/pkg/config"
	store "github.com/digital-citizenship/functions/pkg/dynamodb"
	"github.com/digital-citizenship/functions/pkg/httpapi"
	"github.com/digital-citizenship/functions/pkg/s3/presign"
)

func main() {
	cfg, env := config.MustLoad("SERVICES_TABLE", "PROFILES_TABLE", "USER_DATA_BUCKET")
	db := dynamodb.NewFromConfig(cfg)
	op := httpapi.GetUserDataProcessing(store.NewServices(db, env["SERVICES_TABLE"]), store.NewUserData(db, env["PROFILES_TABLE"]),
		presign.Archives{Objects: presign.NewObjects(cfg, env["USER_DATA_BUCKET"])}, time.Now)
	apigateway.Start(httpapi.NewMux(op))
}
