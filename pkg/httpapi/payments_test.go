package httpapi_test

import (
	"strings"
	"testing"

	"github.com/digital-citizenship/functions/pkg/auth"
)

const payment = `{"feature_level_type":"ADVANCED","content":{"subject":"Avviso TARI 2026","markdown":"` +
	"Lorem ipsum dolor sit amet, consectetur adipiscing elit. Maecenas et mollis felis, vivamus orci nisl." +
	`","due_date":"2030-01-31T23:59:59Z","payment_data":{"amount":12000,"notice_number":"012345678901234567"}}}`

func receipt(notice, payee string) string {
	return `{"notice_number":"` + notice + `","payee_fiscal_code":"` + payee + `","fiscal_code":"` + fc +
		`","amount":12000,"paid_at":"2026-11-30T10:00:00Z"}`
}

func TestFeatureLevels(t *testing.T) {
	w := newWorld(t)
	sender := caller("svc", auth.MessageWrite, auth.MessageRead)
	// ADVANCED needs its group; the 403 reads as the other group errors.
	r := w.do(t, sender, "POST", "/api/v1/messages/"+fc, payment)
	wantProblem(t, r, 403, "Call forbidden")
	if !strings.Contains(r.Body["detail"].(string), "ADVANCED") {
		t.Fatalf("detail %s", r.Raw)
	}
	bad := strings.Replace(payment, `"ADVANCED"`, `"PREMIUM"`, 1)
	r = w.do(t, caller("svc", auth.MessageWrite, auth.MessageWriteAdvanced), "POST", "/api/v1/messages/"+fc, bad)
	wantProblem(t, r, 400, "Invalid NewMessage")
	if !strings.Contains(r.Body["detail"].(string), "feature_level_type") {
		t.Fatalf("detail %s", r.Raw)
	}
	badPayee := strings.Replace(payment, `"notice_number"`, `"payee":{"fiscal_code":"123"},"notice_number"`, 1)
	r = w.do(t, caller("svc", auth.MessageWrite, auth.MessageWriteAdvanced), "POST", "/api/v1/messages/"+fc, badPayee)
	wantProblem(t, r, 400, "Invalid NewMessage")
	if !strings.Contains(r.Body["detail"].(string), "content.payment_data.payee.fiscal_code") {
		t.Fatalf("detail %s", r.Raw)
	}
	if n := len(w.created.Sent); n != 0 {
		t.Fatalf("refused submissions queued %d events", n)
	}

	advanced := caller("svc", auth.MessageWrite, auth.MessageWriteAdvanced, auth.MessageRead)
	id := w.do(t, advanced, "POST", "/api/v1/messages/"+fc, payment).Body["id"].(string)
	got := w.do(t, advanced, "GET", "/api/v1/messages/"+fc+"/"+id, "")
	msg := got.Body["message"].(map[string]any)
	if msg["feature_level_type"] != "ADVANCED" || got.Body["payment_status"] != "NOT_PAID" || got.Body["paid_at"] != nil {
		t.Fatalf("ADVANCED payment notice %s", got.Raw)
	}
	// A STANDARD message shows its level and no payment status.
	std := w.do(t, sender, "POST", "/api/v1/messages/"+fc, strings.Replace(payment, `"feature_level_type":"ADVANCED",`, "", 1)).Body["id"].(string)
	got = w.do(t, sender, "GET", "/api/v1/messages/"+fc+"/"+std, "")
	if got.Body["message"].(map[string]any)["feature_level_type"] != "STANDARD" || got.Body["payment_status"] != nil {
		t.Fatalf("STANDARD payment notice %s", got.Raw)
	}
}

func TestPayments(t *testing.T) {
	w := newWorld(t)
	advanced := caller("svc", auth.MessageWrite, auth.MessageWriteAdvanced, auth.MessageRead)
	payer := caller("other", auth.PaymentWrite)
	id := w.do(t, advanced, "POST", "/api/v1/messages/"+fc, payment).Body["id"].(string)

	// Bad receipts name the field and change nothing.
	for field, body := range map[string]string{
		"notice_number":     receipt("12", "00000000001"),
		"payee_fiscal_code": receipt("012345678901234567", "ABC"),
		"paid_at":           strings.Replace(receipt("012345678901234567", "00000000001"), "2026-11-30T10:00:00Z", "yesterday", 1),
		"amount":            strings.Replace(receipt("012345678901234567", "00000000001"), "12000", "0", 1),
		"fiscal_code":       strings.Replace(receipt("012345678901234567", "00000000001"), fc, "nobody", 1),
	} {
		r := w.do(t, payer, "POST", "/api/v1/payments", body)
		wantProblem(t, r, 400, "Invalid PaymentReceipt")
		if !strings.Contains(r.Body["detail"].(string), field) {
			t.Fatalf("%s: %s", field, r.Raw)
		}
	}
	if got := w.do(t, advanced, "GET", "/api/v1/messages/"+fc+"/"+id, ""); got.Body["payment_status"] != "NOT_PAID" {
		t.Fatalf("after bad receipts %s", got.Raw)
	}
	// A receipt for another payee's notice of the same number pays nothing.
	r := w.do(t, payer, "POST", "/api/v1/payments", receipt("012345678901234567", "99999999999"))
	if r.Status != 200 || len(r.Body["message_ids"].([]any)) != 0 {
		t.Fatalf("another payee's receipt %s", r.Raw)
	}
	// The payee is the sender's organization (00000000001).
	first := w.do(t, payer, "POST", "/api/v1/payments", receipt("012345678901234567", "00000000001"))
	if first.Status != 200 || first.Body["paid_at"] != "2026-11-30T10:00:00.000Z" || len(first.Body["message_ids"].([]any)) != 1 {
		t.Fatalf("receipt %s", first.Raw)
	}
	again := w.do(t, payer, "POST", "/api/v1/payments", strings.Replace(receipt("012345678901234567", "00000000001"), "10:00:00", "11:00:00", 1))
	if again.Raw != first.Raw {
		t.Fatalf("repeated receipt %s, first %s", again.Raw, first.Raw)
	}
	got := w.do(t, advanced, "GET", "/api/v1/messages/"+fc+"/"+id, "")
	if got.Body["payment_status"] != "PAID" || got.Body["paid_at"] != "2026-11-30T10:00:00.000Z" {
		t.Fatalf("paid message %s", got.Raw)
	}

	// A receipt before its message: the message is PAID at once.
	payee := strings.Replace(payment, `"notice_number":"012345678901234567"`, `"notice_number":"112345678901234567","payee":{"fiscal_code":"02438750586"}`, 1)
	w.do(t, payer, "POST", "/api/v1/payments", receipt("112345678901234567", "02438750586"))
	later := w.do(t, advanced, "POST", "/api/v1/messages/"+fc, payee).Body["id"].(string)
	if got := w.do(t, advanced, "GET", "/api/v1/messages/"+fc+"/"+later, ""); got.Body["payment_status"] != "PAID" {
		t.Fatalf("message after its receipt %s", got.Raw)
	}

	// The sender marks its own notice paid.
	own := w.do(t, advanced, "POST", "/api/v1/messages/"+fc, strings.Replace(payment, "012345678901234567", "212345678901234567", 1)).Body["id"].(string)
	plain := w.do(t, advanced, "POST", "/api/v1/messages/"+fc, newMessage).Body["id"].(string)
	path := "/api/v1/messages/" + fc + "/" + own + "/payment-status"
	wantProblem(t, w.do(t, advanced, "PUT", path, `{"status":"NOT_PAID"}`), 400, "Invalid PaymentStatusChange")
	wantProblem(t, w.do(t, caller("other", auth.MessageWrite), "PUT", path, `{"status":"PAID"}`), 404, "Message not found")
	wantProblem(t, w.do(t, advanced, "PUT", "/api/v1/messages/"+fc+"/"+plain+"/payment-status", `{"status":"PAID"}`), 409, "Not a payment notice")
	paid := w.do(t, advanced, "PUT", path, `{"status":"PAID"}`)
	if paid.Status != 200 || paid.Body["payment_status"] != "PAID" || paid.Body["paid_at"] == nil {
		t.Fatalf("sender's payment %s", paid.Raw)
	}
	if again := w.do(t, advanced, "PUT", path, `{"status":"PAID"}`); again.Raw != paid.Raw {
		t.Fatalf("repeated %s, first %s", again.Raw, paid.Raw)
	}
}

func TestReference(t *testing.T) {
	w := newWorld(t)
	sender := caller("svc", auth.MessageWrite, auth.MessageRead)
	body := strings.Replace(newMessage, `{"content"`, `{"reference":"TARI-2026/000123","content"`, 1)
	id := w.do(t, sender, "POST", "/api/v1/messages/"+fc, body).Body["id"].(string)
	got := w.do(t, sender, "GET", "/api/v1/messages/"+fc+"/"+id, "")
	if got.Body["message"].(map[string]any)["reference"] != "TARI-2026/000123" {
		t.Fatalf("getMessage %s", got.Raw)
	}
	for _, bad := range []string{`""`, `"` + strings.Repeat("x", 1001) + `"`, `"a\nb"`, `12`} {
		r := w.do(t, sender, "POST", "/api/v1/messages/"+fc, strings.Replace(newMessage, `{"content"`, `{"reference":`+bad+`,"content"`, 1))
		wantProblem(t, r, 400, "Invalid NewMessage")
		if !strings.Contains(r.Body["detail"].(string), "reference") {
			t.Fatalf("reference %s: %s", bad, r.Raw)
		}
	}
}
