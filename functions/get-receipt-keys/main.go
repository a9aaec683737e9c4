// Command get-receipt-keys serves GET /api/v1/receipts/keys anonymously: the
// public keys (JWKS) that verify the receipts of legal events, read from
// KMS once per execution environment.
package main

import (
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/digital-citizenship/functions/pkg/apigateway"
	"github.com/digital-citizenship/functions/pkg/config"
	"github.com/digital-citizenship/functions/pkg/httpapi"
	"github.com/digital-citizenship/functions/pkg/kms"
)

func main() {
	cfg, env := config.MustLoad("RECEIPT_SIGNING_KEY")
	keys := &kms.PublicKeys{API: awskms.NewFromConfig(cfg), Keys: []string{env["RECEIPT_SIGNING_KEY"]}}
	apigateway.Start(httpapi.NewMux(httpapi.GetReceiptKeys(keys)))
}
