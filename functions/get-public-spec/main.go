// Command get-public-spec serves the public API description (GET /specs/api/v1/swagger.json) anonymously.
package main

import (
	"github.com/digital-citizenship/functions/pkg/apigateway"
	"github.com/digital-citizenship/functions/pkg/httpapi"
	"github.com/digital-citizenship/functions/pkg/openapi/served"
)

func main() {
	apigateway.Start(httpapi.NewMux(httpapi.Spec("/specs/api/v1/swagger.json", served.Public())))
}
