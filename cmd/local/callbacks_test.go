package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/digital-citizenship/functions/pkg/awstest"
	"github.com/digital-citizenship/functions/pkg/callbacks"
	"github.com/digital-citizenship/functions/pkg/localstack"
	"github.com/digital-citizenship/functions/pkg/messages"
)

// callbackCalls are the calls the local stack's callbacks receiver got.
func (s *stack) callbackCalls(t *testing.T) (string, []localstack.WebhookCall) {
	t.Helper()
	res, err := http.Get(s.api + "/_local/callbacks")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out struct {
		URL   string                   `json:"url"`
		Calls []localstack.WebhookCall `json:"calls"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out.URL, out.Calls
}

// queueURL is the URL of one of the stack's queues, by logical id.
func (s *stack) queueURL(t *testing.T, q *sqs.Client, logicalID string) *string {
	t.Helper()
	u, err := q.GetQueueUrl(context.Background(), &sqs.GetQueueUrlInput{QueueName: aws.String(s.name + "-" + logicalID)})
	if err != nil {
		t.Fatalf("queue %s: %v", logicalID, err)
	}
	return u.QueueUrl
}

// sendToQueue sends body to one of the stack's queues, by logical id.
func (s *stack) sendToQueue(t *testing.T, logicalID, body string) {
	t.Helper()
	q := sqs.NewFromConfig(awstest.Config(s.endpoint))
	if _, err := q.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: s.queueURL(t, q, logicalID), MessageBody: aws.String(body)}); err != nil {
		t.Fatalf("send to %s: %v", logicalID, err)
	}
}

func (s *stack) setCallbacks(t *testing.T, mode string) {
	t.Helper()
	req, _ := http.NewRequest("PUT", s.api+"/_local/callbacks", strings.NewReader(`{"mode":"`+mode+`"}`))
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("set the callbacks receiver to %s: %v %v", mode, err, res)
	}
	res.Body.Close()
}

// TestLocalStack_Callbacks: a service with a callback gets, at the local
// receiver, message.processed and a notification.sent per channel (e-mail,
// push, webhook) for each of its messages, and message.rejected with its
// code, each signed with its secret, with its bearer token and reference
// and without the fiscal code. A receiver answering 500 gets the service's
// callbacks SUSPENDED after 25 failures (GET /api/v1/callback and the
// metrics line show it); a PUT resumes them, and every event is then
// delivered, none lost.
func TestLocalStack_Callbacks(t *testing.T) {
	admin := "callbacks-admin-key-0123456789ab"
	s := startStack(t, admin)
	s.must(t, 200, admin, "POST", "/adm/services", `{"service_id":"cb-svc","service_name":"Anagrafe","organization_name":"Comune di Torino",
		"department_name":"Anagrafe","organization_fiscal_code":"00514490010","authorized_cidrs":[],"authorized_recipients":[],
		"max_allowed_payment_amount":100000}`)
	s.must(t, 200, admin, "PUT", "/adm/users/cb@comune.torino.it/groups", `{"groups":["ApiMessageWrite","ApiMessageRead","ApiCallbackWrite"]}`)
	key := s.must(t, 200, admin, "PUT", "/adm/users/cb@comune.torino.it/subscriptions/cb-svc", `{"product_name":"IO"}`).body["primary_key"].(string)
	url, _ := s.callbackCalls(t)
	s.must(t, 404, key, "GET", "/api/v1/callback", "")
	// The local stack allows http and loopback, its receivers, and nothing
	// else that a deployed stack refuses: the metadata service, unspecified,
	// private and multicast addresses are refused here too, and create nothing.
	for _, bad := range []string{"http://169.254.169.254/latest/meta-data/", "http://[fd00:ec2::254]/", "http://[::ffff:169.254.169.254]/",
		"http://0.0.0.0:3002/", "http://10.0.0.1/", "http://224.0.0.1/"} {
		s.must(t, 400, key, "PUT", "/api/v1/callback", fmt.Sprintf(`{"url":%q}`, bad))
	}
	s.must(t, 404, key, "GET", "/api/v1/callback", "")
	put := s.must(t, 200, key, "PUT", "/api/v1/callback", fmt.Sprintf(`{"url":%q,"bearer_token":"torino-receiver-token"}`, url))
	secret := put.body["signing_secret"].(string)

	citizen := "CALLBK80A01Y501X"
	s.must(t, 200, admin, "POST", "/adm/development-profiles/"+citizen, `{"email":"callbacks-citizen@example.com"}`)
	s.must(t, 200, admin, "PUT", "/api/v1/installations/cb-phone", `{"fiscal_code":"`+citizen+`","platform":"fcm","push_channel":"fcm-token-cb"}`)
	body := func(ref string) string {
		return fmt.Sprintf(`{"reference":%q,"content":{"subject":"Il suo certificato è pronto","markdown":%q}}`, ref,
			strings.Repeat("Il certificato richiesto è disponibile nello sportello online del Comune. ", 2))
	}
	sent := map[string]string{} // message id -> reference
	for i := range 5 {
		ref := fmt.Sprintf("certificati-2026/%d", i)
		sent[s.must(t, 201, key, "POST", "/api/v1/messages/"+citizen, body(ref)).body["id"].(string)] = ref
	}
	rejected := s.must(t, 201, key, "POST", "/api/v1/messages/NOBODY80A01Y501X", body("nobody")).body["id"].(string)

	// Every fact once at least, signed; a duplicate keeps its id.
	want := func(ids map[string]string) int { return 4 * len(ids) }
	byFact := func(calls []localstack.WebhookCall) map[string]map[string]any {
		facts := map[string]map[string]any{}
		for _, c := range calls {
			if c.Answer != localstack.WebhookOK {
				continue
			}
			var e map[string]any
			if err := json.Unmarshal(c.Body, &e); err != nil {
				t.Fatalf("a callback body that is not JSON: %s", c.Body)
			}
			if !callbacks.Verify(secret, c.Header["X-Signature"], c.Body, time.Now(), 5*time.Minute) ||
				c.Header["Authorization"] != "Bearer torino-receiver-token" || strings.Contains(string(c.Body), citizen) {
				t.Fatalf("a callback not signed, without its token or with the fiscal code: %v %s", c.Header, c.Body)
			}
			k := fmt.Sprint(e["message_id"], " ", e["event"], " ", e["channel"])
			if prev, ok := facts[k]; ok && prev["id"] != e["id"] {
				t.Fatalf("the same fact under two ids: %v and %v", prev, e)
			}
			facts[k] = e
		}
		return facts
	}
	deadline := time.Now().Add(60 * time.Second)
	var facts map[string]map[string]any
	for {
		_, calls := s.callbackCalls(t)
		facts = byFact(calls)
		if len(facts) >= want(sent)+1 || time.Now().After(deadline) {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	for id, ref := range sent {
		for _, k := range []string{id + " message.processed <nil>", id + " notification.sent email", id + " notification.sent push",
			id + " notification.sent webhook"} {
			if e, ok := facts[k]; !ok || e["reference"] != ref {
				t.Fatalf("no callback %q with its reference (%d facts): %v", k, len(facts), e)
			}
		}
	}
	if e := facts[rejected+" message.rejected <nil>"]; e == nil || e["reason"] != "USER_NOT_FOUND" || e["status"] != "REJECTED" {
		t.Fatalf("the rejection's callback: %v", e)
	}

	// The citizen reads a message (the app backend says so; AUTO lets the
	// sender know), and two notices are paid: one by the payment system's
	// receipt, one recorded by the sender.
	waitFacts := func(keys ...string) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for {
			_, calls := s.callbackCalls(t)
			facts := byFact(calls)
			missing := ""
			for _, k := range keys {
				if facts[k] == nil {
					missing = k
				}
			}
			if missing == "" {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("no callback %q", missing)
			}
			time.Sleep(250 * time.Millisecond)
		}
	}
	var readID string
	for id := range sent {
		readID = id
		break
	}
	s.must(t, 200, admin, "PUT", "/api/v1/messages/"+citizen+"/"+readID+"/message-status", `{"change_type":"reading","is_read":true}`)
	notice := func(n string) string {
		return fmt.Sprintf(`{"content":{"subject":"Diritti di segreteria","markdown":%q,"payment_data":{"amount":5000,"notice_number":%q}}}`,
			strings.Repeat("Il pagamento dei diritti di segreteria per il certificato richiesto. ", 2), n)
	}
	byReceipt := s.must(t, 201, key, "POST", "/api/v1/messages/"+citizen, notice("302000100000009901"))
	bySender := s.must(t, 201, key, "POST", "/api/v1/messages/"+citizen, notice("302000100000009902"))
	for _, r := range []reply{byReceipt, bySender} {
		s.waitFor(t, key, r.header.Get("Location"), func(r reply) bool { return r.body["status"] == "PROCESSED" })
	}
	s.must(t, 200, admin, "POST", "/api/v1/payments", `{"notice_number":"302000100000009901","payee_fiscal_code":"00514490010",
		"fiscal_code":"`+citizen+`","amount":5000,"paid_at":"2026-12-06T10:00:00Z"}`)
	s.must(t, 200, key, "PUT", bySender.header.Get("Location")+"/payment-status", `{"status":"PAID"}`)
	waitFacts(readID+" message.read <nil>", byReceipt.body["id"].(string)+" message.paid <nil>", bySender.body["id"].(string)+" message.paid <nil>")

	// A webhook that keeps failing until its queue gives the event up: the
	// dead-letter queue's consumer marks the channel FAILED, and the sender
	// hears of it. (The test moves the event to the dead-letter queue as
	// SQS's redrive does after maxReceiveCount receives, without waiting for
	// every back-off.)
	s.setWebhook(t, "500")
	ref := "certificati-2026/webhook-given-up"
	given := s.must(t, 201, key, "POST", "/api/v1/messages/"+citizen, body(ref))
	givenID := given.body["id"].(string)
	m := s.waitFor(t, key, given.header.Get("Location"), func(r reply) bool { return channelsOf(r)["webhook"] == "THROTTLED" })
	created, _ := time.Parse(time.RFC3339Nano, fmt.Sprint(m.body["message"].(map[string]any)["created_at"]))
	ev, _ := json.Marshal(messages.NotificationEvent{Channel: "WEBHOOK", Message: messages.EventMessage{ID: givenID, FiscalCode: citizen,
		SenderServiceID: "cb-svc", CreatedAt: created, Reference: ref, Callbacks: callbacks.AllEvents}})
	s.sendToQueue(t, "WebhookDeadLetterQueue", string(ev))
	waitFacts(givenID + " notification.failed webhook")
	_, calls := s.callbackCalls(t)
	if e := byFact(calls)[givenID+" notification.failed webhook"]; e["reason"] != messages.ReasonGivenUp || e["status"] != "FAILED" || e["reference"] != ref {
		t.Fatalf("the given-up webhook's callback: %v", e)
	}
	s.setWebhook(t, "ok")
	if m := s.must(t, 200, key, "GET", given.header.Get("Location"), ""); channelsOf(m)["webhook"] != "FAILED" {
		t.Fatalf("the given-up webhook: %s", m.raw)
	}

	// The receiver answers 500: SUSPENDED after 25 failures in 5 minutes.
	s.setCallbacks(t, "500")
	failing := map[string]string{}
	for i := range 8 {
		ref := fmt.Sprintf("certificati-2026/failing-%d", i)
		failing[s.must(t, 201, key, "POST", "/api/v1/messages/"+citizen, body(ref)).body["id"].(string)] = ref
	}
	deadline = time.Now().Add(3 * time.Minute)
	for {
		g := s.must(t, 200, key, "GET", "/api/v1/callback", "")
		if g.body["status"] == "SUSPENDED" {
			if f, _ := g.body["recent_failures"].([]any); len(f) == 0 || !strings.Contains(g.raw, "HTTP 500") || g.body["suspended_at"] == nil {
				t.Fatalf("suspended without its failures: %s", g.raw)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("never suspended: %s", g.raw)
		}
		time.Sleep(time.Second)
	}
	for deadline := time.Now().Add(15 * time.Second); !strings.Contains(s.logs.String(), "callbacks suspended cb-svc 1"); {
		if time.Now().After(deadline) {
			t.Fatal("the metrics line never showed the suspension")
		}
		time.Sleep(200 * time.Millisecond)
	}
	// Resumed by a PUT, with the receiver answering again: every event of
	// the failing messages arrives.
	s.setCallbacks(t, "ok")
	secret = s.must(t, 200, key, "PUT", "/api/v1/callback", fmt.Sprintf(`{"url":%q,"bearer_token":"torino-receiver-token"}`, url)).body["signing_secret"].(string)
	if g := s.must(t, 200, key, "GET", "/api/v1/callback", ""); g.body["status"] != "ACTIVE" {
		t.Fatalf("after the PUT: %s", g.raw)
	}
	_, before := s.callbackCalls(t)
	deadline = time.Now().Add(4 * time.Minute)
	for {
		_, calls := s.callbackCalls(t)
		facts = byFact(calls[len(before):])
		missing := 0
		for id := range failing {
			for _, k := range []string{" message.processed <nil>", " notification.sent email", " notification.sent push", " notification.sent webhook"} {
				if facts[id+k] == nil {
					missing++
				}
			}
		}
		if missing == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d callbacks of %d never arrived after the resume", missing, want(failing))
		}
		time.Sleep(time.Second)
	}

	// A callback given up on after send-callback crashed on it 10 times
	// (the test puts it in the dead-letter queue as SQS's redrive does) is
	// found by dcp dlq list and show, and delivered after dcp dlq redrive.
	lost := callbacks.NewTestEvent("cb-svc", time.Now())
	ev, _ = json.Marshal(lost)
	s.sendToQueue(t, "CallbacksDeadLetterQueue", string(ev))
	dcp := buildDCP(t, t.TempDir())
	dlq := func(args ...string) string {
		t.Helper()
		c := exec.Command(dcp, append([]string{"dlq", "--stack", s.name, "--endpoint-url", s.endpoint}, args...)...)
		// As a newcomer runs it against make run: no AWS settings at all.
		c.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "AWS_") })
		out, err := c.CombinedOutput()
		if err != nil {
			t.Fatalf("dcp dlq %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	if out := dlq("list"); !regexp.MustCompile(`CallbacksDeadLetterQueue\s+1\s+0\s+\d+s\s+CallbacksQueue\s+docs/runbooks.md#callbacksdeadletterqueue`).MatchString(out) {
		t.Fatalf("dcp dlq list:\n%s", out)
	}
	if out := dlq("show", "Callbacks"); !strings.Contains(out, "id="+lost.ID) || !strings.Contains(out, "event=callback.test") || !strings.Contains(out, "service_id=cb-svc") {
		t.Fatalf("dcp dlq show:\n%s", out)
	}
	if out := dlq("redrive", "Callbacks", "--dry-run"); !strings.Contains(out, "1 message would go back (nothing moved): 1 to CallbacksQueue") {
		t.Fatalf("dcp dlq redrive --dry-run:\n%s", out)
	}
	if out := dlq("redrive", "CallbacksDeadLetterQueue"); !strings.Contains(out, "1 message sent back: 1 to CallbacksQueue") {
		t.Fatalf("dcp dlq redrive:\n%s", out)
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(200 * time.Millisecond) {
		_, calls := s.callbackCalls(t)
		if slices.ContainsFunc(calls, func(c localstack.WebhookCall) bool { return strings.Contains(string(c.Body), lost.ID) }) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the redriven callback never arrived")
		}
	}
	if out := dlq("list"); !regexp.MustCompile(`CallbacksDeadLetterQueue\s+0\s`).MatchString(out) {
		t.Fatalf("dcp dlq list after the redrive:\n%s", out)
	}

	s.must(t, 204, key, "DELETE", "/api/v1/callback", "")
	s.must(t, 404, key, "GET", "/api/v1/callback", "")
}
