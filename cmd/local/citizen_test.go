package main

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/digital-citizenship/functions/pkg/welcome"
)

// inboxFrom waits until the citizen's inbox holds n messages from service
// and returns their ids.
func (s *stack) inboxFrom(t *testing.T, key, citizen, service string, n int) []string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var ids []string
		page := s.must(t, 200, key, "GET", "/api/v1/messages/"+citizen, "")
		items, _ := page.body["items"].([]any)
		for _, it := range items {
			if m := it.(map[string]any); m["sender_service_id"] == service {
				ids = append(ids, m["id"].(string))
			}
		}
		if len(ids) >= n {
			if len(ids) > n {
				t.Fatalf("%d messages from %s, want %d: %s", len(ids), service, n, page.raw)
			}
			return ids
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d messages from %s after 30 s, want %d: %s", len(ids), service, n, page.raw)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestLocalStack_CitizensLife walks a citizen through the platform as the
// docs/running-locally.md shows it: welcomed in English, one service switched off in MANUAL
// mode (its message REJECTED with the reason), then allowed with read
// status, a message read and its sender seeing READ; a test citizen; the
// citizen's data downloaded, then erased after a grace period (2 s here).
func TestLocalStack_CitizensLife(t *testing.T) {
	admin := "life-admin-key-0123456789abcdef"
	s := startStack(t, admin, "-param", "UserDataDeletionGraceSeconds=2")
	s.must(t, 200, admin, "POST", "/adm/services", `{"service_id":"anagrafe","service_name":"Anagrafe","organization_name":"Comune di Roma",
		"department_name":"Servizi demografici","organization_fiscal_code":"02438750586","authorized_cidrs":[],"authorized_recipients":[]}`)
	s.must(t, 200, admin, "PUT", "/adm/users/anagrafe@comune.roma.it/groups", `{"groups":["ApiLimitedProfileRead","ApiMessageWrite","ApiMessageRead"]}`)
	key := s.must(t, 200, admin, "PUT", "/adm/users/anagrafe@comune.roma.it/subscriptions/anagrafe", `{"product_name":"IO"}`).body["primary_key"].(string)

	// Created: AUTO, and welcomed in English, twice and no more.
	citizen := "SPNDNL80R13C555X"
	p := s.must(t, 200, admin, "POST", "/api/v1/profiles/"+citizen,
		`{"email":"life@example.com","is_inbox_enabled":true,"preferred_languages":["en_GB"],"version":0}`)
	if st, _ := p.body["service_preferences_settings"].(map[string]any); st["mode"] != "AUTO" || st["version"] != float64(0) ||
		p.body["is_email_validated"] != false {
		t.Fatalf("new profile %s", p.raw)
	}
	// The address is validated through the link e-mailed to it (in English
	// first; the app asks for a new one); the link works once.
	s.must(t, 202, admin, "POST", "/api/v1/profiles/"+citizen+"/email-validation-process", "")
	page := s.validateEmail(t, "life@example.com")
	if !strings.HasPrefix(page.header.Get("Content-Type"), "text/html") || !strings.Contains(page.raw, "Indirizzo e-mail confermato") {
		t.Fatalf("validation page %s", page.raw)
	}
	if r := s.must(t, 200, admin, "GET", "/api/v1/profiles/"+citizen, ""); r.body["is_email_validated"] != true {
		t.Fatalf("after the link %s", r.raw)
	}
	s.must(t, 409, admin, "POST", "/api/v1/profiles/"+citizen+"/email-validation-process", "")
	s.must(t, 400, "", "GET", "/api/v1/validate-email?token=nope", "")
	welcomes := s.inboxFrom(t, admin, citizen, "io-platform", 2)
	english := map[string]bool{}
	for _, c := range welcome.Texts([]string{"en_GB"}) {
		english[c.Subject] = true
	}
	for _, id := range welcomes {
		m := s.must(t, 200, admin, "GET", "/api/v1/messages/"+citizen+"/"+id, "")
		if c, _ := m.body["message"].(map[string]any)["content"].(map[string]any); !english[fmt.Sprint(c["subject"])] {
			t.Fatalf("welcome message not in English: %s", m.raw)
		}
	}
	if svc := s.must(t, 200, admin, "GET", "/api/v1/services/io-platform", ""); svc.body["service_name"] == nil {
		t.Fatalf("the platform service %s", svc.raw)
	}

	// MANUAL: a service without a preference is out.
	p = s.must(t, 200, admin, "POST", "/api/v1/profiles/"+citizen,
		`{"email":"life@example.com","is_inbox_enabled":true,"preferred_languages":["en_GB"],"service_preferences_settings":{"mode":"MANUAL"},"version":0}`)
	if st, _ := p.body["service_preferences_settings"].(map[string]any); st["mode"] != "MANUAL" || st["version"] != float64(1) {
		t.Fatalf("MANUAL %s", p.raw)
	}
	if r := s.must(t, 200, key, "GET", "/api/v1/profiles/"+citizen, ""); r.body["sender_allowed"] != false {
		t.Fatalf("sender_allowed in MANUAL %s", r.raw)
	}
	msg := fmt.Sprintf(`{"content":{"subject":"Certificato di residenza","markdown":%q}}`, markdown)
	refused := s.must(t, 201, key, "POST", "/api/v1/messages/"+citizen, msg)
	r := s.waitFor(t, key, refused.header.Get("Location"), func(r reply) bool { return r.body["status"] == "REJECTED" })
	if r.body["rejection_reason"] != "SERVICE_NOT_ALLOWED" {
		t.Fatalf("rejected %s", r.raw)
	}
	s.must(t, 409, admin, "PUT", "/api/v1/profiles/"+citizen+"/services/anagrafe/preferences",
		`{"is_inbox_enabled":true,"is_email_enabled":true,"is_webhook_enabled":false,"can_access_message_read_status":true,"settings_version":0}`)
	s.must(t, 409, admin, "POST", "/api/v1/profiles/"+citizen, `{"is_inbox_enabled":true,"service_preferences_settings":{"mode":"LEGACY"},"version":1}`)

	// Allowed, with read status: the message is read, the sender sees READ.
	s.must(t, 200, admin, "PUT", "/api/v1/profiles/"+citizen+"/services/anagrafe/preferences",
		`{"is_inbox_enabled":true,"is_email_enabled":true,"is_webhook_enabled":false,"can_access_message_read_status":true,"settings_version":1}`)
	if r := s.must(t, 200, key, "GET", "/api/v1/profiles/"+citizen, ""); r.body["sender_allowed"] != true {
		t.Fatalf("sender_allowed with a preference %s", r.raw)
	}
	sent := s.must(t, 201, key, "POST", "/api/v1/messages/"+citizen, msg)
	loc := sent.header.Get("Location")
	r = s.waitFor(t, key, loc, func(r reply) bool { n := channelsOf(r); return n["email"] == "SENT" })
	if r.body["read_status"] != "UNREAD" {
		t.Fatalf("before reading %s", r.raw)
	}
	st := s.must(t, 200, admin, "PUT", loc+"/message-status", `{"change_type":"reading","is_read":true}`)
	if st.body["is_read"] != true || st.body["version"] != float64(1) {
		t.Fatalf("message-status %s", st.raw)
	}
	if r := s.must(t, 200, key, "GET", loc, ""); r.body["read_status"] != "READ" {
		t.Fatalf("after reading %s", r.raw)
	}
	s.must(t, 200, admin, "PUT", loc+"/message-status", `{"change_type":"archiving","is_archived":true}`)
	if r := s.must(t, 200, admin, "GET", "/api/v1/messages/"+citizen+"?archived=true", ""); len(r.body["items"].([]any)) != 1 {
		t.Fatalf("archived %s", r.raw)
	}

	// The original app backend knows blocks only: blocking e-mail from the
	// service changes its preference.
	s.must(t, 200, admin, "POST", "/api/v1/profiles/"+citizen, `{"email":"life@example.com","is_inbox_enabled":true,
		"preferred_languages":["en_GB"],"blocked_inbox_or_channels":{"anagrafe":["EMAIL"]},"version":1}`)
	if pref := s.must(t, 200, admin, "GET", "/api/v1/profiles/"+citizen+"/services/anagrafe/preferences", ""); pref.body["is_email_enabled"] != false ||
		pref.body["is_inbox_enabled"] != true {
		t.Fatalf("preference after a block %s", pref.raw)
	}

	// A test citizen for integrators, welcomed too.
	dev := "TESTER00A00Y000X"
	s.must(t, 400, admin, "POST", "/adm/development-profiles/"+citizen, `{"email":"tester@example.com"}`)
	d := s.must(t, 200, admin, "POST", "/adm/development-profiles/"+dev, `{"email":"tester@example.com"}`)
	if d.body["is_inbox_enabled"] != true || d.body["is_webhook_enabled"] != true || d.body["is_email_validated"] != true {
		t.Fatalf("development profile %s", d.raw)
	}
	s.must(t, 409, admin, "POST", "/adm/development-profiles/"+dev, `{"email":"tester@example.com"}`)
	s.inboxFrom(t, admin, dev, "io-platform", 2)

	// The citizen's data: a copy, as an archive whose link comes in a
	// message (the processor runs every minute; the test runs it now).
	udp := "/api/v1/user-data-processing/" + citizen
	s.must(t, 200, admin, "POST", udp, `{"choice":"DOWNLOAD"}`)
	s.must(t, 409, admin, "POST", udp, `{"choice":"DOWNLOAD"}`)
	s.runScheduled(t, "ExportUserDataFunction")
	dl := s.must(t, 200, admin, "GET", udp+"/DOWNLOAD", "")
	link, _ := dl.body["download_url"].(string)
	if dl.body["status"] != "CLOSED" || link == "" {
		t.Fatalf("download %s", dl.raw)
	}
	archive := httpGet(t, link, 200)
	for _, want := range []string{`"fiscal_code": "` + citizen + `"`, "Certificato di residenza", "life@example.com", `"profile_versions"`} {
		if !strings.Contains(archive, want) {
			t.Fatalf("the archive lacks %q:\n%.2000s", want, archive)
		}
	}
	platform := s.inboxFrom(t, admin, citizen, "io-platform", 3)
	m := s.must(t, 200, admin, "GET", "/api/v1/messages/"+citizen+"/"+platform[0], "")
	if c, _ := m.body["message"].(map[string]any)["content"].(map[string]any); c["subject"] != "Your data is ready to download" ||
		!strings.Contains(fmt.Sprint(c["markdown"]), "/exports/") {
		t.Fatalf("download message %s", m.raw)
	}

	// The erasure: aborted once, then carried out after its grace period,
	// confirmed by e-mail to the validated address first; the citizen's
	// devices go with it.
	s.must(t, 200, admin, "PUT", "/api/v1/installations/life-phone", `{"fiscal_code":"`+citizen+`","platform":"fcm","push_channel":"fcm-token-life"}`)
	del := s.must(t, 200, admin, "POST", udp, `{"choice":"DELETE"}`)
	if del.body["status"] != "PENDING" || del.body["due_at"] == nil {
		t.Fatalf("delete %s", del.raw)
	}
	if r := s.must(t, 200, admin, "DELETE", udp+"/DELETE", ""); r.body["status"] != "ABORTED" {
		t.Fatalf("abort %s", r.raw)
	}
	s.must(t, 200, admin, "POST", udp, `{"choice":"DELETE"}`)
	s.runScheduled(t, "EraseUserDataFunction")
	if r := s.must(t, 200, admin, "GET", udp+"/DELETE", ""); r.body["status"] != "PENDING" {
		t.Fatalf("carried out during its grace period: %s", r.raw)
	}
	time.Sleep(2500 * time.Millisecond)
	s.runScheduled(t, "EraseUserDataFunction")
	if r := s.must(t, 200, admin, "GET", udp+"/DELETE", ""); r.body["status"] != "CLOSED" {
		t.Fatalf("deletion %s", r.raw)
	}
	s.must(t, 404, admin, "GET", "/api/v1/profiles/"+citizen, "")
	s.must(t, 404, key, "GET", loc, "")
	if r := s.must(t, 200, admin, "GET", "/api/v1/messages/"+citizen, ""); len(r.body["items"].([]any)) != 0 {
		t.Fatalf("inbox after the erasure %s", r.raw)
	}
	if r := s.must(t, 200, admin, "GET", udp+"/DOWNLOAD", ""); r.body["download_url"] != nil {
		t.Fatalf("a download link after the erasure %s", r.raw)
	}
	// The archive is gone (S3 answers 403 or 404, as the signer may not list the bucket).
	if res, err := http.Get(link); err != nil || res.StatusCode != 403 && res.StatusCode != 404 {
		t.Fatalf("the archive after the erasure: %v %v", res, err)
	} else {
		res.Body.Close()
	}
	confirmed := 0
	for _, e := range s.recordedEmails(t) {
		to, _ := e["destinations"].(map[string]any)["ToAddresses"].([]any)
		if len(to) == 1 && to[0] == "life@example.com" && strings.HasPrefix(fmt.Sprint(e["subject"]), "Your data is being deleted") {
			confirmed++
		}
	}
	if confirmed != 1 {
		t.Fatalf("%d confirmations of the erasure, want 1", confirmed)
	}
	if s.endpointTokens(t)["fcm-token-life"] {
		t.Fatal("the citizen's push endpoint survived the erasure")
	}
	// The test citizen is still there.
	s.must(t, 200, admin, "GET", "/api/v1/profiles/"+dev, "")
}

// runScheduled runs a function's Schedule event now (the local stack's
// control; the schedule also runs on its rate).
func (s *stack) runScheduled(t *testing.T, function string) {
	t.Helper()
	res, err := http.Post(s.api+"/_local/functions/"+function+"/run", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("run %s: %d %s", function, res.StatusCode, body)
	}
}

func httpGet(t *testing.T, url string, want int) string {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != want {
		t.Fatalf("GET %s: %d, want %d: %.300s", url, res.StatusCode, want, body)
	}
	return string(body)
}
