// Package assets puts the design system the developer portal is built with,
// Bootstrap Italia from the npm registry (version and sha256 pinned), into
// the portal function's embedded files (functions/portal/static/vendor):
// the stylesheet as published, and Titillium Web (the design system's
// typeface) as a stylesheet of data: URIs, so that the page loads no font
// file and needs no binary response. It also fetches axe-core, pinned the
// same way, for the portal's accessibility checks.
package assets

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/digital-citizenship/functions/pkg/npmfetch"
)

// BootstrapItalia is the pinned design system.
var BootstrapItalia = npmfetch.Package{Name: "bootstrap-italia", Version: "2.18.3",
	SHA256: "e2d3a87bdb4601137128425305b6985219449ee7a6e2ce23bbb6444477eb218b",
	Prefix: "package/dist/", Want: "css/bootstrap-italia.min.css"}

// AxeCore is the pinned accessibility engine of the browser tests.
var AxeCore = npmfetch.Package{Name: "axe-core", Version: "4.11.1",
	SHA256: "5b86f813d96904f2d925fed5715877c75fc1cc140f89565fb42145e7801b2305",
	Prefix: "package/", Want: "axe.min.js"}

// VendorFiles are what Write puts in the vendor folder.
var VendorFiles = []string{"bootstrap-italia.min.css", "titillium.css"}

// weights are the Titillium Web faces the page uses, by CSS weight.
var weights = map[string]string{"300": "300", "400": "regular", "600": "600", "700": "700"}

// Fetch returns the folder of a pinned package under cache, fetching it
// the first time.
func Fetch(cache string, p npmfetch.Package) (string, error) {
	return npmfetch.Fetch(cache, filepath.Join(cache, p.Name+"-"+p.Version), p)
}

// Write fetches Bootstrap Italia into cache and writes the vendor files
// into out.
func Write(cache, out string) error {
	dir, err := Fetch(cache, BootstrapItalia)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	css, err := os.ReadFile(filepath.Join(dir, "css", "bootstrap-italia.min.css"))
	if err != nil {
		return err
	}
	// The stylesheet's source map is not shipped: drop its reference.
	if i := strings.LastIndex(string(css), "/*# sourceMappingURL="); i >= 0 {
		css = css[:i]
	}
	var fonts strings.Builder
	fmt.Fprintf(&fonts, "/* Titillium Web (SIL Open Font License), from %s@%s. */\n", BootstrapItalia.Name, BootstrapItalia.Version)
	for _, w := range []string{"300", "400", "600", "700"} {
		b, err := os.ReadFile(filepath.Join(dir, "fonts", "Titillium_Web", "titillium-web-v10-latin-ext_latin-"+weights[w]+".woff2"))
		if err != nil {
			return err
		}
		fmt.Fprintf(&fonts, "@font-face{font-family:'Titillium Web';font-style:normal;font-weight:%s;font-display:swap;"+
			"src:url(data:font/woff2;base64,%s) format('woff2')}\n", w, base64.StdEncoding.EncodeToString(b))
	}
	for name, body := range map[string][]byte{VendorFiles[0]: css, VendorFiles[1]: []byte(fonts.String())} {
		if err := os.WriteFile(filepath.Join(out, name), body, 0o644); err != nil {
			return err
		}
	}
	return nil
}
