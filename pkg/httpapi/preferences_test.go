package httpapi_test

import (
	"context"
	"strings"
	"testing"

	"github.com/digital-citizenship/functions/pkg/auth"
	"github.com/digital-citizenship/functions/pkg/messages"
	"github.com/digital-citizenship/functions/pkg/profiles"
)

func TestServicePreferences(t *testing.T) {
	w := newWorld(t)
	app := caller("svc", auth.ProfileWrite, auth.FullProfileRead, auth.LimitedProfileRead)
	profile, prefs := "/api/v1/profiles/"+fc, "/api/v1/profiles/"+fc+"/services/other/preferences"
	pref := func(v int, inbox bool) string {
		return `{"is_inbox_enabled":` + map[bool]string{true: "true", false: "false"}[inbox] +
			`,"is_email_enabled":false,"is_webhook_enabled":false,"can_access_message_read_status":true,"settings_version":` + string(rune('0'+v)) + `}`
	}
	wantProblem(t, w.do(t, app, "GET", prefs, ""), 404, "Profile not found")

	// A profile stored before preferences existed is LEGACY: blocks rule,
	// preferences cannot be written.
	if err := w.profiles.Create(context.Background(), profiles.Profile{FiscalCode: fc, IsInboxEnabled: true,
		BlockedInboxOrChannels: map[string][]string{"other": {"EMAIL"}}}, nil); err != nil {
		t.Fatal(err)
	}
	r := w.do(t, app, "GET", profile, "")
	if s, _ := r.Body["service_preferences_settings"].(map[string]any); s["mode"] != "LEGACY" || s["version"] != float64(-1) {
		t.Fatalf("legacy profile: %s", r.Raw)
	}
	if r := w.do(t, app, "GET", prefs, ""); r.Status != 200 || r.Body["is_inbox_enabled"] != true || r.Body["is_email_enabled"] != false ||
		r.Body["can_access_message_read_status"] != false || r.Body["settings_version"] != float64(-1) {
		t.Fatalf("legacy preference: %s", r.Raw)
	}
	wantProblem(t, w.do(t, app, "PUT", prefs, pref(0, true)), 409, "Conflict")
	wantProblem(t, w.do(t, app, "GET", "/api/v1/profiles/"+fc+"/services/nope/preferences", ""), 404, "Service not found")
	wantProblem(t, w.do(t, app, "PUT", prefs, `{"is_inbox_enabled":false,"is_email_enabled":true,"is_webhook_enabled":false,"settings_version":0}`),
		400, profiles.PreferenceTitle)
	wantProblem(t, w.do(t, app, "PUT", prefs, `{"is_inbox_enabled":true}`), 400, profiles.PreferenceTitle)

	// Leaving LEGACY: version 0, the blocks become preferences in the same
	// write; going back is a 409.
	r = w.do(t, app, "POST", profile, `{"is_inbox_enabled":true,"blocked_inbox_or_channels":{"other":["EMAIL"]},"service_preferences_settings":{"mode":"MANUAL"},"version":0}`)
	if s, _ := r.Body["service_preferences_settings"].(map[string]any); r.Status != 200 || s["mode"] != "MANUAL" || s["version"] != float64(0) {
		t.Fatalf("leaving LEGACY: %d %s", r.Status, r.Raw)
	}
	if r := w.do(t, app, "GET", prefs, ""); r.Body["is_inbox_enabled"] != true || r.Body["is_email_enabled"] != false || r.Body["settings_version"] != float64(0) {
		t.Fatalf("migrated preference: %s", r.Raw)
	}
	if r := w.do(t, app, "GET", "/api/v1/profiles/"+fc+"/services/svc/preferences", ""); r.Body["is_inbox_enabled"] != false {
		t.Fatalf("MANUAL without a preference must block the inbox: %s", r.Raw)
	}
	if r := w.do(t, caller("svc", auth.LimitedProfileRead), "GET", profile, ""); r.Body["sender_allowed"] != false {
		t.Fatalf("sender_allowed in MANUAL without preference: %s", r.Raw)
	}
	wantProblem(t, w.do(t, app, "POST", profile, `{"is_inbox_enabled":true,"service_preferences_settings":{"mode":"LEGACY"},"version":1}`), 409, "Conflict")
	wantProblem(t, w.do(t, app, "POST", profile, `{"is_inbox_enabled":true,"service_preferences_settings":{"mode":"SOMETIMES"},"version":1}`),
		400, profiles.InvalidTitle)

	// A preference of the current version is saved; a stale one is a 409.
	if r := w.do(t, app, "PUT", prefs, pref(0, false)); r.Status != 200 || r.Body["is_inbox_enabled"] != false {
		t.Fatalf("put: %d %s", r.Status, r.Raw)
	}
	if r := w.do(t, caller("other", auth.LimitedProfileRead), "GET", profile, ""); r.Body["sender_allowed"] != false {
		t.Fatalf("sender_allowed after a preference: %s", r.Raw)
	}
	// An update that keeps the mode keeps the version and the preferences.
	r = w.do(t, app, "POST", profile, `{"is_inbox_enabled":true,"version":1}`)
	if s, _ := r.Body["service_preferences_settings"].(map[string]any); s["mode"] != "MANUAL" || s["version"] != float64(0) {
		t.Fatalf("update without settings: %s", r.Raw)
	}
	// A change of mode bumps the version: preferences start over.
	w.do(t, app, "POST", profile, `{"is_inbox_enabled":true,"service_preferences_settings":{"mode":"AUTO"},"version":2}`)
	wantProblem(t, w.do(t, app, "PUT", prefs, pref(0, true)), 409, "Conflict")
	if r := w.do(t, app, "GET", prefs, ""); r.Body["is_inbox_enabled"] != true || r.Body["settings_version"] != float64(1) {
		t.Fatalf("AUTO without a preference allows: %s", r.Raw)
	}
	if r := w.do(t, app, "PUT", prefs, pref(1, true)); r.Status != 200 {
		t.Fatalf("put of version 1: %d %s", r.Status, r.Raw)
	}
}

// TestOriginalClientBlocks: the original's app backend knows blocks only;
// on a profile that is not LEGACY its changed blocks still switch senders.
func TestOriginalClientBlocks(t *testing.T) {
	w := newWorld(t)
	app, sender := caller("other", auth.ProfileWrite, auth.FullProfileRead), caller("svc", auth.LimitedProfileRead)
	path := "/api/v1/profiles/" + fc
	allowed := func() any { return w.do(t, sender, "GET", path, "").Body["sender_allowed"] }
	w.do(t, app, "POST", path, `{"is_inbox_enabled":true,"version":0}`)
	if allowed() != true {
		t.Fatal("AUTO allows")
	}
	w.do(t, app, "POST", path, `{"is_inbox_enabled":true,"blocked_inbox_or_channels":{"svc":["INBOX"]},"version":0}`)
	if allowed() != false {
		t.Fatal("a new INBOX block must keep the sender out")
	}
	// The same blocks again change nothing: a preference set meanwhile stays.
	w.do(t, app, "PUT", "/api/v1/profiles/"+fc+"/services/svc/preferences",
		`{"is_inbox_enabled":true,"is_email_enabled":false,"is_webhook_enabled":false,"settings_version":0}`)
	w.do(t, app, "POST", path, `{"is_inbox_enabled":true,"blocked_inbox_or_channels":{"svc":["INBOX"]},"version":1}`)
	if allowed() != true {
		t.Fatal("unchanged blocks overrode a preference")
	}
	w.do(t, app, "POST", path, `{"is_inbox_enabled":true,"blocked_inbox_or_channels":{"svc":["EMAIL"]},"version":2}`)
	r := w.do(t, app, "GET", "/api/v1/profiles/"+fc+"/services/svc/preferences", "")
	if r.Body["is_inbox_enabled"] != true || r.Body["is_email_enabled"] != false || r.Body["is_webhook_enabled"] != true {
		t.Fatalf("an EMAIL block: %s", r.Raw)
	}
	w.do(t, app, "POST", path, `{"is_inbox_enabled":true,"version":3}`)
	if r := w.do(t, app, "GET", "/api/v1/profiles/"+fc+"/services/svc/preferences", ""); r.Body["is_email_enabled"] != true {
		t.Fatalf("a block removed: %s", r.Raw)
	}
}

func TestNewProfileIsAuto(t *testing.T) {
	w := newWorld(t)
	app := caller("svc", auth.ProfileWrite, auth.FullProfileRead)
	r := w.do(t, app, "POST", "/api/v1/profiles/"+fc, `{"is_inbox_enabled":true,"version":0}`)
	if s, _ := r.Body["service_preferences_settings"].(map[string]any); s["mode"] != "AUTO" || s["version"] != float64(0) {
		t.Fatalf("new profile: %s", r.Raw)
	}
}

func TestMessageStatusAndReadStatus(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	sender, app := caller("svc", auth.MessageWrite, auth.MessageRead), caller("other", auth.MessageList, auth.ProfileWrite)
	w.do(t, app, "POST", "/api/v1/profiles/"+fc, `{"is_inbox_enabled":true,"service_preferences_settings":{"mode":"MANUAL"},"version":0}`)
	id := w.do(t, sender, "POST", "/api/v1/messages/"+fc, newMessage).Body["id"].(string)
	status := "/api/v1/messages/" + fc + "/" + id + "/message-status"
	wantProblem(t, w.do(t, app, "PUT", status, `{"change_type":"reading","is_read":true}`), 404, "Message not found")
	if r := w.do(t, sender, "GET", "/api/v1/messages/"+fc+"/"+id, ""); r.Body["read_status"] != nil {
		t.Fatalf("a message not processed has no read status: %s", r.Raw)
	}
	m, err := w.msgs.Get(ctx, fc, id)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.msgs.Deliver(ctx, m, messages.SenderService{FiscalCode: fc, ServiceID: "svc"}); err != nil {
		t.Fatal(err)
	}
	readStatus := func() string {
		r := w.do(t, sender, "GET", "/api/v1/messages/"+fc+"/"+id, "")
		s, _ := r.Body["read_status"].(string)
		return s
	}
	if got := readStatus(); got != "UNAVAILABLE" {
		t.Fatalf("read status without the citizen's consent: %q", got)
	}
	for _, bad := range []string{`{}`, `{"change_type":"reading"}`, `{"change_type":"bulk","is_read":true}`, `{"change_type":"peeking","is_read":true}`} {
		wantProblem(t, w.do(t, app, "PUT", status, bad), 400, messages.StatusChangeTitle)
	}
	r := w.do(t, app, "PUT", status, `{"change_type":"reading","is_read":true}`)
	if r.Status != 200 || r.Body["is_read"] != true || r.Body["is_archived"] != false || r.Body["version"] != float64(1) || r.Body["status"] != "PROCESSED" {
		t.Fatalf("reading: %d %s", r.Status, r.Raw)
	}
	if got := readStatus(); got != "UNAVAILABLE" {
		t.Fatalf("read, but not allowed: %q", got)
	}
	w.do(t, app, "PUT", "/api/v1/profiles/"+fc+"/services/svc/preferences",
		`{"is_inbox_enabled":true,"is_email_enabled":true,"is_webhook_enabled":true,"can_access_message_read_status":true,"settings_version":0}`)
	if got := readStatus(); got != "READ" {
		t.Fatalf("read and allowed: %q", got)
	}
	r = w.do(t, app, "PUT", status, `{"change_type":"bulk","is_read":false,"is_archived":true}`)
	if r.Body["version"] != float64(2) || r.Body["is_archived"] != true || readStatus() != "UNREAD" {
		t.Fatalf("bulk: %s", r.Raw)
	}
	list := func(q string) []any {
		r := w.do(t, app, "GET", "/api/v1/messages/"+fc+q, "")
		items, _ := r.Body["items"].([]any)
		return items
	}
	if got := list("?archived=true"); len(got) != 1 || got[0].(map[string]any)["is_archived"] != true {
		t.Fatalf("archived: %v", got)
	}
	if got := list("?archived=false"); len(got) != 0 {
		t.Fatalf("not archived: %v", got)
	}
	wantProblem(t, w.do(t, app, "GET", "/api/v1/messages/"+fc+"?archived=maybe", ""), 400, "Invalid archived")
}

func TestDevelopmentProfiles(t *testing.T) {
	w := newWorld(t)
	adm := caller("admin", auth.DevelopmentProfileWrite)
	wantProblem(t, w.do(t, adm, "POST", "/adm/development-profiles/"+fc, `{"email":"dev@pa.it"}`), 400, profiles.DevelopmentTitle)
	wantProblem(t, w.do(t, adm, "POST", "/adm/development-profiles/AAAAAA00A00Y000X", `{"email":"nope"}`), 400, profiles.DevelopmentTitle)
	r := w.do(t, adm, "POST", "/adm/development-profiles/AAAAAA00A00Y000X", `{"email":"dev@pa.it"}`)
	if r.Status != 200 || r.Body["is_inbox_enabled"] != true || r.Body["is_webhook_enabled"] != true || r.Body["email"] != "dev@pa.it" || r.Body["version"] != float64(0) {
		t.Fatalf("create: %d %s", r.Status, r.Raw)
	}
	wantProblem(t, w.do(t, adm, "POST", "/adm/development-profiles/AAAAAA00A00Y000X", `{"email":"dev@pa.it"}`), 409, "Conflict")
	if !strings.Contains(profiles.SandboxPattern, "Y") || profiles.IsSandbox(fc) || !profiles.IsSandbox("ZZZZZZ99A99Y999X") {
		t.Fatal("sandbox pattern")
	}
}
