package httpapi_test

import (
	"context"
	"testing"

	"github.com/digital-citizenship/functions/pkg/auth"
	"github.com/digital-citizenship/functions/pkg/messages"
	"github.com/digital-citizenship/functions/pkg/receipts"
)

// TestReceipts_HTTP: the app backend reports an opening and gets its
// receipt, the same the second time; the sender reads it; anyone reads the
// keys, anonymously, and verifies it with them alone.
func TestReceipts_HTTP(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	pa, app := caller("svc", auth.MessageWrite, auth.MessageRead), caller("other", auth.MessageList)
	id := w.do(t, pa, "POST", "/api/v1/messages/"+fc, newMessage).Body["id"].(string)
	base := "/api/v1/messages/" + fc + "/" + id
	wantProblem(t, w.do(t, app, "POST", base+"/opening", ""), 404, "Message not found") // not in the inbox yet
	wantProblem(t, w.do(t, pa, "GET", base+"/receipt", ""), 404, "No receipt")
	m, err := w.msgs.Get(ctx, fc, id)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.msgs.Deliver(ctx, m, messages.SenderService{FiscalCode: fc, ServiceID: "svc"}); err != nil {
		t.Fatal(err)
	}
	first := w.do(t, app, "POST", base+"/opening", "")
	if first.Status != 200 || first.Body["event"] != receipts.Opened || first.Body["receipt"] == nil {
		t.Fatalf("opening: %s", first.Raw)
	}
	if again := w.do(t, app, "POST", base+"/opening", ""); again.Raw != first.Raw {
		t.Fatalf("a second opening: %s, the first %s", again.Raw, first.Raw)
	}
	got := w.do(t, pa, "GET", base+"/receipt", "")
	if got.Status != 200 || got.Body["receipt"] != first.Body["receipt"] || len(got.Body["chain"].([]any)) != 1 {
		t.Fatalf("the sender's receipt: %s", got.Raw)
	}
	wantProblem(t, w.do(t, caller("other", auth.MessageRead), "GET", base+"/receipt", ""), 403, auth.ErrNotAllowed.Title)
	keys := w.do(t, nil, "GET", "/api/v1/receipts/keys", "")
	ks, _ := keys.Body["keys"].([]any)
	if keys.Status != 200 || len(ks) != 1 || ks[0].(map[string]any)["kid"] != "test-key" || keys.Header.Get("Cache-Control") == "" {
		t.Fatalf("keys: %s", keys.Raw)
	}
	if p, err := receipts.Verify(first.Body["receipt"].(string), w.signer.JWKS()); err != nil || p.MessageID != id {
		t.Fatalf("verify: %+v %v", p, err)
	}
}
