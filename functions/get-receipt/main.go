// Command get-receipt serves GET /api/v1/messages/{fiscal_code}/{id}/receipt:
// the signed receipts of a message's legal events (its opening, its
// non-opening), for its sender.
package main

import (
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/digital-citizenship/functions/pkg/apigateway"
	"github.com/digital-citizenship/functions/pkg/config"
	store "github.com/digital-citizenship/functions/pkg/dynamodb"
	"github.com/digital-citizenship/functions/pkg/httpapi"
	"github.com/digital-citizenship/functions/pkg/receipts"
	"github.com/digital-citizenship/functions/pkg/s3/presign"
)

func main() {
	cfg, env := config.MustLoad("SERVICES_TABLE", "MESSAGES_TABLE", "RECEIPTS_BUCKET")
	db := dynamodb.NewFromConfig(cfg)
	n := receipts.Notary{Store: store.NewMessages(db, env["MESSAGES_TABLE"]), Archive: presign.Receipts{Objects: presign.NewObjects(cfg, env["RECEIPTS_BUCKET"])}}
	apigateway.Start(httpapi.NewMux(httpapi.GetReceipt(store.NewServices(db, env["SERVICES_TABLE"]), n)))
}
