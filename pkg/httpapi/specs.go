package httpapi

import "net/http"

// Spec serves an API description (JSON) anonymously at path.
func Spec(path string, doc []byte) Operation {
	return Operation{"GET", path, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Access-Control-Allow-Origin", "*")
		_, _ = w.Write(doc)
	})}
}
