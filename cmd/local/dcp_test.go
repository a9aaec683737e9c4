package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/digital-citizenship/functions/pkg/awstest"
	"github.com/digital-citizenship/functions/pkg/campaign"
)

// TestDCP drives the dcp tool, built from its sources, against the local
// stack as an administration would: a CSV with bad rows sends nothing; a
// campaign of 1,000 rows is interrupted (SIGINT) halfway and resumed with
// the same command, through an API throttled below the tool's pace (429s),
// and exactly 1,000 messages exist at the end; dcp status then reports
// every message delivered.
func TestDCP(t *testing.T) {
	admin := "dcp-admin-key-0123456789abcdef0"
	// API Gateway's throttling, below what the tool asks for.
	s := startStack(t, admin, "-param", "ThrottleRateLimit=40", "-param", "ThrottleBurstLimit=10")
	work := t.TempDir()
	dcp := buildDCP(t, work)
	run := func(key string, args ...string) (*exec.Cmd, *bytes.Buffer) {
		return dcpCommand(dcp, s.api, key, args...)
	}
	exitCode := func(err error) int { return exitCode(t, err) }

	// The administration's set-up, through dcp admin.
	svc := filepath.Join(work, "service.json")
	writeFile(t, svc, `{"service_id":"tari-dcp","service_name":"TARI","organization_name":"Comune di Roma","department_name":"Tributi",
		"organization_fiscal_code":"02438750586","authorized_cidrs":[],"authorized_recipients":[],"max_allowed_payment_amount":100000}`)
	for _, args := range [][]string{{"admin", "service", "create", "--file", svc},
		{"admin", "groups", "tributi@comune.roma.it", "ApiMessageWrite", "ApiMessageRead"}} {
		if c, out := run(admin, args...); exitCode(c.Run()) != 0 {
			t.Fatalf("dcp %v: %s", args, out)
		}
	}
	c, out := run(admin, "admin", "subscription", "tributi@comune.roma.it", "tari-dcp")
	if exitCode(c.Run()) != 0 {
		t.Fatalf("subscription: %s", out)
	}
	key := between(out.String(), `"primary_key": "`, `"`)
	if key == "" {
		t.Fatalf("no key in %s", out)
	}
	// 20 test citizens, their addresses validated.
	citizens := make([]string, 20)
	for i := range citizens {
		citizens[i] = fmt.Sprintf("DCPTST80A01Y%03dX", i)
		s.must(t, 200, admin, "POST", "/adm/development-profiles/"+citizens[i], fmt.Sprintf(`{"email":"dcp%d@example.com"}`, i))
	}

	// Bad rows: every one reported with its line, nothing sent.
	md := "Gentile cittadino, è disponibile il nuovo avviso di pagamento della TARI per il 2026: paga entro la scadenza indicata."
	badCSV := filepath.Join(work, "bad.csv")
	writeFile(t, badCSV, "fiscal_code,subject,markdown\n"+citizens[0]+",Avviso TARI 2026,\""+md+"\"\n"+
		"XXX,Avviso TARI 2026,\""+md+"\"\n"+citizens[1]+",corto,\""+md+"\"\n")
	c, out = run(key, "send", "--csv", badCSV)
	if code := exitCode(c.Run()); code != 2 || !strings.Contains(out.String(), "bad.csv:3:") || !strings.Contains(out.String(), "bad.csv:4:") ||
		!strings.Contains(out.String(), "nothing was sent") {
		t.Fatalf("bad rows: exit %d\n%s", code, out)
	}
	if _, err := os.Stat(badCSV + ".results.csv"); err == nil {
		t.Fatal("a results file for a refused CSV")
	}

	// 1,000 rows, interrupted halfway, then resumed.
	var b strings.Builder
	b.WriteString("fiscal_code,subject,markdown,amount,notice_number\n")
	for i := range 1000 {
		fmt.Fprintf(&b, "%s,Avviso TARI 2026 n. %04d,\"%s\",%d,%018d\n", citizens[i%len(citizens)], i, md, 100+i, i)
	}
	csvPath := filepath.Join(work, "tari.csv")
	writeFile(t, csvPath, b.String())
	results := csvPath + ".results.csv"
	first, out1 := run(key, "send", "--csv", csvPath, "--rate", "100", "--concurrency", "16")
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for lines(results) < 1+500 { // the header, then 500 rows
		if time.Now().After(deadline) {
			_ = first.Process.Kill()
			t.Fatalf("no progress: %s", out1)
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = first.Process.Signal(syscall.SIGINT)
	if code := exitCode(first.Wait()); code != 130 || !strings.Contains(out1.String(), "run the same command to resume") {
		t.Fatalf("interrupted run: exit %d\n%s", code, out1)
	}
	recs, err := campaign.ReadResults(results)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) < 500 || len(recs) >= 1000 {
		t.Fatalf("%d rows done before the interruption, want about half", len(recs))
	}
	resumed, out2 := run(key, "send", "--csv", csvPath, "--rate", "100", "--concurrency", "16")
	if code := exitCode(resumed.Run()); code != 0 || !strings.Contains(out2.String(), "resuming:") ||
		!strings.Contains(out2.String(), "1000 of 1000 rows sent, 0 failed") {
		t.Fatalf("resumed run: exit %d\n%s", code, out2)
	}
	if !throttledSome(out1.String() + out2.String()) {
		t.Fatalf("the API never throttled the tool:\n%s\n%s", out1, out2)
	}
	recs, _ = campaign.ReadResults(results)
	ids := map[string]bool{}
	for _, r := range recs {
		ids[r.MessageID] = true
	}
	if len(recs) != 1000 || len(ids) != 1000 {
		t.Fatalf("%d results, %d distinct message ids", len(recs), len(ids))
	}
	// dcp status: every message delivered, written back to the file.
	st, out3 := run(key, "status", "--results", results, "--wait", "8m", "--rate", "30")
	if code := exitCode(st.Run()); code != 0 || !strings.Contains(out3.String(), "status PROCESSED") ||
		!strings.Contains(out3.String(), "channel email SENT                   1000") || !strings.Contains(out3.String(), "not final yet: 0") ||
		!strings.Contains(out3.String(), "read 1000 statuses in 10 requests (10 pages of the list, 0 messages one by one)") {
		t.Fatalf("status: exit %d\n%s", code, out3)
	}
	recs, _ = campaign.ReadResults(results)
	for _, r := range recs {
		if r.Status != "PROCESSED" || r.Email != "SENT" {
			t.Fatalf("row %+v after status", r)
		}
	}
	// Exactly 1,000 messages exist: each citizen's inbox (processed messages), from the service.
	total := 0
	for _, fc := range citizens {
		for path := "/api/v1/messages/" + fc; path != ""; {
			page := s.call(t, admin, "GET", path, "")
			for page.status == 429 { // this stack throttles every subscription, the admin's too
				time.Sleep(200 * time.Millisecond)
				page = s.call(t, admin, "GET", path, "")
			}
			if page.status != 200 {
				t.Fatalf("inbox: %d %s", page.status, page.raw)
			}
			for _, it := range page.body["items"].([]any) {
				if it.(map[string]any)["sender_service_id"] == "tari-dcp" {
					total++
				}
			}
			path, _ = page.body["next"].(string)
		}
	}
	if total != 1000 {
		t.Fatalf("%d messages in the inboxes, want exactly 1000", total)
	}

	t.Logf("interrupted run:\n%s\nresumed run:\n%s\nstatus:\n%s", tail(out1.String()), tail(out2.String()), out3)
}

// throttledSome reports whether a progress line counted a 429.
func throttledSome(out string) bool {
	for _, l := range strings.FieldsFunc(out, func(r rune) bool { return r == '\r' || r == '\n' }) {
		if strings.Contains(l, " throttled") && !strings.Contains(l, " 0 throttled") {
			return true
		}
	}
	return false
}

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func lines(path string) int {
	b, _ := os.ReadFile(path)
	return bytes.Count(b, []byte("\n"))
}

func between(s, start, end string) string {
	_, after, ok := strings.Cut(s, start)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(after, end)
	return v
}

func tail(s string) string {
	if i := strings.LastIndex(s, "\r"); i >= 0 {
		return s[i+1:]
	}
	return s
}

// dcpCommand is dcp with args, against api with key, its output in the buffer.
func dcpCommand(dcp, api, key string, args ...string) (*exec.Cmd, *bytes.Buffer) {
	c := exec.Command(dcp, args...)
	c.Env = append(os.Environ(), "DCP_API_URL="+api, "DCP_KEY="+key)
	var out bytes.Buffer
	c.Stdout, c.Stderr = &out, &out
	return c, &out
}

// exitCode is the exit status of a command that ended with err.
func exitCode(t *testing.T, err error) int {
	t.Helper()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0
}

// buildDCP builds dcp into dir and returns its path.
func buildDCP(t *testing.T, dir string) string {
	t.Helper()
	dcp := filepath.Join(dir, "dcp")
	build := exec.Command("go", "build", "-o", dcp, "./cmd/dcp")
	build.Dir = awstest.RepoRoot(t)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build dcp: %v\n%s", err, out)
	}
	return dcp
}
