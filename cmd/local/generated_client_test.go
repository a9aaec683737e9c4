package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/digital-citizenship/functions/pkg/awstest"
)

// A client generated from the description we serve by the IO project's own
// generator (@pagopa/openapi-codegen-ts, gen-api-models --client) works with
// and without the optional Idempotency-Key: without one, it sends the
// literal "undefined", which must not turn every submission of the day into
// the same key. The generator and its libraries are the versions of
// testdata/generated-client/package-lock.json (npm ci checks their hashes),
// installed once into the ignored cache.
func TestGeneratedClient_SubmitsWithAndWithoutIdempotencyKey(t *testing.T) {
	root := awstest.RepoRoot(t)
	src := filepath.Join(root, "cmd", "local", "testdata", "generated-client")
	modules := generatorModules(t, root, src)

	admin := "gen-client-admin-key-0123456789"
	s := startStack(t, admin)
	s.must(t, 200, admin, "POST", "/adm/services", `{"service_id":"gen-client","service_name":"TARI","organization_name":"Comune di Roma",
		"department_name":"Tributi","organization_fiscal_code":"02438750586","authorized_cidrs":[],"authorized_recipients":[],
		"max_allowed_payment_amount":0}`)
	s.must(t, 200, admin, "PUT", "/adm/users/gen@comune.roma.it/groups", `{"groups":["ApiMessageWrite","ApiMessageRead"]}`)
	key := s.must(t, 200, admin, "PUT", "/adm/users/gen@comune.roma.it/subscriptions/gen-client", `{}`).body["primary_key"].(string)
	citizen := "SPNDNL80R13C555X"
	s.must(t, 200, admin, "POST", "/api/v1/profiles/"+citizen, `{"email":"gen-client@example.com","is_inbox_enabled":true,"version":0}`)
	s.validateEmail(t, "gen-client@example.com")

	// Generate the client from the served description, compile it with
	// the driver, and run it against the stack.
	work := t.TempDir()
	spec := s.must(t, 200, "", "GET", "/specs/api/v1/swagger.json", "")
	for name, body := range map[string]string{"spec.json": spec.raw, "drive.ts": readFile(t, filepath.Join(src, "drive.ts")),
		"tsconfig.json": readFile(t, filepath.Join(src, "tsconfig.json"))} {
		if err := os.WriteFile(filepath.Join(work, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(modules, filepath.Join(work, "node_modules")); err != nil {
		t.Fatal(err)
	}
	node(t, work, nil, filepath.Join(modules, "@pagopa/openapi-codegen-ts/dist/commands/gen-api-models/cli.js"),
		"--api-spec", "spec.json", "--out-dir", "gen", "--request-types", "--response-decoders", "--client")
	node(t, work, nil, filepath.Join(modules, "typescript/bin/tsc"), "-p", ".")
	out := node(t, work, []string{"API_URL=" + s.api, "API_KEY=" + key, "FISCAL_CODE=" + citizen}, "out/drive.js")

	type result struct {
		Decoded  bool     `json:"decoded"`
		Errors   []string `json:"errors"`
		Status   int      `json:"status"`
		Location string   `json:"location"`
		Title    string   `json:"title"`
	}
	var got struct {
		WithoutKey []result `json:"without_key"`
		WithKey    []result `json:"with_key"`
		BadKey     result   `json:"bad_key"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("driver output %q: %v", out, err)
	}
	t.Logf("generated client: %s", out)
	seen := map[string]bool{}
	for i, r := range got.WithoutKey {
		if !r.Decoded || r.Status != 201 || r.Location == "" {
			t.Fatalf("submission %d without a key: %+v", i+1, r)
		}
		if seen[r.Location] {
			t.Fatalf("submission %d without a key was taken as a replay of an earlier one (%s)", i+1, r.Location)
		}
		seen[r.Location] = true
	}
	if len(got.WithoutKey) != 3 {
		t.Fatalf("%d submissions without a key, want 3", len(got.WithoutKey))
	}
	if len(got.WithKey) != 2 || got.WithKey[0].Status != 201 || got.WithKey[1].Status != 201 ||
		got.WithKey[0].Location == "" || got.WithKey[0].Location != got.WithKey[1].Location {
		t.Fatalf("the same key twice must give the same message: %+v", got.WithKey)
	}
	if !got.BadKey.Decoded || got.BadKey.Status != 400 || got.BadKey.Title != "Invalid Idempotency-Key" {
		t.Fatalf("a malformed key: %+v, want a decoded 400 Invalid Idempotency-Key", got.BadKey)
	}
	// Every message the client created is the store's, with its own subject.
	for loc := range seen {
		r := s.must(t, 200, key, "GET", loc, "")
		if subject, _ := r.body["message"].(map[string]any)["content"].(map[string]any)["subject"].(string); !strings.Contains(subject, "senza chiave") {
			t.Fatalf("%s: %s", loc, r.raw)
		}
	}
}

// generatorModules installs testdata/generated-client's locked packages
// once into the cache (keyed by the lock file's hash) and returns its
// node_modules. npm is required, as for DynamoDB Local: no npm is a failure.
func generatorModules(t *testing.T, root, src string) string {
	t.Helper()
	lock := readFile(t, filepath.Join(src, "package-lock.json"))
	sum := sha256.Sum256([]byte(lock))
	dir := filepath.Join(root, ".cache", "generated-client", hex.EncodeToString(sum[:6]))
	modules := filepath.Join(dir, "node_modules")
	if _, err := os.Stat(filepath.Join(modules, ".package-lock.json")); err == nil {
		return modules
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		t.Fatal(err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "install-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	for _, f := range []string{"package.json", "package-lock.json"} {
		if err := os.WriteFile(filepath.Join(tmp, f), []byte(readFile(t, filepath.Join(src, f))), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	npm := exec.Command("npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts")
	npm.Dir = tmp
	if out, err := npm.CombinedOutput(); err != nil {
		t.Fatalf("npm ci (the generator for the generated-client test): %v\n%s", err, out)
	}
	if err := os.Rename(tmp, dir); err != nil && !os.IsExist(err) {
		if _, statErr := os.Stat(modules); statErr != nil { // not installed by a concurrent run either
			t.Fatal(err)
		}
	}
	return modules
}

func node(t *testing.T, dir string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command("node", args...)
	cmd.Dir, cmd.Env = dir, append(os.Environ(), env...)
	out, err := cmd.Output()
	if err != nil {
		stderr := ""
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("node %s: %v\n%s\n%s", strings.Join(args, " "), err, out, stderr)
	}
	return strings.TrimSpace(string(out))
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
