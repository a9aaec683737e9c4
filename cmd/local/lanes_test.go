package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/digital-citizenship/functions/pkg/awstest"
	store "github.com/digital-citizenship/functions/pkg/dynamodb"
)

// TestLocalStack_Lanes drives the lanes through the API as senders would:
// a service's messages are normal until its submissions in the last minute
// reach its bulk_threshold_per_minute, then bulk, and each 201 says which in
// X-Lane; X-Lane: bulk is honoured, anything but bulk or normal is a 400
// that creates nothing; a bad threshold is a 400; a new citizen's welcome
// messages are priority. Every message, whatever its lane, reaches e-mail
// SENT through its lane's queues, and its lane is stored with it.
func TestLocalStack_Lanes(t *testing.T) {
	admin := "lanes-admin-key-0123456789abcdef"
	s := startStack(t, admin)
	s.must(t, 400, admin, "POST", "/adm/services", `{"service_id":"lanes-bad","service_name":"TARI","organization_name":"Comune di Roma",
		"department_name":"Tributi","organization_fiscal_code":"02438750586","authorized_cidrs":[],"authorized_recipients":[],
		"bulk_threshold_per_minute":0}`)
	s.must(t, 200, admin, "POST", "/adm/services", `{"service_id":"lanes-tari","service_name":"TARI","organization_name":"Comune di Roma",
		"department_name":"Tributi","organization_fiscal_code":"02438750586","authorized_cidrs":[],"authorized_recipients":[],
		"bulk_threshold_per_minute":4}`)
	s.must(t, 200, admin, "PUT", "/adm/users/lanes@comune.roma.it/groups", `{"groups":["ApiMessageWrite","ApiMessageRead"]}`)
	key := s.must(t, 200, admin, "PUT", "/adm/users/lanes@comune.roma.it/subscriptions/lanes-tari", `{"product_name":"IO"}`).body["primary_key"].(string)
	const citizen = "LANESC80A01Y000X"
	s.must(t, 200, admin, "POST", "/adm/development-profiles/"+citizen, `{"email":"lanes@example.com"}`)

	body := func(i int) string {
		return fmt.Sprintf(`{"content":{"subject":"Avviso di corsia n. %d","markdown":"Gentile cittadino, è disponibile il nuovo avviso della TARI per il 2026: lo trova nell'app."}}`, i)
	}
	s.must(t, 400, key, "POST", "/api/v1/messages/"+citizen, body(0), "X-Lane", "priority")
	s.must(t, 400, key, "POST", "/api/v1/messages/"+citizen, body(0), "X-Lane", "fast")
	type sent struct{ location, lane string }
	var all []sent
	submit := func(i int, headers ...string) string {
		r := s.must(t, 201, key, "POST", "/api/v1/messages/"+citizen, body(i), headers...)
		all = append(all, sent{r.header.Get("Location"), r.header.Get("X-Lane")})
		return r.header.Get("X-Lane")
	}
	if lane := submit(1, "X-Lane", "bulk"); lane != "bulk" {
		t.Fatalf("X-Lane: bulk answered %q", lane)
	}
	// Over the threshold of 4 a minute, the next ones go bulk. The
	// submissions are counted from the day's counters, read at most once a
	// second: one every 300 ms.
	var lanes []string
	for i := range 12 {
		lanes = append(lanes, submit(10+i))
		time.Sleep(300 * time.Millisecond)
	}
	if lanes[0] != "normal" || lanes[len(lanes)-1] != "bulk" {
		t.Fatalf("lanes of a service going over its threshold of 4 a minute: %v", lanes)
	}
	msgs := store.NewMessages(dynamodb.NewFromConfig(awstest.Config(s.ddb)), s.name+"-MessagesTable")
	for _, m := range all {
		r := s.waitFor(t, key, m.location, func(r reply) bool { return channelsOf(r)["email"] == "SENT" })
		id := r.body["message"].(map[string]any)["id"].(string)
		stored, err := msgs.Get(context.Background(), citizen, id)
		if err != nil {
			t.Fatal(err)
		}
		if stored.Lane != m.lane {
			t.Fatalf("message %s: stored in lane %q, answered %q", id, stored.Lane, m.lane)
		}
	}
	// The welcome messages of a new citizen are the platform's: priority.
	const newcomer = "LANESC80A01Y001X"
	s.must(t, 200, admin, "POST", "/api/v1/profiles/"+newcomer, `{"email":"newcomer-lanes@example.com","is_inbox_enabled":true,"version":0}`)
	for _, id := range s.inboxFrom(t, admin, newcomer, "io-platform", 2) {
		m, err := msgs.Get(context.Background(), newcomer, id)
		if err != nil {
			t.Fatal(err)
		}
		if m.Lane != "priority" {
			t.Fatalf("welcome message %s in lane %q, want priority", id, m.Lane)
		}
	}
}
