package httpapi_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/digital-citizenship/functions/pkg/apiclient"
	"github.com/digital-citizenship/functions/pkg/auth"
)

// as sends the generated client's requests to the world's handlers, as
// the authorizer would with c's key, and checks each answer against the
// contract.
type as struct {
	t *testing.T
	w *world
	c *auth.Caller
}

func (a as) Do(req *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	a.w.mux.ServeHTTP(rec, req.WithContext(auth.WithCaller(req.Context(), *a.c)))
	checkContract(a.t, req.Method, req.URL.Path, rec.Code, rec.Header().Get("Content-Type"), rec.Body.Bytes())
	return rec.Result(), nil
}

// TestGeneratedClient: the client generated from our description speaks to
// our handlers: its typed requests are accepted, its typed responses read
// what they answer, and a refusal is a *Problem.
func TestGeneratedClient(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	client := func(c *auth.Caller) *apiclient.ClientWithResponses {
		cl, err := apiclient.New("https://api.example.it", apiclient.Options{HTTP: as{t, w, c}})
		if err != nil {
			t.Fatal(err)
		}
		return cl
	}
	adm := client(caller("admin", auth.ServiceWrite, auth.ServiceRead, auth.UserAdmin))
	created, err := adm.CreateServiceWithResponse(ctx, apiclient.Service{ServiceId: "tari", ServiceName: "TARI", OrganizationName: "Comune di Roma",
		DepartmentName: "Tributi", OrganizationFiscalCode: "00000000001", AuthorizedCidrs: []string{}, AuthorizedRecipients: []string{}})
	if err != nil || created.Err() != nil || created.JSON200 == nil || created.JSON200.ServiceName != "TARI" {
		t.Fatalf("create service: %v %v %s", err, created.Err(), created.Body)
	}
	groups, err := adm.SetUserGroupsWithResponse(ctx, "dev@pa.it", apiclient.UserGroups{Groups: []string{"ApiMessageWrite", "ApiMessageRead"}})
	if err != nil || groups.Err() != nil {
		t.Fatalf("groups: %v %v", err, groups.Err())
	}

	dev := client(caller("tari", auth.MessageWrite, auth.MessageRead))
	key := "tari-2026:2"
	params := &apiclient.SubmitMessageforUserWithFiscalCodeInBodyParams{IdempotencyKey: &key}
	msg := apiclient.NewMessageWithFiscalCode{FiscalCode: fc, Content: apiclient.MessageContent{Subject: "Avviso TARI 2026",
		Markdown: "Gentile cittadino, è disponibile il nuovo avviso di pagamento della TARI per il 2026."}}
	first, err := dev.SubmitMessageforUserWithFiscalCodeInBodyWithResponse(ctx, params, msg)
	if err != nil || first.Err() != nil || first.JSON201 == nil || first.JSON201.Id == nil {
		t.Fatalf("submit: %v %v %s", err, first.Err(), first.Body)
	}
	again, err := dev.SubmitMessageforUserWithFiscalCodeInBodyWithResponse(ctx, params, msg)
	if err != nil || again.JSON201 == nil || *again.JSON201.Id != *first.JSON201.Id {
		t.Fatalf("the same Idempotency-Key made another message: %s, then %s", first.Body, again.Body)
	}
	id := *first.JSON201.Id

	got, err := dev.GetMessageWithResponse(ctx, fc, id)
	if err != nil || got.JSON200 == nil || got.JSON200.Status == nil || *got.JSON200.Status != "ACCEPTED" ||
		got.JSON200.Message.SenderServiceId != "tari" {
		t.Fatalf("get: %v %s", err, got.Body)
	}
	list, err := dev.GetSentMessagesWithResponse(ctx, &apiclient.GetSentMessagesParams{})
	if err != nil || list.JSON200 == nil || len(list.JSON200.Items) != 1 || list.JSON200.Items[0].Id != id {
		t.Fatalf("list: %v %s", err, list.Body)
	}

	msg.Content.Subject = "Short"
	bad, err := dev.SubmitMessageforUserWithFiscalCodeInBodyWithResponse(ctx, nil, msg)
	var p *apiclient.Problem
	if err != nil || bad.JSON400 == nil || !errors.As(bad.Err(), &p) || p.Status != 400 || p.Title == "" || p.Detail == "" {
		t.Fatalf("a short subject: %v %v %s", err, bad.Err(), bad.Body)
	}
	denied, err := client(caller("tari", auth.MessageRead)).SubmitMessageforUserWithFiscalCodeInBodyWithResponse(ctx, nil, msg)
	if err != nil || !errors.As(denied.Err(), &p) || p.Status != 403 || denied.JSON403 == nil {
		t.Fatalf("without ApiMessageWrite: %v %s", err, denied.Body)
	}
}
