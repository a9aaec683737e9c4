package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/digital-citizenship/functions/pkg/awstest"
	"github.com/digital-citizenship/functions/pkg/localstack"
)

func TestMain(m *testing.M) { awstest.Main(m) }

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// The request budgets, counted as make bench counts them (the SDK
// middleware of every function, through the local stack and the
// emulators): submit stores and enqueues and reads nothing, the service
// coming with the authorizer's answer, which is cached; one delivered
// e-mail costs at most 8 AWS requests in the functions.
func TestBudget_RequestsOfOneDeliveredEmail(t *testing.T) {
	const submitBudget, emailBudget = 2, 8
	root := awstest.RepoRoot(t)
	logs := &lockedBuffer{}
	admin := randomKey()
	s, err := localstack.Start(context.Background(), localstack.Options{
		Template: filepath.Join(root, "template.yaml"), Bin: awstest.BuildFunctions(t), Addr: "127.0.0.1:0",
		Name: fmt.Sprintf("budget%d", time.Now().UnixNano()%1e6), Endpoints: awstest.LocalEndpoints(t), Concurrency: 2,
		AdminKey: admin, AdminEmail: "admin@budget.local", CountRequests: true, Logs: logs, Params: unthrottled,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c := client{api: s.URL, http: &http.Client{Timeout: time.Minute}}
	citizens, key, err := provision(c, admin)
	if err != nil {
		t.Fatalf("%v\n%s", err, logs.b.String())
	}
	if err := settle(context.Background(), s, len(citizens)); err != nil {
		t.Fatal(err)
	}
	c.key = key
	p, err := onePath(context.Background(), s, c, citizens)
	if err != nil {
		t.Fatalf("%v\n%s", err, logs.b.String())
	}
	for id, ops := range p.ByFunction {
		t.Logf("%-28s %v", id, ops)
	}
	t.Logf("one delivered e-mail: %d requests in the functions (budget %d), + %.1f by the mappings at batch size 10",
		p.Functions, emailBudget, p.MappingsAtBatch10)

	submit := 0
	for _, n := range p.ByFunction["SubmitMessageFunction"] {
		submit += n
	}
	if submit == 0 || submit > submitBudget {
		t.Errorf("submit made %d AWS requests (%v), budget %d", submit, p.ByFunction["SubmitMessageFunction"], submitBudget)
	}
	if ops := p.ByFunction["AuthorizerFunction"]; len(ops) > 0 {
		t.Errorf("the authorizer read %v for a key it had answered: its answers are not cached", ops)
	}
	for _, f := range []string{"ProcessMessageFunction", "SendEmailFunction"} {
		if len(p.ByFunction[f]) == 0 {
			t.Errorf("%s made no AWS request: the path was not measured", f)
		}
	}
	if p.Functions > emailBudget {
		t.Errorf("one delivered e-mail costs %d AWS requests in the functions, budget %d", p.Functions, emailBudget)
	}
}
