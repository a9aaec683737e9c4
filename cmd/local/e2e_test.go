package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	apigw "github.com/aws/aws-sdk-go-v2/service/apigateway"

	"github.com/digital-citizenship/functions/pkg/awstest"
	"github.com/digital-citizenship/functions/pkg/subscriptions"
)

// TestMain runs the tests with every stack's AWS calls recorded, then
// checks them all against the functions' IAM policies (iam_test.go).
func TestMain(m *testing.M) { awstest.Main(iamChecked{m}) }

// stack is the local stack running in-process for a test, with the real
// function binaries built from this tree.
type stack struct {
	api      string
	endpoint string
	ddb      string // DynamoDB's endpoint, when the test started it
	logs     *syncBuffer
	name     string // the stack's prefix of resource names
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func startStack(t *testing.T, adminKey string, args ...string) *stack {
	t.Helper()
	return startStackOn(t, awstest.LocalEndpoints(t), adminKey, args...)
}

// startStackOn runs the stack on the emulators (or proxies) at eps.
func startStackOn(t *testing.T, eps awstest.Endpoints, adminKey string, args ...string) *stack {
	t.Helper()
	env := eps.Env()
	env["ADMIN_KEY"], env["LOCAL_API_ADDR"], env["LOCAL_WEBHOOK_ADDR"] = adminKey, "127.0.0.1:0", "127.0.0.1:0"
	env["LOCAL_CALLBACKS_ADDR"], env["LOCAL_REMOTE_CONTENT_ADDR"] = "127.0.0.1:0", "127.0.0.1:0"
	s := launchStack(t, func(k string) string { return env[k] }, args...)
	s.ddb = eps.DynamoDB
	return s
}

// launchStack runs cmd/local's run with getenv as its environment and waits
// for its ready line; the stack's endpoint is the moto_server it names.
func launchStack(t *testing.T, getenv func(string) string, args ...string) *stack {
	t.Helper()
	root, bin := awstest.RepoRoot(t), awstest.BuildFunctions(t)
	// Port 0: the stack picks a free port and names it in its ready line.
	stackName := fmt.Sprintf("e2e%d", time.Now().UnixNano()%1e6)
	s := &stack{logs: &syncBuffer{}, name: stackName}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		// The usage plan's throttling is lifted unless a test sets it
		// (later -param flags win): tests poll faster than a client should.
		base := []string{"-template", filepath.Join(root, "template.yaml"), "-bin", bin, "-stack", stackName,
			"-param", "ThrottleRateLimit=100000", "-param", "ThrottleBurstLimit=100000",
			"-iam-report", filepath.Join(iamReports, stackName+".json")}
		done <- run(ctx, append(base, args...), getenv, s.logs)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("local stack: %v", err)
		}
		if t.Failed() {
			dumpLogs(t, root, s.logs.String())
		}
	})
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		if m := readyLine.FindStringSubmatch(s.logs.String()); m != nil {
			s.api, s.endpoint = m[1], m[2]
			return s
		}
		select {
		case err := <-done:
			done <- nil // for the cleanup
			t.Fatalf("local stack stopped: %v\n%s", err, s.logs)
		case <-time.After(100 * time.Millisecond):
		}
	}
	t.Fatalf("local stack not serving after 90s:\n%s", s.logs)
	return nil
}

// dumpLogs keeps a failed test's stack logs in .build/test-logs and shows
// their end, so that the test's own failure stays near the end of the output.
func dumpLogs(t *testing.T, root, logs string) {
	name := strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())
	file := filepath.Join(root, ".build", "test-logs", name+".log")
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err == nil {
		err = os.WriteFile(file, []byte(logs), 0o644)
	}
	lines := strings.Split(strings.TrimRight(logs, "\n"), "\n")
	t.Logf("local stack logs in %s; the last %d lines:\n%s", file, min(len(lines), 12), strings.Join(lines[max(0, len(lines)-12):], "\n"))
}

var readyLine = regexp.MustCompile(`serving the API on (http://127\.0\.0\.1:\d+) .*SQS/SES/SNS (\S+);`)

type reply struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (s *stack) call(t *testing.T, key, method, path, body string, headers ...string) reply {
	t.Helper()
	req, err := http.NewRequest(method, s.api+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Ocp-Apim-Subscription-Key", key)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	r := reply{status: res.StatusCode, header: res.Header, raw: string(raw)}
	_ = json.Unmarshal(raw, &r.body)
	return r
}

func (s *stack) must(t *testing.T, want int, key, method, path, body string, headers ...string) reply {
	t.Helper()
	r := s.call(t, key, method, path, body, headers...)
	if r.status != want {
		t.Fatalf("%s %s: %d %s, want %d", method, path, r.status, r.raw, want)
	}
	return r
}

// waitFor polls getMessage until cond holds.
func (s *stack) waitFor(t *testing.T, key, location string, cond func(reply) bool) reply {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := s.must(t, 200, key, "GET", location, "")
		if cond(r) {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("message never reached the expected state: %s", r.raw)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (s *stack) recordedEmails(t *testing.T) []map[string]any {
	t.Helper()
	var data struct {
		SES struct{ Message []map[string]any } `json:"ses"`
	}
	awstest.MotoData(t, s.endpoint, &data)
	return data.SES.Message
}

var validationLink = regexp.MustCompile(`href="(http[^"]+/api/v1/validate-email\?token=[^"]+)"`)

// validateEmail follows the last validation link e-mailed to address, as
// its owner would, and returns the page.
func (s *stack) validateEmail(t *testing.T, address string) reply {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		link := ""
		for _, e := range s.recordedEmails(t) {
			to, _ := e["destinations"].(map[string]any)["ToAddresses"].([]any)
			if m := validationLink.FindStringSubmatch(fmt.Sprint(e["body"])); m != nil && len(to) == 1 && to[0] == address {
				link = html.UnescapeString(m[1])
			}
		}
		if link != "" {
			if !strings.HasPrefix(link, s.api+"/") {
				t.Fatalf("the link %q does not point to the stack's API %s", link, s.api)
			}
			r := s.must(t, 200, "", "GET", strings.TrimPrefix(link, s.api), "")
			if !strings.Contains(r.raw, "E-mail address confirmed") {
				t.Fatalf("validation page %s", r.raw)
			}
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("no validation link was e-mailed to %s", address)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

const markdown = "# Avviso\n\nGentile cittadino, **è disponibile** il nuovo avviso di pagamento della TARI per il 2026.\n\n* rata 1\n* rata 2\n"

func TestLocalStack_EndToEnd(t *testing.T) {
	admin := "e2e-admin-key-0123456789abcdef"
	s := startStack(t, admin)

	// The gateway refuses calls without a valid key before any function runs.
	for _, k := range []string{"", "not-a-key"} {
		r := s.must(t, 401, k, "GET", "/api/v1/info", "")
		if r.header.Get("Content-Type") != "application/problem+json" || r.body["title"] != "Unauthorized" {
			t.Fatalf("401 body %s", r.raw)
		}
	}
	s.must(t, 404, admin, "GET", "/api/v1/nowhere", "")
	s.must(t, 405, admin, "DELETE", "/api/v1/info", "")
	// A control character in the path reaches the real function decoded, as
	// API Gateway hands it over: a 400 problem, never a 502.
	for _, p := range []string{"/api/v1/services/%00", "/adm/services/%1F", "/api/v1/messages/%00/x"} {
		if r := s.must(t, 400, admin, "GET", p, ""); r.header.Get("Content-Type") != "application/problem+json" {
			t.Fatalf("GET %s: %s", p, r.raw)
		}
	}
	s.must(t, 200, admin, "GET", "/api/v1/info", "")

	// Provisioning: a service, its developer's groups, the subscription and keys.
	s.must(t, 200, admin, "POST", "/adm/services", `{"service_id":"tari-e2e","service_name":"TARI","organization_name":"Comune di Roma",
		"department_name":"Tributi","organization_fiscal_code":"02438750586","authorized_cidrs":[],"authorized_recipients":[],
		"max_allowed_payment_amount":50000}`)
	s.must(t, 200, admin, "PUT", "/adm/users/dev@comune.roma.it/groups", `{"groups":["ApiLimitedProfileRead","ApiMessageWrite","ApiMessageRead"]}`)
	sub := s.must(t, 200, admin, "PUT", "/adm/users/dev@comune.roma.it/subscriptions/tari-e2e", `{"product_name":"IO"}`)
	key := sub.body["primary_key"].(string)
	assertUsagePlanKey(t, s.endpoint, "tari-e2e")

	// The citizen's profile (the app backend's call; the admin has every group).
	citizen := "SPNDNL80R13C555X"
	s.must(t, 200, admin, "POST", "/api/v1/profiles/"+citizen, `{"email":"citizen-e2e@example.com","is_inbox_enabled":true,"version":0}`)
	s.validateEmail(t, "citizen-e2e@example.com") // e-mail goes to validated addresses only
	// The platform welcomes the citizen (in Italian: no language preferred)
	// before anything else reaches the inbox.
	s.inboxFrom(t, admin, citizen, "io-platform", 2)
	if r := s.must(t, 200, key, "GET", "/api/v1/profiles/"+citizen, ""); r.body["sender_allowed"] != true {
		t.Fatalf("limited profile %s", r.raw)
	}

	// A message, accepted at once and delivered asynchronously.
	subject := "Avviso TARI end-to-end " + time.Now().Format("150405.000")
	msg := fmt.Sprintf(`{"content":{"subject":%q,"markdown":%q,"payment_data":{"amount":12000,"notice_number":"012345678901234567"}}}`, subject, markdown)
	created := s.must(t, 201, key, "POST", "/api/v1/messages/"+strings.ToLower(citizen), msg, "Idempotency-Key", "e2e-1")
	location := created.header.Get("Location")
	if location != "/api/v1/messages/"+citizen+"/"+created.body["id"].(string) {
		t.Fatalf("Location %q", location)
	}
	replay := s.must(t, 201, key, "POST", "/api/v1/messages/"+citizen, msg, "Idempotency-Key", "e2e-1")
	if replay.body["id"] != created.body["id"] {
		t.Fatalf("replay created message %v, want %v", replay.body["id"], created.body["id"])
	}
	done := s.waitFor(t, key, location, func(r reply) bool {
		n, _ := r.body["notification"].(map[string]any)
		return n["email"] == "SENT"
	})
	if done.body["status"] != "PROCESSED" {
		t.Fatalf("delivered message %s", done.raw)
	}
	found := 0
	for _, e := range s.recordedEmails(t) {
		to, _ := e["destinations"].(map[string]any)["ToAddresses"].([]any)
		if e["subject"] == subject && len(to) == 1 && to[0] == "citizen-e2e@example.com" && strings.Contains(fmt.Sprint(e["body"]), "<strong>è disponibile</strong>") {
			found++
		}
	}
	if found != 1 {
		t.Fatalf("the emulator recorded %d such e-mails, want exactly 1", found)
	}

	// A body in ISO-8859-1, as a client sends it: API Gateway (and the local
	// API) hand it over with U+FFFD in place of the invalid byte, and it is
	// refused with a 400 that says why; nothing is created.
	latin1 := "{\"content\":{\"subject\":\"Avviso della Citt\xe0 di Roma\",\"markdown\":" + fmt.Sprintf("%q", markdown) + "}}"
	bad := s.must(t, 400, key, "POST", "/api/v1/messages/"+citizen, latin1)
	if bad.header.Get("Content-Type") != "application/problem+json" || !strings.Contains(fmt.Sprint(bad.body["detail"]), "not valid UTF-8") {
		t.Fatalf("an ISO-8859-1 body: %s", bad.raw)
	}

	// A citizen without a profile: the message is REJECTED, nothing is sent.
	rejected := s.must(t, 201, key, "POST", "/api/v1/messages/RSSMRA80A01H501U", msg)
	s.waitFor(t, key, rejected.header.Get("Location"), func(r reply) bool { return r.body["status"] == "REJECTED" })

	// The successors' form, with the fiscal code in the body, and the inbox,
	// newest first and paginated (the rejected message is not in it).
	inBody := fmt.Sprintf(`{"fiscal_code":"spndnl80r13c555x","content":{"subject":%q,"markdown":%q}}`, subject+" bis", markdown)
	second := s.must(t, 201, key, "POST", "/api/v1/messages", inBody)
	s.waitFor(t, key, second.header.Get("Location"), func(r reply) bool { return r.body["status"] == "PROCESSED" })
	page := s.must(t, 200, admin, "GET", "/api/v1/messages/"+citizen+"?page_size=1", "")
	items, _ := page.body["items"].([]any)
	if len(items) != 1 || items[0].(map[string]any)["id"] != second.body["id"] || page.body["page_size"] != float64(1) || page.body["next"] == nil {
		t.Fatalf("first page %s", page.raw)
	}
	next := s.must(t, 200, admin, "GET", page.body["next"].(string), "")
	items, _ = next.body["items"].([]any)
	if len(items) != 1 || items[0].(map[string]any)["id"] != created.body["id"] {
		t.Fatalf("second page %s", next.raw)
	}
	senders := s.must(t, 200, admin, "GET", "/api/v1/profiles/"+citizen+"/sender-services", "")
	if !strings.Contains(senders.raw, `"service_id":"tari-e2e"`) {
		t.Fatalf("sender services %s", senders.raw)
	}

	// Anonymous API descriptions and CORS preflights.
	spec := s.must(t, 200, "", "GET", "/specs/api/v1/swagger.json", "")
	if spec.body["swagger"] != "2.0" || spec.body["basePath"] != "/api/v1" {
		t.Fatalf("public spec %.200s", spec.raw)
	}
	s.must(t, 200, "", "GET", "/specs/adm/swagger.json", "")
	pre := s.must(t, 200, "", "OPTIONS", "/api/v1/messages", "")
	if pre.header.Get("Access-Control-Allow-Origin") != "*" || !strings.Contains(pre.header.Get("Access-Control-Allow-Headers"), "Ocp-Apim-Subscription-Key") {
		t.Fatalf("preflight headers %v", pre.header)
	}

	// A regenerated key replaces the old one at once.
	fresh := s.must(t, 200, admin, "PUT", "/adm/services/tari-e2e/keys", `{"key_type":"PRIMARY_KEY"}`)
	s.must(t, 401, key, "GET", "/api/v1/messages/"+location[len("/api/v1/messages/"):], "")
	s.must(t, 200, fresh.body["primary_key"].(string), "GET", location, "")

	// One log line per request, without personal data.
	logs := s.logs.String()
	if !strings.Contains(logs, "api POST /api/v1/messages/{fiscal_code} -> 201") || strings.Contains(logs, citizen) ||
		strings.Contains(logs, "citizen-e2e@example.com") || strings.Contains(logs, key) {
		t.Fatalf("logs leak personal data or miss requests:\n%s", logs)
	}
}

// assertUsagePlanKey checks that the subscription has its key in the usage
// plan the local stack created from the template.
func assertUsagePlanKey(t *testing.T, endpoint, subscriptionID string) {
	t.Helper()
	ctx := context.Background()
	c := apigw.NewFromConfig(awstest.Config(endpoint))
	plans, err := c.GetUsagePlans(ctx, &apigw.GetUsagePlansInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range plans.Items {
		keys, err := c.GetUsagePlanKeys(ctx, &apigw.GetUsagePlanKeysInput{UsagePlanId: p.Id})
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys.Items {
			if aws.ToString(k.Name) == subscriptionID && aws.ToString(k.Value) == subscriptions.UsageKey(subscriptionID) {
				return
			}
		}
	}
	t.Fatalf("subscription %s has no key in a usage plan", subscriptionID)
}
