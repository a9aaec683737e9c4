package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"

	"github.com/digital-citizenship/functions/pkg/openapi"
)

// contract is one API description with its base path.
type contract struct {
	base string
	doc  *openapi3.T
}

var (
	contractsOnce sync.Once
	contracts     map[string][]contract // "original" and "ours"
	contractsErr  error
)

func loadContracts() {
	contracts = map[string][]contract{}
	for _, set := range []struct{ name, dir string }{{"original", "original/"}, {"ours", ""}} {
		for _, api := range []struct{ file, base string }{{"public_api_v1.yaml", "/api/v1"}, {"admin_api.yaml", "/adm"}} {
			b, err := openapi.Bundle(set.dir + api.file)
			if err != nil {
				contractsErr = err
				return
			}
			var v2 openapi2.T
			if err := json.Unmarshal(b, &v2); err != nil {
				contractsErr = err
				return
			}
			v3, err := openapi2conv.ToV3(&v2)
			if err != nil {
				contractsErr = err
				return
			}
			contracts[set.name] = append(contracts[set.name], contract{api.base, v3})
		}
	}
}

// operation finds the operation of a request in one set of contracts.
func operation(set []contract, method, path string) *openapi3.Operation {
	for _, c := range set {
		rest, ok := strings.CutPrefix(path, c.base)
		if !ok {
			continue
		}
		for tmpl, item := range c.doc.Paths.Map() {
			if matchPath(tmpl, rest) {
				if op := item.GetOperation(method); op != nil {
					return op
				}
			}
		}
	}
	return nil
}

// greedy are the path parameters that take the rest of the path, slashes
// included: API Gateway's {name+}, which Swagger 2.0 cannot say.
var greedy = map[string]bool{"{attachment_url}": true}

func matchPath(tmpl, path string) bool {
	a, b := strings.Split(strings.Trim(tmpl, "/"), "/"), strings.Split(strings.Trim(path, "/"), "/")
	if n := len(a); n > 0 && greedy[a[n-1]] && len(b) > n {
		b = append(b[:n-1], strings.Join(b[n-1:], "/"))
	}
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !strings.HasPrefix(a[i], "{") && a[i] != b[i] {
			return false
		}
	}
	return true
}

// schemaFor returns the JSON schema documented for a status, if any.
func schemaFor(op *openapi3.Operation, status int) *openapi3.Schema {
	if op == nil {
		return nil
	}
	r := op.Responses.Value(strconv.Itoa(status))
	if r == nil || r.Value == nil {
		return nil
	}
	mt := r.Value.Content.Get("application/json")
	if mt == nil || mt.Schema == nil {
		return nil
	}
	return mt.Schema.Value
}

// deliberate lists the changes to the original contract this implementation
// makes on purpose (docs/differences.md): for these the
// response is checked against our description instead.
func deliberate(method, path string, status int) bool {
	switch {
	case strings.HasPrefix(path, "/api/v1/messages/") && method == "GET" && strings.Count(path, "/") == 4,
		path == "/api/v1/services" && method == "GET",
		strings.HasSuffix(path, "/sender-services"):
		return true // lists: page_size is the request's, next is a relative link
	}
	return false
}

// checkContract validates a response against the original contract, or ours
// for operations and statuses the original does not describe. Problem
// responses must always match ProblemJson.
func checkContract(t *testing.T, method, path string, status int, contentType string, body []byte) {
	t.Helper()
	contractsOnce.Do(loadContracts)
	if contractsErr != nil {
		t.Fatal(contractsErr)
	}
	orig, ours := operation(contracts["original"], method, path), operation(contracts["ours"], method, path)
	if (status == http.StatusNoContent || status == http.StatusAccepted) && len(body) == 0 ||
		strings.HasPrefix(contentType, "text/html") {
		if ours == nil || ours.Responses.Status(status) == nil {
			t.Fatalf("%s %s: %d is not in our API description", method, path, status)
		}
		return
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("%s %s: body is not JSON: %s", method, path, body)
	}
	if contentType == "application/problem+json" {
		problem := contracts["original"][0].doc.Components.Schemas["ProblemJson"].Value
		if err := problem.VisitJSON(v); err != nil {
			t.Fatalf("%s %s %d: not a ProblemJson: %v", method, path, status, err)
		}
		if m, _ := v.(map[string]any); m["title"] == nil || m["detail"] == nil || m["status"] != float64(status) {
			t.Fatalf("%s %s %d: problem without title, detail or status: %s", method, path, status, body)
		}
		return
	}
	schema, which := schemaFor(orig, status), "original"
	if schema == nil || deliberate(method, path, status) {
		schema, which = schemaFor(ours, status), "ours"
	}
	if schema == nil {
		if ours == nil {
			t.Fatalf("%s %s: no operation in our API description", method, path)
		}
		return // documented without a body schema
	}
	if err := oneOf(schema).VisitJSON(v); err != nil {
		t.Fatalf("%s %s %d does not match the %s contract: %v\n%s", method, path, status, which, err, body)
	}
}

// oneOf honours the original's x-one-of extension: an allOf marked x-one-of
// (Profile: LimitedProfile or ExtendedProfile) means exactly one of them.
func oneOf(s *openapi3.Schema) *openapi3.Schema {
	if x, ok := s.Extensions["x-one-of"]; !ok || x != true {
		return s
	}
	c := *s
	c.OneOf, c.AllOf, c.Extensions = c.AllOf, nil, nil
	return &c
}

// The checker must be able to fail: known-bad bodies are refused.
func TestContract_RejectsBadBodies(t *testing.T) {
	contractsOnce.Do(loadContracts)
	if contractsErr != nil {
		t.Fatal(contractsErr)
	}
	for _, c := range []struct {
		method, path string
		body         string
	}{
		{"GET", "/api/v1/messages/SPNDNL80R13C555X/01X", `{"message":{"id":"01X"}}`},
		{"GET", "/api/v1/profiles/SPNDNL80R13C555X", `{"preferred_languages":["it_IT"]}`},
		{"GET", "/api/v1/services/x", `{"service_id":"x"}`},
		{"GET", "/adm/services/x", `{"service_id":"x","authorized_cidrs":"nope"}`},
	} {
		var v any
		_ = json.Unmarshal([]byte(c.body), &v)
		s := schemaFor(operation(contracts["original"], c.method, c.path), 200)
		if s == nil {
			t.Fatalf("%s %s: no schema", c.method, c.path)
		}
		if err := oneOf(s).VisitJSON(v); err == nil {
			t.Errorf("%s %s accepted %s", c.method, c.path, c.body)
		}
	}
}
