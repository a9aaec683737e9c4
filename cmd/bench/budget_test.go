package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
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
// e-mail costs at most 9 AWS requests in the functions (process-message
// writes the message and its sender entry as two plain writes, not one
// transaction: a request more, half the write units).
func TestBudget_RequestsOfOneDeliveredEmail(t *testing.T) {
	const submitBudget, emailBudget = 2, 9
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
	p, err := onePath(context.Background(), s, c, citizens, 0)
	if err != nil {
		t.Fatalf("%v\n%s", err, logs.b.String())
	}
	for id, ops := range p.ByFunction {
		t.Logf("%-28s %v", id, ops)
	}
	t.Logf("one delivered e-mail: %d requests in the functions (budget %d), + %.1f by the mappings at batch size 10; "+
		"submit-message read the day's counters %d times (at most once a second per environment)",
		p.Functions, emailBudget, p.MappingsAtBatch10, p.CounterReads)
	if p.CounterReads > 1 {
		t.Errorf("one submission read the day's counters %d times", p.CounterReads)
	}

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

	// The same path with delivery callbacks for both facts (processed, the
	// e-mail sent): one SendMessage more in process-message and in
	// send-email; send-callback's own work is apart (its configuration read
	// at most every 5 s, the POST).
	if _, err := c.must(200, "PUT", "/api/v1/callback", fmt.Sprintf(`{"url":%q,"events":["message.processed","notification.sent"]}`,
		s.Callbacks.URL()), key); err != nil {
		t.Fatal(err)
	}
	withCallbacks, err := onePath(context.Background(), s, c, citizens, 2)
	if err != nil {
		t.Fatalf("%v\n%s", err, logs.b.String())
	}
	for _, f := range []string{"ProcessMessageFunction", "SendEmailFunction"} {
		if got, before := withCallbacks.ByFunction[f]["SQS.SendMessage"], p.ByFunction[f]["SQS.SendMessage"]; got != before+1 {
			t.Errorf("%s with callbacks: %d SendMessage, want %d", f, got, before+1)
		}
	}
	added := withCallbacks.Functions - p.Functions - sum(withCallbacks.ByFunction["SendCallbackFunction"])
	t.Logf("one delivered e-mail with callbacks for both facts: %d requests in the functions (+%d), send-callback %v",
		withCallbacks.Functions-sum(withCallbacks.ByFunction["SendCallbackFunction"]), added, withCallbacks.ByFunction["SendCallbackFunction"])
	if added != 2 {
		t.Errorf("callbacks for both facts added %d requests to the path, want 2", added)
	}

	// Notifying acts: a submission with third_party_data stays at 2 (its
	// configuration is checked in the message's own transaction); an
	// opening costs at most 4 (the conditional update, KMS Sign, the
	// receipt's put, message.opened's SendMessage).
	const openingBudget = 4
	acts, err := measureActs(context.Background(), s, c, admin, citizens, 10)
	if err != nil {
		t.Fatalf("%v\n%s", err, logs.b.String())
	}
	t.Logf("submit with third_party_data %v; an opening %v; of remote content %v; a read of remote content %v, p95 %.1f ms",
		acts.SubmitThirdParty, acts.Opening, acts.RemoteOpening, acts.RemoteFetch, acts.FetchLatency.P95)
	if n := sum(acts.SubmitThirdParty); n == 0 || n > submitBudget {
		t.Errorf("submit with third_party_data made %d AWS requests (%v), budget %d", n, acts.SubmitThirdParty, submitBudget)
	}
	if n := sum(acts.Opening); n == 0 || n > openingBudget || acts.Opening["KMS.Sign"] != 1 || acts.Opening["S3.PutObject"] != 1 {
		t.Errorf("an opening made %d AWS requests (%v), budget %d", n, acts.Opening, openingBudget)
	}
}

// The requests of one reminder (sweep, send-reminder, its e-mail) and of
// one payment receipt, counted as above; their budgets keep them from
// growing unnoticed (docs/delivery-guarantees.md).
func TestBudget_ReminderAndReceipt(t *testing.T) {
	const reminderBudget, receiptBudget = 9, 3
	root := awstest.RepoRoot(t)
	logs := &lockedBuffer{}
	admin := randomKey()
	params := map[string]string{"ReminderTimeScale": "3600"}
	for k, v := range unthrottled {
		params[k] = v
	}
	s, err := localstack.Start(context.Background(), localstack.Options{
		Template: filepath.Join(root, "template.yaml"), Bin: awstest.BuildFunctions(t), Addr: "127.0.0.1:0",
		Name: fmt.Sprintf("remind%d", time.Now().UnixNano()%1e6), Endpoints: awstest.LocalEndpoints(t), Concurrency: 2,
		AdminKey: admin, AdminEmail: "admin@budget.local", CountRequests: true, Logs: logs, Params: params,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c := client{api: s.URL, http: &http.Client{Timeout: time.Minute}}
	must := func(want int, method, path, body, key string) map[string]any {
		t.Helper()
		out, err := c.must(want, method, path, body, key)
		if err != nil {
			t.Fatalf("%v\n%s", err, logs.b.String())
		}
		return out
	}
	must(200, "POST", "/adm/services", `{"service_id":"tari","service_name":"TARI","organization_name":"Comune","department_name":"Tributi",
		"organization_fiscal_code":"02438750586","authorized_cidrs":[],"authorized_recipients":[],"max_allowed_payment_amount":100000}`, admin)
	must(200, "PUT", "/adm/users/dev@budget.local/groups", `{"groups":["ApiMessageWrite","ApiMessageWriteAdvanced","ApiMessageRead"]}`, admin)
	key := must(200, "PUT", "/adm/users/dev@budget.local/subscriptions/tari", `{"product_name":"IO"}`, admin)["primary_key"].(string)
	must(200, "POST", "/adm/services", `{"service_id":"pagopa","service_name":"Ricevute","organization_name":"PagoPA","department_name":"Pagamenti",
		"organization_fiscal_code":"15376371009","authorized_cidrs":[],"authorized_recipients":[]}`, admin)
	must(200, "PUT", "/adm/users/receipts@budget.local/groups", `{"groups":["ApiPaymentWrite"]}`, admin)
	payer := must(200, "PUT", "/adm/users/receipts@budget.local/subscriptions/pagopa", `{"product_name":"IO"}`, admin)["primary_key"].(string)
	citizen := fiscalCode(0)
	must(200, "POST", "/adm/development-profiles/"+citizen, `{"email":"citizen0@example.com"}`, admin)
	if err := settle(context.Background(), s, 1); err != nil {
		t.Fatal(err)
	}
	// Due in 200 s: the 7-day reminder (168 s before, at scale 3600) is due in 32 s.
	due := time.Now().Add(200 * time.Second).UTC().Format("2006-01-02T15:04:05Z")
	id := must(201, "POST", "/api/v1/messages/"+citizen, `{"feature_level_type":"ADVANCED","content":{"subject":"Avviso TARI 2026",
		"markdown":"# TARI\n\nGentile cittadino, è disponibile l'avviso di pagamento della TARI per il 2026, rata unica.",
		"due_date":"`+due+`","payment_data":{"amount":12000,"notice_number":"302000100000009901"}}}`, key)["id"].(string)
	path := "/api/v1/messages/" + citizen + "/" + id
	wait := func(cond func(map[string]any) bool) {
		t.Helper()
		for deadline := time.Now().Add(90 * time.Second); ; time.Sleep(200 * time.Millisecond) {
			if cond(must(200, "GET", path, "", key)) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("the notice never got there: %v", must(200, "GET", path, "", key))
			}
		}
	}
	wait(func(m map[string]any) bool { n, _ := m["notification"].(map[string]any); return n["email"] == "SENT" })
	time.Sleep(33 * time.Second)
	time.Sleep(300 * time.Millisecond)
	s.ResetStats()
	if _, err := s.RunScheduled(context.Background(), "SweepRemindersFunction"); err != nil {
		t.Fatal(err)
	}
	wait(func(m map[string]any) bool {
		rs, _ := m["reminders"].([]any)
		return len(rs) == 1 && rs[0].(map[string]any)["channels"].(map[string]any)["email"] == "SENT"
	})
	time.Sleep(300 * time.Millisecond)
	count := func(skip ...string) (int, map[string]map[string]int, float64) {
		total, by, mappings := 0, map[string]map[string]int{}, 0.0
		for fn, st := range s.Stats() {
			if slices.Contains(skip, fn) {
				continue
			}
			if len(st.Requests) > 0 {
				by[fn] = st.Requests
			}
			for _, n := range st.Requests {
				total += n
			}
			mappings += float64(st.Receives + st.Deletes)
		}
		return total, by, mappings
	}
	// getMessage's polls are the test's, not the reminder's; the sweep's
	// queries (one per shard) and backlog read are its own each minute,
	// whatever is due, and its SendMessageBatch carries ten reminders.
	sweep := s.Stats()["SweepRemindersFunction"].Requests
	t.Logf("a sweep: %v (once a minute; a batch carries ten reminders)", sweep)
	reminder, by, _ := count("GetMessageFunction", "AuthorizerFunction", "SweepRemindersFunction")
	for fn, ops := range by {
		t.Logf("reminder: %-26s %v", fn, ops)
	}
	t.Logf("one reminder (e-mail only): %d requests in send-reminder and send-email (budget %d), + 0.1 SendMessageBatch in the sweep, + 0.4 by the mappings at batch size 10",
		reminder, reminderBudget)
	if reminder == 0 || reminder > reminderBudget || sweep["SQS.SendMessageBatch"] != 1 {
		t.Errorf("one reminder costs %d requests (budget %d), its sweep %v", reminder, reminderBudget, sweep)
	}

	s.ResetStats()
	must(200, "POST", "/api/v1/payments", `{"notice_number":"302000100000009901","payee_fiscal_code":"02438750586",
		"fiscal_code":"`+citizen+`","amount":12000,"paid_at":"2026-11-30T10:00:00Z"}`, payer)
	time.Sleep(300 * time.Millisecond)
	receipt, by, _ := count("AuthorizerFunction")
	t.Logf("one receipt of a notice with one message: %d requests %v (budget %d)", receipt, by, receiptBudget)
	if receipt == 0 || receipt > receiptBudget {
		t.Errorf("one receipt costs %d requests, budget %d", receipt, receiptBudget)
	}
}
