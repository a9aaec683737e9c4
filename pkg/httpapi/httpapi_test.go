package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/digital-citizenship/functions/pkg/auth"
	"github.com/digital-citizenship/functions/pkg/callbacks"
	"github.com/digital-citizenship/functions/pkg/httpapi"
	"github.com/digital-citizenship/functions/pkg/messages"
	"github.com/digital-citizenship/functions/pkg/push"
	"github.com/digital-citizenship/functions/pkg/receipts"
	"github.com/digital-citizenship/functions/pkg/remotecontent"
	"github.com/digital-citizenship/functions/pkg/services"
	"github.com/digital-citizenship/functions/pkg/storetest"
)

const fc = "SPNDNL80R13C555X"

// world is every operation wired to fakes, as one mux.
type world struct {
	svcs     *storetest.Services
	profiles *storetest.Profiles
	msgs     *storetest.Messages
	accounts *storetest.Accounts
	created  *storetest.Queue
	// profileEvents gets the profile events; callbacks the delivery callbacks.
	profileEvents *storetest.Queue
	callbacks     *storetest.Queue
	userData      *storetest.UserData
	files         *storetest.Files
	plan          *storetest.UsagePlan
	mux           http.Handler

	installations *storetest.Installations
	endpoints     *storetest.PushEndpoints
	registrar     push.Registrar
	// remote are the remote-content configurations, and sender a sender's
	// system of remote content (an httptest server, set by newWorld).
	remote *storetest.RemoteContents
	sender *fakeSender
	// signer signs receipts; receipts keeps them.
	signer   *storetest.Signer
	receipts *storetest.Receipts
}

func newWorld(t *testing.T) *world {
	rc := &storetest.RemoteContents{}
	w := &world{svcs: &storetest.Services{}, profiles: &storetest.Profiles{}, msgs: &storetest.Messages{Configurations: rc}, remote: rc,
		accounts: &storetest.Accounts{}, created: &storetest.Queue{}, profileEvents: &storetest.Queue{}, callbacks: &storetest.Queue{}, plan: &storetest.UsagePlan{},
		installations: &storetest.Installations{}, endpoints: &storetest.PushEndpoints{},
		userData: &storetest.UserData{}, files: &storetest.Files{}}
	w.registrar = push.Registrar{Store: w.installations, Endpoints: w.endpoints}
	w.sender = startSender(t)
	configs := remotecontent.Configurations{Store: rc, AllowLocal: true, Now: time.Now}
	reader := remotecontent.Reader{Messages: w.msgs, Configurations: rc, Sender: remotecontent.NewCaller(callbacks.NewClient(true)),
		Transit: w.files, Now: time.Now}
	w.signer, w.receipts = storetest.NewSigner("test-key"), &storetest.Receipts{}
	notary := receipts.Notary{Store: w.msgs, Signer: w.signer, Hasher: storetest.Hasher{}, Archive: w.receipts, Configurations: rc,
		Sender: reader.Sender, Callbacks: w.callbacks, Now: time.Now}
	sub := messages.CountedSubmitter{Quotas: w.msgs, Submitter: messages.Submitter{Store: w.msgs, Created: w.created, Now: time.Now,
		Payments: w.msgs, Documents: w.files}}
	w.mux = httpapi.NewMux(
		httpapi.GetInfo(w.svcs), httpapi.GetProfile(w.svcs, w.profiles), httpapi.UpsertProfile(w.svcs, w.profiles, w.profileEvents, time.Now),
		httpapi.SubmitMessage(w.svcs, sub), httpapi.GetMessage(w.svcs, w.msgs, w.profiles),
		httpapi.CreateService(w.svcs, nil), httpapi.GetServiceAdmin(w.svcs), httpapi.UpdateService(w.svcs, nil),
		httpapi.SetUserGroups(w.accounts), httpapi.CreateSubscription(w.accounts, w.svcs, w.plan), httpapi.RegenerateKey(w.accounts, nil),
		httpapi.GetService(w.svcs), httpapi.GetVisibleServices(w.svcs), httpapi.GetServicesByRecipient(w.svcs, w.msgs),
		httpapi.GetMessagesByUser(w.svcs, w.msgs), httpapi.SubmitMessageInBody(w.svcs, sub),
		httpapi.Debug(w.svcs, "GET", "/api/v1/debug"), httpapi.Debug(w.svcs, "POST", "/api/v1/debug"),
		httpapi.Debug(w.svcs, "GET", "/adm/debug"), httpapi.Debug(w.svcs, "POST", "/adm/debug"),
		httpapi.PutInstallation(w.svcs, w.registrar), httpapi.DeleteInstallation(w.svcs, w.registrar),
		httpapi.GetServicePreference(w.svcs, w.profiles), httpapi.UpsertServicePreference(w.svcs, w.profiles, w.profileEvents, time.Now),
		httpapi.PutMessageStatus(w.svcs, w.msgs, w.profiles, w.callbacks, time.Now), httpapi.CreateDevelopmentProfile(w.profiles, w.profileEvents, time.Now),
		httpapi.StartEmailValidation(w.svcs, w.profiles, w.profileEvents, time.Now), httpapi.ValidateEmail(w.profiles, w.profiles, time.Now),
		httpapi.UpsertUserDataProcessing(w.svcs, w.userData, w.profiles, time.Hour, time.Now),
		httpapi.GetUserDataProcessing(w.svcs, w.userData, w.files, time.Now), httpapi.AbortUserDataProcessing(w.svcs, w.userData, time.Now),
		httpapi.PostPayment(w.svcs, messages.Cashier{Payments: w.msgs, Now: time.Now, Callbacks: w.callbacks}),
		httpapi.PutPaymentStatus(w.svcs, w.msgs, w.msgs, w.callbacks, time.Now),
		httpapi.GetMessageCalendar(w.svcs, w.msgs), httpapi.GetMessageAttachment(w.svcs, w.msgs, w.files, time.Now),
		httpapi.ListMessages(w.svcs, w.msgs),
		httpapi.PutCallback(w.svcs, w.svcs, nil, false, time.Now), httpapi.GetCallback(w.svcs, w.svcs),
		httpapi.DeleteCallback(w.svcs, w.svcs, nil), httpapi.CancelMessage(w.svcs, w.msgs, w.msgs, time.Now),
		httpapi.GetOwnService(w.svcs, w.msgs, time.Now), httpapi.TestCallback(w.svcs, w.svcs, w.callbacks, time.Now),
		httpapi.CreateRemoteContentConfiguration(w.svcs, configs), httpapi.ListRemoteContentConfigurations(w.svcs, configs),
		httpapi.GetRemoteContentConfiguration(w.svcs, configs), httpapi.UpdateRemoteContentConfiguration(w.svcs, configs),
		httpapi.GetThirdPartyMessage(w.svcs, reader), httpapi.GetThirdPartyMessagePrecondition(w.svcs, reader),
		httpapi.GetThirdPartyMessageAttachment(w.svcs, reader),
		httpapi.RecordOpening(w.svcs, notary), httpapi.GetReceipt(w.svcs, notary), httpapi.GetReceiptKeys(keySet{w.signer}),
	)
	for _, id := range []string{"svc", "other"} {
		if err := w.svcs.Create(context.Background(), services.Service{ServiceID: id, ServiceName: "S", OrganizationName: "O",
			DepartmentName: "D", OrganizationFiscalCode: "00000000001", AuthorizedCIDRs: []string{}, AuthorizedRecipients: []string{},
			MaxAllowedPaymentAmount: 50000}); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

type response struct {
	Status int
	Header http.Header
	Body   map[string]any
	Raw    string
}

func (w *world) do(t *testing.T, c *auth.Caller, method, path, body string) response {
	t.Helper()
	return w.serve(t, c, httptest.NewRequest(method, path, strings.NewReader(body)))
}

func (w *world) serve(t *testing.T, c *auth.Caller, req *http.Request) response {
	t.Helper()
	method := req.Method
	if c != nil {
		req = req.WithContext(auth.WithCaller(req.Context(), *c))
	}
	rec := httptest.NewRecorder()
	w.mux.ServeHTTP(rec, req)
	raw, _ := io.ReadAll(rec.Body)
	r := response{Status: rec.Code, Header: rec.Header(), Raw: string(raw)}
	_ = json.Unmarshal(raw, &r.Body)
	checkContract(t, method, req.URL.Path, rec.Code, rec.Header().Get("Content-Type"), raw)
	return r
}

func caller(svc string, groups ...auth.Group) *auth.Caller {
	return &auth.Caller{SubscriptionID: svc, UserID: "u-" + svc, Email: "dev@pa.it", Groups: groups, SourceIP: "10.0.0.1"}
}

func wantProblem(t *testing.T, r response, status int, title string) {
	t.Helper()
	if r.Status != status || r.Body["title"] != title || r.Header.Get("Content-Type") != "application/problem+json" ||
		r.Body["status"] != float64(status) || r.Body["detail"] == "" {
		t.Fatalf("got %d %s, want %d problem %q", r.Status, r.Raw, status, title)
	}
}

const newMessage = `{"content":{"subject":"A subject line","markdown":"` +
	"Lorem ipsum dolor sit amet, consectetur adipiscing elit. Maecenas et mollis felis, vivamus orci nisl." + `"}}`

func TestCheckOrder(t *testing.T) {
	w := newWorld(t)
	path := "/api/v1/messages/" + fc
	// Each step answers before the next: anonymous, scopes, group, service,
	// validation, source IP, handler checks.
	wantProblem(t, w.do(t, nil, "POST", path, "{"), 403, "Anonymous user")
	wantProblem(t, w.do(t, caller("svc"), "POST", path, "{"), 403, "User has no valid scopes")
	wantProblem(t, w.do(t, caller("svc", auth.InfoRead), "POST", path, "{"), 403, "You are not allowed here")
	wantProblem(t, w.do(t, caller("ghost", auth.MessageWrite), "POST", path, "{"), 403, "You are not allowed here")
	wantProblem(t, w.do(t, caller("svc", auth.MessageWrite), "POST", "/api/v1/messages/NOTAFISCALCODE", "{"), 400, "Invalid FiscalCode")
	wantProblem(t, w.do(t, caller("svc", auth.MessageWrite), "POST", path, "{"), 400, "Invalid NewMessage")
	restricted := services.Service{ServiceID: "svc", ServiceName: "S", OrganizationName: "O", DepartmentName: "D",
		OrganizationFiscalCode: "00000000001", AuthorizedCIDRs: []string{"192.168.0.0/16"}, AuthorizedRecipients: []string{}, Version: 1}
	if err := w.svcs.Create(context.Background(), restricted); err != nil {
		t.Fatal(err)
	}
	wantProblem(t, w.do(t, caller("svc", auth.MessageWrite), "POST", path, newMessage), 403, "You are not allowed here")
	wantProblem(t, w.do(t, caller("other", auth.LimitedMessageWrite), "POST", path, newMessage), 403, "Recipient forbidden")
	if len(w.created.Sent) != 0 {
		t.Fatal("a refused request changed something")
	}
}

func TestSubmitAndGetMessage(t *testing.T) {
	w := newWorld(t)
	c := caller("svc", auth.MessageWrite, auth.MessageRead)
	r := w.do(t, c, "POST", "/api/v1/messages/"+strings.ToLower(fc), newMessage)
	if r.Status != 201 || r.Header.Get("Location") != "/api/v1/messages/"+fc+"/"+r.Body["id"].(string) {
		t.Fatalf("submit: %d %s %v", r.Status, r.Raw, r.Header)
	}
	for k, v := range map[string]string{"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff",
		"Strict-Transport-Security": "max-age=15552000; includeSubDomains", "Referrer-Policy": "no-referrer"} {
		if r.Header.Get(k) != v {
			t.Errorf("header %s = %q, want %q", k, r.Header.Get(k), v)
		}
	}
	g := w.do(t, c, "GET", r.Header.Get("Location"), "")
	msg, _ := g.Body["message"].(map[string]any)
	if g.Status != 200 || g.Body["status"] != "ACCEPTED" || msg["fiscal_code"] != fc || msg["sender_service_id"] != "svc" {
		t.Fatalf("get: %d %s", g.Status, g.Raw)
	}
	wantProblem(t, w.do(t, caller("other", auth.MessageRead), "GET", r.Header.Get("Location"), ""), 403, "You are not allowed here")
	if g := w.do(t, caller("other", auth.MessageList), "GET", r.Header.Get("Location"), ""); g.Status != 200 {
		t.Fatalf("a trusted app reads any message: %d", g.Status)
	}
	wantProblem(t, w.do(t, c, "GET", "/api/v1/messages/"+fc+"/nope", ""), 404, "Message not found")
}

func TestProfiles(t *testing.T) {
	w := newWorld(t)
	app := caller("svc", auth.ProfileWrite, auth.FullProfileRead)
	path := "/api/v1/profiles/" + fc
	wantProblem(t, w.do(t, app, "GET", path, ""), 404, "Profile not found")
	r := w.do(t, app, "POST", path, `{"email":"c@b.it","is_inbox_enabled":true,"blocked_inbox_or_channels":{"other":["INBOX"]},"version":9}`)
	if r.Status != 200 || r.Body["version"] != float64(0) || r.Body["is_webhook_enabled"] != false {
		t.Fatalf("create: %d %s", r.Status, r.Raw)
	}
	wantProblem(t, w.do(t, app, "POST", path, `{"version":5}`), 409, "Conflict")
	wantProblem(t, w.do(t, app, "POST", path, `{"version":0,"email":"bad"}`), 400, "Invalid Exact<ExtendedProfile>")
	if r := w.do(t, app, "GET", path, ""); r.Body["email"] != "c@b.it" {
		t.Fatalf("full view: %s", r.Raw)
	}
	if r := w.do(t, caller("other", auth.LimitedProfileRead), "GET", path, ""); r.Raw != `{"sender_allowed":false}`+"\n" {
		t.Fatalf("limited view: %s", r.Raw)
	}
}

func TestAdmin(t *testing.T) {
	w := newWorld(t)
	adm := caller("admin", auth.ServiceWrite, auth.ServiceRead, auth.UserAdmin)
	svc := `{"service_id":"tari","service_name":"TARI","organization_name":"Comune","department_name":"Tributi",
		"organization_fiscal_code":"00000000001","authorized_cidrs":[],"authorized_recipients":[]}`
	if r := w.do(t, adm, "POST", "/adm/services", svc); r.Status != 200 || r.Body["id"] != "tari-0000000000000000" {
		t.Fatalf("create service: %d %s", r.Status, r.Raw)
	}
	wantProblem(t, w.do(t, adm, "POST", "/adm/services", svc), 409, "Conflict")
	wantProblem(t, w.do(t, adm, "PUT", "/adm/services/other-id", svc), 400, "Error validating payload")
	if r := w.do(t, adm, "PUT", "/adm/services/tari", strings.Replace(svc, "TARI", "TARI 2026", 1)); r.Body["version"] != float64(1) {
		t.Fatalf("update: %s", r.Raw)
	}
	wantProblem(t, w.do(t, adm, "GET", "/adm/services/none", ""), 404, "Service not found")
	wantProblem(t, w.do(t, adm, "PUT", "/adm/users/dev@pa.it/subscriptions/tari", ""), 404, "User not found")
	wantProblem(t, w.do(t, adm, "PUT", "/adm/users/dev@pa.it/groups", `{"groups":["Bogus"]}`), 400, "Invalid groups")
	if r := w.do(t, adm, "PUT", "/adm/users/dev@pa.it/groups", `{"groups":["ApiInfoRead"]}`); r.Raw != `{"items":["ApiInfoRead"]}`+"\n" {
		t.Fatalf("groups: %s", r.Raw)
	}
	wantProblem(t, w.do(t, adm, "PUT", "/adm/users/dev@pa.it/subscriptions/nope", ""), 404, "Service not found")
	r := w.do(t, adm, "PUT", "/adm/users/dev@pa.it/subscriptions/tari", `{"product_name":"IO"}`)
	if r.Status != 200 || len(r.Body["primary_key"].(string)) != 32 || w.plan.Keys["tari"] == "" {
		t.Fatalf("subscription: %d %s, usage plan %v", r.Status, r.Raw, w.plan.Keys)
	}
	wantProblem(t, w.do(t, adm, "PUT", "/adm/users/dev@pa.it/subscriptions/tari", ""), 409, "Conflict")
	k := w.do(t, adm, "PUT", "/adm/services/tari/keys", `{"key_type":"SECONDARY_KEY"}`)
	if k.Status != 200 || k.Body["secondary_key"] == r.Body["secondary_key"] || k.Body["primary_key"] != nil {
		t.Fatalf("regenerate: %s", k.Raw)
	}
}

func TestRouting(t *testing.T) {
	w := newWorld(t)
	wantProblem(t, w.do(t, nil, "GET", "/api/v1/nothing", ""), 404, "Not found")
	r := w.do(t, nil, "DELETE", "/api/v1/profiles/"+fc, "")
	wantProblem(t, r, 405, "Method not allowed")
	if r.Header.Get("Allow") != "GET, POST" {
		t.Fatalf("Allow: %q", r.Header.Get("Allow"))
	}
	if r.Header.Get("X-Frame-Options") != "DENY" {
		t.Fatal("security headers missing on errors")
	}
}

// keySet publishes a signer's key.
type keySet struct{ s *storetest.Signer }

func (k keySet) JWKS(context.Context) (receipts.JWKS, error) { return k.s.JWKS(), nil }
