package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/mail"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	goical "github.com/emersion/go-ical"

	"github.com/digital-citizenship/functions/pkg/awstest"
)

// rawEmails returns the MIME messages the emulator's SES received (e-mails
// with attachments are sent raw).
func (s *stack) rawEmails(t *testing.T) []*mail.Message {
	t.Helper()
	var data struct {
		SES struct {
			RawMessage []struct {
				RawData string `json:"raw_data"`
			}
		} `json:"ses"`
	}
	awstest.MotoData(t, s.endpoint, &data)
	var out []*mail.Message
	for _, r := range data.SES.RawMessage {
		m, err := mail.ReadMessage(strings.NewReader(r.RawData))
		if err != nil {
			t.Fatalf("a raw e-mail does not parse: %v", err)
		}
		out = append(out, m)
	}
	return out
}

// calendarOf returns the text/calendar attachment of a MIME e-mail, parsed.
func calendarOf(t *testing.T, m *mail.Message) *goical.Calendar {
	t.Helper()
	_, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	r := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := r.NextPart() // decodes base64 and quoted-printable
		if err == io.EOF {
			t.Fatal("no text/calendar part")
		}
		if err != nil {
			t.Fatal(err)
		}
		typ, params, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		if typ != "text/calendar" {
			continue
		}
		if params["method"] != "PUBLISH" || !strings.HasPrefix(p.Header.Get("Content-Disposition"), "attachment") {
			t.Fatalf("calendar part %v", p.Header)
		}
		body, _ := io.ReadAll(p)
		if p.Header.Get("Content-Transfer-Encoding") == "base64" { // multipart decodes quoted-printable only
			if body, err = base64.StdEncoding.DecodeString(strings.Join(strings.Fields(string(body)), "")); err != nil {
				t.Fatal(err)
			}
		}
		cal, err := goical.NewDecoder(bytes.NewReader(body)).Decode()
		if err != nil {
			t.Fatalf("the attached event does not parse: %v\n%s", err, body)
		}
		return cal
	}
}

// advancedWorld is a stack with a TARI service that may send ADVANCED
// messages, the payment system's subscription, and a citizen whose e-mail
// is validated.
type advancedWorld struct {
	*stack
	admin, sender, payer, citizen, address string
}

func newAdvancedWorld(t *testing.T, args ...string) advancedWorld {
	t.Helper()
	w := advancedWorld{admin: "adv-admin-key-0123456789abcdef", citizen: "TESTER80A01Y501X", address: "tari-citizen@example.com"}
	w.stack = startStack(t, w.admin, args...)
	s := w.stack
	s.must(t, 200, w.admin, "POST", "/adm/services", `{"service_id":"tari-adv","service_name":"TARI","organization_name":"Comune di Roma",
		"department_name":"Tributi","organization_fiscal_code":"02438750586","authorized_cidrs":[],"authorized_recipients":[],
		"max_allowed_payment_amount":50000}`)
	s.must(t, 200, w.admin, "PUT", "/adm/users/tari@comune.roma.it/groups", `{"groups":["ApiMessageWrite","ApiMessageWriteAdvanced","ApiMessageRead"]}`)
	w.sender = s.must(t, 200, w.admin, "PUT", "/adm/users/tari@comune.roma.it/subscriptions/tari-adv", `{"product_name":"IO"}`).body["primary_key"].(string)
	s.must(t, 200, w.admin, "POST", "/adm/services", `{"service_id":"pagopa-receipts","service_name":"Ricevute pagoPA","organization_name":"PagoPA S.p.A.",
		"department_name":"Pagamenti","organization_fiscal_code":"15376371009","authorized_cidrs":[],"authorized_recipients":[]}`)
	s.must(t, 200, w.admin, "PUT", "/adm/users/receipts@pagopa.it/groups", `{"groups":["ApiPaymentWrite"]}`)
	w.payer = s.must(t, 200, w.admin, "PUT", "/adm/users/receipts@pagopa.it/subscriptions/pagopa-receipts", `{"product_name":"IO"}`).body["primary_key"].(string)
	s.must(t, 200, w.admin, "POST", "/adm/development-profiles/"+w.citizen, fmt.Sprintf(`{"email":%q}`, w.address))
	return w
}

// notice is an ADVANCED TARI notice due at due.
func notice(subject, number string, due time.Time) string {
	return fmt.Sprintf(`{"feature_level_type":"ADVANCED","content":{"subject":%q,"markdown":%q,"due_date":%q,
		"payment_data":{"amount":12000,"notice_number":%q}}}`, subject, markdown, due.UTC().Format("2006-01-02T15:04:05Z"), number)
}

func receiptFor(number, citizen string) string {
	return fmt.Sprintf(`{"notice_number":%q,"payee_fiscal_code":"02438750586","fiscal_code":%q,"amount":12000,"paid_at":"2026-11-30T10:00:00Z"}`,
		number, citizen)
}

// TestLocalStack_Payments: the payment status of ADVANCED notices, from the
// payment system's receipts (before and after their message) and from the
// sender.
func TestLocalStack_Payments(t *testing.T) {
	w := newAdvancedWorld(t)
	s := w.stack
	due := time.Now().Add(30 * 24 * time.Hour)

	// A STANDARD key cannot send ADVANCED.
	s.must(t, 200, w.admin, "POST", "/adm/services", `{"service_id":"tari-std","service_name":"TARI","organization_name":"Comune di Roma",
		"department_name":"Tributi","organization_fiscal_code":"02438750586","authorized_cidrs":[],"authorized_recipients":[],
		"max_allowed_payment_amount":50000}`)
	s.must(t, 200, w.admin, "PUT", "/adm/users/std@comune.roma.it/groups", `{"groups":["ApiMessageWrite"]}`)
	std := s.must(t, 200, w.admin, "PUT", "/adm/users/std@comune.roma.it/subscriptions/tari-std", `{"product_name":"IO"}`).body["primary_key"]
	if r := s.must(t, 403, std.(string), "POST", "/api/v1/messages/"+w.citizen, notice("Avviso TARI rata unica", "302000100000009401", due)); r.body["title"] != "Call forbidden" {
		t.Fatalf("ADVANCED without the group: %s", r.raw)
	}

	created := s.must(t, 201, w.sender, "POST", "/api/v1/messages/"+w.citizen,
		strings.Replace(notice("Avviso TARI rata unica", "302000100000009401", due), "{", `{"reference":"TARI-2026-ROMA-000401",`, 1))
	loc := created.header.Get("Location")
	m := s.waitFor(t, w.sender, loc, func(r reply) bool { return r.body["status"] == "PROCESSED" })
	if m.body["payment_status"] != "NOT_PAID" || m.body["message"].(map[string]any)["feature_level_type"] != "ADVANCED" ||
		m.body["message"].(map[string]any)["reference"] != "TARI-2026-ROMA-000401" {
		t.Fatalf("a new notice: %s", m.raw)
	}
	// The payment system's receipt marks it PAID; a repeat gets the same answer.
	r := s.must(t, 200, w.payer, "POST", "/api/v1/payments", receiptFor("302000100000009401", w.citizen))
	if ids, _ := r.body["message_ids"].([]any); len(ids) != 1 || ids[0] != created.body["id"] {
		t.Fatalf("receipt: %s", r.raw)
	}
	if again := s.must(t, 200, w.payer, "POST", "/api/v1/payments", receiptFor("302000100000009401", w.citizen)); again.raw != r.raw {
		t.Fatalf("repeated receipt %s, first %s", again.raw, r.raw)
	}
	if m := s.must(t, 200, w.sender, "GET", loc, ""); m.body["payment_status"] != "PAID" || m.body["paid_at"] != "2026-11-30T10:00:00.000Z" {
		t.Fatalf("paid notice: %s", m.raw)
	}
	s.must(t, 400, w.payer, "POST", "/api/v1/payments", `{"notice_number":"1"}`)

	// A receipt before its message: PAID from the start (the successors'
	// form of the request this time).
	s.must(t, 200, w.payer, "POST", "/api/v1/payments", receiptFor("302000100000009402", w.citizen))
	body := strings.Replace(notice("Avviso TARI seconda rata", "302000100000009402", due), "{", fmt.Sprintf(`{"fiscal_code":%q,`, w.citizen), 1)
	early := s.must(t, 201, w.sender, "POST", "/api/v1/messages", body)
	if m := s.must(t, 200, w.sender, "GET", early.header.Get("Location"), ""); m.body["payment_status"] != "PAID" {
		t.Fatalf("notice after its receipt: %s", m.raw)
	}

	// The sender records a payment made elsewhere.
	own := s.must(t, 201, w.sender, "POST", "/api/v1/messages/"+w.citizen, notice("Avviso TARI terza rata", "302000100000009403", due))
	paid := s.must(t, 200, w.sender, "PUT", own.header.Get("Location")+"/payment-status", `{"status":"PAID"}`)
	if paid.body["payment_status"] != "PAID" {
		t.Fatalf("sender's payment: %s", paid.raw)
	}
	s.must(t, 404, w.sender, "PUT", "/api/v1/messages/"+w.citizen+"/01NOSUCHMESSAGE0000000000/payment-status", `{"status":"PAID"}`)

	// The app backend's inbox shows is_paid.
	s.waitFor(t, w.sender, own.header.Get("Location"), func(r reply) bool { return r.body["status"] == "PROCESSED" })
	s.waitFor(t, w.sender, early.header.Get("Location"), func(r reply) bool { return r.body["status"] == "PROCESSED" })
	page := s.must(t, 200, w.admin, "GET", "/api/v1/messages/"+w.citizen, "")
	paidItems := 0
	for _, it := range page.body["items"].([]any) {
		if it.(map[string]any)["is_paid"] == true {
			paidItems++
		}
	}
	if paidItems != 3 {
		t.Fatalf("inbox: %d items paid, want 3: %s", paidItems, page.raw)
	}

	// What the sender sent: by its reference, and all three processed.
	byRef := s.must(t, 200, w.sender, "GET", "/api/v1/messages?reference=TARI-2026-ROMA-000401", "")
	if items := byRef.body["items"].([]any); len(items) != 1 || items[0].(map[string]any)["id"] != created.body["id"] ||
		items[0].(map[string]any)["status"] != "PROCESSED" || items[0].(map[string]any)["fiscal_code"] != w.citizen {
		t.Fatalf("by reference: %s", byRef.raw)
	}
	listed, pages := 0, 0
	for next := "/api/v1/messages?status=PROCESSED&page_size=2"; next != "" && pages < 10; pages++ {
		page := s.must(t, 200, w.sender, "GET", next, "")
		listed += len(page.body["items"].([]any))
		next, _ = page.body["next"].(string)
	}
	if listed != 3 || pages < 2 {
		t.Fatalf("processed: %d listed in %d pages of 2", listed, pages)
	}
	s.must(t, 400, w.sender, "GET", "/api/v1/messages?status=SENT", "")
}

// waitUntil sleeps until t.
func waitUntil(at time.Time) { time.Sleep(time.Until(at)) }

// remindersOf returns getMessage's reminders.
func remindersOf(r reply) []map[string]any {
	var out []map[string]any
	for _, x := range r.body["reminders"].([]any) {
		out = append(out, x.(map[string]any))
	}
	return out
}

// TestLocalStack_Reminders: an unpaid notice is reminded at the service's
// offsets (a day before is 24 s before, at ReminderTimeScale 3600) on e-mail
// and push, once; after the receipt, no further reminder.
func TestLocalStack_Reminders(t *testing.T) {
	w := newAdvancedWorld(t, "-param", "ReminderTimeScale=3600")
	s := w.stack
	s.must(t, 200, w.admin, "PUT", "/adm/services/tari-adv", `{"service_id":"tari-adv","service_name":"TARI","organization_name":"Comune di Roma",
		"department_name":"Tributi","organization_fiscal_code":"02438750586","authorized_cidrs":[],"authorized_recipients":[],
		"max_allowed_payment_amount":50000,"reminder_offsets":[86400,43200]}`)
	s.must(t, 400, w.admin, "PUT", "/adm/services/tari-adv", `{"service_id":"tari-adv","service_name":"TARI","organization_name":"Comune di Roma",
		"department_name":"Tributi","organization_fiscal_code":"02438750586","authorized_cidrs":[],"authorized_recipients":[],
		"reminder_offsets":[60]}`)
	s.must(t, 200, w.admin, "PUT", "/api/v1/installations/reminded-phone", `{"fiscal_code":"`+w.citizen+`","platform":"apns","push_channel":"`+strings.Repeat("cd", 32)+`"}`)

	due := time.Now().Add(45 * time.Second).Truncate(time.Second)
	subject := "Avviso TARI in scadenza " + time.Now().Format("150405")
	created := s.must(t, 201, w.sender, "POST", "/api/v1/messages/"+w.citizen, notice(subject, "302000100000009501", due))
	loc := created.header.Get("Location")
	s.waitFor(t, w.sender, loc, func(r reply) bool { return r.body["status"] == "PROCESSED" })

	// The first reminder is due 24 s before the due date.
	waitUntil(due.Add(-23 * time.Second))
	s.runScheduled(t, "SweepRemindersFunction")
	m := s.waitFor(t, w.sender, loc, func(r reply) bool {
		rs, _ := r.body["reminders"].([]any)
		return len(rs) == 1 && rs[0].(map[string]any)["channels"].(map[string]any)["email"] == "SENT" &&
			rs[0].(map[string]any)["channels"].(map[string]any)["push"] == "SENT"
	})
	if r := remindersOf(m)[0]; r["offset_seconds"] != float64(86400) || m.body["notification"].(map[string]any)["email"] != "SENT" {
		t.Fatalf("reminder %s", m.raw)
	}
	reminderEmails := func() int {
		n := 0
		for _, e := range s.recordedEmails(t) {
			to, _ := e["destinations"].(map[string]any)["ToAddresses"].([]any)
			if e["subject"] == "Promemoria: "+subject && len(to) == 1 && to[0] == w.address &&
				strings.Contains(fmt.Sprint(e["body"]), "ancora da pagare") && strings.Contains(fmt.Sprint(e["body"]), "Comune di Roma") {
				n++
			}
		}
		return n
	}
	if n := reminderEmails(); n != 1 {
		t.Fatalf("%d reminder e-mails, want 1", n)
	}
	// The message's own e-mail carried its calendar event; the app backend
	// gets the same one.
	var attached *goical.Calendar
	for _, e := range s.rawEmails(t) {
		if subj, _ := new(mime.WordDecoder).DecodeHeader(e.Header.Get("Subject")); subj == subject && e.Header.Get("To") == w.address {
			attached = calendarOf(t, e)
		}
	}
	if attached == nil {
		t.Fatalf("no e-mail with the calendar event")
	}
	ics := s.must(t, 200, w.admin, "GET", loc+"/calendar.ics", "")
	if !strings.HasPrefix(ics.header.Get("Content-Type"), "text/calendar") {
		t.Fatalf("calendar.ics: %v", ics.header)
	}
	served, err := goical.NewDecoder(strings.NewReader(ics.raw)).Decode()
	if err != nil {
		t.Fatal(err)
	}
	for _, cal := range []*goical.Calendar{attached, served} {
		ev := cal.Events()[0]
		uid, _ := ev.Props.Text(goical.PropUID)
		summary, _ := ev.Props.Text(goical.PropSummary)
		desc, _ := ev.Props.Text(goical.PropDescription)
		start, _ := ev.DateTimeStart(time.UTC)
		alarms := 0
		for _, c := range ev.Children {
			if c.Name == goical.CompAlarm {
				alarms++
			}
		}
		if uid != created.body["id"].(string)+"@messages.io.italia.it" || summary != subject || !start.Equal(due) || alarms != 2 ||
			!strings.Contains(desc, "302000100000009501") || strings.Contains(desc, w.citizen) {
			t.Fatalf("calendar event: uid %q summary %q start %v alarms %d description %q", uid, summary, start, alarms, desc)
		}
	}
	// A sweep again: nothing twice.
	s.runScheduled(t, "SweepRemindersFunction")

	// Paid: the second reminder (12 s before) never comes.
	s.must(t, 200, w.payer, "POST", "/api/v1/payments", receiptFor("302000100000009501", w.citizen))
	waitUntil(due.Add(-11 * time.Second))
	s.runScheduled(t, "SweepRemindersFunction")
	time.Sleep(2 * time.Second)
	m = s.must(t, 200, w.sender, "GET", loc, "")
	if len(remindersOf(m)) != 1 || m.body["payment_status"] != "PAID" || reminderEmails() != 1 {
		t.Fatalf("after the receipt: %s; %d reminder e-mails", m.raw, reminderEmails())
	}
}

// samplePDF is a small but well-formed PDF.
var samplePDF = []byte("%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n" +
	"trailer << /Root 1 0 R >>\n%%EOF\n")

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// put uploads body as a sender does: to the upload link of a 201's
// document (an attachments item), with the headers it signs.
func put(t *testing.T, upload any, body []byte) {
	t.Helper()
	u, _ := upload.(map[string]any)
	link, _ := u["upload_url"].(string)
	headers, _ := u["upload_headers"].(map[string]any)
	if link == "" || headers["x-amz-checksum-sha256"] == nil || headers["Content-Length"] == nil {
		t.Fatalf("an upload without its link or signed headers: %v", upload)
	}
	req, err := http.NewRequest("PUT", link, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/pdf")
	req.Header.Set("x-amz-checksum-sha256", headers["x-amz-checksum-sha256"].(string))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("upload: %d %s", res.StatusCode, b)
	}
}

// TestLocalStack_Documents: an ADVANCED notice with a PDF, declared in the
// submission and uploaded to the link the 201 gives; processed once the
// document is there and checked; the app backend downloads it with the
// declared SHA-256; the citizen's download links it, the erasure deletes it.
func TestLocalStack_Documents(t *testing.T) {
	w := newAdvancedWorld(t, "-param", "UserDataDeletionGraceSeconds=1")
	s := w.stack
	due := time.Now().Add(30 * 24 * time.Hour)
	doc := fmt.Sprintf(`"attachments":[{"name":"avviso-tari.pdf","content_type":"application/pdf","size":%d,"sha256":%q}]`,
		len(samplePDF), sha256Hex(samplePDF))
	body := strings.Replace(notice("Avviso TARI con documento", "302000100000009601", due), "{", "{"+doc+",", 1)
	std := strings.Replace(body, `"feature_level_type":"ADVANCED",`, "", 1)
	if r := s.must(t, 403, w.sender, "POST", "/api/v1/messages/"+w.citizen, std); r.body["title"] != "Call forbidden" {
		t.Fatalf("STANDARD with documents: %s", r.raw)
	}
	created := s.must(t, 201, w.sender, "POST", "/api/v1/messages/"+w.citizen, body)
	ups, _ := created.body["attachments"].([]any)
	if len(ups) != 1 || ups[0].(map[string]any)["id"] != "1" || ups[0].(map[string]any)["upload_url"] == nil {
		t.Fatalf("201 %s", created.raw)
	}
	loc := created.header.Get("Location")
	// The document comes a while later: the message waits for it.
	time.Sleep(1500 * time.Millisecond)
	if m := s.must(t, 200, w.sender, "GET", loc, ""); m.body["status"] != "ACCEPTED" {
		t.Fatalf("processed before its document: %s", m.raw)
	}
	put(t, ups[0], samplePDF)
	m := s.waitFor(t, w.sender, loc, func(r reply) bool { return r.body["status"] == "PROCESSED" })
	atts, _ := m.body["attachments"].([]any)
	if len(atts) != 1 || atts[0].(map[string]any)["sha256"] != sha256Hex(samplePDF) || atts[0].(map[string]any)["name"] != "avviso-tari.pdf" ||
		atts[0].(map[string]any)["version_id"] == nil {
		t.Fatalf("attachments %s", m.raw)
	}
	// A second upload to the same link, of other bytes: in AWS, S3 refuses
	// it (the link signs the declared SHA-256); moto takes it, as a new
	// version, which nothing links.
	put(t, ups[0], bytes.Replace(samplePDF, []byte("1.4"), []byte("1.7"), 1))
	// Its e-mail says a document waits in the app; it attaches only the calendar event.
	s.waitFor(t, w.sender, loc, func(r reply) bool { return channelsOf(r)["email"] == "SENT" })
	seen := 0
	for _, e := range s.rawEmails(t) {
		if subj, _ := new(mime.WordDecoder).DecodeHeader(e.Header.Get("Subject")); subj != "Avviso TARI con documento" {
			continue
		}
		seen++
		raw, _ := io.ReadAll(e.Body)
		if bytes.Contains(raw, []byte("application/pdf")) || bytes.Contains(raw, []byte("documents/")) || !bytes.Contains(raw, []byte("app IO")) {
			t.Fatalf("the e-mail attaches or links the document, or does not say it waits:\n%s", raw)
		}
	}
	if seen != 1 {
		t.Fatalf("%d e-mails of the message with the document, want 1", seen)
	}
	// The app backend's link downloads the document as declared.
	link := s.must(t, 200, w.admin, "GET", loc+"/attachments/1", "")
	if got := httpGet(t, link.body["download_url"].(string), 200); sha256Hex([]byte(got)) != sha256Hex(samplePDF) {
		t.Fatalf("downloaded %d bytes, not the document", len(got))
	}
	s.must(t, 404, w.admin, "GET", loc+"/attachments/2", "")

	// A document that is not what was declared (the successors' form): FAILED, with why.
	inBody := strings.Replace(strings.Replace(body, "302000100000009601", "302000100000009602", 1), "{", fmt.Sprintf(`{"fiscal_code":%q,`, w.citizen), 1)
	bad := s.must(t, 201, w.sender, "POST", "/api/v1/messages", inBody)
	put(t, bad.body["attachments"].([]any)[0], bytes.Replace(samplePDF, []byte("1.4"), []byte("1.7"), 1))
	f := s.waitFor(t, w.sender, bad.header.Get("Location"), func(r reply) bool { return r.body["status"] == "FAILED" })
	if !strings.Contains(fmt.Sprint(f.body["failure_reason"]), "SHA-256") {
		t.Fatalf("a wrong document: %s", f.raw)
	}

	// The citizen's download links the document; the erasure deletes it.
	udp := "/api/v1/user-data-processing/" + w.citizen
	s.must(t, 200, w.admin, "POST", udp, `{"choice":"DOWNLOAD"}`)
	s.runScheduled(t, "ExportUserDataFunction")
	var archive struct {
		Documents []struct {
			MessageID   string `json:"message_id"`
			SHA256      string `json:"sha256"`
			DownloadURL string `json:"download_url"`
		} `json:"documents"`
	}
	dl := s.must(t, 200, w.admin, "GET", udp+"/DOWNLOAD", "")
	if err := json.Unmarshal([]byte(httpGet(t, dl.body["download_url"].(string), 200)), &archive); err != nil {
		t.Fatal(err)
	}
	found := ""
	for _, d := range archive.Documents {
		if d.MessageID == created.body["id"] && d.SHA256 == sha256Hex(samplePDF) {
			found = d.DownloadURL
		}
	}
	if found == "" || sha256Hex([]byte(httpGet(t, found, 200))) != sha256Hex(samplePDF) {
		t.Fatalf("the archive's documents %+v", archive.Documents)
	}
	s.must(t, 200, w.admin, "POST", udp, `{"choice":"DELETE"}`)
	time.Sleep(1500 * time.Millisecond)
	s.runScheduled(t, "EraseUserDataFunction")
	if r := s.must(t, 200, w.admin, "GET", udp+"/DELETE", ""); r.body["status"] != "CLOSED" {
		t.Fatalf("deletion %s", r.raw)
	}
	// Nothing of the citizen's is left in the documents' bucket: no
	// version (the second upload's neither), no delete marker.
	u, _ := url.Parse(link.body["download_url"].(string))
	bucket, key, _ := strings.Cut(strings.TrimPrefix(u.Path, "/"), "/")
	prefix := key[:strings.Index(key, "/"+created.body["id"].(string))+1]
	left, err := s3.NewFromConfig(awstest.Config(s.endpoint), func(o *s3.Options) { o.UsePathStyle = true }).
		ListObjectVersions(context.Background(), &s3.ListObjectVersionsInput{Bucket: &bucket, Prefix: &prefix})
	if err != nil || len(left.Versions)+len(left.DeleteMarkers) != 0 {
		t.Fatalf("after the erasure, %d versions and %d markers under the citizen's prefix (%v)", len(left.Versions), len(left.DeleteMarkers), err)
	}
}
