// Command authorizer is the API's Lambda REQUEST authorizer: it resolves the
// Ocp-Apim-Subscription-Key header to the caller identity.
package main

import (
	"log/slog"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/digital-citizenship/functions/pkg/apigateway"
	"github.com/digital-citizenship/functions/pkg/config"
	store "github.com/digital-citizenship/functions/pkg/dynamodb"
)

func main() {
	cfg, env := config.MustLoad("ACCOUNTS_TABLE", "SERVICES_TABLE")
	db := dynamodb.NewFromConfig(cfg)
	a := apigateway.Authorizer{Store: store.NewAccounts(db, env["ACCOUNTS_TABLE"]),
		Services: store.NewServices(db, env["SERVICES_TABLE"]), Log: slog.Default()}
	lambda.Start(a.Handle)
}
