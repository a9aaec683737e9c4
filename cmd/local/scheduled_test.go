package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/digital-citizenship/functions/pkg/campaign"
)

// TestLocalStack_Scheduled: dcp send --at schedules a 1,000-row campaign
// ahead; every message is SCHEDULED, nothing is processed before its time,
// the first are processed at it (the sweep releases them up to a minute
// early into the queue with the delay that remains), and all of them at the
// local pipeline's pace. A cancelled message is never processed; a second
// cancel is a 409.
func TestLocalStack_Scheduled(t *testing.T) {
	admin := "sched-admin-key-0123456789abcdef"
	s := startStack(t, admin)
	work := t.TempDir()
	dcp := buildDCP(t, work)
	s.must(t, 200, admin, "POST", "/adm/services", `{"service_id":"tari-sched","service_name":"TARI","organization_name":"Comune di Roma",
		"department_name":"Tributi","organization_fiscal_code":"02438750586","authorized_cidrs":[],"authorized_recipients":[]}`)
	s.must(t, 200, admin, "PUT", "/adm/users/sched@comune.roma.it/groups", `{"groups":["ApiMessageWrite","ApiMessageRead"]}`)
	key := s.must(t, 200, admin, "PUT", "/adm/users/sched@comune.roma.it/subscriptions/tari-sched", `{"product_name":"IO"}`).body["primary_key"].(string)
	for i := range 100 {
		s.must(t, 200, admin, "POST", fmt.Sprintf("/adm/development-profiles/SCHEDL80A01Y%03dX", i), fmt.Sprintf(`{"email":"sched%d@example.com"}`, i))
	}
	var csv strings.Builder
	csv.WriteString("fiscal_code,subject,markdown\n")
	for i := range 1000 {
		fmt.Fprintf(&csv, "SCHEDL80A01Y%03dX,Avviso TARI 2026 n. %04d,\"Gentile cittadino, è disponibile il nuovo avviso di pagamento della TARI per il 2026: paga entro la scadenza.\"\n", i%100, i)
	}
	csvPath := filepath.Join(work, "tari.csv")
	writeFile(t, csvPath, csv.String())
	run := func(args ...string) (int, string) {
		c, out := dcpCommand(dcp, s.api, key, args...)
		return exitCode(t, c.Run()), out.String()
	}
	if code, out := run("send", "--csv", csvPath, "--at", "+30s"); code != 2 || !strings.Contains(out, "1 minute to 7 days") {
		t.Fatalf("--at +30s: exit %d\n%s", code, out)
	}
	at := time.Now().Add(100 * time.Second).UTC().Truncate(time.Second)
	if code, out := run("send", "--csv", csvPath, "--at", at.Format(time.RFC3339), "--rate", "500", "--concurrency", "16"); code != 0 {
		t.Fatalf("send --at: exit %d\n%s", code, out)
	}
	results := csvPath + ".results.csv"
	recs, _ := campaign.ReadResults(results)
	if len(recs) != 1000 {
		t.Fatalf("%d results", len(recs))
	}
	count := func(status string) int {
		n := 0
		for next := "/api/v1/messages?page_size=100&status=" + status; next != ""; {
			page := s.must(t, 200, key, "GET", next, "")
			n += len(page.body["items"].([]any))
			next, _ = page.body["next"].(string)
		}
		return n
	}
	if n := count("SCHEDULED"); n != 1000 {
		t.Fatalf("%d SCHEDULED after the send, want 1000", n)
	}
	cancelled := "/api/v1/messages/" + recs[0].FiscalCode + "/" + recs[0].MessageID
	if r := s.must(t, 200, key, "DELETE", cancelled, ""); r.body["status"] != "CANCELLED" {
		t.Fatalf("cancel: %s", r.raw)
	}
	s.must(t, 409, key, "DELETE", cancelled, "")

	waitUntil(at.Add(-5 * time.Second))
	if n := count("SCHEDULED"); n != 999 {
		t.Fatalf("%d still SCHEDULED 5 s before their time, want 999: processed early", n)
	}
	// Released on time: the first are processed at once. The rest follow at
	// the local pipeline's pace (two cores for every emulator and function:
	// about 8 messages a second with an e-mail and a webhook call each), so
	// the whole campaign takes about two minutes here; in AWS the sweep's
	// release is the bound ("Scheduled sends").
	var first time.Duration
	for {
		n := count("PROCESSED")
		if n > 0 && first == 0 {
			first = time.Since(at)
			if first > 20*time.Second {
				t.Fatalf("the first scheduled message was processed %s after its time", first)
			}
		}
		if n == 999 {
			break
		}
		if time.Since(at) > 6*time.Minute {
			t.Fatalf("%d PROCESSED six minutes after their time, want 999", n)
		}
		time.Sleep(3 * time.Second)
	}
	took := time.Since(at)
	if m := s.must(t, 200, key, "GET", cancelled, ""); m.body["status"] != "CANCELLED" {
		t.Fatalf("the cancelled one: %s", m.raw)
	}
	if code, out := run("status", "--results", results, "--wait", "4m"); code != 0 || !strings.Contains(out, "status PROCESSED") ||
		!strings.Contains(out, "status CANCELLED") {
		t.Fatalf("status: exit %d\n%s", code, out)
	}
	var sweeps []string
	for _, l := range strings.Split(s.logs.String(), "\n") {
		if strings.Contains(l, "scheduled messages released") {
			sweeps = append(sweeps, l)
		}
	}
	t.Logf("999 scheduled messages processed from %s to %s after their time (none before); one cancelled; the sweeps: %v",
		first.Round(time.Second), took.Round(time.Second), sweeps)
}
