package httpapi_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/digital-citizenship/functions/pkg/auth"
	"github.com/digital-citizenship/functions/pkg/callbacks"
)

// TestCallbackConfiguration: PUT answers the signing secret once; GET shows
// the configuration without secrets; every event by default; a service's
// latest version carries its events (for the authorizer's context); bad
// URLs and events are 400s naming the field; DELETE removes it.
func TestCallbackConfiguration(t *testing.T) {
	w := newWorld(t)
	cb := caller("svc", auth.CallbackWrite)
	wantProblem(t, w.do(t, cb, "GET", "/api/v1/callback", ""), 404, "No callback")
	r := w.do(t, cb, "PUT", "/api/v1/callback", `{"url":"https://pa.example.it/io/callbacks","bearer_token":"s3cr3t-t0ken-0123"}`)
	secret, _ := r.Body["signing_secret"].(string)
	if r.Status != 200 || r.Body["status"] != "ACTIVE" || !strings.HasPrefix(secret, "whsec_") || len(r.Body["events"].([]any)) != len(callbacks.AllEvents) {
		t.Fatalf("put: %d %s", r.Status, r.Raw)
	}
	g := w.do(t, cb, "GET", "/api/v1/callback", "")
	if g.Status != 200 || g.Body["signing_secret"] != nil || strings.Contains(g.Raw, "s3cr3t") || g.Body["has_bearer_token"] != true ||
		g.Body["url"] != "https://pa.example.it/io/callbacks" || g.Body["status"] != "ACTIVE" {
		t.Fatalf("get: %d %s", g.Status, g.Raw)
	}
	svc, err := w.svcs.Latest(context.Background(), "svc")
	if err != nil || len(svc.CallbackEvents) != len(callbacks.AllEvents) {
		t.Fatalf("the service's events %v, %v", svc.CallbackEvents, err)
	}
	if a := w.do(t, caller("svc", auth.ServiceRead), "GET", "/adm/services/svc", ""); strings.Contains(a.Raw, "callback") {
		t.Fatalf("the admin view shows the callbacks: %s", a.Raw)
	}
	// A change keeps the secret (the receiver goes on verifying); a
	// rotation is asked for.
	again := w.do(t, cb, "PUT", "/api/v1/callback", `{"url":"https://pa.example.it/io/callbacks","events":["message.processed","notification.failed"]}`)
	if again.Body["signing_secret"] != secret || len(again.Body["events"].([]any)) != 2 {
		t.Fatalf("a second put: %s", again.Raw)
	}
	rotated := w.do(t, cb, "PUT", "/api/v1/callback", `{"url":"https://pa.example.it/io/callbacks","events":["message.processed","notification.failed"],"rotate_secret":true}`)
	if s, _ := rotated.Body["signing_secret"].(string); rotated.Status != 200 || s == secret || !strings.HasPrefix(s, "whsec_") {
		t.Fatalf("a rotation: %s", rotated.Raw)
	}
	if r := w.do(t, cb, "PUT", "/api/v1/callback", `{"url":"https://pa.example.it/io/callbacks","rotate_secret":"yes"}`); r.Status != 400 {
		t.Fatalf("rotate_secret not a boolean: %s", r.Raw)
	}
	for body, field := range map[string]string{
		`{"url":"http://pa.example.it/cb"}`:                            "value.url",
		`{"url":"https://127.0.0.1/cb"}`:                               "value.url",
		`{"url":"https://10.1.2.3/cb"}`:                                "value.url",
		`{"url":"https://169.254.169.254/latest/meta-data"}`:           "value.url",
		`{"url":"https://[::1]/cb"}`:                                   "value.url",
		`{"url":"https://localhost/cb"}`:                               "value.url",
		`{"url":"https://user:pw@pa.example.it/cb"}`:                   "value.url",
		`{"url":"not a url"}`:                                          "value.url",
		`{}`:                                                           "value.url",
		`{"url":"https://pa.example.it/cb","events":["message.sent"]}`: "value.events.0",
		`{"url":"https://pa.example.it/cb","events":[]}`:               "value.events",
		`{"url":"https://pa.example.it/cb","bearer_token":"short"}`:    "value.bearer_token",
	} {
		r := w.do(t, cb, "PUT", "/api/v1/callback", body)
		wantProblem(t, r, 400, "Invalid callback")
		if !strings.Contains(r.Body["detail"].(string), field) {
			t.Errorf("%s: detail %q does not name %s", body, r.Body["detail"], field)
		}
	}
	if g := w.do(t, cb, "GET", "/api/v1/callback", ""); len(g.Body["events"].([]any)) != 2 {
		t.Fatalf("a refused put changed the configuration: %s", g.Raw)
	}
	// A test event is queued for the service, whatever events it asked for.
	test := w.do(t, cb, "POST", "/api/v1/callback/test", "")
	if test.Status != 202 || test.Body["event"] != "callback.test" || len(w.callbacks.Sent) != 1 ||
		!strings.Contains(string(w.callbacks.Sent[0]), `"event":"callback.test","service_id":"svc"`) ||
		!strings.Contains(string(w.callbacks.Sent[0]), test.Body["id"].(string)) {
		t.Fatalf("test event: %s, queued %s", test.Raw, w.callbacks.Sent)
	}
	if again := w.do(t, cb, "POST", "/api/v1/callback/test", ""); again.Body["id"] == test.Body["id"] {
		t.Fatalf("two tests, one id: %s", again.Raw)
	}
	if !(callbacks.Config{Events: []string{callbacks.MessageProcessed}}).Wants(callbacks.CallbackTest) {
		t.Fatal("a configuration that does not want the test event")
	}
	var queued callbacks.Event
	if err := json.Unmarshal(w.callbacks.Sent[0], &queued); err != nil || !queued.Valid() {
		t.Fatalf("send-callback would drop the test event: %s %v", w.callbacks.Sent[0], err)
	}
	if r := w.do(t, cb, "DELETE", "/api/v1/callback", ""); r.Status != 204 {
		t.Fatalf("delete: %d %s", r.Status, r.Raw)
	}
	wantProblem(t, w.do(t, cb, "GET", "/api/v1/callback", ""), 404, "No callback")
	wantProblem(t, w.do(t, cb, "POST", "/api/v1/callback/test", ""), 404, "No callback")
}
