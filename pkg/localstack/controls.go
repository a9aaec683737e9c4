package localstack

import (
	"encoding/json"
	"net/http"
)

// controls serves the local stack's own endpoints, for tests and for
// trying failures by hand (docs/running-locally.md):
//
//	GET  /_local/webhook                 the webhook receiver's mode and the calls it got
//	PUT  /_local/webhook  {"mode": "500"} how it answers from now on (ok, 500, 400, hang, refuse)
//	GET  /_local/callbacks                the callbacks receiver's URL, mode and the calls it got
//	PUT  /_local/callbacks {"mode": ...}  how it answers (ok, 500, 400, hang, refuse)
//	GET  /_local/remote-content           the local sender's system: its URL, messages and the calls it got
//	PUT  /_local/remote-content/{id}      what it answers about its message id (RemoteMessage)
//	POST /_local/functions/{id}/kill     SIGKILL every environment of function id
func (s *Stack) controls() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /_local/webhook", func(w http.ResponseWriter, r *http.Request) {
		if s.Webhook == nil {
			localProblem(w, http.StatusNotFound, "The WebhookUrl parameter names another receiver.")
			return
		}
		writeLocal(w, map[string]any{"url": s.Webhook.URL(), "mode": s.Webhook.Mode(), "calls": s.Webhook.Calls()})
	})
	mux.HandleFunc("PUT /_local/webhook", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Mode string `json:"mode"`
		}
		if s.Webhook == nil {
			localProblem(w, http.StatusNotFound, "The WebhookUrl parameter names another receiver.")
			return
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			localProblem(w, http.StatusBadRequest, "The body is not {\"mode\": ...}.")
			return
		}
		if err := s.Webhook.SetMode(in.Mode); err != nil {
			localProblem(w, http.StatusBadRequest, err.Error())
			return
		}
		writeLocal(w, map[string]any{"url": s.Webhook.URL(), "mode": s.Webhook.Mode()})
	})
	mux.HandleFunc("GET /_local/callbacks", func(w http.ResponseWriter, r *http.Request) {
		writeLocal(w, map[string]any{"url": s.Callbacks.URL(), "mode": s.Callbacks.Mode(), "calls": s.Callbacks.Calls()})
	})
	mux.HandleFunc("PUT /_local/callbacks", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Mode string `json:"mode"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			localProblem(w, http.StatusBadRequest, "The body is not {\"mode\": ...}.")
			return
		}
		if err := s.Callbacks.SetMode(in.Mode); err != nil {
			localProblem(w, http.StatusBadRequest, err.Error())
			return
		}
		writeLocal(w, map[string]any{"url": s.Callbacks.URL(), "mode": s.Callbacks.Mode()})
	})
	mux.HandleFunc("GET /_local/remote-content", func(w http.ResponseWriter, r *http.Request) {
		writeLocal(w, map[string]any{"url": s.RemoteContent.URL(), "messages": s.RemoteContent.Messages(), "calls": s.RemoteContent.Calls()})
	})
	mux.HandleFunc("PUT /_local/remote-content/{id}", func(w http.ResponseWriter, r *http.Request) {
		var m RemoteMessage
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			localProblem(w, http.StatusBadRequest, "The body is not a remote message ({details, attachments, precondition, mode}).")
			return
		}
		if err := s.RemoteContent.Set(r.PathValue("id"), m); err != nil {
			localProblem(w, http.StatusBadRequest, err.Error())
			return
		}
		writeLocal(w, map[string]any{"url": s.RemoteContent.URL(), "id": r.PathValue("id")})
	})
	mux.HandleFunc("POST /_local/functions/{id}/kill", func(w http.ResponseWriter, r *http.Request) {
		rt := s.runtimes[r.PathValue("id")]
		if rt == nil {
			localProblem(w, http.StatusNotFound, "No function has this logical id.")
			return
		}
		writeLocal(w, map[string]int{"killed": rt.kill()})
	})
	mux.HandleFunc("POST /_local/functions/{id}/run", func(w http.ResponseWriter, r *http.Request) {
		if rt := s.runtimes[r.PathValue("id")]; rt == nil {
			localProblem(w, http.StatusNotFound, "No function has this logical id.")
			return
		}
		out, err := s.RunScheduled(r.Context(), r.PathValue("id"))
		if err != nil {
			localProblem(w, http.StatusBadGateway, err.Error())
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(out)
	})
	return mux
}

func writeLocal(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func localProblem(w http.ResponseWriter, status int, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"title": http.StatusText(status), "status": status, "detail": detail})
}
