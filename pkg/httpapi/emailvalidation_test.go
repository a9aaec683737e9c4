package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/digital-citizenship/functions/pkg/auth"
	"github.com/digital-citizenship/functions/pkg/emailvalidation"
	"github.com/digital-citizenship/functions/pkg/profiles"
	"github.com/digital-citizenship/functions/pkg/storetest"
)

// starter e-mails the links of the world's queued profile events, as
// handle-profile-event does, and returns the links sent.
func (w *world) sendLinks(t *testing.T, mailer *storetest.Mailer) []string {
	t.Helper()
	s := emailvalidation.Starter{Store: w.profiles, Profiles: w.profiles, Mailer: mailer, From: "noreply@io.example.it",
		PublicURL: "https://api.example.it/prod/", Wait: time.Minute, Now: time.Now}
	before := len(mailer.Sent)
	for _, raw := range w.profileEvents.Sent {
		var ev profiles.Event
		if err := json.Unmarshal(raw, &ev); err != nil {
			t.Fatal(err)
		}
		if err := s.Handle(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
	}
	w.profileEvents.Sent = nil
	var links []string
	for _, e := range mailer.Sent[before:] {
		i := strings.Index(e.Text, "https://api.example.it/prod/api/v1/validate-email?token=")
		if i < 0 {
			t.Fatalf("no link in %q", e.Text)
		}
		links = append(links, strings.Fields(e.Text[i:])[0])
	}
	return links
}

func (w *world) follow(t *testing.T, link string, accept string) response {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("GET", strings.TrimPrefix(u.Path, "/prod")+"?"+u.RawQuery, nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	return w.serve(t, nil, req)
}

func TestEmailValidation(t *testing.T) {
	w := newWorld(t)
	app := caller("svc", auth.ProfileWrite, auth.FullProfileRead)
	mailer := &storetest.Mailer{}
	profile := "/api/v1/profiles/" + fc
	start := "/api/v1/profiles/" + fc + "/email-validation-process"
	wantProblem(t, w.do(t, app, "POST", start, ""), 404, "Profile not found")

	// A new profile without an address: nothing to validate.
	w.do(t, app, "POST", profile, `{"is_inbox_enabled":true,"version":0}`)
	if links := w.sendLinks(t, mailer); len(links) != 0 {
		t.Fatalf("links without an address: %v", links)
	}
	wantProblem(t, w.do(t, app, "POST", start, ""), 409, emailvalidation.ErrNoAddress.Title)

	// Setting the address sends one link, in the citizen's language first;
	// the address is not validated until it is followed.
	r := w.do(t, app, "POST", profile, `{"email":"Citizen@Example.com","preferred_languages":["en_GB"],"is_inbox_enabled":true,"version":0}`)
	if r.Body["is_email_validated"] != false {
		t.Fatalf("new address validated at once: %s", r.Raw)
	}
	links := w.sendLinks(t, mailer)
	if len(links) != 1 || mailer.Sent[0].To != "Citizen@Example.com" || !strings.HasPrefix(mailer.Sent[0].Subject, "Confirm your e-mail address") ||
		mailer.Sent[0].Tags["fiscal_code"] != fc {
		t.Fatalf("links %v, e-mails %+v", links, mailer.Sent)
	}
	// A redelivered event sends nothing more.
	ev, _ := json.Marshal(profiles.Event{Kind: profiles.Updated, FiscalCode: fc, Version: 1, EmailChanged: true, At: time.Now()})
	w.profileEvents.Sent = [][]byte{ev}
	if again := w.sendLinks(t, mailer); len(again) != 0 {
		t.Fatalf("a redelivered event sent %v", again)
	}

	// Broken, forged and JSON-asking clients.
	link := links[0]
	if r := w.follow(t, "https://api.example.it/prod/api/v1/validate-email?token=abc", ""); r.Status != 400 ||
		!strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") || !strings.Contains(r.Raw, "The link is incomplete") {
		t.Fatalf("malformed token: %d %s", r.Status, r.Raw)
	}
	forged := link[:len(link)-3] + "AAA"
	if forged == link {
		forged = link[:len(link)-3] + "BBB"
	}
	if r := w.follow(t, forged, "application/json"); r.Status != 404 || r.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("forged validator: %d %s", r.Status, r.Raw)
	}
	if r := w.do(t, app, "GET", profile, ""); r.Body["is_email_validated"] != false {
		t.Fatalf("validated by a forged link: %s", r.Raw)
	}

	// The link validates once.
	r = w.follow(t, link, "text/html,application/xhtml+xml")
	if r.Status != 200 || !strings.Contains(r.Raw, "Indirizzo e-mail confermato") || !strings.Contains(r.Raw, "E-mail address confirmed") ||
		r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("following the link: %d %s", r.Status, r.Raw)
	}
	if r := w.do(t, app, "GET", profile, ""); r.Body["is_email_validated"] != true {
		t.Fatalf("not validated after the link: %s", r.Raw)
	}
	if r := w.follow(t, link, ""); r.Status != 404 || !strings.Contains(r.Raw, "was used already") {
		t.Fatalf("a link used twice: %d %s", r.Status, r.Raw)
	}
	wantProblem(t, w.do(t, app, "POST", start, ""), 409, emailvalidation.ErrValidated.Title)

	// Other writes keep the validation (the address compares case-blind);
	// a new address loses it and gets its own link.
	r = w.do(t, app, "POST", profile, `{"email":"citizen@example.com","is_inbox_enabled":true,"is_email_validated":false,"version":1}`)
	if r.Body["is_email_validated"] != true || len(w.sendLinks(t, mailer)) != 0 {
		t.Fatalf("an unchanged address: %s", r.Raw)
	}
	r = w.do(t, app, "POST", profile, `{"email":"new@example.com","is_inbox_enabled":true,"version":2}`)
	if r.Body["is_email_validated"] != false {
		t.Fatalf("a new address kept the old one's validation: %s", r.Raw)
	}
	first := w.sendLinks(t, mailer)
	// Asked again: a new link (202), each request e-mailed once.
	if r := w.do(t, app, "POST", start, ""); r.Status != 202 {
		t.Fatalf("start: %d %s", r.Status, r.Raw)
	}
	second := w.sendLinks(t, mailer)
	if len(first) != 1 || len(second) != 1 || first[0] == second[0] || mailer.Sent[len(mailer.Sent)-1].To != "new@example.com" {
		t.Fatalf("links %v %v", first, second)
	}
	// The address changes before the link is followed: refused.
	w.do(t, app, "POST", profile, `{"email":"other@example.com","is_inbox_enabled":true,"version":3}`)
	if r := w.follow(t, second[0], ""); r.Status != 409 || !strings.Contains(r.Raw, "changed") {
		t.Fatalf("a link for a replaced address: %d %s", r.Status, r.Raw)
	}

	// An expired token.
	tok, secret := emailvalidation.NewToken(fc, "other@example.com", time.Now().Add(-emailvalidation.Validity-time.Second))
	if err := w.profiles.PutToken(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	if r := w.follow(t, "https://x/api/v1/validate-email?token="+url.QueryEscape(secret), ""); r.Status != 410 || !strings.Contains(r.Raw, "expired") {
		t.Fatalf("an expired link: %d %s", r.Status, r.Raw)
	}
}

func TestDevelopmentProfileEmailValidated(t *testing.T) {
	w := newWorld(t)
	r := w.do(t, caller("svc", auth.DevelopmentProfileWrite), "POST", "/adm/development-profiles/AAAAAA00A00Y000X", `{"email":"dev@pa.it"}`)
	if r.Status != 200 || r.Body["is_email_validated"] != true {
		t.Fatalf("development profile: %d %s", r.Status, r.Raw)
	}
	p, err := w.profiles.Latest(context.Background(), "AAAAAA00A00Y000X")
	if err != nil || !p.IsEmailValidated {
		t.Fatalf("stored development profile %+v %v", p, err)
	}
}
