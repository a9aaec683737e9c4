// Command validate-email serves the link of the validation e-mail
// (GET /api/v1/validate-email?token=...): public, the token is the
// credential; it answers a page in Italian and English.
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
	cfg, env := config.MustLoad("PROFILES_TABLE")
	profs := store.NewProfiles(dynamodb.NewFromConfig(cfg), env["PROFILES_TABLE"])
	apigateway.Start(httpapi.NewMux(httpapi.ValidateEmail(profs, profs, time.Now)))
}
