package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/digital-citizenship/functions/pkg/apigateway"
	"github.com/digital-citizenship/functions/pkg/auth"
)

// A control character in the path (GET /api/v1/services/%00: API Gateway
// hands it over decoded) is a 400 problem+json from every operation, not a
// 502 from the proxy adapter; so are '%', '?' and '#' kept as the client
// sent them.
func TestHardening_PathsThroughTheAdapter(t *testing.T) {
	w := newWorld(t)
	h := apigateway.Handler(w.mux)
	admin := map[string]any{"subscriptionId": "svc", "userId": "u", "email": "dev@pa.it", "groups": strings.Join(groupNames(), ",")}
	for _, tc := range []struct {
		method, path string
		status       int
	}{
		{"GET", "/api/v1/services/\x00", 400},
		{"GET", "/api/v1/services/a\x1fb", 400},
		{"GET", "/api/v1/services/a\x7f", 400},
		{"GET", "/api/v1/services/\xff", 400},
		{"POST", "/api/v1/messages/\x00", 400},
		{"GET", "/api/v1/profiles/" + fc + "\r\n", 400},
		{"PUT", "/adm/services/\x00", 400},
		{"PUT", "/adm/users/a\x00@b.it/groups", 400},
		{"GET", "/api/v1/nothing/\x00", 400},
		{"GET", "/api/v1/services/50%zz", 404}, // an id with a '%': not found, not a 502
		{"GET", "/api/v1/services/a?b", 404},
	} {
		res, err := h(context.Background(), events.APIGatewayProxyRequest{HTTPMethod: tc.method, Path: tc.path, Body: "{}",
			RequestContext: events.APIGatewayProxyRequestContext{Authorizer: admin, Identity: events.APIGatewayRequestIdentity{SourceIP: "10.0.0.1"}}})
		if err != nil {
			t.Fatalf("%s %q: %v", tc.method, tc.path, err)
		}
		var p map[string]any
		ct := res.Headers["Content-Type"]
		if v := res.MultiValueHeaders["Content-Type"]; len(v) > 0 {
			ct = v[0]
		}
		if res.StatusCode != tc.status || ct != "application/problem+json" || json.Unmarshal([]byte(res.Body), &p) != nil ||
			p["status"] != float64(tc.status) {
			t.Fatalf("%s %q: %d %v %s, want a %d problem", tc.method, tc.path, res.StatusCode, res.Headers, res.Body, tc.status)
		}
	}
}

func groupNames() []string {
	var out []string
	for _, g := range auth.AllGroups {
		out = append(out, string(g))
	}
	return out
}

// Control characters in single-line fields and invalid UTF-8 are refused
// with the original's validation title; lengths count UTF-16 code units.
func TestHardening_Text(t *testing.T) {
	w := newWorld(t)
	c := caller("svc", auth.MessageWrite, auth.ServiceWrite)
	path := "/api/v1/messages/" + fc
	body := func(subject, markdown string) string {
		b, _ := json.Marshal(map[string]any{"content": map[string]any{"subject": subject, "markdown": markdown}})
		return string(b)
	}
	md := strings.Repeat("Lorem ipsum ", 10)
	for name, b := range map[string]string{
		"subject with LF":     body("A subject\nline", md),
		"subject with CR":     body("A subject\rline", md),
		"subject with NUL":    body("A subject\x00line", md),
		"subject with U+2028": body("A subject\u2028line", md),
		"markdown with NUL":   body("A subject line", md+"\x00"),
		"markdown with ESC":   body("A subject line", md+"\x1b[31m"),
		"body not UTF-8":      `{"content":{"subject":"A subject \xff\xfe","markdown":"` + md + `"}}`,
		"body in ISO-8859-1":  `{"content":{"subject":"Citt\xe0 di Roma, avviso","markdown":"` + md + `"}}`,
		// What API Gateway hands over for the body above.
		"body with U+FFFD":        `{"content":{"subject":"Citt` + "\ufffd" + ` di Roma, avviso","markdown":"` + md + `"}}`,
		"121 units with an emoji": body(strings.Repeat("a", 119)+"🎉", md),
	} {
		t.Run(name, func(t *testing.T) { wantProblem(t, w.do(t, c, "POST", path, b), 400, "Invalid NewMessage") })
	}
	if len(w.created.Sent) != 0 {
		t.Fatal("a refused message was queued")
	}
	// The original counted String.length: six emoji are 12 units, valid
	// (10 to 120); four are 8, too short; markdown keeps its line breaks.
	// The character itself, escaped, is text like any other.
	if r := w.do(t, c, "POST", path, `{"content":{"subject":"A subject \\ufffd","markdown":"`+md+`"}}`); r.Status != 201 {
		t.Fatalf("an escaped U+FFFD: %d %s", r.Status, r.Raw)
	}
	if r := w.do(t, c, "POST", path, body("🎉🎉🎉🎉🎉🎉", md+"\n\n* item\r\n\tend")); r.Status != 201 {
		t.Fatalf("six emoji: %d %s", r.Status, r.Raw)
	}
	wantProblem(t, w.do(t, c, "POST", path, body("🎉🎉🎉🎉", md)), 400, "Invalid NewMessage")
	svc := `{"service_id":"s2","service_name":"TARI\n","organization_name":"O","department_name":"D","organization_fiscal_code":"00000000001","authorized_cidrs":[],"authorized_recipients":[]}`
	wantProblem(t, w.do(t, c, "POST", "/adm/services", svc), 400, "Invalid Exact<Service>")
}

// Clients generated from our description send "Idempotency-Key: undefined"
// when their caller leaves the header out: that is no key, so every message
// is its own. A value outside the key syntax is a 400.
func TestHardening_IdempotencyKeyOfGeneratedClients(t *testing.T) {
	w := newWorld(t)
	c := caller("svc", auth.MessageWrite)
	send := func(key, subject string) response {
		req := newRequest("POST", "/api/v1/messages/"+fc, `{"content":{"subject":"`+subject+`","markdown":"`+strings.Repeat("Lorem ipsum ", 10)+`"}}`)
		req.Header.Set("Idempotency-Key", key)
		return w.serve(t, c, req)
	}
	ids := map[string]bool{}
	for i, key := range []string{"undefined", "undefined", "null", "undefined"} {
		r := send(key, "A subject number "+string(rune('a'+i)))
		if r.Status != 201 {
			t.Fatalf("Idempotency-Key %q: %d %s", key, r.Status, r.Raw)
		}
		ids[r.Body["id"].(string)] = true
	}
	if len(ids) != 4 || len(w.created.Sent) != 4 {
		t.Fatalf("%d ids and %d queued for 4 messages without a real key", len(ids), len(w.created.Sent))
	}
	for _, bad := range []string{"[object Object]", "a key", strings.Repeat("k", 256), "ké"} {
		wantProblem(t, send(bad, "A subject line"), 400, "Invalid Idempotency-Key")
	}
	first, again := send("0f8fad5b-d9cb-469f-a165-70867728950e", "A subject line"), send("0f8fad5b-d9cb-469f-a165-70867728950e", "A subject line")
	if first.Status != 201 || again.Body["id"] != first.Body["id"] {
		t.Fatalf("a UUID key: %v then %v", first.Body, again.Body)
	}
}

func newRequest(method, path, body string) *http.Request {
	req, _ := http.NewRequest(method, path, strings.NewReader(body))
	return req
}
