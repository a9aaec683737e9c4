package localstack

import (
	"context"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/digital-citizenship/functions/pkg/sam"
)

// faultBinary builds testdata/fault, a function that fails, hangs or
// crashes on request.
func faultBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "fault")
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", bin, "./testdata/fault")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build fault: %v\n%s", err, out)
	}
	return bin
}

func event(do string) []byte {
	b, _ := json.Marshal(events.APIGatewayProxyRequest{HTTPMethod: "GET", Path: "/fault", QueryStringParameters: map[string]string{"do": do}})
	return b
}

func pid(t *testing.T, rt *runtime, do string) string {
	t.Helper()
	out, err := rt.invoke(context.Background(), event(do))
	if err != nil {
		t.Fatal(err)
	}
	var r events.APIGatewayProxyResponse
	if err := json.Unmarshal(out, &r); err != nil || r.StatusCode != 200 {
		t.Fatalf("response %s: %v", out, err)
	}
	return r.Body
}

func TestRuntime_ScalesAndReuses(t *testing.T) {
	rt := newRuntime("Fault", faultBinary(t), map[string]string{}, 128, 2*time.Second, 3, log.New(io.Discard, "", 0))
	defer rt.stop()
	// One at a time: one warm environment serves every invocation.
	first := pid(t, rt, "")
	for range 3 {
		if got := pid(t, rt, ""); got != first {
			t.Fatalf("sequential invocations ran in %s and %s: the warm environment was not reused", first, got)
		}
	}
	// Eight at once with a cap of three: never more than three environments.
	var mu sync.Mutex
	pids := map[string]bool{}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := pid(t, rt, "sleep")
			mu.Lock()
			pids[p] = true
			mu.Unlock()
		}()
	}
	wg.Wait()
	st := rt.snapshot()
	t.Logf("8 concurrent invocations: %d environments, %d cold starts, mean init %s, peak RSS %d KiB",
		len(pids), st.ColdStarts, st.InitTotal/time.Duration(st.ColdStarts), st.PeakRSSKiB)
	if len(pids) < 2 || len(pids) > 3 || st.ColdStarts > 3 {
		t.Fatalf("%d environments and %d cold starts for 8 concurrent invocations with a cap of 3", len(pids), st.ColdStarts)
	}
	if st.PeakRSSKiB == 0 {
		t.Fatal("peak RSS not measured")
	}
}

func TestRuntime_FailuresAreContained(t *testing.T) {
	rt := newRuntime("Fault", faultBinary(t), map[string]string{}, 128, time.Second, 2, log.New(io.Discard, "", 0))
	defer rt.stop()
	ctx := context.Background()
	before := pid(t, rt, "")
	if _, err := rt.invoke(ctx, event("fail")); !isFunctionError(err, "failed on purpose") {
		t.Fatalf("function error: %v", err)
	}
	if got := pid(t, rt, ""); got != before {
		t.Fatal("a function error replaced the environment; Lambda keeps it")
	}
	if _, err := rt.invoke(ctx, event("hang")); !isTimeout(err) {
		t.Fatalf("hang: %v, want a timeout", err)
	}
	if _, err := rt.invoke(ctx, event("crash")); err == nil || isTimeout(err) {
		t.Fatalf("crash: %v, want an exit error", err)
	}
	after := pid(t, rt, "")
	if after == before {
		t.Fatal("the environment that timed out was reused")
	}
	if st := rt.snapshot(); st.Timeouts != 1 || st.Errors != 3 {
		t.Fatalf("stats %+v", st)
	}
	// Killed while idle, as a host failure would: the next invocations go to
	// new environments, never to the dead ones.
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() { pid(t, rt, "sleep") })
	}
	wg.Wait()
	if n := rt.kill(); n != 2 {
		t.Fatalf("killed %d environments, want the 2 idle ones", n)
	}
	for range 3 {
		if got := pid(t, rt, ""); got == after {
			t.Fatal("an invocation went to a killed environment")
		}
	}
}

// TestAPI_FunctionFailures: a function's error is a 502 and its timeout a
// 504, both problem+json with the template's gateway responses, and the API
// keeps serving.
func TestAPI_FunctionFailures(t *testing.T) {
	tmpl, err := sam.Load("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rt := newRuntime("Fault", faultBinary(t), map[string]string{}, 128, time.Second, 2, log.New(io.Discard, "", 0))
	defer rt.stop()
	a := &api{functions: map[string]*runtime{"Fault": rt}, gateway: map[string]string{}, logs: log.New(io.Discard, "", 0),
		authCache: &authorizerCache{answers: map[string]cachedAnswer{}}}
	loadGatewayResponses(a, tmpl)
	a.routes = []route{{Route: sam.Route{Method: "GET", Path: "/fault", Anonymous: true}, segments: []string{"fault"}, fn: rt}}
	srv := httptest.NewServer(a)
	defer srv.Close()
	for do, want := range map[string]int{"": 200, "fail": 502, "hang": 504, "crash": 502, "sleep": 200} {
		res, err := http.Get(srv.URL + "/fault?do=" + do)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != want {
			t.Fatalf("do=%s: %d %s, want %d", do, res.StatusCode, body, want)
		}
		if want != 200 {
			var p struct {
				Status int    `json:"status"`
				Title  string `json:"title"`
			}
			if err := json.Unmarshal(body, &p); err != nil || p.Status != want || res.Header.Get("Content-Type") != "application/problem+json" ||
				!strings.Contains(strings.ToLower(p.Title), "gateway") {
				t.Fatalf("do=%s: %s %s is not the template's problem+json", do, res.Header.Get("Content-Type"), body)
			}
		}
	}
}
