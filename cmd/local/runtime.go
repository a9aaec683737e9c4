package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/digital-citizenship/functions/pkg/ids"
)

// runtime is one function's execution environment: a process running the
// function's bootstrap binary, talking to this Lambda Runtime API server.
// Invocations are served one at a time, as by one Lambda environment.
type runtime struct {
	name    string
	bin     string
	env     []string
	timeout time.Duration
	logs    *log.Logger

	next     chan *invocation
	mu       sync.Mutex
	cmd      *exec.Cmd
	exited   chan struct{}
	inflight map[string]*invocation
	addr     string
	srv      *http.Server
}

type invocation struct {
	id       string
	payload  []byte
	deadline time.Time
	done     chan result
}

type result struct {
	payload []byte
	err     error
}

// functionError is an error the function returned (or a crash or timeout).
type functionError struct {
	Message string `json:"errorMessage"`
	Type    string `json:"errorType"`
}

func (e *functionError) Error() string { return e.Type + ": " + e.Message }

func newRuntime(name, bin string, env map[string]string, timeout time.Duration, logs *log.Logger) (*runtime, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &runtime{name: name, bin: bin, timeout: timeout, logs: logs, next: make(chan *invocation),
		inflight: map[string]*invocation{}, addr: l.Addr().String()}
	for k, v := range env {
		r.env = append(r.env, k+"="+v)
	}
	r.env = append(r.env, "AWS_LAMBDA_RUNTIME_API="+r.addr, "AWS_LAMBDA_FUNCTION_NAME="+name,
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128", "_HANDLER=bootstrap",
		"TZ=UTC", "PATH="+os.Getenv("PATH"), "HOME="+os.Getenv("HOME"))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", r.serveNext)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", r.serveResult(false))
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/error", r.serveResult(true))
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.logs.Printf("%s init error: %s", r.name, b)
		w.WriteHeader(http.StatusAccepted)
	})
	r.srv = &http.Server{Handler: mux}
	go func() { _ = r.srv.Serve(l) }()
	return r, nil
}

// start launches the function process if it is not running.
func (r *runtime) start() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd != nil {
		return nil
	}
	cmd := exec.Command(r.bin)
	cmd.Env = r.env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", r.name, err)
	}
	r.cmd, r.exited = cmd, make(chan struct{})
	go r.pipe(out)
	go func(cmd *exec.Cmd, exited chan struct{}) {
		_ = cmd.Wait()
		close(exited)
		r.mu.Lock()
		if r.cmd == cmd {
			r.cmd = nil
		}
		for id, inv := range r.inflight {
			inv.done <- result{err: &functionError{Message: "the runtime exited", Type: "Runtime.ExitError"}}
			delete(r.inflight, id)
		}
		r.mu.Unlock()
	}(cmd, r.exited)
	return nil
}

func (r *runtime) pipe(out io.Reader) {
	s := bufio.NewScanner(out)
	s.Buffer(make([]byte, 64<<10), 1<<20)
	for s.Scan() {
		r.logs.Printf("%s | %s", r.name, s.Text())
	}
}

// stop ends the function process.
func (r *runtime) stop() {
	r.mu.Lock()
	cmd, exited := r.cmd, r.exited
	r.mu.Unlock()
	if cmd != nil && cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	}
}

// invoke runs one invocation and returns the function's response payload,
// or a *functionError.
func (r *runtime) invoke(ctx context.Context, payload []byte) ([]byte, error) {
	if err := r.start(); err != nil {
		return nil, err
	}
	inv := &invocation{id: ids.ULID(time.Now()), payload: payload, deadline: time.Now().Add(r.timeout), done: make(chan result, 1)}
	timer := time.NewTimer(r.timeout)
	defer timer.Stop()
	select {
	case r.next <- inv:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-timer.C:
		return nil, &functionError{Message: "no runtime asked for the invocation in time", Type: "Runtime.Unavailable"}
	}
	select {
	case res := <-inv.done:
		return res.payload, res.err
	case <-timer.C:
		r.logs.Printf("%s timed out after %s; restarting it", r.name, r.timeout)
		r.stop()
		return nil, &functionError{Message: fmt.Sprintf("Task timed out after %s", r.timeout), Type: "Sandbox.Timedout"}
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (r *runtime) serveNext(w http.ResponseWriter, req *http.Request) {
	select {
	case inv := <-r.next:
		r.mu.Lock()
		r.inflight[inv.id] = inv
		r.mu.Unlock()
		h := w.Header()
		h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
		h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(inv.deadline.UnixMilli(), 10))
		h.Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:"+region+":123456789012:function:"+r.name)
		h.Set("Lambda-Runtime-Trace-Id", "Root=1-"+strings.ToLower(inv.id[:8])+"-"+strings.ToLower(inv.id[8:])+";Sampled=0")
		h.Set("Content-Type", "application/json")
		_, _ = w.Write(inv.payload)
	case <-req.Context().Done():
	}
}

func (r *runtime) serveResult(isError bool) http.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request) {
		id := req.PathValue("id")
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		inv, ok := r.inflight[id]
		delete(r.inflight, id)
		r.mu.Unlock()
		if !ok {
			http.Error(w, `{"errorMessage":"unknown request id"}`, http.StatusBadRequest)
			return
		}
		res := result{payload: body}
		if isError {
			fe := &functionError{}
			if err := json.Unmarshal(body, fe); err != nil || fe.Message == "" {
				fe = &functionError{Message: string(body), Type: "Unhandled"}
			}
			res = result{err: fe}
		}
		inv.done <- res
		w.WriteHeader(http.StatusAccepted)
	}
}

func isFunctionError(err error, message string) bool {
	var fe *functionError
	return errors.As(err, &fe) && fe.Message == message
}
