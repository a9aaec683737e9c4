package httpapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/digital-citizenship/functions/pkg/auth"
	"github.com/digital-citizenship/functions/pkg/messages"
)

// fakeSender is a sender's system of remote content on loopback: it
// answers each message id what answers says (a JSON body, or "hang", or a
// status), and records the calls' headers.
type fakeSender struct {
	*httptest.Server
	mu      sync.Mutex
	answers map[string]string // path -> body, "500", "hang"
	calls   []http.Header
}

func startSender(t *testing.T) *fakeSender {
	f := &fakeSender{answers: map[string]string{}}
	release := make(chan struct{})
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.calls = append(f.calls, r.Header.Clone())
		a, ok := f.answers[r.URL.Path]
		f.mu.Unlock()
		switch {
		case !ok:
			http.NotFound(w, r)
		case a == "hang":
			select {
			case <-r.Context().Done():
			case <-release:
			}
		case a == "500":
			http.Error(w, "down", 500)
		default:
			_, _ = w.Write([]byte(a))
		}
	}))
	t.Cleanup(func() { close(release); f.Close() })
	return f
}

func (f *fakeSender) answer(path, body string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.answers[path] = body
}

func (f *fakeSender) last() http.Header {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[len(f.calls)-1]
}

func configurationBody(baseURL, key string) string {
	k := ""
	if key != "" {
		k = `"key":"` + key + `",`
	}
	return `{"name":"Avvisi","description":"Gli avvisi del comune","has_precondition":"ONCE",
		"prod_environment":{"base_url":"` + baseURL + `","details_authentication":{"header_key_name":"X-Api-Key",` + k + `"type":"API_KEY"}}}`
}

// TestRemoteContent_Configurations: create, read without the key, list,
// change without sending the key again (it is kept); the refusals.
func TestRemoteContent_Configurations(t *testing.T) {
	w := newWorld(t)
	pa := caller("svc", auth.RemoteContentWrite)
	const path = "/api/v1/remote-contents/configurations"
	r := w.do(t, pa, "POST", path, configurationBody(w.sender.URL, "secret-key-1"))
	id, _ := r.Body["configuration_id"].(string)
	if r.Status != 201 || id == "" || r.Header.Get("Location") != path+"/"+id {
		t.Fatalf("create: %d %s %v", r.Status, r.Raw, r.Header)
	}
	got := w.do(t, pa, "GET", path+"/"+id, "")
	if got.Status != 200 || strings.Contains(got.Raw, "secret-key-1") || got.Body["has_precondition"] != "ONCE" ||
		got.Body["prod_environment"].(map[string]any)["base_url"] != w.sender.URL {
		t.Fatalf("read: %s", got.Raw)
	}
	changed := w.do(t, pa, "PUT", path+"/"+id, strings.Replace(configurationBody(w.sender.URL, ""), "Avvisi", "Avvisi TARI", 1))
	if changed.Status != 200 || changed.Body["name"] != "Avvisi TARI" || strings.Contains(changed.Raw, "secret-key-1") {
		t.Fatalf("update: %s", changed.Raw)
	}
	c, err := w.remote.Configuration(context.Background(), "svc", id)
	if err != nil || c.Prod.Auth.Key != "secret-key-1" {
		t.Fatalf("the key is not kept: %+v %v", c.Prod.Auth, err)
	}
	list := w.do(t, pa, "GET", path, "")
	if items, _ := list.Body["items"].([]any); list.Status != 200 || len(items) != 1 || strings.Contains(list.Raw, "secret-key-1") {
		t.Fatalf("list: %s", list.Raw)
	}
	// Another service sees none of it.
	wantProblem(t, w.do(t, caller("other", auth.RemoteContentWrite), "GET", path+"/"+id, ""), 404, "Configuration not found")
	wantProblem(t, w.do(t, caller("other", auth.RemoteContentWrite), "PUT", path+"/"+id, configurationBody(w.sender.URL, "k")), 404, "Configuration not found")
	for name, body := range map[string]string{
		"the metadata service": configurationBody("http://169.254.169.254/latest", "k"),
		"an unspecified host":  configurationBody("http://0.0.0.0:3003", "k"),
		"a private address":    configurationBody("http://10.0.0.7", "k"),
		"no key":               configurationBody(w.sender.URL, ""),
		"a reserved header":    strings.Replace(configurationBody(w.sender.URL, "k"), "X-Api-Key", "fiscal_code", 1),
		"no name":              strings.Replace(configurationBody(w.sender.URL, "k"), `"name":"Avvisi",`, "", 1),
		"a bad precondition":   strings.Replace(configurationBody(w.sender.URL, "k"), `"ONCE"`, `"SOMETIMES"`, 1),
		"a bad test user":      strings.Replace(configurationBody(w.sender.URL, "k"), `"has_precondition"`, `"test_environment":{"base_url":"https://t.example.it","details_authentication":{"header_key_name":"K","key":"k","type":"API_KEY"},"test_users":["nope"]},"has_precondition"`, 1),
	} {
		t.Run(name, func(t *testing.T) { wantProblem(t, w.do(t, pa, "POST", path, body), 400, "Invalid RCConfiguration") })
	}
}

// TestRemoteContent_Messages: a message names one of its sender's
// configurations or is refused; the app backend reads it, its opening
// condition and its document from the sender's system, which sees the
// configured key and the citizen; a sender that fails or hangs is a 502 or
// a 504, never a 500.
func TestRemoteContent_Messages(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	pa := caller("svc", auth.RemoteContentWrite, auth.MessageWrite, auth.MessageWriteAdvanced)
	app := caller("other", auth.MessageList)
	cfg := w.do(t, pa, "POST", "/api/v1/remote-contents/configurations", configurationBody(w.sender.URL, "secret-key-1")).Body["configuration_id"].(string)
	tp := func(configuration, extra string) string {
		return `{"content":{"subject":"Hai ricevuto un avviso","markdown":"` + strings.Repeat("Il contenuto è presso il mittente. ", 3) +
			`","third_party_data":{"id":"PRATICA/42","configuration_id":"` + configuration + `"` + extra + `}}}`
	}
	wantProblem(t, w.do(t, pa, "POST", "/api/v1/messages/"+fc, tp("01HZZZZZZZZZZZZZZZZZZZZZZZ", "")), 400, messages.NewMessageTitle)
	other := w.do(t, caller("other", auth.RemoteContentWrite), "POST", "/api/v1/remote-contents/configurations", configurationBody(w.sender.URL, "k")).Body["configuration_id"].(string)
	wantProblem(t, w.do(t, pa, "POST", "/api/v1/messages/"+fc, tp(other, "")), 400, messages.NewMessageTitle)
	wantProblem(t, w.do(t, pa, "POST", "/api/v1/messages/"+fc, tp(cfg, `,"has_attachments":true`)), 403, "Call forbidden")
	wantProblem(t, w.do(t, pa, "POST", "/api/v1/messages/"+fc, tp("nope", "")), 400, messages.NewMessageTitle)
	adv := strings.Replace(tp(cfg, `,"has_remote_content":true,"has_attachments":true`), "{", `{"feature_level_type":"ADVANCED",`, 1)
	r := w.do(t, pa, "POST", "/api/v1/messages/"+fc, adv)
	if r.Status != 201 {
		t.Fatalf("submit: %s", r.Raw)
	}
	id := r.Body["id"].(string)
	base := "/api/v1/third-party-messages/" + fc + "/" + id
	wantProblem(t, w.do(t, app, "GET", base, ""), 404, "Message not found") // not in the inbox yet
	m, err := w.msgs.Get(ctx, fc, id)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.msgs.Deliver(ctx, m, messages.SenderService{FiscalCode: fc, ServiceID: "svc"}); err != nil {
		t.Fatal(err)
	}
	pdf := "%PDF-1.4\n%%EOF\n"
	w.sender.answer("/messages/PRATICA/42", `{"details":{"subject":"Avviso di accertamento 2026","markdown":"# Accertamento\n\nIl testo che resta presso l'ente: l'avviso di accertamento della TARI 2026, con i suoi importi."},
		"attachments":[{"id":"a1","name":"accertamento.pdf","content_type":"application/pdf","url":"docs/a1.pdf"}]}`)
	w.sender.answer("/messages/PRATICA/42/precondition", `{"title":"Apertura con valore legale","markdown":"Aprendo il messaggio ne accetti la notifica."}`)
	w.sender.answer("/messages/PRATICA/42/docs/a1.pdf", pdf)
	got := w.do(t, app, "GET", base, "")
	content, _ := got.Body["content"].(map[string]any)
	tpm, _ := got.Body["third_party_message"].(map[string]any)
	if got.Status != 200 || content["subject"] != "Avviso di accertamento 2026" || !strings.HasPrefix(content["markdown"].(string), "# Accertamento") ||
		got.Body["has_precondition"] != "ONCE" || len(tpm["attachments"].([]any)) != 1 {
		t.Fatalf("the message: %s", got.Raw)
	}
	if h := w.sender.last(); h.Get("X-Api-Key") != "secret-key-1" || h.Get("fiscal_code") != fc {
		t.Fatalf("the sender got %v", h)
	}
	if p := w.do(t, app, "GET", base+"/precondition", ""); p.Status != 200 || p.Body["title"] != "Apertura con valore legale" {
		t.Fatalf("precondition: %s", p.Raw)
	}
	for _, which := range []string{"docs/a1.pdf", "a1"} {
		link := w.do(t, app, "GET", base+"/attachments/"+which, "")
		if link.Status != 200 || link.Body["download_url"] == nil {
			t.Fatalf("document %s: %s", which, link.Raw)
		}
	}
	var stored int
	for k, b := range w.files.Files {
		if strings.HasPrefix(k, "transit/") && string(b) == pdf {
			stored++
		}
	}
	if stored != 2 {
		t.Fatalf("%d documents handed over, want 2", stored)
	}
	wantProblem(t, w.do(t, app, "GET", base+"/attachments/docs/other.pdf", ""), 404, "Attachment not found")
	// The sender failing, hanging or not knowing the message.
	w.sender.answer("/messages/PRATICA/42", "500")
	wantProblem(t, w.do(t, app, "GET", base, ""), 502, "Bad gateway")
	w.sender.answer("/messages/PRATICA/42", "not json")
	wantProblem(t, w.do(t, app, "GET", base, ""), 502, "Bad gateway")
	w.sender.answer("/messages/PRATICA/42", `{"details":{"subject":"Avviso","markdown":"too short"}}`)
	wantProblem(t, w.do(t, app, "GET", base, ""), 502, "Bad gateway")
	w.sender.answer("/messages/PRATICA/42", "hang")
	start := time.Now()
	wantProblem(t, w.do(t, app, "GET", base, ""), 504, "Gateway timeout")
	if time.Since(start) > 10*time.Second {
		t.Fatalf("a hanging sender held the read %v", time.Since(start))
	}
	delete(w.sender.answers, "/messages/PRATICA/42")
	wantProblem(t, w.do(t, app, "GET", base, ""), 404, "Not found at the sender")
	// Only a trusted app reads it; a message without third_party_data has none.
	plain := w.do(t, pa, "POST", "/api/v1/messages/"+fc, newMessage).Body["id"].(string)
	pm, _ := w.msgs.Get(ctx, fc, plain)
	_ = w.msgs.Deliver(ctx, pm, messages.SenderService{FiscalCode: fc, ServiceID: "svc"})
	wantProblem(t, w.do(t, app, "GET", "/api/v1/third-party-messages/"+fc+"/"+plain, ""), 404, "No remote content")
}
