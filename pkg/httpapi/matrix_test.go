package httpapi_test

import (
	"slices"
	"testing"

	"github.com/digital-citizenship/functions/pkg/auth"
)

// TestAuthorizationMatrix calls every operation as a caller in exactly one
// group, for every group: a group of the operation's list (spec section 2.3,
// plus the admin operations) gets through the group check; any other gets
// the original's 403 with its exact title and detail.
func TestAuthorizationMatrix(t *testing.T) {
	w := newWorld(t)
	msg := w.do(t, caller("svc", auth.MessageWrite), "POST", "/api/v1/messages/"+fc, newMessage)
	id, _ := msg.Body["id"].(string)
	svcBody := `{"service_id":"svc","service_name":"S","organization_name":"O","department_name":"D",
		"organization_fiscal_code":"00000000001","authorized_cidrs":[],"authorized_recipients":[]}`
	ops := []struct {
		method, path, body string
		allowed            []auth.Group
	}{
		{"GET", "/api/v1/services/svc", "", []auth.Group{auth.PublicServiceRead}},
		{"GET", "/api/v1/services", "", []auth.Group{auth.PublicServiceList}},
		{"GET", "/api/v1/profiles/" + fc + "/sender-services", "", []auth.Group{auth.ServiceByRecipientQuery}},
		{"GET", "/api/v1/profiles/" + fc, "", []auth.Group{auth.LimitedProfileRead, auth.FullProfileRead}},
		{"POST", "/api/v1/profiles/" + fc, `{"version":0}`, []auth.Group{auth.ProfileWrite}},
		{"GET", "/api/v1/messages/" + fc + "/" + id, "", []auth.Group{auth.MessageRead, auth.MessageList}},
		{"GET", "/api/v1/messages/" + fc, "", []auth.Group{auth.MessageList}},
		{"GET", "/api/v1/messages?status=PROCESSED", "", []auth.Group{auth.MessageRead}},
		{"DELETE", "/api/v1/messages/" + fc + "/" + id, "", []auth.Group{auth.MessageWrite, auth.LimitedMessageWrite}},
		{"PUT", "/api/v1/callback", `{"url":"https://pa.example.it/callbacks"}`, []auth.Group{auth.CallbackWrite}},
		{"GET", "/api/v1/callback", "", []auth.Group{auth.CallbackWrite}},
		{"GET", "/api/v1/service", "", auth.AllGroups},
		{"POST", "/api/v1/callback/test", "", []auth.Group{auth.CallbackWrite}},
		{"DELETE", "/api/v1/callback", "", []auth.Group{auth.CallbackWrite}},
		{"POST", "/api/v1/messages/" + fc, newMessage, []auth.Group{auth.MessageWrite, auth.LimitedMessageWrite}},
		{"POST", "/api/v1/messages", `{"fiscal_code":"` + fc + `",` + newMessage[1:], []auth.Group{auth.MessageWrite, auth.LimitedMessageWrite}},
		{"GET", "/api/v1/info", "", []auth.Group{auth.InfoRead}},
		{"GET", "/api/v1/debug", "", []auth.Group{auth.DebugRead}},
		{"POST", "/api/v1/debug", `{"a":1}`, []auth.Group{auth.DebugRead}},
		{"GET", "/adm/debug", "", []auth.Group{auth.DebugRead}},
		{"POST", "/adm/debug", "", []auth.Group{auth.DebugRead}},
		{"POST", "/adm/services", svcBody, []auth.Group{auth.ServiceWrite}},
		{"GET", "/adm/services/svc", "", []auth.Group{auth.ServiceRead}},
		{"PUT", "/adm/services/svc", svcBody, []auth.Group{auth.ServiceWrite}},
		{"PUT", "/adm/users/dev@pa.it/groups", `{"groups":["ApiInfoRead"]}`, []auth.Group{auth.UserAdmin}},
		{"PUT", "/adm/users/dev@pa.it/subscriptions/svc", "", []auth.Group{auth.UserAdmin}},
		{"PUT", "/adm/services/svc/keys", `{"key_type":"PRIMARY_KEY"}`, []auth.Group{auth.UserAdmin}},
		{"PUT", "/api/v1/installations/inst-1", `{"fiscal_code":"` + fc + `","platform":"apns","push_channel":"tok"}`, []auth.Group{auth.InstallationWrite}},
		{"DELETE", "/api/v1/installations/inst-1", "", []auth.Group{auth.InstallationWrite}},
		{"GET", "/api/v1/profiles/" + fc + "/services/svc/preferences", "", []auth.Group{auth.FullProfileRead}},
		{"PUT", "/api/v1/profiles/" + fc + "/services/svc/preferences", `{"is_inbox_enabled":true,"is_email_enabled":true,"is_webhook_enabled":true,"settings_version":0}`, []auth.Group{auth.ProfileWrite}},
		{"PUT", "/api/v1/messages/" + fc + "/" + id + "/message-status", `{"change_type":"reading","is_read":true}`, []auth.Group{auth.MessageList}},
		{"POST", "/api/v1/profiles/" + fc + "/email-validation-process", "", []auth.Group{auth.ProfileWrite}},
		{"POST", "/api/v1/user-data-processing/" + fc, `{"choice":"DOWNLOAD"}`, []auth.Group{auth.ProfileWrite}},
		{"GET", "/api/v1/user-data-processing/" + fc + "/DOWNLOAD", "", []auth.Group{auth.FullProfileRead}},
		{"DELETE", "/api/v1/user-data-processing/" + fc + "/DELETE", "", []auth.Group{auth.ProfileWrite}},
		{"POST", "/adm/development-profiles/AAAAAA00A00Y000X", `{"email":"dev@pa.it"}`, []auth.Group{auth.DevelopmentProfileWrite}},
		{"POST", "/api/v1/payments", `{"notice_number":"012345678901234567","payee_fiscal_code":"00000000001","fiscal_code":"` + fc + `","amount":100,"paid_at":"2026-11-30T10:00:00Z"}`, []auth.Group{auth.PaymentWrite}},
		{"GET", "/api/v1/messages/" + fc + "/" + id + "/calendar.ics", "", []auth.Group{auth.MessageList}},
		{"GET", "/api/v1/messages/" + fc + "/" + id + "/attachments/1", "", []auth.Group{auth.MessageList}},
		{"PUT", "/api/v1/messages/" + fc + "/" + id + "/payment-status", `{"status":"PAID"}`, []auth.Group{auth.MessageWrite, auth.LimitedMessageWrite}},
		{"POST", "/api/v1/remote-contents/configurations", configurationBody(w.sender.URL, "k"), []auth.Group{auth.RemoteContentWrite}},
		{"GET", "/api/v1/remote-contents/configurations", "", []auth.Group{auth.RemoteContentWrite}},
		{"GET", "/api/v1/remote-contents/configurations/01HZZZZZZZZZZZZZZZZZZZZZZZ", "", []auth.Group{auth.RemoteContentWrite}},
		{"PUT", "/api/v1/remote-contents/configurations/01HZZZZZZZZZZZZZZZZZZZZZZZ", configurationBody(w.sender.URL, "k"), []auth.Group{auth.RemoteContentWrite}},
		{"GET", "/api/v1/third-party-messages/" + fc + "/" + id, "", []auth.Group{auth.MessageList}},
		{"GET", "/api/v1/third-party-messages/" + fc + "/" + id + "/precondition", "", []auth.Group{auth.MessageList}},
		{"GET", "/api/v1/third-party-messages/" + fc + "/" + id + "/attachments/docs/a.pdf", "", []auth.Group{auth.MessageList}},
		{"POST", "/api/v1/messages/" + fc + "/" + id + "/opening", "", []auth.Group{auth.MessageList}},
		{"GET", "/api/v1/messages/" + fc + "/" + id + "/receipt", "", []auth.Group{auth.MessageRead, auth.MessageList}},
	}
	for _, op := range ops {
		for _, g := range auth.AllGroups {
			t.Run(op.method+" "+op.path+" as "+string(g), func(t *testing.T) {
				r := w.do(t, caller("svc", g), op.method, op.path, op.body)
				refused := r.Status == 403 && r.Body["title"] == auth.ErrNotAllowed.Title
				if slices.Contains(op.allowed, g) {
					if refused {
						t.Fatalf("allowed group refused: %s", r.Raw)
					}
					return
				}
				if !refused || r.Body["detail"] != auth.ErrNotAllowed.Detail {
					t.Fatalf("got %d %s, want 403 %q", r.Status, r.Raw, auth.ErrNotAllowed.Title)
				}
			})
		}
	}
}
