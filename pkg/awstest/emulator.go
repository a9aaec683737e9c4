// Package awstest gives tests real AWS-protocol endpoints: the official
// DynamoDB Local for DynamoDB and moto_server for SQS, SES, SNS, S3 and API
// Gateway, started on free ports, with the project's tables and queues from
// template.yaml. Tests never use the AWS_* variables of the shell that runs
// them: a developer's endpoints, profile or credentials cannot make a test
// reach anything but the emulators it started.
package awstest

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/digital-citizenship/functions/pkg/config"
	"github.com/digital-citizenship/functions/pkg/sam"
)

// Region is the region tests and the local stack use (the deploy default).
const Region = "eu-south-1"

// Emulator is a running emulator process.
type Emulator struct {
	Endpoint string
	cmd      *exec.Cmd
	exited   chan struct{}
}

// StartMoto starts moto_server on 127.0.0.1:port (0 picks a free port) and
// waits until it answers. A missing moto_server is an error, never a skip.
//
// It runs moto's own server through moto.py, which makes three of its hot
// spots cheaper without changing an answer (SQS's clock and retention
// check, the request router's folder listing): moto's SQS spent 25 ms of
// CPU on a ReceiveMessage from a queue of 400 and now 2.7 (docs/performance.md).
// Where the interpreter on PATH cannot import moto, moto_server runs as
// installed.
func StartMoto(port int) (*Emulator, error) {
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		return nil, fmt.Errorf("moto_server is not installed (it is part of this project's machines): %w", err)
	}
	command := func(p int) *exec.Cmd { return exec.Command(bin, "-H", "127.0.0.1", "-p", fmt.Sprint(p)) }
	if py := motoPython(); py != "" {
		command = func(p int) *exec.Cmd {
			return exec.Command(py, "-c", motoServer, "-H", "127.0.0.1", "-p", fmt.Sprint(p))
		}
	}
	return startWithRetry(port, func(p int) (*Emulator, error) {
		return startProcess(command(p), p, "moto_server", motoReady)
	})
}

//go:embed moto.py
var motoServer string

// motoPython is the Python that has moto installed: the one moto_server's
// own script names, else python3; "" when neither imports moto.
var motoPython = sync.OnceValue(func() string {
	var candidates []string
	if bin, err := exec.LookPath("moto_server"); err == nil {
		if b, err := os.ReadFile(bin); err == nil {
			if line, _, _ := strings.Cut(string(b), "\n"); strings.HasPrefix(line, "#!") && !strings.Contains(line, " ") {
				candidates = append(candidates, strings.TrimPrefix(line, "#!"))
			}
		}
	}
	candidates = append(candidates, "python3")
	for _, py := range candidates {
		if exec.Command(py, "-c", "import moto.server, moto.sqs.models").Run() == nil {
			return py
		}
	}
	return ""
})

// motoReady is true when moto answers its own API with 200 (another server
// that holds the port does not count).
func motoReady(endpoint string) bool {
	res, err := http.Get(endpoint + "/moto-api/data.json")
	if err != nil {
		return false
	}
	res.Body.Close()
	return res.StatusCode == http.StatusOK
}

// startWithRetry starts an emulator on port; with port 0 a lost race for a
// free port (tests of several packages run at once) is retried on another.
func startWithRetry(port int, start func(port int) (*Emulator, error)) (*Emulator, error) {
	var lastErr error
	for range 5 {
		p := port
		if p == 0 {
			var err error
			if p, err = FreePort(); err != nil {
				return nil, err
			}
		}
		e, err := start(p)
		if err == nil || port != 0 {
			return e, err
		}
		lastErr = err
	}
	return nil, lastErr
}

// startProcess starts cmd in its own process group and waits until ready
// says the endpoint on port answers.
func startProcess(cmd *exec.Cmd, port int, name string, ready func(endpoint string) bool) (*Emulator, error) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Env = config.WithoutAWS(os.Environ()) // nothing of the developer's AWS settings reaches an emulator
	var stderr strings.Builder
	if cmd.Stderr == nil {
		cmd.Stderr = &limitedWriter{w: &stderr, n: 4096}
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	e := &Emulator{Endpoint: fmt.Sprintf("http://127.0.0.1:%d", port), cmd: cmd, exited: exited}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited: // e.g. the port was taken meanwhile
			return nil, fmt.Errorf("%s exited at start on port %d: %s", name, port, stderr.String())
		default:
		}
		if ready(e.Endpoint) {
			return e, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	e.Stop()
	return nil, fmt.Errorf("%s did not answer on %s within 60s", name, e.Endpoint)
}

type limitedWriter struct {
	w io.Writer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if l.n > 0 {
		k := min(len(p), l.n)
		l.n -= k
		_, _ = l.w.Write(p[:k])
	}
	return len(p), nil
}

// Stop stops an emulator this package started (the whole process group).
func (e *Emulator) Stop() {
	if e.cmd != nil && e.cmd.Process != nil {
		_ = syscall.Kill(-e.cmd.Process.Pid, syscall.SIGTERM)
		<-e.exited
	}
}

// FreePort returns a loopback port that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Config returns an SDK configuration for endpoint with static local
// credentials.
func Config(endpoint string) aws.Config {
	return aws.Config{
		Region:       Region,
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
		BaseEndpoint: aws.String(endpoint),
	}
}

// Endpoints are the local endpoints: moto_server for SQS, SES, SNS and API
// Gateway, DynamoDB Local for DynamoDB.
type Endpoints struct {
	AWS      string
	DynamoDB string
}

// Env is what a process needs to reach e through the SDK's own settings.
func (e Endpoints) Env() map[string]string {
	return map[string]string{"AWS_ENDPOINT_URL": e.AWS, "AWS_ENDPOINT_URL_DYNAMODB": e.DynamoDB}
}

// Config returns an SDK configuration that sends DynamoDB requests to
// e.DynamoDB and every other service's to e.AWS, resolved exactly as a
// function given e.Env() resolves them (config.PinEndpoints), whatever the
// process environment holds.
func (e Endpoints) Config() aws.Config {
	env := e.Env()
	return aws.Config{
		Region:         Region,
		Credentials:    credentials.NewStaticCredentialsProvider("local", "local", ""),
		ServiceOptions: []func(string, any){config.PinEndpoints(func(k string) string { return env[k] })},
	}
}

// Check refuses given endpoints that are not emulators' URLs: malformed, or
// an AWS service endpoint (amazonaws.com, api.aws), where the local tools
// would act on a real account. Empty ones (to be started) pass.
func (e Endpoints) Check() error {
	for name, v := range e.Env() {
		if v == "" {
			continue
		}
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("%s=%q is not an http(s) URL of an emulator", name, v)
		}
		h := strings.ToLower(u.Hostname())
		for _, domain := range []string{"amazonaws.com", "amazonaws.com.cn", "api.aws"} {
			if h == domain || strings.HasSuffix(h, "."+domain) {
				return fmt.Errorf("%s=%s is AWS itself: the local stack talks only to emulators (unset it, or point it at one)", name, v)
			}
		}
	}
	return nil
}

var (
	shared, sharedDynamoDB         *Emulator
	sharedErr, sharedDynamoDBErr   error
	sharedOnce, sharedDynamoDBOnce sync.Once
)

// Endpoint returns the endpoint of a moto_server shared by the tests of
// this package; Main stops it.
func Endpoint(t testing.TB) string {
	t.Helper()
	sharedOnce.Do(func() { shared, sharedErr = StartMoto(0) })
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	return shared.Endpoint
}

// DynamoDBEndpoint returns the endpoint of a DynamoDB Local shared by the
// tests of this package; Main stops it.
func DynamoDBEndpoint(t testing.TB) string {
	t.Helper()
	root := RepoRoot(t)
	sharedDynamoDBOnce.Do(func() { sharedDynamoDB, sharedDynamoDBErr = StartDynamoDBLocal(CacheDir(root), 0) })
	if sharedDynamoDBErr != nil {
		t.Fatal(sharedDynamoDBErr)
	}
	return sharedDynamoDB.Endpoint
}

// LocalEndpoints returns both endpoints, started as needed.
func LocalEndpoints(t testing.TB) Endpoints {
	t.Helper()
	return Endpoints{AWS: Endpoint(t), DynamoDB: DynamoDBEndpoint(t)}
}

// CacheDir is where fetched tools are kept: DYNAMODB_LOCAL_CACHE, or
// .cache/dynamodb-local in the repository (ignored by git).
func CacheDir(root string) string {
	if d := os.Getenv("DYNAMODB_LOCAL_CACHE"); d != "" {
		return d
	}
	return filepath.Join(root, ".cache", "dynamodb-local")
}

// Main runs a package's tests and stops the shared emulators afterwards.
func Main(m interface{ Run() int }) {
	code := m.Run()
	for _, e := range []*Emulator{shared, sharedDynamoDB} {
		if e != nil {
			e.Stop()
		}
	}
	if built != "" {
		_ = os.RemoveAll(built)
	}
	os.Exit(code)
}

// Stack provisions the template's tables and queues under a fresh stack name
// and returns the SDK configuration and the stack.
func Stack(t testing.TB) (aws.Config, *sam.Stack) {
	t.Helper()
	cfg := LocalEndpoints(t).Config()
	tmpl, err := sam.Load(filepath.Join(RepoRoot(t), "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	name := strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name()))
	name = fmt.Sprintf("t%d-%s", time.Now().UnixNano()%1e9, name)
	if len(name) > 40 {
		name = name[:40]
	}
	st, err := sam.Provision(context.Background(), cfg, tmpl, name, nil)
	if err != nil {
		t.Fatal(err)
	}
	return cfg, st
}

// ClearEnv unsets, for the test, every AWS_* variable of the shell that runs
// it, for tests of code that reads the process environment as a deployed
// program does (dcp's credential chain, cmd/local).
func ClearEnv(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "AWS_") {
			t.Setenv(k, "") // restored after the test
			_ = os.Unsetenv(k)
		}
	}
}

// RepoRoot returns the folder holding go.mod.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test's folder")
		}
		dir = parent
	}
}

// BuildFunctions builds every function of the tree for this machine, with
// the deployed build's tags, into a temporary folder (one binary per
// function, named after its folder) and returns the folder. The build is
// done once per test binary (linking 42 binaries takes seconds); Main
// removes it.
func BuildFunctions(t testing.TB) string {
	t.Helper()
	builtOnce.Do(func() {
		if built, builtErr = os.MkdirTemp("", "functions-"); builtErr != nil {
			return
		}
		build := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-o", built+"/", "./functions/...")
		build.Dir, build.Env = RepoRoot(t), append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			builtErr = fmt.Errorf("build functions: %v\n%s", err, out)
		}
	})
	if builtErr != nil {
		t.Fatal(builtErr)
	}
	return built
}

var (
	built     string
	builtErr  error
	builtOnce sync.Once
)

// MotoData decodes what moto at endpoint recorded (/moto-api/data.json:
// e-mails sent, pushes published...) into v.
func MotoData(t testing.TB, endpoint string, v any) {
	t.Helper()
	res, err := http.Get(endpoint + "/moto-api/data.json")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if err := json.NewDecoder(res.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}
