package portal

import (
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

func TestHandler(t *testing.T) {
	files := fstest.MapFS{
		"index.html":           {Data: []byte("<!doctype html><title>portal</title>")},
		"app.js":               {Data: []byte("'use strict';")},
		"vendor/bootstrap.css": {Data: []byte("body{}")},
		".hidden":              {Data: []byte("secret")},
	}
	h := Handler(files, nil)
	for _, c := range []struct {
		method, path string
		status       int
		ctype, body  string
	}{
		{"GET", "/portal/", 200, "text/html; charset=utf-8", "<title>portal</title>"},
		{"GET", "/portal/app.js", 200, "text/javascript; charset=utf-8", "use strict"},
		{"GET", "/portal/vendor/bootstrap.css", 200, "text/css; charset=utf-8", "body{}"},
		{"HEAD", "/portal/app.js", 200, "text/javascript; charset=utf-8", ""},
		{"GET", "/portal/missing.js", 404, "", ""},
		{"GET", "/portal/.hidden", 404, "", ""},
		{"GET", "/portal/vendor/../../x", 404, "", ""},
		{"GET", "/portal/vendor/./bootstrap.css", 404, "", ""},
		{"GET", "/other", 404, "", ""},
		{"POST", "/portal/", 405, "", ""},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(c.method, c.path, nil))
		if rec.Code != c.status {
			t.Errorf("%s %s: %d, want %d", c.method, c.path, rec.Code, c.status)
			continue
		}
		if c.status != 200 {
			continue
		}
		if got := rec.Header().Get("Content-Type"); got != c.ctype {
			t.Errorf("%s: content type %q, want %q", c.path, got, c.ctype)
		}
		if rec.Header().Get("Content-Security-Policy") != CSP || !strings.Contains(rec.Body.String(), c.body) {
			t.Errorf("%s: CSP %q, body %q", c.path, rec.Header().Get("Content-Security-Policy"), rec.Body.String())
		}
	}
	// The folder without its slash: a relative redirect keeps a stage prefix.
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/portal", nil))
	if rec.Code != 301 || rec.Header().Get("Location") != "portal/" {
		t.Errorf("/portal: %d %q", rec.Code, rec.Header().Get("Location"))
	}
}
