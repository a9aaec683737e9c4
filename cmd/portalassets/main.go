// Command portalassets puts the developer portal's design system, Bootstrap
// Italia from the npm registry (pinned), into functions/portal/static/vendor,
// where the portal function's binary embeds it (pkg/portal/assets). make runs
// it before any build (make portal-assets); the files are not in git.
//
//	go run ./cmd/portalassets [-cache .cache/npm] [-out functions/portal/static/vendor]
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/digital-citizenship/functions/pkg/portal/assets"
)

func main() {
	cache := flag.String("cache", ".cache/npm", "where npm packages are kept")
	out := flag.String("out", "functions/portal/static/vendor", "where the portal's vendor files go")
	flag.Parse()
	if err := assets.Write(*cache, *out); err != nil {
		fmt.Fprintln(os.Stderr, "portalassets:", err)
		os.Exit(1)
	}
}
