// Command get-public-spec serves the public API description (GET /specs/api/v1/swagger.json) anonymously.
package main

import (
	"github.com/digital-citizenship/functions/pkg/apigateway"
	"github.com/digital-citizenship/functions/pkg/httpapi"
	"github.com/digital-citizenship/functions/pkg/openapi"
)

func main() {
	doc, err := openapi.Bundle("public_api_v1.yaml")
	apigateway.Start(httpapi.NewMux(httpapi.Spec("/specs/api/v1/swagger.json", doc, err)))
}
