package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/digital-citizenship/functions/pkg/awstest"
	"github.com/digital-citizenship/functions/pkg/callbacks"
	"github.com/digital-citizenship/functions/pkg/localstack"
	"github.com/digital-citizenship/functions/pkg/portal/assets"
	"github.com/digital-citizenship/functions/pkg/sandbox"
)

// chromiumPath is Debian's headless Chromium, which make test installs
// (make chromium); a missing one is a failure, never a skip.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p == "" {
			continue
		}
		if _, err := exec.LookPath(p); err == nil {
			return p
		}
	}
	t.Fatal("no Chromium: make chromium installs Debian's package (the portal's browser tests need it)")
	return ""
}

// browser is a headless Chromium on the test's page, with every console
// error, uncaught exception and failed load the page logs collected.
type browser struct {
	ctx    context.Context
	mu     sync.Mutex
	errors []string
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromiumPath(t)), chromedp.NoSandbox,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // the browser starts with the first call, without a deadline
		t.Fatalf("start Chromium: %v", err)
	}
	b := &browser{ctx: ctx}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			// Chromium logs every API answer of 4xx as a failed load; the
			// page expects them (a refused key, no callback yet) and shows
			// them. Any other failed load (the page's own files), a CSP
			// violation, a console.error or an exception counts.
			api := m.Source == "network" && (strings.Contains(m.URL, "/api/v1/") || strings.Contains(m.URL, "/adm/"))
			if (m.Type == chromedp.ConsoleError || m.IsException()) && !api {
				b.mu.Lock()
				b.errors = append(b.errors, fmt.Sprintf("%s (%s) %s", m, m.Source, m.URL))
				b.mu.Unlock()
			}
		}
	}()
	return b
}

// do runs steps with a deadline, failing the test with what the page
// logged when one fails.
func (b *browser) do(t *testing.T, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	get(t, b, what, chromedp.Steps(steps...))
}

// get runs one action with a deadline and returns its value.
func get[T any](t *testing.T, b *browser, what string, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 2*time.Minute)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v (the page logged: %v)", what, err, b.logged())
	}
	return v
}

func (b *browser) logged() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.errors...)
}

// axeResult is what axe-core found: how many rules passed, and the
// violations.
type axeResult struct {
	Passes     int            `json:"passes"`
	Violations []axeViolation `json:"violations"`
}

// axeViolation is one rule axe-core found broken on the page.
type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target []string `json:"target"`
	} `json:"nodes"`
}

// checkAccessibility runs axe-core (pinned, from npm) on the page as it is:
// no serious or critical violation. DevTools' evaluation is not the page's
// script, so the CSP stays as strict as it is.
func (b *browser) checkAccessibility(t *testing.T, page, axe string) {
	t.Helper()
	get(t, b, "load axe-core on "+page, chromedp.Evaluate[any](axe+";0", chromedp.EvalAsValue))
	res := get(t, b, "axe-core on "+page, chromedp.Evaluate[axeResult](`axe.run(document).then(r => ({passes: r.passes.length,
		violations: r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => ({target: n.target.map(String)}))}))}))`,
		chromedp.EvalAwaitPromise, chromedp.EvalAsValue))
	if res.Passes == 0 {
		t.Fatalf("%s: axe-core checked nothing", page)
	}
	t.Logf("%s: axe-core: %d rules passed, %d violated (none serious or critical below)", page, res.Passes, len(res.Violations))
	for _, v := range res.Violations {
		if v.Impact == "serious" || v.Impact == "critical" {
			t.Errorf("%s: axe-core %s (%s): %s on %v", page, v.ID, v.Impact, v.Help, v.Nodes)
		}
	}
}

// screenshot saves the page as portal-<name>.png in the folder that
// PORTAL_SCREENSHOTS names (make screenshots).
func (b *browser) screenshot(t *testing.T, name string) {
	t.Helper()
	dir := os.Getenv("PORTAL_SCREENSHOTS")
	if dir == "" {
		return
	}
	png := get(t, b, "screenshot "+name, chromedp.FullScreenshot(100))
	if err := os.WriteFile(filepath.Join(dir, "portal-"+name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestPortal: a developer opens the portal of the local stack in headless
// Chromium, signs in with a key (a wrong one is refused), sees the service
// and what the key's groups allow; creates a development profile, sends it
// a test message and sees it reach PROCESSED and SENT on every channel
// without reloading; sees it counted in today's usage among 30 days; finds
// it in the sent list with a filter, with the receipt of its opening
// checked in the page against the published keys; sets a callback, sees it
// ACTIVE and its test event reach the receiver, signed; configures the
// service's system of remote content and sees it listed without its key;
// reads the quick start with
// the key filled in; switches to English; signs out. An administrator's
// key creates a service, a developer's groups, the subscription and a new
// key, which then opens the new service (and no administration). Every
// page passes axe-core with no serious or critical violation, and no page
// logs an error.
func TestPortal(t *testing.T) {
	axeDir, err := assets.Fetch(filepath.Join(awstest.RepoRoot(t), ".cache", "npm"), assets.AxeCore)
	if err != nil {
		t.Fatal(err)
	}
	axe, err := os.ReadFile(filepath.Join(axeDir, "axe.min.js"))
	if err != nil {
		t.Fatal(err)
	}
	vendor := filepath.Join(awstest.RepoRoot(t), "functions", "portal", "static", "vendor", assets.VendorFiles[0])
	if _, err := os.Stat(vendor); err != nil {
		t.Fatalf("the portal's design system is missing (make portal-assets): %v", err)
	}
	admin := "portal-admin-key-0123456789abcdef"
	s := startStack(t, admin)
	s.must(t, 200, admin, "POST", "/adm/services", `{"service_id":"portal-svc","service_name":"Servizi demografici","organization_name":"Comune di Firenze",
		"department_name":"Anagrafe","organization_fiscal_code":"01307110484","authorized_cidrs":[],"authorized_recipients":[]}`)
	s.must(t, 200, admin, "PUT", "/adm/users/dev@comune.fi.it/groups",
		`{"groups":["ApiMessageWrite","ApiMessageRead","ApiDevelopmentProfileWrite","ApiCallbackWrite","ApiRemoteContentWrite"]}`)
	key := s.must(t, 200, admin, "PUT", "/adm/users/dev@comune.fi.it/subscriptions/portal-svc", `{"product_name":"IO"}`).body["primary_key"].(string)
	callbackURL, _ := s.callbackCalls(t)

	b := newBrowser(t)
	portal := s.api + "/portal/"
	// Signing in: a wrong key is refused; the right one opens the sandbox.
	b.do(t, "open the portal", chromedp.Navigate(s.api+"/portal"), chromedp.WaitVisible(chromedp.ID("key")))
	lang := get(t, b, "the page's language", chromedp.Evaluate[string](`document.documentElement.lang`, chromedp.EvalAsValue))
	if lang != "it" {
		t.Fatalf("the page's language %q, want it", lang)
	}
	b.checkAccessibility(t, "sign in", string(axe))
	b.screenshot(t, "signin")
	b.do(t, "a wrong key", chromedp.SendKeys(chromedp.ID("key"), "not-a-key-0123456789"), chromedp.Click(chromedp.ID("signin")),
		chromedp.WaitVisible(chromedp.CSS(".alert-danger")))
	b.do(t, "sign in", chromedp.SetValue(chromedp.ID("key"), key), chromedp.Click(chromedp.ID("signin")),
		chromedp.WaitVisible(chromedp.ID("groups")))
	stored := get(t, b, "the stored key", chromedp.Evaluate[string](`sessionStorage.getItem('dcp-portal-key')`, chromedp.EvalAsValue))
	url := get(t, b, "the URL", chromedp.Location())
	if stored != key || strings.Contains(url, key) {
		t.Fatalf("the key in sessionStorage %q, the URL %s", stored, url)
	}
	if cookies := get(t, b, "cookies", chromedp.Evaluate[string](`document.cookie`, chromedp.EvalAsValue)); cookies != "" {
		t.Fatalf("the portal set cookies: %q", cookies)
	}

	// The service: what its administrator set, what the key's groups allow.
	if svc := get(t, b, "the service", chromedp.Text(chromedp.ID("service"))); !strings.Contains(svc, "Comune di Firenze") ||
		!strings.Contains(svc, "250000") || !strings.Contains(svc, "LIVE") {
		t.Fatalf("the service page: %s", svc)
	}
	if groups := get(t, b, "the groups", chromedp.Text(chromedp.ID("groups"))); !strings.Contains(groups, "ApiCallbackWrite: configurare le callback di consegna") {
		t.Fatalf("the groups in words: %s", groups)
	}
	b.checkAccessibility(t, "service", string(axe))
	b.screenshot(t, "service")

	// The sandbox: a development profile, a test message, followed live.
	fc := "PRTLDV80A01Y612X"
	b.do(t, "the sandbox", chromedp.Navigate(portal+"#/sandbox"), chromedp.WaitVisible(chromedp.ID("fc")))
	b.checkAccessibility(t, "sandbox", string(axe))
	b.do(t, "create a development profile", chromedp.SetValue(chromedp.ID("fc"), fc),
		chromedp.SetValue(chromedp.ID("email"), "portal-dev@example.com"), chromedp.Click(chromedp.ID("sandbox-profile")),
		chromedp.WaitVisible(chromedp.CSS("#sandbox-out .alert-success")))
	b.do(t, "send a test message", chromedp.Click(chromedp.ID("sandbox-send")), chromedp.WaitVisible(chromedp.ID("message-id")))
	id := get(t, b, "its id", chromedp.Text(chromedp.ID("message-id")))
	b.do(t, "watch it", chromedp.WaitVisible(chromedp.ID("final")))
	timeline := get(t, b, "its timeline", chromedp.Text(chromedp.ID("timeline")))
	for _, want := range []string{"PROCESSED", "email: SENT", "webhook: SENT"} {
		if !strings.Contains(timeline, want) {
			t.Fatalf("the timeline of %s lacks %q:\n%s", id, want, timeline)
		}
	}
	b.screenshot(t, "sandbox")
	if m := s.must(t, 200, key, "GET", "/api/v1/messages/"+fc+"/"+id, ""); m.body["status"] != "PROCESSED" {
		t.Fatalf("the API disagrees with the page: %s", m.raw)
	}
	// The simulated outcomes: listed, each a click away (the local stack
	// simulates them for any key); the retries show in the timeline.
	rows := get(t, b, "the simulated citizens", chromedp.Poll[int](`document.querySelectorAll('#simulated tbody tr').length || null`))
	if rows != len(sandbox.Citizens) {
		t.Fatalf("%d simulated citizens listed, want %d", rows, len(sandbox.Citizens))
	}
	b.do(t, "send to the temporary failure", chromedp.Click(chromedp.ID("sim-"+sandbox.TempFail)))
	retried := get(t, b, "its timeline, retried", chromedp.Poll[string](
		`(x => x && x.includes('email: SENT – 2') ? x : null)(document.getElementById('timeline')?.innerText)`))
	if !strings.Contains(retried, "PROCESSED") {
		t.Fatalf("the temporary failure's timeline:\n%s", retried)
	}

	// The app backend reports the citizen's opening: the sender's timeline
	// shows its receipt, checked in the page against the published keys.
	s.must(t, 200, admin, "POST", "/api/v1/messages/"+fc+"/"+id+"/opening", "")

	// The sent list, filtered: the message is there.
	b.do(t, "the sent list", chromedp.Navigate(portal+"#/sent"), chromedp.WaitVisible(chromedp.ID("f-status")),
		chromedp.SetValue(chromedp.ID("f-status"), "PROCESSED"), chromedp.SetValue(chromedp.ID("f-email"), "SENT"),
		chromedp.Click(chromedp.ID("search")),
		chromedp.WaitVisible(chromedp.Search(fmt.Sprintf(`//div[@id="sent-results" and @aria-busy="false"]//table//code[text()=%q]`, id))))
	b.do(t, "open its timeline in the list", chromedp.Click(chromedp.CSS(fmt.Sprintf(`button[data-timeline=%q]`, id))))
	listed := get(t, b, "its timeline in the list", chromedp.Poll[string](fmt.Sprintf(`document.getElementById(%q)?.innerText`, "timeline-"+id)))
	for _, want := range []string{"PROCESSED", "email: SENT", "webhook: SENT"} {
		if !strings.Contains(listed, want) {
			t.Fatalf("the timeline of %s in the sent list lacks %q:\n%s", id, want, listed)
		}
	}
	b.do(t, "its receipt, checked", chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`#receipt-%s .receipt-valid`, id))))
	if receipt := get(t, b, "its receipt", chromedp.Text(chromedp.ID("receipt-"+id))); !strings.Contains(receipt, "message.opened") ||
		!strings.Contains(receipt, "Firma verificata con la chiave pubblicata") || !strings.Contains(receipt, "sha256:") {
		t.Fatalf("the receipt in the timeline: %s", receipt)
	}
	b.checkAccessibility(t, "sent messages", string(axe))
	b.screenshot(t, "sent")

	// Usage: today's messages against the limit (the test message and the
	// simulated one: a live key's count), in a chart of 30 days.
	b.do(t, "usage", chromedp.Navigate(portal+"#/usage"), chromedp.WaitVisible(chromedp.ID("today")))
	if today := get(t, b, "today's usage", chromedp.Text(chromedp.ID("today"))); !strings.Contains(today, ": 2 su 250000, 249998 restanti") {
		t.Fatalf("today's usage: %s", today)
	}
	if bars := get(t, b, "the chart", chromedp.Evaluate[int](`document.querySelectorAll('svg.portal-chart rect').length`, chromedp.EvalAsValue)); bars != 30 {
		t.Fatalf("%d bars in the chart, want 30", bars)
	}
	b.checkAccessibility(t, "usage", string(axe))
	b.screenshot(t, "usage")

	// Callbacks: set to the local receiver, ACTIVE, the secret shown once.
	b.do(t, "set a callback", chromedp.Navigate(portal+"#/callbacks"), chromedp.WaitVisible(chromedp.ID("cb-url")),
		chromedp.SetValue(chromedp.ID("cb-url"), callbackURL), chromedp.Click(chromedp.ID("cb-save")),
		chromedp.WaitVisible(chromedp.CSS("#cb-out .alert-success code")), chromedp.WaitVisible(chromedp.ID("cb-status")))
	secret := get(t, b, "the secret", chromedp.Text(chromedp.CSS("#cb-out code")))
	status := get(t, b, "the status", chromedp.Text(chromedp.ID("cb-status")))
	if status != "ACTIVE" || !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("callback on the page: %q, secret %q", status, secret)
	}
	// Its test event reaches the receiver, signed with the secret shown.
	b.do(t, "a test event", chromedp.Click(chromedp.ID("cb-test")), chromedp.WaitVisible(chromedp.ID("cb-test-sent")))
	eventID := get(t, b, "the test event's id", chromedp.Text(chromedp.CSS("#cb-test-sent code")))
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		_, calls := s.callbackCalls(t)
		var got *localstack.WebhookCall
		for i := range calls {
			if strings.Contains(string(calls[i].Body), eventID) {
				got = &calls[i]
			}
		}
		if got != nil {
			if !strings.Contains(string(got.Body), `"event":"callback.test"`) || !callbacks.Verify(secret, got.Header["X-Signature"], got.Body, time.Now(), 5*time.Minute) {
				t.Fatalf("the test event: %s %v", got.Body, got.Header)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the receiver never got the test event %s", eventID)
		}
	}
	b.checkAccessibility(t, "callbacks", string(axe))
	b.screenshot(t, "callbacks")

	// Remote content: a configuration of the service's system (the local
	// one), listed without its key.
	receiver := s.must(t, 200, "", "GET", "/_local/remote-content", "").body["url"].(string)
	b.do(t, "remote content", chromedp.Navigate(portal+"#/remote"), chromedp.WaitVisible(chromedp.ID("rc-name")),
		chromedp.SetValue(chromedp.ID("rc-name"), "Atti di notifica"), chromedp.SetValue(chromedp.ID("rc-description"), "Gli atti dell'anagrafe"),
		chromedp.SetValue(chromedp.ID("rc-url"), receiver), chromedp.SetValue(chromedp.ID("rc-key"), "portal-secret-key"),
		chromedp.SetValue(chromedp.ID("rc-precondition"), "ONCE"), chromedp.Click(chromedp.ID("rc-create")),
		chromedp.WaitVisible(chromedp.ID("rc-created")), chromedp.WaitVisible(chromedp.ID("rc-list")))
	if listed := get(t, b, "the configurations", chromedp.Text(chromedp.ID("rc-list"))); !strings.Contains(listed, "Atti di notifica") ||
		!strings.Contains(listed, receiver) || !strings.Contains(listed, "ONCE") || strings.Contains(listed, "portal-secret-key") {
		t.Fatalf("the configurations on the page: %s", listed)
	}
	b.checkAccessibility(t, "remote content", string(axe))
	b.screenshot(t, "remote")

	// The quick start has the key filled in; English on request.
	b.do(t, "quick start", chromedp.Navigate(portal+"#/quickstart"), chromedp.WaitVisible(chromedp.CSS("pre")))
	snippet := get(t, b, "the curl snippet", chromedp.Text(chromedp.CSS("pre")))
	if !strings.Contains(snippet, key) || !strings.Contains(snippet, s.api+"/api/v1/messages/") {
		t.Fatalf("the curl snippet: %s", snippet)
	}
	b.checkAccessibility(t, "quick start", string(axe))
	b.do(t, "English", chromedp.Click(chromedp.ID("lang")), chromedp.WaitVisible(chromedp.Search(`//h1[text()="Quick start"]`)))
	lang = get(t, b, "the page's language", chromedp.Evaluate[string](`document.documentElement.lang`, chromedp.EvalAsValue))
	h1 := get(t, b, "the heading", chromedp.Text(chromedp.CSS("h1")))
	if lang != "en" {
		t.Fatalf("after the switch: lang %q, h1 %q", lang, h1)
	}
	b.checkAccessibility(t, "quick start in English", string(axe))

	// Signing out forgets the key.
	b.do(t, "sign out", chromedp.Click(chromedp.ID("signout")), chromedp.WaitVisible(chromedp.ID("key")))
	if stored := get(t, b, "the stored key", chromedp.Evaluate[string](`sessionStorage.getItem('dcp-portal-key') || ''`, chromedp.EvalAsValue)); stored != "" {
		t.Fatal("the key survived signing out")
	}
	// An administrator's key: the administration tab creates a service, sets
	// a developer's groups, creates the subscription (its keys shown once)
	// and regenerates its primary key; the new key opens the new service.
	b.do(t, "sign in as the administrator", chromedp.SetValue(chromedp.ID("key"), admin), chromedp.Click(chromedp.ID("signin")),
		chromedp.WaitVisible(chromedp.ID("groups")), chromedp.Navigate(portal+"#/admin"), chromedp.WaitVisible(chromedp.ID("adm-id")))
	b.checkAccessibility(t, "administration", string(axe))
	for id, v := range map[string]string{"adm-id": "portal-new", "adm-name": "Tributi", "adm-org": "Comune di Prato",
		"adm-dept": "Ufficio tributi", "adm-orgfc": "84006890481", "adm-daily": "1000"} {
		b.do(t, "fill "+id, chromedp.SetValue(chromedp.ID(id), v))
	}
	b.do(t, "create the service", chromedp.Click(chromedp.ID("adm-create")), chromedp.WaitVisible(chromedp.CSS("#adm-service-out .alert-success")),
		chromedp.SetValue(chromedp.ID("adm-user"), "new-dev@comune.prato.it"), chromedp.Click(chromedp.ID("adm-g-ApiMessageWrite")),
		chromedp.Click(chromedp.ID("adm-g-ApiMessageRead")), chromedp.Click(chromedp.ID("adm-set-groups")),
		chromedp.WaitVisible(chromedp.CSS("#adm-groups-out .alert-success")),
		chromedp.SetValue(chromedp.ID("adm-sub-user"), "new-dev@comune.prato.it"), chromedp.SetValue(chromedp.ID("adm-sub-service"), "portal-new"),
		chromedp.Click(chromedp.ID("adm-create-sub")), chromedp.WaitVisible(chromedp.ID("adm-primary")),
		chromedp.SetValue(chromedp.ID("adm-key-service"), "portal-new"), chromedp.Click(chromedp.ID("adm-regenerate")),
		chromedp.WaitVisible(chromedp.ID("adm-new-key")))
	first := get(t, b, "the subscription's key", chromedp.Text(chromedp.ID("adm-primary")))
	newKey := get(t, b, "the regenerated key", chromedp.Text(chromedp.ID("adm-new-key")))
	if !get(t, b, "one page at a time", chromedp.Evaluate[bool](`document.getElementById('service') === null`, chromedp.EvalAsValue)) {
		t.Fatal("the service page, left for the administration while it waited, drew on it")
	}
	b.screenshot(t, "admin")
	if newKey == first || len(newKey) < 20 {
		t.Fatalf("the regenerated key %q, the first %q", newKey, first)
	}
	if r := s.call(t, first, "GET", "/api/v1/service", ""); r.status != 401 && r.status != 403 {
		t.Fatalf("the replaced key still works: %d %s", r.status, r.raw)
	}
	b.do(t, "sign in with the new key", chromedp.Click(chromedp.ID("signout")), chromedp.WaitVisible(chromedp.ID("key")),
		chromedp.SetValue(chromedp.ID("key"), newKey), chromedp.Click(chromedp.ID("signin")), chromedp.WaitVisible(chromedp.ID("groups")))
	if svc := get(t, b, "the new service", chromedp.Text(chromedp.ID("service"))); !strings.Contains(svc, "Comune di Prato") || !strings.Contains(svc, "1000") {
		t.Fatalf("the new service's page: %s", svc)
	}
	if tabs := get(t, b, "the tabs", chromedp.Text(chromedp.ID("tabs"))); strings.Contains(tabs, "Admin") || strings.Contains(tabs, "Amministrazione") {
		t.Fatalf("a developer's key sees the administration: %s", tabs)
	}

	if errs := b.logged(); len(errs) > 0 {
		t.Fatalf("the pages logged errors:\n%s", strings.Join(errs, "\n"))
	}
	t.Logf("portal: signed in, message %s PROCESSED and SENT on every channel live, found in the sent list with its timeline and its receipt checked, "+
		"callback ACTIVE, a remote-content configuration; axe-core: no serious or critical violation on 10 pages; no console error; an administrator created a service, "+
		"a subscription and a new key that opened it", id)
}
