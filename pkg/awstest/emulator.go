// Package awstest gives tests a real AWS-protocol endpoint: the one in
// AWS_ENDPOINT_URL, or a moto_server it starts on a free loopback port, with
// the project's tables and queues created from template.yaml.
package awstest

import (
	"context"
	"fmt"
	"net"
	"net/http"
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

	"github.com/digital-citizenship/functions/pkg/sam"
)

// Region is the region tests and the local stack use (the deploy default).
const Region = "eu-south-1"

// Emulator is a running moto_server (or an external endpoint).
type Emulator struct {
	Endpoint string
	cmd      *exec.Cmd
	exited   chan struct{}
}

// StartMoto starts moto_server on 127.0.0.1:port (0 picks a free port) and
// waits until it answers. A missing moto_server is an error, never a skip.
// With port 0 a lost race for the port (tests of several packages run at
// once) is retried on another port.
func StartMoto(port int) (*Emulator, error) {
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		return nil, fmt.Errorf("moto_server is not installed (it is part of this project's machines): %w", err)
	}
	var lastErr error
	for range 5 {
		p := port
		if p == 0 {
			if p, err = FreePort(); err != nil {
				return nil, err
			}
		}
		e, err := startMoto(bin, p)
		if err == nil || port != 0 {
			return e, err
		}
		lastErr = err
	}
	return nil, lastErr
}

func startMoto(bin string, port int) (*Emulator, error) {
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", fmt.Sprint(port))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start moto_server: %w", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	e := &Emulator{Endpoint: fmt.Sprintf("http://127.0.0.1:%d", port), cmd: cmd, exited: exited}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited: // e.g. the port was taken meanwhile
			return nil, fmt.Errorf("moto_server exited at start on port %d", port)
		default:
		}
		// Only moto answers this path with 200; another server that holds
		// the port does not count.
		if res, err := http.Get(e.Endpoint + "/moto-api/data.json"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return e, nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	e.Stop()
	return nil, fmt.Errorf("moto_server did not answer on %s within 30s", e.Endpoint)
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

var (
	shared     *Emulator
	sharedErr  error
	sharedOnce sync.Once
)

// Endpoint returns AWS_ENDPOINT_URL or the endpoint of a moto_server shared
// by the tests of this package; Main stops it.
func Endpoint(t testing.TB) string {
	t.Helper()
	if e := os.Getenv("AWS_ENDPOINT_URL"); e != "" {
		return e
	}
	sharedOnce.Do(func() { shared, sharedErr = StartMoto(0) })
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	return shared.Endpoint
}

// Main runs a package's tests and stops the shared emulator afterwards.
func Main(m interface{ Run() int }) {
	code := m.Run()
	if shared != nil {
		shared.Stop()
	}
	os.Exit(code)
}

// Stack provisions the template's tables and queues under a fresh stack name
// and returns the SDK configuration and the stack.
func Stack(t testing.TB) (aws.Config, *sam.Stack) {
	t.Helper()
	cfg := Config(Endpoint(t))
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
