// Command get-message-attachment serves
// GET /api/v1/messages/{fiscal_code}/{id}/attachments/{attachment_id}: a
// short-lived link to a message's document, for the app backend.
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
	cfg, env := config.MustLoad("SERVICES_TABLE", "MESSAGES_TABLE", "DOCUMENTS_BUCKET")
	db := dynamodb.NewFromConfig(cfg)
	op := httpapi.GetMessageAttachment(store.NewServices(db, env["SERVICES_TABLE"]), store.NewMessages(db, env["MESSAGES_TABLE"]),
		presign.Documents{Bucket: presign.New(cfg, env["DOCUMENTS_BUCKET"])}, time.Now)
	apigateway.Start(httpapi.NewMux(op))
}
