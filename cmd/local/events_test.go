package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/digital-citizenship/functions/pkg/awstest"
	"github.com/digital-citizenship/functions/pkg/sam"
)

// expectation is what running one committed event must give.
type expectation struct {
	Status            int    `json:"status"`            // API functions
	Effect            string `json:"effect"`            // the authorizer
	Error             string `json:"error"`             // an error the function returns
	BatchItemFailures *int   `json:"batchItemFailures"` // queue consumers
	Done              bool   `json:"done"`              // scheduled functions: no error, no result
}

// TestEvents runs every committed sample event (events/<function>/<case>.json,
// usable with `sam local invoke -e`) through its real function on the local
// stack, through Lambda's Invoke API, and checks the outcome.
func TestEvents(t *testing.T) {
	root := awstest.RepoRoot(t)
	tmpl, err := sam.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	byDir := map[string]string{}
	for _, f := range tmpl.Functions() {
		byDir[f.Dir] = f.LogicalID
	}
	raw, err := os.ReadFile(filepath.Join(root, "events", "expectations.json"))
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]expectation
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	covered := map[string]bool{}
	files, _ := filepath.Glob(filepath.Join(root, "events", "*", "*.json"))
	for _, f := range files {
		rel, _ := filepath.Rel(filepath.Join(root, "events"), f)
		if _, ok := want[filepath.ToSlash(rel)]; !ok {
			t.Errorf("events/%s has no expectation in events/expectations.json", rel)
		}
		covered[filepath.Dir(rel)] = true
	}
	for dir := range byDir {
		if !covered[dir] {
			t.Errorf("function %s has no sample event under events/%s/", byDir[dir], dir)
		}
	}

	s := startStack(t, "events-admin-key-0123456789abcdef")
	names := make([]string, 0, len(want))
	for name := range want {
		names = append(names, name)
	}
	sort.Strings(names) // upsert-profile/create runs before get-messages-by-user needs nothing else
	for _, name := range names {
		exp := want[name]
		t.Run(name, func(t *testing.T) {
			fn := byDir[strings.Split(name, "/")[0]]
			if fn == "" {
				t.Fatalf("no function for events/%s", name)
			}
			body, err := os.ReadFile(filepath.Join(root, "events", name))
			if err != nil {
				t.Fatal(err)
			}
			res, err := http.Post(s.api+"/2015-03-31/functions/"+fn+"/invocations", "application/json", strings.NewReader(string(body)))
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			var out map[string]any
			if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
				t.Fatal(err)
			}
			if fnErr := res.Header.Get("X-Amz-Function-Error"); fnErr != "" || exp.Error != "" {
				if out["errorMessage"] != exp.Error || exp.Error == "" {
					t.Fatalf("function error %v, want %q", out, exp.Error)
				}
				return
			}
			b, _ := json.Marshal(out)
			switch {
			case exp.Status != 0:
				var r events.APIGatewayProxyResponse
				_ = json.Unmarshal(b, &r)
				if r.StatusCode != exp.Status {
					t.Fatalf("status %d, want %d: %s", r.StatusCode, exp.Status, r.Body)
				}
				if strings.Contains(r.Body, "never-echoed") {
					t.Fatal("debug echoed a subscription key")
				}
			case exp.Effect != "":
				var r events.APIGatewayCustomAuthorizerResponse
				_ = json.Unmarshal(b, &r)
				if len(r.PolicyDocument.Statement) != 1 || r.PolicyDocument.Statement[0].Effect != exp.Effect {
					t.Fatalf("policy %s, want %s", b, exp.Effect)
				}
			case exp.BatchItemFailures != nil:
				var r events.SQSEventResponse
				_ = json.Unmarshal(b, &r)
				if len(r.BatchItemFailures) != *exp.BatchItemFailures {
					t.Fatalf("batch item failures %s, want %d", b, *exp.BatchItemFailures)
				}
			case exp.Done:
				if out != nil {
					t.Fatalf("result %s, want none", b)
				}
			default:
				t.Fatalf("events/expectations.json says nothing about %s", name)
			}
		})
	}
}
