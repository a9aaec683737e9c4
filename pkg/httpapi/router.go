package httpapi

import (
	"net/http"
	"sort"
	"strings"

	"github.com/digital-citizenship/functions/pkg/problem"
	"github.com/digital-citizenship/functions/pkg/validate"
)

// Operation is one API operation: its route exactly as in template.yaml.
type Operation struct {
	Method  string
	Path    string
	Handler http.Handler
}

// NewMux routes ops (one for a Lambda; all of them for in-process tests).
// An unknown path is a 404 and a known path with another method a 405, both
// as problem+json; every response carries the security headers.
func NewMux(ops ...Operation) http.Handler {
	byPath := map[string]map[string]http.Handler{}
	for _, op := range ops {
		if byPath[op.Path] == nil {
			byPath[op.Path] = map[string]http.Handler{}
		}
		byPath[op.Path][op.Method] = op.Handler
	}
	mux := http.NewServeMux()
	for path, methods := range byPath {
		// API Gateway's greedy {name+} is ServeMux's {name...}.
		mux.Handle(strings.ReplaceAll(path, "+}", "...}"), methodSwitch(methods))
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, r, problem.New(problem.NotFound, "Not found", "There is no operation at "+r.URL.Path+"."))
	})
	return Secure(readablePath(mux))
}

// readablePath refuses a path with control characters or invalid UTF-8
// (say %00) with a 400: no identifier of ours has them, and they must not
// reach a route, a store key or a log.
func readablePath(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !validate.SingleLine(r.URL.Path) {
			writeProblem(w, r, problem.New(problem.Invalid, "Invalid request",
				"The path has control characters or is not valid UTF-8."))
			return
		}
		h.ServeHTTP(w, r)
	})
}

func methodSwitch(methods map[string]http.Handler) http.Handler {
	allowed := make([]string, 0, len(methods))
	for m := range methods {
		allowed = append(allowed, m)
	}
	sort.Strings(allowed)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h, ok := methods[r.Method]; ok {
			h.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		writeProblem(w, r, problem.New(problem.MethodNotAllowed, "Method not allowed",
			r.Method+" is not allowed here; use "+strings.Join(allowed, ", ")+"."))
	})
}
