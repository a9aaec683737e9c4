// Command get-admin-spec serves the admin API description (GET /specs/adm/swagger.json) anonymously.
package main

import (
	"github.com/digital-citizenship/functions/pkg/apigateway"
	"github.com/digital-citizenship/functions/pkg/httpapi"
	"github.com/digital-citizenship/functions/pkg/openapi/served"
)

func main() {
	apigateway.Start(httpapi.NewMux(httpapi.Spec("/specs/adm/swagger.json", served.Admin())))
}
