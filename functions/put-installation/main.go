// Command put-installation serves createOrUpdateInstallation
// (PUT /api/v1/installations/{installation_id}).
package main

import (
	"os"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/digital-citizenship/functions/pkg/apigateway"
	"github.com/digital-citizenship/functions/pkg/config"
	store "github.com/digital-citizenship/functions/pkg/dynamodb"
	"github.com/digital-citizenship/functions/pkg/httpapi"
	"github.com/digital-citizenship/functions/pkg/push"
	"github.com/digital-citizenship/functions/pkg/sns"
)

func main() {
	cfg, env := config.MustLoad("SERVICES_TABLE", "PROFILES_TABLE")
	db := dynamodb.NewFromConfig(cfg)
	reg := push.Registrar{Store: store.NewInstallations(db, env["PROFILES_TABLE"]), Endpoints: sns.Push{API: awssns.NewFromConfig(cfg),
		Applications: map[string]string{push.APNS: os.Getenv("APNS_APPLICATION_ARN"), push.FCM: os.Getenv("FCM_APPLICATION_ARN")}}}
	apigateway.Start(httpapi.NewMux(httpapi.PutInstallation(store.NewServices(db, env["SERVICES_TABLE"]), reg)))
}
