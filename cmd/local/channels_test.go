package main

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/digital-citizenship/functions/pkg/awstest"
)

// pushes returns what the emulator's SNS platform endpoints received, by
// endpoint ARN (moto keeps every published message with its endpoint).
func (s *stack) pushes(t *testing.T) map[string][]string {
	t.Helper()
	var data struct {
		SNS struct {
			PlatformEndpoint []struct {
				ARN      string            `json:"arn"`
				Messages map[string]string `json:"messages"` // by SNS message id
			} `json:"PlatformEndpoint"`
		} `json:"sns"`
	}
	awstest.MotoData(t, s.endpoint, &data)
	out := map[string][]string{}
	for _, e := range data.SNS.PlatformEndpoint {
		for _, m := range e.Messages {
			out[e.ARN] = append(out[e.ARN], m)
		}
	}
	return out
}

// endpointTokens returns the tokens of every platform endpoint in the
// emulator's SNS.
func (s *stack) endpointTokens(t *testing.T) map[string]bool {
	t.Helper()
	c := sns.NewFromConfig(awstest.Config(s.endpoint))
	apps, err := c.ListPlatformApplications(context.Background(), &sns.ListPlatformApplicationsInput{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, app := range apps.PlatformApplications {
		eps, err := c.ListEndpointsByPlatformApplication(context.Background(), &sns.ListEndpointsByPlatformApplicationInput{
			PlatformApplicationArn: app.PlatformApplicationArn})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range eps.Endpoints {
			out[e.Attributes["Token"]] = true
		}
	}
	return out
}

// webhookCall is one call the local app backend received.
type webhookCall struct {
	Headers map[string]string `json:"headers"`
	Body    struct {
		Message struct {
			ID         string `json:"id"`
			FiscalCode string `json:"fiscal_code"`
		} `json:"message"`
		SenderMetadata map[string]any `json:"sender_metadata"`
	} `json:"body"`
	Answer string `json:"answer"`
}

// webhookCalls returns the calls the app backend's endpoint got for the
// messages ids (all of them when none given: the welcome messages too).
func (s *stack) webhookCalls(t *testing.T, ids ...string) []webhookCall {
	t.Helper()
	r := s.must(t, 200, "", "GET", "/_local/webhook", "")
	var out struct {
		Calls []webhookCall `json:"calls"`
	}
	if err := json.Unmarshal([]byte(r.raw), &out); err != nil {
		t.Fatal(err)
	}
	if len(ids) == 0 {
		return out.Calls
	}
	var calls []webhookCall
	for _, c := range out.Calls {
		if slices.Contains(ids, c.Body.Message.ID) {
			calls = append(calls, c)
		}
	}
	return calls
}

func (s *stack) setWebhook(t *testing.T, mode string) {
	t.Helper()
	s.must(t, 200, "", "PUT", "/_local/webhook", fmt.Sprintf(`{"mode":%q}`, mode))
}

// topicARN finds one of the stack's SNS topics by logical id.
func (s *stack) topicARN(t *testing.T, logicalID string) string {
	t.Helper()
	out, err := sns.NewFromConfig(awstest.Config(s.endpoint)).ListTopics(context.Background(), &sns.ListTopicsInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tp := range out.Topics {
		if strings.HasSuffix(aws.ToString(tp.TopicArn), ":"+s.name+"-"+logicalID) {
			return aws.ToString(tp.TopicArn)
		}
	}
	t.Fatalf("no topic %s-%s", s.name, logicalID)
	return ""
}

// sesEvent is a configuration-set event as SES publishes it to SNS.
func sesEvent(kind, address, fiscalCode string) string {
	ev := map[string]any{"eventType": kind, "mail": map[string]any{
		"timestamp": time.Now().UTC().Format(time.RFC3339Nano), "source": "noreply@io.example.it", "sendingAccountId": "123456789012",
		"messageId": "0100019a-e2e-bounce", "destination": []string{address},
		"tags": map[string][]string{"fiscal_code": {fiscalCode}, "ses:configuration-set": {"local-notifications"}}}}
	switch kind {
	case "Bounce":
		ev["bounce"] = map[string]any{"bounceType": "Permanent", "bounceSubType": "General", "timestamp": time.Now().UTC().Format(time.RFC3339Nano),
			"feedbackId": "0100019a-e2e-feedback", "reportingMTA": "dsn; a8-70.smtp-out.amazonses.com",
			"bouncedRecipients": []map[string]string{{"emailAddress": address, "action": "failed", "status": "5.1.1", "diagnosticCode": "smtp; 550 5.1.1 user unknown"}}}
	case "Complaint":
		ev["complaint"] = map[string]any{"complainedRecipients": []map[string]string{{"emailAddress": address}},
			"timestamp": time.Now().UTC().Format(time.RFC3339Nano), "feedbackId": "0100019a-e2e-complaint", "complaintFeedbackType": "abuse"}
	}
	b, _ := json.Marshal(ev)
	return string(b)
}

func channelsOf(r reply) map[string]any { n, _ := r.body["notification"].(map[string]any); return n }

// TestLocalStack_Channels: a citizen with two devices, the webhook enabled
// and an e-mail address gets a message on every channel; a device that
// leaves stops receiving; a bounced address is not used again until the
// citizen changes it.
func TestLocalStack_Channels(t *testing.T) {
	admin := "channels-admin-key-0123456789abcdef"
	s := startStack(t, admin)
	s.must(t, 200, admin, "POST", "/adm/services", `{"service_id":"tari-push","service_name":"TARI","organization_name":"Comune di Roma",
		"department_name":"Tributi","organization_fiscal_code":"02438750586","authorized_cidrs":[],"authorized_recipients":[],
		"max_allowed_payment_amount":50000}`)
	s.must(t, 200, admin, "PUT", "/adm/users/push@comune.roma.it/groups", `{"groups":["ApiMessageWrite","ApiMessageRead"]}`)
	key := s.must(t, 200, admin, "PUT", "/adm/users/push@comune.roma.it/subscriptions/tari-push", `{"product_name":"IO"}`).body["primary_key"].(string)

	citizen := "SPNDNL80R13C555X"
	s.must(t, 200, admin, "POST", "/api/v1/profiles/"+citizen, `{"email":"citizen-push@example.com","is_inbox_enabled":true,"is_webhook_enabled":true,"version":0}`)
	s.validateEmail(t, "citizen-push@example.com")
	// The app backend registers the citizen's two devices.
	iphone := s.must(t, 200, admin, "PUT", "/api/v1/installations/iphone-1", `{"fiscal_code":"`+citizen+`","platform":"apns","push_channel":"`+strings.Repeat("ab", 32)+`"}`)
	if iphone.body["installation_id"] != "iphone-1" || iphone.body["platform"] != "apns" {
		t.Fatalf("installation %s", iphone.raw)
	}
	s.must(t, 200, admin, "PUT", "/api/v1/installations/pixel-1", `{"fiscal_code":"`+citizen+`","platform":"fcm","push_channel":"fcm-token-pixel-1"}`)
	s.must(t, 400, admin, "PUT", "/api/v1/installations/pixel-1", `{"fiscal_code":"`+citizen+`","platform":"windows","push_channel":"x"}`)
	s.must(t, 403, key, "PUT", "/api/v1/installations/pixel-2", `{"fiscal_code":"`+citizen+`","platform":"fcm","push_channel":"y"}`)

	send := func(subject string) (string, reply) {
		t.Helper()
		created := s.must(t, 201, key, "POST", "/api/v1/messages/"+citizen, fmt.Sprintf(`{"content":{"subject":%q,"markdown":%q}}`, subject, markdown))
		loc := created.header.Get("Location")
		done := s.waitFor(t, key, loc, func(r reply) bool {
			n := channelsOf(r)
			for _, ch := range []string{"email", "push", "webhook"} {
				if st, _ := n[ch].(string); st == "" || st == "THROTTLED" {
					return false
				}
			}
			return true
		})
		return created.body["id"].(string), done
	}

	id, done := send("Avviso TARI su ogni canale")
	if n := channelsOf(done); n["email"] != "SENT" || n["push"] != "SENT" || n["webhook"] != "SENT" || done.body["status"] != "PROCESSED" {
		t.Fatalf("message on every channel: %s", done.raw)
	}
	// Each device got the notification once, in its platform's shape.
	byDevice := map[string]int{}
	for arn, msgs := range s.pushes(t) {
		for _, m := range msgs {
			if strings.Contains(m, id) {
				byDevice[arn]++
				if !strings.Contains(m, "TARI - Comune di Roma") || !strings.Contains(m, "Avviso TARI su ogni canale") {
					t.Fatalf("push payload %s", m)
				}
			}
		}
	}
	if len(byDevice) != 2 {
		t.Fatalf("pushes by device %v, want one on each of 2 devices", byDevice)
	}
	for arn, n := range byDevice {
		if n != 1 {
			t.Fatalf("device %s got %d pushes", arn, n)
		}
	}
	// The app backend got the original's notify payload once.
	calls := s.webhookCalls(t, id)
	if len(calls) != 1 || calls[0].Body.Message.ID != id || calls[0].Body.Message.FiscalCode != citizen ||
		calls[0].Headers["Content-Type"] != "application/json" {
		t.Fatalf("webhook calls %+v", calls)
	}

	// The app reinstalled on the pixel: the same installation, a new token.
	// The old endpoint goes, and the next message reaches the new one.
	s.must(t, 200, admin, "PUT", "/api/v1/installations/pixel-1", `{"fiscal_code":"`+citizen+`","platform":"fcm","push_channel":"fcm-token-pixel-1b"}`)
	if tokens := s.endpointTokens(t); tokens["fcm-token-pixel-1"] || !tokens["fcm-token-pixel-1b"] {
		t.Fatalf("endpoints after a new token: %v", tokens)
	}

	// One device leaves: the next message reaches the other only.
	s.must(t, 204, admin, "DELETE", "/api/v1/installations/pixel-1", "")
	s.must(t, 204, admin, "DELETE", "/api/v1/installations/pixel-1", "")
	id2, done := send("Secondo avviso")
	if channelsOf(done)["push"] != "SENT" {
		t.Fatalf("after a device left: %s", done.raw)
	}
	reached := 0
	for _, msgs := range s.pushes(t) {
		for _, m := range msgs {
			if strings.Contains(m, id2) {
				reached++
			}
		}
	}
	if reached != 1 {
		t.Fatalf("second message reached %d devices, want 1", reached)
	}

	// SES reports a hard bounce for the address (published to the stack's
	// topic in SES's own shape): the next message's e-mail is FAILED with the
	// reason, and no e-mail is sent.
	c := sns.NewFromConfig(awstest.Config(s.endpoint))
	topic := s.topicARN(t, "SesEventsTopic")
	if _, err := c.Publish(context.Background(), &sns.PublishInput{TopicArn: &topic, Message: aws.String(sesEvent("Bounce", "citizen-push@example.com", citizen))}); err != nil {
		t.Fatal(err)
	}
	emailsTo := func(addr string) int { // notifications: validation links aside
		n := 0
		for _, e := range s.recordedEmails(t) {
			to, _ := e["destinations"].(map[string]any)["ToAddresses"].([]any)
			if len(to) == 1 && to[0] == addr && !validationLink.MatchString(fmt.Sprint(e["body"])) {
				n++
			}
		}
		return n
	}
	before := emailsTo("citizen-push@example.com")
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, done = send("Dopo il rimbalzo")
		if channelsOf(done)["email"] == "FAILED" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the bounce never took effect: %s", done.raw)
		}
		before = emailsTo("citizen-push@example.com")
		time.Sleep(300 * time.Millisecond)
	}
	if f, _ := done.body["notification_failures"].(map[string]any); !strings.Contains(fmt.Sprint(f["email"]), "hard bounce") {
		t.Fatalf("failed e-mail without its reason: %s", done.raw)
	}
	if n := channelsOf(done); n["push"] != "SENT" || n["webhook"] != "SENT" {
		t.Fatalf("the other channels: %s", done.raw)
	}
	if after := emailsTo("citizen-push@example.com"); after != before {
		t.Fatalf("%d e-mails sent to a bounced address", after-before)
	}
	// The citizen changes the address: e-mail flows again.
	s.must(t, 200, admin, "POST", "/api/v1/profiles/"+citizen, `{"email":"citizen-new@example.com","is_inbox_enabled":true,"is_webhook_enabled":true,"version":0}`)
	s.validateEmail(t, "citizen-new@example.com")
	if _, done = send("Nuovo indirizzo"); channelsOf(done)["email"] != "SENT" || emailsTo("citizen-new@example.com") != 1 {
		t.Fatalf("after the address changed: %s", done.raw)
	}
	// The functions' EMF metrics, summed up by the local stack every few seconds.
	deadline = time.Now().Add(15 * time.Second)
	for !regexp.MustCompile(`metrics: .*email sent [1-9].*push sent [1-9].*webhook sent [1-9].*email accepted→sent p50`).MatchString(s.logs.String()) {
		if time.Now().After(deadline) {
			t.Fatalf("no metrics summary line in the logs")
		}
		time.Sleep(500 * time.Millisecond)
	}
	// No personal data in the logs: fiscal codes, addresses, device tokens.
	logs := s.logs.String()
	for _, secret := range []string{citizen, "citizen-push@example.com", "fcm-token-pixel-1", strings.Repeat("ab", 32)} {
		if strings.Contains(logs, secret) {
			t.Fatalf("logs hold %q:\n%s", secret, logs)
		}
	}
}
