// Package httpapi holds the platform's HTTP operations as plain net/http
// handlers: one handler maker per operation, taking its dependencies; the
// original's request pipeline (authorization, caller's service, validation,
// source IP) in its order; problem+json for every failure.
package httpapi

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/digital-citizenship/functions/pkg/problem"
)

// maxBody bounds request bodies; the largest valid one is far smaller.
const maxBody = 256 << 10

type problemBody struct {
	Detail string `json:"detail"`
	Status int    `json:"status"`
	Title  string `json:"title"`
}

// writeJSON answers status with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeProblem answers err as problem+json. Internal causes are logged
// (without personal data: errors never carry bodies or fiscal codes) and
// never shown.
func writeProblem(w http.ResponseWriter, r *http.Request, err error) {
	p, status := logProblem(r, err)
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(problemBody{Detail: p.Detail, Status: status, Title: p.Title})
}

// logProblem returns err as a problem with its status, logging internal
// causes.
func logProblem(r *http.Request, err error) (*problem.Error, int) {
	p := problem.As(err)
	status := problem.Status(p.Kind)
	if status >= 500 {
		slog.ErrorContext(r.Context(), "request failed", "method", r.Method, "route", r.Pattern,
			"status", status, "error", err.Error())
	}
	return p, status
}

// readBody reads a bounded request body.
func readBody(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, problem.Wrap(problem.Invalid, err, "Invalid request", "The request body could not be read.")
	}
	if len(b) > maxBody {
		return nil, problem.Invalidf("Invalid request", "The request body is larger than %d bytes.", maxBody)
	}
	return b, nil
}

// securityHeaders are the original's helmet headers (spec section 2.6).
var securityHeaders = map[string]string{
	"Referrer-Policy":           "no-referrer",
	"Content-Security-Policy":   "default-src 'none'; upgrade-insecure-requests",
	"Strict-Transport-Security": "max-age=15552000; includeSubDomains",
	"X-Content-Type-Options":    "nosniff",
	"X-Dns-Prefetch-Control":    "off",
	"X-Download-Options":        "noopen",
	"X-Frame-Options":           "DENY",
	"X-Xss-Protection":          "1; mode=block",
}

// Secure adds the security headers to every response of h, and CORS
// headers (any origin, as the original) to those of the public API.
func Secure(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range securityHeaders {
			w.Header().Set(k, v)
		}
		if strings.HasPrefix(r.URL.Path, "/api/v1/") || r.URL.Path == "/api/v1" {
			w.Header().Set("Access-Control-Allow-Origin", "*")
			w.Header().Set("Access-Control-Expose-Headers", "Location")
		}
		h.ServeHTTP(w, r)
	})
}
