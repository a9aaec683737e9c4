package push_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/digital-citizenship/functions/pkg/fiscalcode"
	"github.com/digital-citizenship/functions/pkg/problem"
	"github.com/digital-citizenship/functions/pkg/push"
	"github.com/digital-citizenship/functions/pkg/storetest"
)

const (
	fc1 = "SPNDNL80R13C555X"
	fc2 = "RSSMRA80A01H501U"
)

func TestRegistrar(t *testing.T) {
	ctx := context.Background()
	store, eps := &storetest.Installations{}, &storetest.PushEndpoints{}
	r := push.Registrar{Store: store, Endpoints: eps}

	a, err := r.Register(ctx, "phone", push.Input{FiscalCode: fc1, Platform: push.APNS, PushChannel: "t1"})
	if err != nil || a.EndpointARN == "" {
		t.Fatal(a, err)
	}
	// The same id with a new token: updated, the old endpoint deleted.
	b, err := r.Register(ctx, "phone", push.Input{FiscalCode: fc1, Platform: push.APNS, PushChannel: "t2"})
	if err != nil || b.EndpointARN == a.EndpointARN {
		t.Fatal(b, err)
	}
	if len(eps.Deleted) != 1 || eps.Deleted[0] != a.EndpointARN {
		t.Fatalf("deleted endpoints %v, want the old one", eps.Deleted)
	}
	// The token moves to another citizen under another id: the old
	// installation goes, its endpoint (the same token's) stays in use.
	c, err := r.Register(ctx, "phone-reset", push.Input{FiscalCode: fc2, Platform: push.APNS, PushChannel: "t2"})
	if err != nil || c.EndpointARN != b.EndpointARN {
		t.Fatal(c, err)
	}
	if _, err := store.Installation(ctx, "phone"); !errors.Is(err, problem.ErrNotFound) {
		t.Fatalf("the token's old installation is still there: %v", err)
	}
	if len(eps.Deleted) != 1 {
		t.Fatalf("an endpoint in use was deleted: %v", eps.Deleted)
	}
	// Unregister, twice.
	for range 2 {
		if err := r.Unregister(ctx, "phone-reset"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := store.Installation(ctx, "phone-reset"); !errors.Is(err, problem.ErrNotFound) {
		t.Fatal("unregistered installation still there")
	}
}

type refusing struct{ *storetest.PushEndpoints }

func (refusing) Create(context.Context, string, string) (string, error) {
	return "", errors.New("SNS unreachable")
}

func TestRegistrar_EndpointFailures(t *testing.T) {
	r := push.Registrar{Store: &storetest.Installations{}, Endpoints: refusing{&storetest.PushEndpoints{}}}
	_, err := r.Register(context.Background(), "p", push.Input{FiscalCode: fc1, Platform: push.FCM, PushChannel: "t"})
	if problem.Status(problem.KindOf(err)) != 503 {
		t.Fatalf("unreachable push service: %v, want a 503 problem", err)
	}
}

func TestParse(t *testing.T) {
	for _, body := range []string{`{}`, `{"fiscal_code":"x","platform":"apns","push_channel":"t"}`,
		`{"fiscal_code":"` + fc1 + `","platform":"windows","push_channel":"t"}`, `{"fiscal_code":"` + fc1 + `","platform":"fcm","push_channel":""}`,
		`[]`, `{"fiscal_code":"` + fc1 + `","platform":"fcm"}`} {
		_, err := push.Parse([]byte(body), fiscalcode.Normalize)
		if problem.Status(problem.KindOf(err)) != 400 {
			t.Errorf("%s: %v, want a 400 problem", body, err)
		}
	}
	in, err := push.Parse([]byte(`{"fiscal_code":"spndnl80r13c555x","platform":"fcm","push_channel":"tok"}`), fiscalcode.Normalize)
	if err != nil || in.FiscalCode != fc1 || in.Platform != push.FCM {
		t.Fatal(in, err)
	}
}

// The payload carries both platforms' shapes, as SNS's MessageStructure
// json wants: a default, APNS/APNS_SANDBOX documents and GCM's FCM v1 one.
func TestPayload(t *testing.T) {
	var doc map[string]string
	if err := json.Unmarshal([]byte(push.Payload("TARI - Comune di Roma", "Avviso", "01M")), &doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"default", "APNS", "APNS_SANDBOX", "GCM"} {
		if doc[k] == "" {
			t.Fatalf("payload without %s: %v", k, doc)
		}
	}
	var apns struct {
		Aps struct {
			Alert struct{ Title, Body string }
		}
		MessageID string `json:"message_id"`
	}
	if err := json.Unmarshal([]byte(doc["APNS"]), &apns); err != nil || apns.Aps.Alert.Title != "TARI - Comune di Roma" || apns.Aps.Alert.Body != "Avviso" || apns.MessageID != "01M" {
		t.Fatalf("APNS %s", doc["APNS"])
	}
	var gcm struct {
		FcmV1Message struct {
			Message struct {
				Notification struct{ Title, Body string }
				Data         map[string]string
			}
		}
	}
	if err := json.Unmarshal([]byte(doc["GCM"]), &gcm); err != nil || gcm.FcmV1Message.Message.Notification.Body != "Avviso" || gcm.FcmV1Message.Message.Data["message_id"] != "01M" {
		t.Fatalf("GCM %s", doc["GCM"])
	}
	if push.GenericText("en_GB") == push.GenericText("it_IT") {
		t.Fatal("generic text not localized")
	}
}
