package httpapi

import (
	"net/http"

	"github.com/digital-citizenship/functions/pkg/problem"
)

// Spec serves an API description (JSON) anonymously at path.
func Spec(path string, doc []byte, err error) Operation {
	return Operation{"GET", path, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err != nil {
			writeProblem(w, r, problem.Wrap(problem.Internal, err, "Internal server error", "The API description is unavailable."))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Access-Control-Allow-Origin", "*")
		_, _ = w.Write(doc)
	})}
}
