package remotecontent

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/digital-citizenship/functions/pkg/callbacks"
	"github.com/digital-citizenship/functions/pkg/problem"
)

const body = `{"name":"Avvisi","description":"d","prod_environment":{"base_url":"https://pa.example.it/io/","details_authentication":` +
	`{"header_key_name":"X-Key","key":"prod-key","type":"API_KEY"}},"test_environment":{"base_url":"https://t.pa.example.it",` +
	`"details_authentication":{"header_key_name":"X-Key","key":"test-key","type":"API_KEY"},"test_users":["spndnl80r13c555x"]}}`

// TestParse: defaults, normalisation, and a key left out of a change kept
// from the configuration as it is.
func TestParse(t *testing.T) {
	c, err := Parse([]byte(body), nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if c.HasPrecondition != "NONE" || c.Prod.BaseURL != "https://pa.example.it/io" || c.Test.TestUsers[0] != "SPNDNL80R13C555X" {
		t.Fatalf("parsed %+v", c)
	}
	if c.For("SPNDNL80R13C555X").Auth.Key != "test-key" || c.For("MRARSS85T10H501Z").Auth.Key != "prod-key" {
		t.Fatal("the test environment serves its test users only")
	}
	keyless := strings.ReplaceAll(body, `"key":"prod-key",`, "")
	if _, err := Parse([]byte(keyless), nil, false); err == nil || !strings.Contains(problem.As(err).Detail, "prod_environment.details_authentication.key") {
		t.Fatalf("a new configuration without its key: %v", err)
	}
	kept, err := Parse([]byte(keyless), &c, false)
	if err != nil || kept.Prod.Auth.Key != "prod-key" || kept.Test.Auth.Key != "test-key" {
		t.Fatalf("a change without the key: %+v %v", kept, err)
	}
	for _, bad := range []string{`"https://pa.example.it/io/"`, `"http://127.0.0.1:3003"`} {
		local := strings.Replace(body, `"https://pa.example.it/io/"`, bad, 1)
		_, inAWS := Parse([]byte(local), nil, false)
		_, locally := Parse([]byte(local), nil, true)
		if bad == `"http://127.0.0.1:3003"` && (inAWS == nil || locally != nil) {
			t.Fatalf("loopback over http: in AWS %v, locally %v", inAWS, locally)
		}
	}
}

// TestCaller: the sender's system is called through the callbacks' client
// with the key and the citizen; its failures are problems the app backend
// can read, naming no URL.
func TestCaller(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/messages/ok":
			if r.Header.Get("X-Key") != "k" || r.Header.Get(FiscalCodeHeader) != "SPNDNL80R13C555X" {
				http.Error(w, "who are you", 401)
				return
			}
			_, _ = w.Write([]byte(`{"details":{"subject":"s"},"attachments":[{"id":"1","url":"a.pdf"}]}`))
		case "/messages/redirect":
			http.Redirect(w, r, "/messages/ok", http.StatusFound)
		case "/messages/big":
			_, _ = w.Write([]byte(`{"details":{"x":"` + strings.Repeat("x", MaxMessage) + `"}}`))
		case "/messages/hang":
			<-release
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	defer close(release)
	c := NewCaller(callbacks.NewClient(true))
	env := Environment{BaseURL: srv.URL, Auth: Auth{HeaderKeyName: "X-Key", Key: "k"}}
	ctx := context.Background()
	r, err := c.Message(ctx, env, "ok", "SPNDNL80R13C555X")
	if err != nil || r.Details["subject"] != "s" || len(r.Attachments) != 1 || !strings.HasPrefix(r.Digest, "sha256:") {
		t.Fatalf("message %+v %v", r, err)
	}
	for id, want := range map[string]int{"redirect": 502, "big": 502, "missing": 404, "hang": 504} {
		start := time.Now()
		_, err := c.Message(ctx, env, id, "SPNDNL80R13C555X")
		p := problem.As(err)
		if problem.Status(p.Kind) != want || strings.Contains(p.Error(), srv.URL) {
			t.Errorf("%s: %v, want %d and no URL", id, err, want)
		}
		if time.Since(start) > 2*callbacks.AttemptTimeout {
			t.Errorf("%s took %v", id, time.Since(start))
		}
	}
	// An address the platform never calls, whatever a configuration says.
	meta := Environment{BaseURL: "http://169.254.169.254", Auth: Auth{HeaderKeyName: "X-Key", Key: "k"}}
	_, err = c.Message(ctx, meta, "ok", "SPNDNL80R13C555X")
	if p := problem.As(err); problem.Status(p.Kind) != 502 || !strings.Contains(err.Error(), "forbidden address") {
		t.Fatalf("the metadata service: %v", err)
	}
}
