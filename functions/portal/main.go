// Command portal serves the developer portal (GET /portal/ and its files)
// anonymously: the page, its script and the design system's styles are in
// the binary; the API calls it makes carry the developer's key.
package main

import (
	"embed"
	"encoding/json"
	"io/fs"

	"github.com/digital-citizenship/functions/pkg/apigateway"
	"github.com/digital-citizenship/functions/pkg/httpapi"
	"github.com/digital-citizenship/functions/pkg/portal"
	"github.com/digital-citizenship/functions/pkg/sandbox"
)

// static holds the page; static/vendor the design system's styles, which
// make portal-assets takes from the npm registry at build time.
//
//go:embed static
var static embed.FS

func main() {
	files, _ := fs.Sub(static, "static")
	// The sandbox lists the documented citizens and their outcomes.
	citizens, _ := json.Marshal(sandbox.Citizens)
	apigateway.Start(httpapi.Secure(portal.Handler(files, map[string][]byte{"simulated-citizens.json": citizens})))
}
