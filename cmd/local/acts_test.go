package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	neturl "net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/digital-citizenship/functions/pkg/awstest"
	"github.com/digital-citizenship/functions/pkg/callbacks"
	"github.com/digital-citizenship/functions/pkg/localstack"
	"github.com/digital-citizenship/functions/pkg/messages"
	"github.com/digital-citizenship/functions/pkg/receipts"
)

// actsWorld is a stack with a service that notifies acts (ADVANCED
// messages, remote content, callbacks), and a test citizen with a
// validated address and a device.
type actsWorld struct {
	*stack
	admin, sender, citizen, address string
}

func newActsWorld(t *testing.T, args ...string) actsWorld {
	t.Helper()
	w := actsWorld{admin: "acts-admin-key-0123456789abcdef", citizen: "ACTSCT80A01Y501X", address: "acts-citizen@example.com"}
	w.stack = startStack(t, w.admin, args...)
	s := w.stack
	s.must(t, 200, w.admin, "POST", "/adm/services", `{"service_id":"acts","service_name":"Accertamenti","organization_name":"Comune di Roma",
		"department_name":"Tributi","organization_fiscal_code":"02438750586","authorized_cidrs":[],"authorized_recipients":[],
		"max_allowed_payment_amount":50000,"opening_deadline_days":10}`)
	s.must(t, 200, w.admin, "PUT", "/adm/users/acts@comune.roma.it/groups",
		`{"groups":["ApiMessageWrite","ApiMessageWriteAdvanced","ApiMessageRead","ApiRemoteContentWrite","ApiCallbackWrite"]}`)
	w.sender = s.must(t, 200, w.admin, "PUT", "/adm/users/acts@comune.roma.it/subscriptions/acts", `{"product_name":"IO"}`).body["primary_key"].(string)
	s.must(t, 200, w.admin, "POST", "/adm/development-profiles/"+w.citizen, fmt.Sprintf(`{"email":%q}`, w.address))
	s.must(t, 200, w.admin, "PUT", "/api/v1/installations/acts-phone", fmt.Sprintf(`{"fiscal_code":%q,"platform":"fcm","push_channel":"acts-fcm-token"}`, w.citizen))
	return w
}

// remoteCalls returns what the local sender's system of remote content got.
func (s *stack) remoteCalls(t *testing.T) []localstack.RemoteCall {
	t.Helper()
	var out struct {
		Calls []localstack.RemoteCall `json:"calls"`
	}
	if err := json.Unmarshal([]byte(s.must(t, 200, "", "GET", "/_local/remote-content", "").raw), &out); err != nil {
		t.Fatal(err)
	}
	return out.Calls
}

// TestLocalStack_SecureChannels: a message that requires secure channels
// is sent by no e-mail (its channel SKIPPED, with why) and its push shows
// no subject; the webhook is as for any message.
func TestLocalStack_SecureChannels(t *testing.T) {
	w := newActsWorld(t)
	s := w.stack
	const subject = "Esito della verifica fiscale riservata"
	created := s.must(t, 201, w.sender, "POST", "/api/v1/messages/"+w.citizen, fmt.Sprintf(`{"content":{"subject":%q,"markdown":%q,
		"require_secure_channels":true}}`, subject, markdown))
	m := s.waitFor(t, w.sender, created.header.Get("Location"), func(r reply) bool {
		n := channelsOf(r)
		return r.body["status"] == "PROCESSED" && n["push"] == "SENT" && n["webhook"] == "SENT"
	})
	if n := channelsOf(m); n["email"] != "SKIPPED" || !strings.Contains(fmt.Sprint(m.body["notification_skipped"]), "require_secure_channels") {
		t.Fatalf("the e-mail channel: %s", m.raw)
	}
	for _, e := range s.recordedEmails(t) {
		if strings.Contains(fmt.Sprint(e["subject"]), subject) {
			t.Fatalf("an e-mail went: %v", e)
		}
	}
	seen := 0
	for _, msgs := range s.pushes(t) {
		for _, p := range msgs {
			if strings.Contains(p, created.body["id"].(string)) {
				seen++
				if strings.Contains(p, subject) {
					t.Fatalf("the push shows the subject: %s", p)
				}
			}
		}
	}
	if seen != 1 {
		t.Fatalf("%d pushes of the message, want 1", seen)
	}
	if calls := s.webhookCalls(t, created.body["id"].(string)); len(calls) != 1 {
		t.Fatalf("%d webhook calls, want 1", len(calls))
	}
}

// TestLocalStack_RemoteContent: a service configures its system (the local
// one); the metadata service is refused as a base_url; a message whose
// content is at the sender's is read by the app backend, with its opening
// condition and its document, from the sender's system, which sees the
// configured key and the citizen. The citizen's erasure deletes the
// documents handed over.
func TestLocalStack_RemoteContent(t *testing.T) {
	w := newActsWorld(t, "-param", "UserDataDeletionGraceSeconds=1")
	s := w.stack
	receiver := s.must(t, 200, "", "GET", "/_local/remote-content", "").body["url"].(string)
	config := func(base, key string) string {
		k := ""
		if key != "" {
			k = fmt.Sprintf(`"key":%q,`, key)
		}
		return fmt.Sprintf(`{"name":"Accertamenti","description":"Gli accertamenti del comune, presso il suo sistema","has_precondition":"NONE",
			"prod_environment":{"base_url":%q,"details_authentication":{"header_key_name":"X-Comune-Key",%s"type":"API_KEY"}},
			"test_environment":{"base_url":%q,"details_authentication":{"header_key_name":"X-Comune-Key","key":"test-key","type":"API_KEY"},"test_users":["AAAAAA00A00A000A"]}}`,
			base, k, base)
	}
	for _, bad := range []string{"http://169.254.169.254/latest/meta-data", "http://[fd00:ec2::254]/", "http://0.0.0.0:3003/", "http://[::ffff:169.254.169.254]/"} {
		s.must(t, 400, w.sender, "POST", "/api/v1/remote-contents/configurations", config(bad, "k"))
	}
	created := s.must(t, 201, w.sender, "POST", "/api/v1/remote-contents/configurations", config(receiver, "comune-secret-key"))
	id := created.body["configuration_id"].(string)
	// A change without the key keeps it (keys are never shown again).
	changed := s.must(t, 200, w.sender, "PUT", "/api/v1/remote-contents/configurations/"+id, strings.Replace(config(receiver, ""), `"NONE"`, `"ONCE"`, 1))
	if changed.body["has_precondition"] != "ONCE" || strings.Contains(changed.raw, "comune-secret-key") {
		t.Fatalf("changed: %s", changed.raw)
	}
	if got := s.must(t, 200, w.sender, "GET", "/api/v1/remote-contents/configurations/"+id, ""); strings.Contains(got.raw, "comune-secret-key") {
		t.Fatalf("a key shown: %s", got.raw)
	}
	if list := s.must(t, 200, w.sender, "GET", "/api/v1/remote-contents/configurations", ""); len(list.body["items"].([]any)) != 1 {
		t.Fatalf("list: %s", list.raw)
	}
	// The sender's system keeps the act: its text, its opening condition, its PDF.
	remote := fmt.Sprintf(`{"details":{"subject":"Avviso di accertamento TARI 2026","markdown":%q,"amount":"120,00"},
		"attachments":[{"id":"atto","name":"accertamento.pdf","content_type":"application/pdf","url":"documenti/accertamento.pdf","content_base64":%q}],
		"precondition":{"title":"Apertura con valore legale","markdown":"Aprendo questo messaggio ne ricevi la notifica, con valore legale."}}`,
		markdown, base64.StdEncoding.EncodeToString(samplePDF))
	s.must(t, 200, "", "PUT", "/_local/remote-content/ACC-2026-42", remote)
	body := fmt.Sprintf(`{"feature_level_type":"ADVANCED","content":{"subject":"Hai ricevuto un atto","markdown":%q,
		"third_party_data":{"id":"ACC-2026-42","configuration_id":%q,"has_remote_content":true,"has_attachments":true}}}`, markdown, id)
	s.must(t, 400, w.sender, "POST", "/api/v1/messages/"+w.citizen, strings.Replace(body, id, "01HZZZZZZZZZZZZZZZZZZZZZZZ", 1))
	msg := s.must(t, 201, w.sender, "POST", "/api/v1/messages/"+w.citizen, body)
	inBody := s.must(t, 201, w.sender, "POST", "/api/v1/messages", strings.Replace(body, "{", fmt.Sprintf(`{"fiscal_code":%q,`, w.citizen), 1))
	for _, loc := range []string{msg.header.Get("Location"), inBody.header.Get("Location")} {
		s.waitFor(t, w.sender, loc, func(r reply) bool { return r.body["status"] == "PROCESSED" })
	}
	base := "/api/v1/third-party-messages/" + w.citizen + "/" + msg.body["id"].(string)
	read := s.must(t, 200, w.admin, "GET", base, "")
	content := read.body["content"].(map[string]any)
	if content["subject"] != "Avviso di accertamento TARI 2026" || read.body["has_precondition"] != "ONCE" ||
		read.body["third_party_message"].(map[string]any)["details"].(map[string]any)["amount"] != "120,00" {
		t.Fatalf("the app backend's read: %s", read.raw)
	}
	calls := s.remoteCalls(t)
	last := calls[len(calls)-1]
	if last.Path != "/messages/ACC-2026-42" || last.Header["X-Comune-Key"] != "comune-secret-key" || last.Header["Fiscal_code"] != w.citizen {
		t.Fatalf("the sender's system got %+v", last)
	}
	if p := s.must(t, 200, w.admin, "GET", base+"/precondition", ""); p.body["title"] != "Apertura con valore legale" {
		t.Fatalf("precondition: %s", p.raw)
	}
	link := s.must(t, 200, w.admin, "GET", base+"/attachments/documenti/accertamento.pdf", "")
	if got := httpGet(t, link.body["download_url"].(string), 200); sha256Hex([]byte(got)) != sha256Hex(samplePDF) {
		t.Fatalf("the document handed over is %d bytes, not the sender's", len(got))
	}
	// The sender failing is a 502 for the app backend, never a 500.
	s.must(t, 200, "", "PUT", "/_local/remote-content/ACC-2026-42", `{"mode":"500"}`)
	s.must(t, 502, w.admin, "GET", base, "")

	// The erasure deletes the documents handed over (the transit bucket).
	u, _ := neturl.Parse(link.body["download_url"].(string))
	bucket, key, _ := strings.Cut(strings.TrimPrefix(u.Path, "/"), "/")
	prefix := key[:strings.LastIndex(key, "/")+1]
	left := func() int {
		out, err := s3.NewFromConfig(awstest.Config(s.endpoint), func(o *s3.Options) { o.UsePathStyle = true }).
			ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: &prefix})
		if err != nil {
			t.Fatal(err)
		}
		return len(out.Contents)
	}
	if left() != 1 || !strings.HasPrefix(prefix, "transit/") || strings.Contains(prefix, w.citizen) {
		t.Fatalf("the document in transit at %s", prefix)
	}
	udp := "/api/v1/user-data-processing/" + w.citizen
	s.must(t, 200, w.admin, "POST", udp, `{"choice":"DELETE"}`)
	time.Sleep(1500 * time.Millisecond)
	s.runScheduled(t, "EraseUserDataFunction")
	if r := s.must(t, 200, w.admin, "GET", udp+"/DELETE", ""); r.body["status"] != "CLOSED" || left() != 0 {
		t.Fatalf("after the erasure (%s): %d documents in transit", r.raw, left())
	}
}

// TestLocalStack_Receipts: an opening gives a receipt that a verifier
// with only the published keys accepts, whose content digest is what was
// delivered, the same on a second opening; the sender gets message.opened
// with it. A message with an opening condition not opened by its deadline
// (10 days, 10 s with ReminderTimeScale=86400) gets a signed receipt of
// non-opening and message.not_opened; its later opening names it (the
// chain). A sweep that stopped after recording a non-opening, before its
// receipt was kept, is finished by the next.
func TestLocalStack_Receipts(t *testing.T) {
	w := newActsWorld(t, "-param", "ReminderTimeScale=86400")
	s := w.stack
	url, _ := s.callbackCalls(t)
	s.must(t, 200, w.sender, "PUT", "/api/v1/callback", fmt.Sprintf(`{"url":%q}`, url))
	keys := func() receipts.JWKS {
		var set receipts.JWKS
		if err := json.Unmarshal([]byte(s.must(t, 200, "", "GET", "/api/v1/receipts/keys", "").raw), &set); err != nil {
			t.Fatal(err)
		}
		return set
	}

	// An act with a document: the receipt covers its content and the document.
	doc := fmt.Sprintf(`"attachments":[{"name":"atto.pdf","content_type":"application/pdf","size":%d,"sha256":%q}]`, len(samplePDF), sha256Hex(samplePDF))
	act := s.must(t, 201, w.sender, "POST", "/api/v1/messages/"+w.citizen, fmt.Sprintf(`{"feature_level_type":"ADVANCED",%s,
		"content":{"subject":"Notifica del verbale n. 42","markdown":%q,"payment_data":{"amount":4200,"notice_number":"302000100000004201"}}}`, doc, markdown))
	put(t, act.body["attachments"].([]any)[0], samplePDF)
	loc := act.header.Get("Location")
	delivered := s.waitFor(t, w.sender, loc, func(r reply) bool { return r.body["status"] == "PROCESSED" })
	opening := s.must(t, 200, w.admin, "POST", loc+"/opening", "")
	p, err := receipts.Verify(opening.body["receipt"].(string), keys())
	if err != nil {
		t.Fatalf("a verifier with the published keys: %v", err)
	}
	var c messages.Content
	raw, _ := json.Marshal(delivered.body["message"].(map[string]any)["content"])
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	if p.Event != receipts.Opened || p.MessageID != act.body["id"] || p.Content.Digest != receipts.ContentDigest(c) ||
		len(p.Content.Documents) != 1 || p.Content.Documents[0].SHA256 != sha256Hex(samplePDF) || strings.Contains(opening.raw, w.citizen) {
		t.Fatalf("the receipt's payload %+v", p)
	}
	if again := s.must(t, 200, w.admin, "POST", loc+"/opening", ""); again.raw != opening.raw {
		t.Fatalf("a second opening changed the receipt: %s", again.raw)
	}
	if got := s.must(t, 200, w.sender, "GET", loc+"/receipt", ""); got.body["receipt"] != opening.body["receipt"] {
		t.Fatalf("the sender's receipt: %s", got.raw)
	}
	waitCallback(t, s, act.body["id"].(string), "message.opened", opening.body["receipt"].(string))

	// Remote content with an opening condition, never opened in time.
	receiver := s.must(t, 200, "", "GET", "/_local/remote-content", "").body["url"].(string)
	cfg := s.must(t, 201, w.sender, "POST", "/api/v1/remote-contents/configurations", fmt.Sprintf(`{"name":"Atti","description":"Gli atti",
		"has_precondition":"ALWAYS","prod_environment":{"base_url":%q,"details_authentication":{"header_key_name":"X-Key","key":"k","type":"API_KEY"}}}`,
		receiver)).body["configuration_id"].(string)
	s.must(t, 200, "", "PUT", "/_local/remote-content/ATTO-7", fmt.Sprintf(`{"details":{"subject":"Atto di accertamento n. 7","markdown":%q},
		"precondition":{"title":"Valore legale","markdown":"Aprendo il messaggio ne ricevi la notifica, con valore legale."}}`, markdown))
	remote := func(id string) string {
		return fmt.Sprintf(`{"content":{"subject":"Hai ricevuto un atto","markdown":%q,
			"third_party_data":{"id":%q,"configuration_id":%q,"has_remote_content":true}}}`, markdown, id, cfg)
	}
	late := s.must(t, 201, w.sender, "POST", "/api/v1/messages/"+w.citizen, remote("ATTO-7"))
	stopped := s.must(t, 201, w.sender, "POST", "/api/v1/messages/"+w.citizen, remote("ATTO-8"))
	for _, r := range []reply{late, stopped} {
		s.waitFor(t, w.sender, r.header.Get("Location"), func(r reply) bool { return r.body["status"] == "PROCESSED" })
	}
	// The second: a run that recorded its non-opening and stopped before
	// keeping the receipt (what that run wrote, written here).
	db := dynamodb.NewFromConfig(awstest.Config(s.ddb))
	_, err = db.UpdateItem(context.Background(), &dynamodb.UpdateItemInput{TableName: aws.String(s.name + "-MessagesTable"),
		Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "INBOX#" + w.citizen},
			"sk": &types.AttributeValueMemberS{Value: "MSG#" + stopped.body["id"].(string)}},
		UpdateExpression: aws.String("SET not_opened_at = :at, legal_head = :h, precondition = :p"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":at": &types.AttributeValueMemberS{Value: time.Now().UTC().Format(time.RFC3339Nano)},
			":h": &types.AttributeValueMemberS{Value: "sha256:stopped"}, ":p": &types.AttributeValueMemberS{Value: "ALWAYS"}}})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(11 * time.Second) // past the 10-second deadline
	s.runScheduled(t, "SweepOpeningsFunction")
	var not receipts.Payload
	for _, r := range []reply{late, stopped} {
		got := s.must(t, 200, w.sender, "GET", r.header.Get("Location")+"/receipt", "")
		p, err := receipts.Verify(got.body["receipt"].(string), keys())
		if err != nil || p.Event != receipts.NotOpened || p.Precondition == nil || p.Precondition.Kind != "ALWAYS" || p.Content.Remote.ID == "" {
			t.Fatalf("a non-opening: %+v %v (%s)", p, err, got.raw)
		}
		waitCallback(t, s, r.body["id"].(string), "message.not_opened", got.body["receipt"].(string))
		if r.body["id"] == late.body["id"] {
			not = p
		}
	}
	// Opened after its deadline: the receipt names the non-opening's.
	base := "/api/v1/third-party-messages/" + w.citizen + "/" + late.body["id"].(string)
	s.must(t, 200, w.admin, "GET", base+"/precondition", "")
	opened := s.must(t, 200, w.admin, "POST", late.header.Get("Location")+"/opening", "")
	p, err = receipts.Verify(opened.body["receipt"].(string), keys())
	if err != nil || p.Prev != not.Digest() || p.Content.Remote == nil || p.Content.Remote.Digest == "" || p.Precondition.Digest == "" {
		t.Fatalf("the opening after the deadline: %+v %v", p, err)
	}
	if chain := s.must(t, 200, w.sender, "GET", late.header.Get("Location")+"/receipt", "").body["chain"].([]any); len(chain) != 2 {
		t.Fatalf("the chain: %v", chain)
	}
}

// waitCallback waits for the callbacks receiver to get event about a
// message, carrying receipt.
func waitCallback(t *testing.T, s *stack, id, event, receipt string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, calls := s.callbackCalls(t)
		for _, c := range calls {
			var body callbacks.Event
			if json.Unmarshal(c.Body, &body) == nil && body.MessageID == id && body.Event == event {
				if body.Receipt != receipt {
					t.Fatalf("%s carries another receipt: %s", event, c.Body)
				}
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s callback for %s", event, id)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
