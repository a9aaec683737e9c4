package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/digital-citizenship/functions/pkg/awstest"
	"github.com/digital-citizenship/functions/pkg/messages"
)

// faultProxy stands between the functions and an emulator: it passes
// requests on unless told to fail them, and can stop listening (the
// endpoint is unreachable: connections are refused) and come back on the
// same port.
type faultProxy struct {
	addr  string
	proxy *httputil.ReverseProxy

	mu   sync.Mutex
	srv  *http.Server
	down bool
	// inject, when set, may answer a request itself: it returns the status
	// and body to answer with, or 0 to pass the request on. abort drops the
	// connection without an answer.
	inject func(r *http.Request, body []byte) (status int, header http.Header, answer string, abort bool)
	// observe sees every request passed on and its answer's status.
	observe func(r *http.Request, body []byte, status int)
	// lose, when it says so, passes the request on and loses the answer:
	// the write lands, the sender sees its connection cut.
	lose func(r *http.Request, body []byte) bool
	// sending counts the sends (SES, SNS Publish) in flight; cut, those
	// that going down cut off: their outcome is unknown to the sender.
	sending, cut atomic.Int32
}

// isSend tells a request that delivers a notification.
func isSend(r *http.Request, body []byte) bool {
	return strings.HasSuffix(r.URL.Path, "/outbound-emails") || bytes.Contains(body, []byte("Action=Publish&"))
}

func startFaultProxy(t *testing.T, upstream string) *faultProxy {
	t.Helper()
	u, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	p := &faultProxy{addr: "127.0.0.1:0", proxy: httputil.NewSingleHostReverseProxy(u)}
	p.proxy.ErrorLog = log.New(io.Discard, "", 0) // cut connections are the point
	if err := p.listen(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.mu.Lock(); defer p.mu.Unlock(); _ = p.srv.Close() })
	return p
}

func (p *faultProxy) url() string { return "http://" + p.addr }

func (p *faultProxy) listen() error {
	l, err := net.Listen("tcp", p.addr)
	if err != nil {
		return err
	}
	p.addr = l.Addr().String()
	p.srv = &http.Server{Handler: http.HandlerFunc(p.serve), ReadHeaderTimeout: 10 * time.Second}
	go func(s *http.Server) { _ = s.Serve(l) }(p.srv)
	return nil
}

// setDown makes the endpoint unreachable (in-flight requests are cut) or
// brings it back.
func (p *faultProxy) setDown(t *testing.T, down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if down == p.down {
		return
	}
	p.down = down
	if down {
		p.cut.Add(p.sending.Load())
		_ = p.srv.Close()
		return
	}
	if err := p.listen(); err != nil {
		t.Errorf("bring the endpoint back: %v", err)
	}
}

func (p *faultProxy) set(inject func(*http.Request, []byte) (int, http.Header, string, bool)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.inject = inject
}

func (p *faultProxy) setLose(lose func(*http.Request, []byte) bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lose = lose
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) { s.status = code; s.ResponseWriter.WriteHeader(code) }

func (p *faultProxy) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	p.mu.Lock()
	inject, observe, lose := p.inject, p.observe, p.lose
	p.mu.Unlock()
	if lose != nil && lose(r, body) {
		// The write lands even if its sender is gone meanwhile (killed).
		p.proxy.ServeHTTP(httptest.NewRecorder(), r.WithContext(context.WithoutCancel(r.Context())))
		panic(http.ErrAbortHandler)
	}
	if inject != nil {
		if status, header, answer, abort := inject(r, body); abort {
			panic(http.ErrAbortHandler) // the connection drops without an answer
		} else if status != 0 {
			for k, v := range header {
				w.Header()[k] = v
			}
			w.WriteHeader(status)
			_, _ = io.WriteString(w, answer)
			return
		}
	}
	rec := &statusRecorder{ResponseWriter: w, status: 200}
	if isSend(r, body) {
		p.sending.Add(1)
		defer p.sending.Add(-1)
	}
	p.proxy.ServeHTTP(rec, r)
	if observe != nil {
		observe(r, body, rec.status)
	}
}

var (
	ulid = regexp.MustCompile(`[0-9A-HJKMNP-TV-Z]{26}`)
	// messageKey is a message's sort key in a DynamoDB request.
	messageKey = regexp.MustCompile(`MSG#[0-9A-HJKMNP-TV-Z]{26}`)
)

// faultCounts is what one fault test found once every message settled.
type faultCounts struct {
	Accepted, Final                   int
	Emails, Pushes, Webhooks          int
	DupEmails, DupPushes, DupWebhooks int
	Statuses                          map[string]int // "channel:STATUS"
}

func (c faultCounts) String() string {
	keys := make([]string, 0, len(c.Statuses))
	for k := range c.Statuses {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var st []string
	for _, k := range keys {
		st = append(st, fmt.Sprintf("%s=%d", k, c.Statuses[k]))
	}
	return fmt.Sprintf("accepted %d, final %d, lost %d; e-mails %d, pushes %d, webhook calls %d; duplicates e-mail %d, push %d, webhook %d; %s",
		c.Accepted, c.Final, c.Accepted-c.Final, c.Emails, c.Pushes, c.Webhooks, c.DupEmails, c.DupPushes, c.DupWebhooks, strings.Join(st, " "))
}

// faultRig is the local stack behind fault proxies, a service and a
// citizen with an e-mail address, two devices and the webhook.
type faultRig struct {
	*stack
	moto, ddb *faultProxy
	key       string
	citizen   string
	report    *os.File

	mu sync.Mutex
	// sentAt and recordedAt time each e-mail's SES answer and its SENT
	// record, by message id: the crash window between them.
	sentAt, recordedAt map[string]time.Time
}

const faultAdmin = "faults-admin-key-0123456789abcdef"

func newFaultRig(t *testing.T) *faultRig {
	eps := awstest.LocalEndpoints(t)
	r := &faultRig{moto: startFaultProxy(t, eps.AWS), ddb: startFaultProxy(t, eps.DynamoDB), citizen: "SPNDNL80R13C555X",
		sentAt: map[string]time.Time{}, recordedAt: map[string]time.Time{}}
	// A shorter lease than AWS's and a quick webhook timeout: a crashed
	// attempt's redelivery (after the queue's visibility timeout, 30 s)
	// finds its claim expired. The lease still outlasts what an attempt
	// takes from its claim to its record under throttling (SDK back-offs,
	// persist's retries): a lease of 3 s let a second event of the same
	// e-mail (process-message's fan-out retried after one queue refused)
	// claim the channel while the first attempt was still recording, and
	// send it again, once in a CI run. In AWS the lease outlasts the
	// functions' timeout (ClaimLeaseSeconds >= 31), so that never happens.
	r.stack = startStackOn(t, awstest.Endpoints{AWS: r.moto.url(), DynamoDB: r.ddb.url()}, faultAdmin,
		"-param", "ClaimLeaseSeconds=10", "-param", "WebhookTimeoutSeconds=2", "-param", "RequeueAfterSeconds=2")
	r.stack.endpoint = eps.AWS // the emulator itself, for what it recorded
	r.moto.observe = func(req *http.Request, body []byte, status int) {
		if strings.HasSuffix(req.URL.Path, "/outbound-emails") && status == 200 {
			if id := ulid.Find(body); id != nil {
				r.mu.Lock()
				r.sentAt[string(id)] = time.Now()
				r.mu.Unlock()
			}
		}
	}
	r.ddb.observe = func(req *http.Request, body []byte, status int) {
		if isEmailRecord(req, body) && status == 200 {
			if id := ulid.Find(body); id != nil {
				r.mu.Lock()
				r.recordedAt[string(id)] = time.Now()
				r.mu.Unlock()
			}
		}
	}
	// Redeliveries after a crash within 30 s, the functions' timeout (as
	// Lambda requires), not the template's 3 minutes.
	q := sqs.NewFromConfig(awstest.Config(eps.AWS))
	for _, id := range []string{"CreatedMessagesQueue", "CreatedMessagesPriorityQueue", "CreatedMessagesBulkQueue", "EmailQueue",
		"EmailPriorityQueue", "EmailBulkQueue", "PushQueue", "PushPriorityQueue", "PushBulkQueue", "WebhookQueue"} {
		if _, err := q.SetQueueAttributes(context.Background(), &sqs.SetQueueAttributesInput{QueueUrl: r.queueURL(t, q, id),
			Attributes: map[string]string{string(sqstypes.QueueAttributeNameVisibilityTimeout): "30"}}); err != nil {
			t.Fatal(err)
		}
	}
	r.must(t, 200, faultAdmin, "POST", "/adm/services", `{"service_id":"faults","service_name":"TARI","organization_name":"Comune di Roma",
		"department_name":"Tributi","organization_fiscal_code":"02438750586","authorized_cidrs":[],"authorized_recipients":[],
		"max_allowed_payment_amount":50000}`)
	r.must(t, 200, faultAdmin, "PUT", "/adm/users/faults@comune.roma.it/groups", `{"groups":["ApiMessageWrite","ApiMessageRead"]}`)
	r.key = r.must(t, 200, faultAdmin, "PUT", "/adm/users/faults@comune.roma.it/subscriptions/faults", `{"product_name":"IO"}`).body["primary_key"].(string)
	r.must(t, 200, faultAdmin, "POST", "/api/v1/profiles/"+r.citizen, `{"email":"citizen-faults@example.com","is_inbox_enabled":true,"is_webhook_enabled":true,"version":0}`)
	r.validateEmail(t, "citizen-faults@example.com")
	r.must(t, 200, faultAdmin, "PUT", "/api/v1/installations/faults-iphone", `{"fiscal_code":"`+r.citizen+`","platform":"apns","push_channel":"`+strings.Repeat("cd", 32)+`"}`)
	r.must(t, 200, faultAdmin, "PUT", "/api/v1/installations/faults-pixel", `{"fiscal_code":"`+r.citizen+`","platform":"fcm","push_channel":"fcm-token-faults"}`)
	root := awstest.RepoRoot(t)
	_ = os.MkdirAll(filepath.Join(root, ".build"), 0o755)
	f, err := os.Create(filepath.Join(root, ".build", "faults.txt"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Close() })
	r.report = f
	return r
}

// isEmailRecord tells the DynamoDB request that records an e-mail SENT.
func isEmailRecord(req *http.Request, body []byte) bool {
	return req.Header.Get("X-Amz-Target") == "DynamoDB_20120810.UpdateItem" && bytes.Contains(body, []byte(`{"S":"SENT"}`)) &&
		bytes.Contains(body, []byte(`"EMAIL"`))
}

// load submits n messages, about rate per second, the way a careful client
// does: a 5xx or a dropped connection is retried with the same
// Idempotency-Key. fault runs once a third of them are submitted. It
// returns the accepted messages' locations by id.
func (r *faultRig) load(t *testing.T, tag string, n int, fault func()) map[string]string {
	t.Helper()
	accepted := map[string]string{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	var faulted atomic.Bool
	for i := range n {
		if i == n/3 && fault != nil && !faulted.Swap(true) {
			wg.Go(fault)
		}
		wg.Go(func() {
			body := fmt.Sprintf(`{"content":{"subject":"Avviso %s %03d","markdown":%q}}`, tag, i, markdown)
			deadline := time.Now().Add(60 * time.Second)
			for time.Now().Before(deadline) {
				req, _ := http.NewRequest("POST", r.api+"/api/v1/messages/"+r.citizen, strings.NewReader(body))
				req.Header.Set("Ocp-Apim-Subscription-Key", r.key)
				req.Header.Set("Idempotency-Key", fmt.Sprintf("%s-%s-%d", r.name, tag, i))
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					time.Sleep(500 * time.Millisecond)
					continue
				}
				raw, _ := io.ReadAll(res.Body)
				res.Body.Close()
				switch {
				case res.StatusCode == 201:
					mu.Lock()
					accepted[ulid.FindString(res.Header.Get("Location"))] = res.Header.Get("Location")
					mu.Unlock()
					return
				case res.StatusCode >= 500 || res.StatusCode == 429:
					time.Sleep(500 * time.Millisecond)
				default:
					t.Errorf("message %d: %d %s", i, res.StatusCode, raw)
					return
				}
			}
			t.Errorf("message %d never accepted", i)
		})
		time.Sleep(100 * time.Millisecond)
	}
	wg.Wait()
	return accepted
}

// submitOnce submits n messages the way a client that does not retry
// does, with an Idempotency-Key or without, and returns the answers'
// statuses and the accepted messages' locations by id.
func (r *faultRig) submitOnce(t *testing.T, tag string, n int, keyed bool) (map[int]int, map[string]string) {
	t.Helper()
	statuses, accepted := map[int]int{}, map[string]string{}
	for i := range n {
		body := fmt.Sprintf(`{"content":{"subject":"Avviso %s %03d","markdown":%q}}`, tag, i, markdown)
		headers := []string{}
		if keyed {
			headers = []string{"Idempotency-Key", fmt.Sprintf("%s-%s-%d", r.name, tag, i)}
		}
		res := r.call(t, r.key, "POST", "/api/v1/messages/"+r.citizen, body, headers...)
		statuses[res.status]++
		if res.status == 201 {
			accepted[ulid.FindString(res.header.Get("Location"))] = res.header.Get("Location")
		}
	}
	return statuses, accepted
}

// settle waits until every accepted message is in a final status on every
// channel, then counts what was delivered.
func (r *faultRig) settle(t *testing.T, accepted map[string]string) faultCounts {
	t.Helper()
	c := faultCounts{Accepted: len(accepted), Statuses: map[string]int{}}
	final := map[string]reply{}
	deadline := time.Now().Add(150 * time.Second)
	for len(final) < len(accepted) && time.Now().Before(deadline) {
		for id, loc := range accepted {
			if _, ok := final[id]; ok {
				continue
			}
			res := r.call(t, r.key, "GET", loc, "")
			if res.status == 200 && settled(res) {
				final[id] = res
			}
		}
		if len(final) < len(accepted) {
			time.Sleep(time.Second)
		}
	}
	c.Final = len(final)
	for id := range accepted {
		if _, ok := final[id]; !ok {
			t.Errorf("message %s never settled: %s", id, r.call(t, r.key, "GET", accepted[id], "").raw)
		}
	}
	for _, res := range final {
		c.Statuses["message:"+fmt.Sprint(res.body["status"])]++
		for ch, st := range channelsOf(res) {
			c.Statuses[ch+":"+fmt.Sprint(st)]++
		}
	}
	// What reached the citizen, by message.
	emails := map[string]int{}
	subjects := map[string]string{}
	for id, res := range final {
		content, _ := res.body["message"].(map[string]any)["content"].(map[string]any)
		subjects[fmt.Sprint(content["subject"])] = id
	}
	for _, e := range r.recordedEmails(t) {
		if id, ok := subjects[fmt.Sprint(e["subject"])]; ok {
			emails[id]++
		}
	}
	pushes := map[string]int{}
	for arn, msgs := range r.pushes(t) {
		for _, m := range msgs {
			if id := ulid.FindString(m); accepted[id] != "" {
				pushes[id+" "+arn]++
			}
		}
	}
	webhooks := map[string]int{}
	for _, call := range r.webhookCalls(t) {
		if id := call.Body.Message.ID; accepted[id] != "" && call.Answer == "ok" {
			webhooks[id]++
		}
	}
	for _, m := range []struct {
		by       map[string]int
		sum, dup *int
	}{{emails, &c.Emails, &c.DupEmails}, {pushes, &c.Pushes, &c.DupPushes}, {webhooks, &c.Webhooks, &c.DupWebhooks}} {
		for _, n := range m.by {
			*m.sum += n
			*m.dup += n - 1
		}
	}
	// Every SENT channel reached its target; nothing FAILED was delivered
	// twice.
	for id, res := range final {
		n := channelsOf(res)
		if n["email"] == "SENT" && emails[id] == 0 {
			t.Errorf("message %s: e-mail SENT but none recorded", id)
		}
		if n["webhook"] == "SENT" && webhooks[id] == 0 {
			t.Errorf("message %s: webhook SENT but the app backend got nothing", id)
		}
	}
	return c
}

func settled(r reply) bool {
	switch r.body["status"] {
	case "PROCESSED":
	case "REJECTED", "FAILED":
		return true
	default:
		return false
	}
	for _, ch := range []string{"email", "push", "webhook"} {
		switch channelsOf(r)[ch] {
		case "SENT", "FAILED", "EXPIRED":
		default:
			return false
		}
	}
	return true
}

func (r *faultRig) print(t *testing.T, name string, c faultCounts, extra string) {
	t.Helper()
	line := fmt.Sprintf("%-34s %s%s", name+":", c, extra)
	t.Log(line)
	fmt.Fprintln(r.report, line)
}

// TestFaults breaks the platform on purpose, through the local stack with
// real processes, and counts what every message got afterwards: every
// accepted message reaches a final status on every channel (zero lost),
// and nothing is delivered twice except inside the crash window between a
// send and its record. The counts go to .build/faults.txt, which make test
// prints.
func TestFaults(t *testing.T) {
	r := newFaultRig(t)
	throttle := func(target string, share float64, typ string) func(*http.Request, []byte) (int, http.Header, string, bool) {
		return func(req *http.Request, _ []byte) (int, http.Header, string, bool) {
			if !strings.HasPrefix(req.Header.Get("X-Amz-Target"), target) || rand.Float64() >= share {
				return 0, nil, "", false
			}
			return 400, http.Header{"Content-Type": {"application/x-amz-json-1.0"}, "X-Amzn-Query-Error": {typ + ";Sender"}},
				`{"__type":"` + typ + `","message":"Rate exceeded"}`, false
		}
	}
	check := func(t *testing.T, c faultCounts, dupsAllowed int) {
		t.Helper()
		if c.Final != c.Accepted || c.Accepted == 0 {
			t.Errorf("lost %d of %d accepted messages", c.Accepted-c.Final, c.Accepted)
		}
		if dups := c.DupEmails + c.DupPushes + c.DupWebhooks; dups > dupsAllowed {
			t.Errorf("%d duplicates, %d allowed", dups, dupsAllowed)
		}
	}

	t.Run("emulators unreachable for 4s", func(t *testing.T) {
		acc := r.load(t, "down", 30, func() {
			r.moto.setDown(t, true)
			r.ddb.setDown(t, true)
			time.Sleep(4 * time.Second)
			r.moto.setDown(t, false)
			r.ddb.setDown(t, false)
		})
		c := r.settle(t, acc)
		// A send whose answer the outage cut off may have been delivered:
		// its retry is a duplicate inside the window.
		cut := int(r.moto.cut.Load())
		r.print(t, "emulators unreachable 4s", c, fmt.Sprintf("; sends cut off in flight %d", cut))
		check(t, c, cut)
	})
	t.Run("DynamoDB and SQS throttling", func(t *testing.T) {
		// 30% at random, and the first three deliveries (process-message's
		// update of the message to PROCESSED) every time, so that a retry
		// after the queue's back-off always happens.
		random := throttle("DynamoDB_20120810.", 0.3, "ThrottlingException")
		// One message's: the SDK's three attempts all throttled, whatever
		// the other messages' deliveries do meanwhile.
		var delivers atomic.Int32
		var first sync.Once
		var pinned string
		r.ddb.set(func(req *http.Request, body []byte) (int, http.Header, string, bool) {
			if req.Header.Get("X-Amz-Target") != "DynamoDB_20120810.UpdateItem" || !bytes.Contains(body, []byte(`{"S":"PROCESSED"}`)) ||
				!bytes.Contains(body, []byte(`"pending"`)) {
				return random(req, body)
			}
			key := messageKey.FindString(string(body))
			first.Do(func() { pinned = key })
			if key == pinned && delivers.Add(1) <= 3 {
				return 400, http.Header{"Content-Type": {"application/x-amz-json-1.0"}}, `{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"Rate exceeded"}`, false
			}
			return random(req, body)
		})
		r.moto.set(throttle("AmazonSQS.", 0.3, "RequestThrottled"))
		acc := r.load(t, "throttled", 30, nil)
		r.ddb.set(nil)
		r.moto.set(nil)
		c := r.settle(t, acc)
		r.print(t, "30% of DynamoDB and SQS throttled", c, "")
		check(t, c, 0)
	})
	// A provider refusing every send for 5 s: SES (e-mail), SNS (push).
	for _, p := range []struct {
		name, channel string
		sends         func(*http.Request, []byte) bool
		status        int
		header        http.Header
		answer        string
	}{
		{"SES", "email", func(req *http.Request, _ []byte) bool { return strings.HasSuffix(req.URL.Path, "/outbound-emails") },
			429, http.Header{"Content-Type": {"application/json"}, "X-Amzn-Errortype": {"TooManyRequestsException"}},
			`{"message":"Maximum sending rate exceeded."}`},
		{"SNS", "push", func(_ *http.Request, body []byte) bool { return bytes.Contains(body, []byte("Action=Publish&")) },
			400, http.Header{"Content-Type": {"text/xml"}},
			`<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error></ErrorResponse>`},
	} {
		t.Run(p.name+" refusing", func(t *testing.T) {
			refuse := func(req *http.Request, body []byte) (int, http.Header, string, bool) {
				if !p.sends(req, body) {
					return 0, nil, "", false
				}
				return p.status, p.header, p.answer, false
			}
			acc := r.load(t, strings.ToLower(p.name), 20, func() {
				r.moto.set(refuse)
				time.Sleep(5 * time.Second)
				r.moto.set(nil)
			})
			c := r.settle(t, acc)
			r.print(t, p.name+" refusing for 5s", c, "")
			check(t, c, 0)
			if c.Statuses[p.channel+":SENT"] != c.Accepted {
				t.Errorf("%s not all SENT after %s came back: %v", p.channel, p.name, c.Statuses)
			}
		})
	}
	for _, mode := range []string{"500", "hang", "refuse"} {
		t.Run("webhook "+mode, func(t *testing.T) {
			acc := r.load(t, "webhook-"+mode, 20, func() {
				r.setWebhook(t, mode)
				time.Sleep(5 * time.Second)
				r.setWebhook(t, "ok")
			})
			c := r.settle(t, acc)
			r.print(t, "webhook answering "+mode+" for 5s", c, "")
			check(t, c, 0)
			if c.Statuses["webhook:SENT"] != c.Accepted || c.Webhooks != c.Accepted {
				t.Errorf("webhook not delivered once to every message: %v", c)
			}
		})
	}
	t.Run("webhook refusing for good (400)", func(t *testing.T) {
		r.setWebhook(t, "400")
		acc := r.load(t, "webhook-400", 3, nil)
		c := r.settle(t, acc)
		r.setWebhook(t, "ok")
		r.print(t, "webhook answering 400", c, "")
		check(t, c, 0)
		if c.Statuses["webhook:FAILED"] != c.Accepted {
			t.Errorf("a permanent refusal is FAILED at once: %v", c.Statuses)
		}
	})
	t.Run("SIGKILL between send and record", func(t *testing.T) {
		var kills, killed atomic.Int32
		r.ddb.set(func(req *http.Request, body []byte) (int, http.Header, string, bool) {
			if !isEmailRecord(req, body) || kills.Add(1) > 3 {
				return 0, nil, "", false
			}
			// SES accepted the e-mail; the process dies before its record.
			if res, err := http.Post(r.api+"/_local/functions/SendEmailFunction/kill", "", nil); err == nil {
				var out struct{ Killed int32 }
				_ = json.NewDecoder(res.Body).Decode(&out)
				res.Body.Close()
				killed.Add(out.Killed)
			}
			return 0, nil, "", true
		})
		acc := r.load(t, "sigkill", 15, nil)
		c := r.settle(t, acc)
		r.ddb.set(nil)
		r.print(t, "send-email SIGKILLed 3 times", c, fmt.Sprintf("; processes killed %d", killed.Load()))
		// Each killed process had at most one e-mail between send and record.
		check(t, c, int(killed.Load()))
		if killed.Load() == 0 {
			t.Error("no process was killed")
		}
	})
	t.Run("answers of conditional writes lost", func(t *testing.T) {
		// The first conditional write of each kind lands, and its answer is
		// lost (a cut connection): the SDK retries it, and the retry must
		// know its own write. Before, a claim's retry found the channel
		// "claimed by another attempt" and waited out the lease, and a
		// submission's retried PutItem answered 500 for a stored message
		// that then stayed ACCEPTED.
		from := len(r.logs.String())
		var mu sync.Mutex
		lost := map[string]int{}
		r.ddb.setLose(func(req *http.Request, body []byte) bool {
			kind := awstest.ConditionalWrite(req, body)
			mu.Lock()
			defer mu.Unlock()
			lost[kind]++
			return kind != "" && lost[kind] == 1
		})
		defer r.ddb.setLose(nil)
		r.must(t, 200, faultAdmin, "PUT", "/adm/services/faults", `{"service_id":"faults","service_name":"TARI","organization_name":"Comune di Roma",
			"department_name":"Tributi","organization_fiscal_code":"02438750586","authorized_cidrs":[],"authorized_recipients":[],
			"max_allowed_payment_amount":60000}`)
		v := r.must(t, 200, faultAdmin, "GET", "/api/v1/profiles/"+r.citizen, "").body["version"]
		r.must(t, 200, faultAdmin, "POST", "/api/v1/profiles/"+r.citizen, fmt.Sprintf(`{"email":"citizen-faults@example.com",
			"is_inbox_enabled":true,"is_webhook_enabled":true,"preferred_languages":["it_IT"],"version":%v}`, v))
		keyed, acc := r.submitOnce(t, "lost-keyed", 10, true)
		plain, more := r.submitOnce(t, "lost-plain", 10, false)
		maps.Copy(acc, more)
		if keyed[201] != 10 || plain[201] != 10 {
			t.Errorf("submissions answered %v with an Idempotency-Key, %v without; want 201 each", keyed, plain)
		}
		c := r.settle(t, acc)
		for id, loc := range acc {
			read := r.must(t, 200, faultAdmin, "PUT", loc+"/message-status", `{"change_type":"reading","is_read":true}`)
			if read.body["version"] != float64(1) {
				t.Errorf("message %s read once: %s", id, read.raw)
			}
			break
		}
		logs := r.logs.String()[from:]
		waits := strings.Count(logs, messages.ErrClaimed.Error())
		mu.Lock()
		kinds := 0
		for k, n := range lost {
			if k != "" {
				kinds++
				if n < 2 {
					t.Errorf("%s: no retry after its answer was lost", k)
				}
			}
		}
		mu.Unlock()
		r.print(t, "answers of conditional writes lost", c, fmt.Sprintf("; kinds of write whose first answer was lost %d; claims that waited for a lease %d", kinds, waits))
		check(t, c, 0)
		if waits > 0 {
			t.Errorf("%d deliveries waited out a lease their own claim held", waits)
		}
		if kinds < 8 {
			t.Errorf("only %d kinds of conditional write lost an answer", kinds)
		}
	})
	t.Run("submit-message killed between its write and its queue message", func(t *testing.T) {
		// The process dies after the message's write and before its
		// SendMessage: the client gets a 502 and, without a key, does not
		// retry. requeue-messages finds the message still ACCEPTED after
		// RequeueAfterSeconds (2 s here) and queues it again.
		var kills atomic.Int32
		var mu sync.Mutex
		var orphans []string
		r.ddb.setLose(func(req *http.Request, body []byte) bool {
			// The message's write: its transaction with the day's counter.
			target := req.Header.Get("X-Amz-Target")
			if target != "DynamoDB_20120810.PutItem" && target != "DynamoDB_20120810.TransactWriteItems" ||
				!bytes.Contains(body, []byte(`"MSG#`)) || kills.Add(1) > 2 {
				return false
			}
			mu.Lock()
			orphans = append(orphans, strings.TrimPrefix(messageKey.FindString(string(body)), "MSG#"))
			mu.Unlock()
			if res, err := http.Post(r.api+"/_local/functions/SubmitMessageFunction/kill", "", nil); err == nil {
				res.Body.Close()
			}
			return true
		})
		statuses, acc := r.submitOnce(t, "orphan", 5, false)
		r.ddb.setLose(nil)
		if statuses[502] != 2 || statuses[201] != 3 {
			t.Fatalf("answers %v, want 2 502s (the process killed) and 3 201s; %d message writes seen, orphans %v", statuses, kills.Load(), orphans)
		}
		for _, id := range orphans {
			loc := "/api/v1/messages/" + r.citizen + "/" + id
			if st := r.must(t, 200, r.key, "GET", loc, "").body["status"]; st != "ACCEPTED" {
				t.Fatalf("orphan %s is %v before the requeue", id, st)
			}
			acc[id] = loc
		}
		time.Sleep(2500 * time.Millisecond) // RequeueAfterSeconds
		r.must(t, 200, "", "POST", "/_local/functions/RequeueMessagesFunction/run", "")
		c := r.settle(t, acc)
		r.print(t, "submit-message killed after its write", c, fmt.Sprintf("; orphans queued again by requeue-messages %d", len(orphans)))
		check(t, c, 0)
		if c.Statuses["email:SENT"] != c.Accepted {
			t.Errorf("not every message delivered: %v", c.Statuses)
		}
	})
	t.Run("the platform's submissions refused, then their records lost", func(t *testing.T) {
		// The created-messages queues (every lane) refuse for a while: a citizen's welcome
		// (handle-profile-event), a data download (export-user-data) and
		// submissions with the fiscal code in the body each store their
		// message, fail to queue it, mark it FAILED and release its key;
		// every one is retried and delivered once the queue is back.
		refuse := func(req *http.Request, body []byte) (int, http.Header, string, bool) {
			if req.Header.Get("X-Amz-Target") != "AmazonSQS.SendMessage" || !bytes.Contains(body, []byte("CreatedMessages")) {
				return 0, nil, "", false
			}
			return 400, http.Header{"Content-Type": {"application/x-amz-json-1.0"}, "X-Amzn-Query-Error": {"RequestThrottled;Sender"}},
				`{"__type":"RequestThrottled","message":"Rate exceeded"}`, false
		}
		r.moto.set(refuse)
		newcomer := "FAULTS80A01Y000X"
		r.must(t, 200, faultAdmin, "POST", "/adm/development-profiles/"+newcomer, `{"email":"newcomer-faults@example.com"}`)
		udp := "/api/v1/user-data-processing/" + r.citizen
		r.must(t, 200, faultAdmin, "POST", udp, `{"choice":"DOWNLOAD"}`)
		r.runScheduled(t, "ExportUserDataFunction")
		// Both forms of submission, with a key: each refused one is FAILED and
		// its key released, so that the client's retry really retries.
		inBody := fmt.Sprintf(`{"fiscal_code":%q,"content":{"subject":"Avviso nel corpo","markdown":%q}}`, r.citizen, markdown)
		inPath := fmt.Sprintf(`{"content":{"subject":"Avviso nel percorso","markdown":%q}}`, markdown)
		r.must(t, 503, r.key, "POST", "/api/v1/messages", inBody, "Idempotency-Key", r.name+"-in-body")
		r.must(t, 503, r.key, "POST", "/api/v1/messages/"+r.citizen, inPath, "Idempotency-Key", r.name+"-in-path")
		if st := r.must(t, 200, faultAdmin, "GET", udp+"/DOWNLOAD", "").body["status"]; st == "CLOSED" {
			t.Fatalf("a download closed while its message could not be queued")
		}
		// The queue is back; then the welcome's mark and the download's
		// record fail once more each (three throttled attempts): the retries
		// submit again and get the first messages back (the replay).
		var marks, closes atomic.Int32
		r.ddb.set(func(req *http.Request, body []byte) (int, http.Header, string, bool) {
			mark := req.Header.Get("X-Amz-Target") == "DynamoDB_20120810.PutItem" && bytes.Contains(body, []byte(`"WELCOME#`)) && marks.Add(1) <= 3
			closed := req.Header.Get("X-Amz-Target") == "DynamoDB_20120810.TransactWriteItems" && bytes.Contains(body, []byte(`"UDP#`)) &&
				bytes.Contains(body, []byte(`{"S":"CLOSED"}`)) && closes.Add(1) <= 3
			if !mark && !closed {
				return 0, nil, "", false
			}
			return 400, http.Header{"Content-Type": {"application/x-amz-json-1.0"}}, `{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"Rate exceeded"}`, false
		})
		r.moto.set(nil)
		r.runScheduled(t, "ExportUserDataFunction") // submits, then fails to record CLOSED
		r.runScheduled(t, "ExportUserDataFunction") // replays the submission, records CLOSED
		for deadline := time.Now().Add(60 * time.Second); marks.Load() < 3 && time.Now().Before(deadline); {
			time.Sleep(100 * time.Millisecond) // the welcome's retry comes after its back-off
		}
		r.ddb.set(nil)
		if st := r.must(t, 200, faultAdmin, "GET", udp+"/DOWNLOAD", "").body["status"]; st != "CLOSED" {
			t.Fatalf("download %v after the queue came back", st)
		}
		for _, retry := range []struct{ path, body, key string }{{"/api/v1/messages", inBody, "-in-body"}, {"/api/v1/messages/" + r.citizen, inPath, "-in-path"}} {
			created := r.must(t, 201, r.key, "POST", retry.path, retry.body, "Idempotency-Key", r.name+retry.key)
			r.waitFor(t, r.key, created.header.Get("Location"), func(x reply) bool { return channelsOf(x)["email"] == "SENT" })
		}
		r.inboxFrom(t, faultAdmin, newcomer, "io-platform", 2)
		downloads := 0 // among the newest messages of the inbox, once processed
		for deadline := time.Now().Add(30 * time.Second); downloads == 0 && time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
			for _, it := range r.must(t, 200, faultAdmin, "GET", "/api/v1/messages/"+r.citizen, "").body["items"].([]any) {
				if it.(map[string]any)["sender_service_id"] != "io-platform" {
					continue
				}
				m := r.must(t, 200, faultAdmin, "GET", "/api/v1/messages/"+r.citizen+"/"+fmt.Sprint(it.(map[string]any)["id"]), "")
				if c, _ := m.body["message"].(map[string]any)["content"].(map[string]any); strings.Contains(fmt.Sprint(c["markdown"]), "/exports/") {
					downloads++
				}
			}
		}
		if marks.Load() < 3 || closes.Load() < 3 || downloads != 1 {
			t.Fatalf("marks refused %d, records refused %d, download messages %d; want 3, 3, 1", marks.Load(), closes.Load(), downloads)
		}
		fmt.Fprintf(r.report, "%-34s the welcome, a download and two submissions refused by the queue, then the welcome's mark and the download's record refused: 2 welcome messages, 1 download message, every one delivered once\n",
			"platform's submissions refused:")
	})
	t.Run("push endpoint disabled", func(t *testing.T) {
		c := sns.NewFromConfig(awstest.Config(r.endpoint))
		var disabled string
		for arn := range r.pushes(t) {
			if strings.Contains(arn, "/GCM/") && strings.Contains(arn, r.name) {
				disabled = arn
			}
		}
		if disabled == "" {
			t.Fatal("no FCM endpoint")
		}
		if _, err := c.SetEndpointAttributes(context.Background(), &sns.SetEndpointAttributesInput{EndpointArn: &disabled,
			Attributes: map[string]string{"Enabled": "false"}}); err != nil {
			t.Fatal(err)
		}
		before := len(r.pushes(t)[disabled])
		acc := r.load(t, "disabled", 5, nil)
		cnt := r.settle(t, acc)
		r.print(t, "one push endpoint disabled", cnt, "")
		check(t, cnt, 0)
		if cnt.Statuses["push:SENT"] != cnt.Accepted || cnt.Pushes != cnt.Accepted || len(r.pushes(t)[disabled]) != before {
			t.Errorf("pushes with one device disabled: %v", cnt)
		}
		// The installation went with its endpoint: the app registers again.
		s := r.must(t, 200, faultAdmin, "PUT", "/api/v1/installations/faults-pixel", `{"fiscal_code":"`+r.citizen+`","platform":"fcm","push_channel":"fcm-token-faults"}`)
		if s.body["installation_id"] != "faults-pixel" {
			t.Fatal(s.raw)
		}
	})
	r.mu.Lock()
	var windows []time.Duration
	for id, sent := range r.sentAt {
		if rec, ok := r.recordedAt[id]; ok && rec.After(sent) {
			windows = append(windows, rec.Sub(sent))
		}
	}
	r.mu.Unlock()
	slices.Sort(windows)
	if len(windows) == 0 {
		t.Fatal("no crash window measured")
	}
	q := func(p float64) time.Duration { return windows[int(p*float64(len(windows)-1))] }
	line := fmt.Sprintf("%-34s %d e-mails: p50 %s, p99 %s, max %s between SES's answer and the SENT record", "crash window (send -> record):",
		len(windows), q(0.5).Round(100*time.Microsecond), q(0.99).Round(100*time.Microsecond), windows[len(windows)-1].Round(100*time.Microsecond))
	t.Log(line)
	fmt.Fprintln(r.report, line)
}
