// Package portal serves the developer portal: a single page, its script and
// its styles, built into the function's binary (no CDN), under /portal/ on
// the platform's own API. The page calls the API from the same origin with
// the developer's subscription key, which it keeps in sessionStorage only.
package portal

import (
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
)

// Prefix is where the portal is served.
const Prefix = "/portal/"

// CSP allows the page its own script, styles and API only: no inline
// script or style, no other origin, no framing. Fonts and the design
// system's icons are data: URIs of its stylesheet.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self' data:; " +
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Handler serves the files of static (index.html for the folder itself),
// and the generated files of generated (name to content), such as the
// sandbox's simulated citizens.
func Handler(static fs.FS, generated map[string][]byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if r.URL.Path == strings.TrimSuffix(Prefix, "/") {
			// Relative, so that a stage in the URL (/prod/portal) is kept:
			// the page's files are relative to the folder.
			w.Header().Set("Location", "portal/")
			w.WriteHeader(http.StatusMovedPermanently)
			return
		}
		name, ok := strings.CutPrefix(r.URL.Path, Prefix)
		if !ok {
			http.NotFound(w, r)
			return
		}
		if name == "" {
			name = "index.html"
		}
		clean := path.Clean(name)
		if clean != name || strings.HasPrefix(clean, ".") || strings.Contains(clean, "/.") {
			http.NotFound(w, r)
			return
		}
		b, ok := generated[clean]
		var err error
		if !ok {
			b, err = fs.ReadFile(static, clean)
		}
		if err != nil {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Security-Policy", CSP)
		ct := mime.TypeByExtension(path.Ext(clean))
		if ct == "" {
			ct = "application/octet-stream"
		}
		h.Set("Content-Type", ct)
		if clean == "index.html" {
			h.Set("Cache-Control", "no-cache")
		} else {
			h.Set("Cache-Control", "public, max-age=300")
		}
		if r.Method == http.MethodHead {
			return
		}
		_, _ = w.Write(b)
	})
}
