package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/digital-citizenship/functions/pkg/feed"
	"github.com/digital-citizenship/functions/pkg/localstack"
	"github.com/digital-citizenship/functions/pkg/sandbox"
)

// A test key, as a PA developer tries one: each documented sandbox citizen
// gives its outcome in getMessage, the sent list and the callbacks, a
// development profile of the developer's own bounces as a real one would,
// a real citizen is refused, and nothing reaches SES, SNS or the app
// backend.
func TestLocalStack_TestKeys(t *testing.T) {
	admin := "testkeys-admin-key-0123456789abc"
	s := startStack(t, admin)
	s.must(t, 200, admin, "POST", "/adm/services", `{"service_id":"sim-svc","service_name":"Prove","organization_name":"Comune di Lecce",
		"department_name":"Innovazione","organization_fiscal_code":"80008510754","authorized_cidrs":[],"authorized_recipients":[],
		"max_allowed_payment_amount":100000,"daily_message_limit":3}`)
	s.must(t, 200, admin, "PUT", "/adm/users/dev@comune.lecce.it/groups",
		`{"groups":["ApiMessageWrite","ApiMessageRead","ApiCallbackWrite","ApiDevelopmentProfileWrite"]}`)
	s.must(t, 400, admin, "PUT", "/adm/users/dev@comune.lecce.it/subscriptions/sim-svc", `{"key_type":"SANDBOX"}`)
	sub := s.must(t, 200, admin, "PUT", "/adm/users/dev@comune.lecce.it/subscriptions/sim-svc", `{"product_name":"IO","key_type":"TEST"}`)
	if sub.body["key_type"] != "TEST" {
		t.Fatalf("createSubscription %s", sub.raw)
	}
	key := sub.body["primary_key"].(string)
	if r := s.must(t, 200, key, "GET", "/api/v1/service", ""); r.body["key_type"] != "TEST" {
		t.Fatalf("the key's kind: %s", r.raw)
	}
	url, _ := s.callbackCalls(t)
	s.must(t, 200, key, "PUT", "/api/v1/callback", fmt.Sprintf(`{"url":%q}`, url))

	subject := "Prova con la chiave di test"
	body := fmt.Sprintf(`{"content":{"subject":%q,"markdown":%q}}`, subject, strings.Repeat("Un messaggio di prova per verificare gli esiti simulati. ", 2))
	// A real citizen is refused, and nothing is written.
	real := "SPNDNL80R13C555X"
	s.must(t, 200, admin, "POST", "/api/v1/profiles/"+real, `{"email":"real@example.com","is_inbox_enabled":true,"version":0}`)
	if r := s.must(t, 403, key, "POST", "/api/v1/messages/"+real, body); !strings.Contains(r.raw, "development profiles") {
		t.Fatalf("a test key's message to a real citizen: %s", r.raw)
	}

	// One message to each documented citizen: more than the daily limit
	// (3), which test messages do not count.
	sent := map[string]string{} // outcome -> message location
	ids := map[string]string{}  // message id -> outcome
	start := time.Now()
	for _, c := range sandbox.Citizens {
		r := s.must(t, 201, key, "POST", "/api/v1/messages/"+c.FiscalCode, body)
		sent[c.Outcome] = r.header.Get("Location")
		ids[r.body["id"].(string)] = c.Outcome
	}
	// A development profile of the developer's own with the bounce
	// address: it bounces, and its address is marked undeliverable.
	dev := "LECCEB80A01Y001X"
	s.must(t, 200, key, "POST", "/adm/development-profiles/"+dev, `{"email":"bounce@`+sandbox.Domain+`"}`)
	devFirst := s.must(t, 201, key, "POST", "/api/v1/messages/"+dev, body).header.Get("Location")

	final := func(r reply) bool {
		if !slices.Contains([]any{"PROCESSED", "REJECTED", "FAILED"}, r.body["status"]) {
			return false
		}
		// A processed message's channels show once queued: at least one
		// (each documented citizen that accepts a message has some).
		n, _ := r.body["notification"].(map[string]any)
		for _, st := range n {
			if !slices.Contains([]any{"SENT", "FAILED", "EXPIRED", "SKIPPED"}, st) {
				return false
			}
		}
		return r.body["status"] != "PROCESSED" || len(n) > 0
	}
	wait := func(loc string) reply {
		t.Helper()
		deadline := time.Now().Add(100 * time.Second)
		for {
			r := s.must(t, 200, key, "GET", loc, "")
			if _, ok := r.body["notification"].(map[string]any); !ok {
				r.body["notification"] = map[string]any{}
			}
			if final(r) {
				return r
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s never final: %s", loc, r.raw)
			}
			time.Sleep(300 * time.Millisecond)
		}
	}
	channels := func(r reply) string {
		n := r.body["notification"].(map[string]any)
		return fmt.Sprintf("email=%v push=%v webhook=%v", n["email"], n["push"], n["webhook"])
	}
	// The late one is not delivered before its minute.
	if r := s.must(t, 200, key, "GET", sent[sandbox.Late], ""); final(r) && time.Since(start) < 50*time.Second {
		t.Fatalf("delivered early: %s", r.raw)
	}
	want := map[string]struct{ status, channels, reason string }{
		sandbox.Delivered:   {"PROCESSED", "email=SENT push=SENT webhook=SENT", ""},
		sandbox.NotFound:    {"REJECTED", "email=<nil> push=<nil> webhook=<nil>", "USER_NOT_FOUND"},
		sandbox.NotAllowed:  {"REJECTED", "email=<nil> push=<nil> webhook=<nil>", "SERVICE_NOT_ALLOWED"},
		sandbox.Bounce:      {"PROCESSED", "email=FAILED push=SENT webhook=SENT", ""},
		sandbox.TempFail:    {"PROCESSED", "email=SENT push=SENT webhook=SENT", ""},
		sandbox.PushFailure: {"PROCESSED", "email=SENT push=FAILED webhook=SENT", ""},
		sandbox.Late:        {"PROCESSED", "email=SENT push=SENT webhook=SENT", ""},
	}
	for outcome, w := range want {
		r := wait(sent[outcome])
		if r.body["status"] != w.status || channels(r) != w.channels || w.reason != "" && r.body["rejection_reason"] != w.reason ||
			r.body["is_test"] != true {
			t.Errorf("%s: %s %s (rejection %v, is_test %v); want %s %s %s", outcome, r.body["status"], channels(r), r.body["rejection_reason"],
				r.body["is_test"], w.status, w.channels, w.reason)
		}
		switch outcome {
		case sandbox.TempFail:
			if retries, _ := r.body["notification_retries"].(map[string]any); retries["email"] != float64(2) {
				t.Errorf("the temporary failure's retries: %s", r.raw)
			}
		case sandbox.Late:
			if el := time.Since(start); el < time.Duration(sandbox.LateBySeconds)*time.Second {
				t.Errorf("the late one was delivered after %s", el)
			}
		case sandbox.Bounce:
			if !strings.Contains(fmt.Sprint(r.body["notification_failures"]), "bounced") {
				t.Errorf("the bounce's reason: %s", r.raw)
			}
		}
	}
	if r := wait(devFirst); channels(r) != "email=FAILED push=<nil> webhook=SENT" {
		t.Fatalf("the developer's own bounce address: %s", r.raw)
	}
	// Marked undeliverable: the next message does not try it.
	devSecond := s.must(t, 201, key, "POST", "/api/v1/messages/"+dev, body).header.Get("Location")
	if r := wait(devSecond); !strings.Contains(fmt.Sprint(r.body["notification_failures"]), "undeliverable") {
		t.Fatalf("the bounced address was not marked undeliverable: %s", r.raw)
	}

	// The sent list shows them as test messages.
	list := s.must(t, 200, key, "GET", "/api/v1/messages?page_size=100", "")
	listed := 0
	for _, it := range list.body["items"].([]any) {
		m := it.(map[string]any)
		if _, ok := ids[m["id"].(string)]; ok && m["is_test"] == true {
			listed++
		}
	}
	if listed != len(sandbox.Citizens) {
		t.Fatalf("%d of %d test messages listed as such: %s", listed, len(sandbox.Citizens), list.raw)
	}
	// The callbacks too: the final status of each channel, marked.
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, calls := s.callbackCalls(t)
		facts := map[string]bool{}
		for _, c := range calls {
			var e map[string]any
			if c.Answer != localstack.WebhookOK || json.Unmarshal(c.Body, &e) != nil {
				continue
			}
			if _, ok := ids[fmt.Sprint(e["message_id"])]; ok && e["is_test"] == true {
				facts[fmt.Sprint(ids[fmt.Sprint(e["message_id"])], " ", e["event"], " ", e["channel"])] = true
			}
		}
		if facts["EMAIL_BOUNCE notification.failed email"] && facts["PUSH_PERMANENT_FAILURE notification.failed push"] &&
			facts["USER_NOT_FOUND message.rejected <nil>"] && facts["DELIVERED_LATE notification.sent webhook"] &&
			facts["EMAIL_TEMPORARY_FAILURE notification.sent email"] {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the test messages' callbacks: %v", facts)
		}
		time.Sleep(300 * time.Millisecond)
	}

	// Nothing reached SES, SNS or the app backend.
	for _, e := range s.recordedEmails(t) {
		if e["subject"] == subject {
			t.Fatalf("a test message reached SES: %v", e["destinations"])
		}
	}
	for arn, msgs := range s.pushes(t) {
		for _, m := range msgs {
			if strings.Contains(m, subject) {
				t.Fatalf("a test message reached SNS (%s)", arn)
			}
		}
	}
	for id := range ids {
		if len(s.webhookCalls(t, id)) > 0 {
			t.Fatalf("a test message reached the app backend: %s", id)
		}
	}
}

// The subscriptions feed, as services read it: a citizen created, then
// turning one service off, is subscribed to the other and unsubscribed
// from the first; after the erasure, in neither. A citizen whose inbox was
// turned on and off the same day is in neither, and once erased, is
// unsubscribed (the erasure tells services to forget them).
func TestLocalStack_SubscriptionsFeed(t *testing.T) {
	admin := "feed-admin-key-0123456789abcdefg"
	s := startStack(t, admin, "-param", "UserDataDeletionGraceSeconds=1")
	keys := map[string]string{}
	for _, svc := range []string{"feed-tari", "feed-anagrafe"} {
		s.must(t, 200, admin, "POST", "/adm/services", `{"service_id":"`+svc+`","service_name":"Servizio","organization_name":"Comune di Bari",
			"department_name":"Servizi","organization_fiscal_code":"80015010723","authorized_cidrs":[],"authorized_recipients":[],
			"max_allowed_payment_amount":100000}`)
		user := svc + "@comune.bari.it"
		s.must(t, 200, admin, "PUT", "/adm/users/"+user+"/groups", `{"groups":["ApiSubscriptionFeedRead"]}`)
		keys[svc] = s.must(t, 200, admin, "PUT", "/adm/users/"+user+"/subscriptions/"+svc, `{"product_name":"IO"}`).body["primary_key"].(string)
	}
	today := time.Now().UTC().Format("2006-01-02")
	feedOf := func(svc string) (subs, unsubs []any) {
		r := s.must(t, 200, keys[svc], "GET", "/api/v1/subscriptions-feed/"+today, "")
		if r.body["dateUTC"] != today {
			t.Fatalf("feed %s", r.raw)
		}
		return r.body["subscriptions"].([]any), r.body["unsubscriptions"].([]any)
	}
	s.must(t, 400, keys["feed-tari"], "GET", "/api/v1/subscriptions-feed/ieri", "")
	s.must(t, 404, keys["feed-tari"], "GET", "/api/v1/subscriptions-feed/"+time.Now().UTC().Add(48*time.Hour).Format("2006-01-02"), "")
	citizen := "BRSMRA80A01A662X"
	hash := feed.Hash(citizen)
	s.must(t, 200, admin, "POST", "/api/v1/profiles/"+citizen, `{"email":"feed@example.com","is_inbox_enabled":true,"version":0}`)
	s.must(t, 200, admin, "PUT", "/api/v1/profiles/"+citizen+"/services/feed-tari/preferences",
		`{"is_inbox_enabled":false,"is_email_enabled":false,"is_webhook_enabled":false,"can_access_message_read_status":false,"settings_version":0}`)
	eventually := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatal(what)
			}
			time.Sleep(300 * time.Millisecond)
		}
	}
	eventually("the citizen is not subscribed to feed-anagrafe and unsubscribed from feed-tari", func() bool {
		subsA, unsubsA := feedOf("feed-anagrafe")
		subsT, unsubsT := feedOf("feed-tari")
		return slices.Contains(subsA, any(hash)) && !slices.Contains(unsubsA, any(hash)) &&
			!slices.Contains(subsT, any(hash)) && slices.Contains(unsubsT, any(hash))
	})
	other := "BRSLCU80A41A662X"
	otherHash := feed.Hash(other)
	s.must(t, 200, admin, "POST", "/api/v1/profiles/"+other, `{"is_inbox_enabled":true,"version":0}`)
	s.must(t, 200, admin, "POST", "/api/v1/profiles/"+other, `{"is_inbox_enabled":false,"version":0}`)
	eventually("the citizen who turned the inbox on and off is in a feed", func() bool {
		subs, unsubs := feedOf("feed-anagrafe")
		// The first citizen's change, queued after the second's, is a
		// sign that the second's was recorded.
		return !slices.Contains(subs, any(otherHash)) && !slices.Contains(unsubs, any(otherHash)) && slices.Contains(subs, any(hash))
	})
	// The erasures: the first citizen, created the same day, is in
	// neither; the second, unsubscribed (what the services knew of them
	// is gone, and they are told to forget them).
	for _, fc := range []string{citizen, other} {
		s.must(t, 200, admin, "POST", "/api/v1/user-data-processing/"+fc, `{"choice":"DELETE"}`)
	}
	time.Sleep(1500 * time.Millisecond)
	s.runScheduled(t, "EraseUserDataFunction")
	for _, fc := range []string{citizen, other} {
		if r := s.must(t, 200, admin, "GET", "/api/v1/user-data-processing/"+fc+"/DELETE", ""); r.body["status"] != "CLOSED" {
			t.Fatalf("deletion %s", r.raw)
		}
	}
	for _, svc := range []string{"feed-tari", "feed-anagrafe"} {
		subs, unsubs := feedOf(svc)
		if slices.Contains(subs, any(hash)) || slices.Contains(unsubs, any(hash)) {
			t.Fatalf("the erased citizen is still in %s's feed", svc)
		}
		if slices.Contains(subs, any(otherHash)) || !slices.Contains(unsubs, any(otherHash)) {
			t.Fatalf("the second erased citizen is not unsubscribed from %s", svc)
		}
	}
}
