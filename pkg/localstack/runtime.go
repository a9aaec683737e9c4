package localstack

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/digital-citizenship/functions/pkg/iam"
	"github.com/digital-citizenship/functions/pkg/ids"

	"github.com/digital-citizenship/functions/pkg/metrics"
)

// runtime is one function as Lambda runs it: up to max execution
// environments, each a process running the function's bootstrap binary
// against a Lambda Runtime API server of its own. An environment serves one
// invocation at a time; environments start on demand (a cold start) and are
// reused while warm, and one that times out or crashes is replaced.
type runtime struct {
	name    string
	bin     string
	env     []string
	memory  int
	timeout time.Duration
	logs    *log.Logger
	// tally, when set, gets the function's EMF metric lines.
	tally *tally

	slots chan struct{}     // one per environment allowed (the concurrency cap)
	idle  chan *environment // warm environments waiting for work

	mu     sync.Mutex
	all    map[*environment]bool
	stats  runtimeStats
	closed bool
	// calls are the distinct AWS calls made with the function's role (its
	// own and its event source mapping's), counted, for the IAM check.
	calls map[string]*countedCall
}

type countedCall struct {
	Call iam.Call
	N    int
}

// record counts one AWS call made with the function's role.
func (r *runtime) record(c iam.Call) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.calls == nil {
		r.calls = map[string]*countedCall{}
	}
	k := c.Key()
	if r.calls[k] == nil {
		r.calls[k] = &countedCall{Call: c}
	}
	r.calls[k].N++
}

// recorded returns the function's distinct calls.
func (r *runtime) recorded() []countedCall {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]countedCall, 0, len(r.calls))
	for _, c := range r.calls {
		out = append(out, *c)
	}
	return out
}

// runtimeStats is what the bench reads: cold starts and their init times,
// and the peak memory any environment reached.
type runtimeStats struct {
	ColdStarts  int
	Invocations int
	Errors      int
	Timeouts    int
	InitTotal   time.Duration
	// Busy is the time spent in invocations (what Lambda bills).
	Busy       time.Duration
	PeakRSSKiB int
	// Requests counts the function's AWS requests by "Service.Operation",
	// from the lines config.LogRequests writes (AWS_REQUEST_LOG=1).
	Requests map[string]int
}

// environment is one execution environment: a process and its Runtime API.
type environment struct {
	rt      *runtime
	cmd     *exec.Cmd
	exited  chan struct{}
	srv     *http.Server
	addr    string
	started time.Time
	ready   chan struct{} // closed at the first /next: init is over
	next    chan *invocation

	mu      sync.Mutex
	current *invocation
	initErr string
	// killed is set by kill before its signal: the environment is dying.
	killed atomic.Bool
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

// Error types the local stack gives to failures outside the function's code.
const (
	errTimeout = "Sandbox.Timedout"
	errExit    = "Runtime.ExitError"
)

func newRuntime(name, bin string, env map[string]string, memory int, timeout time.Duration, max int, logs *log.Logger) *runtime {
	r := &runtime{name: name, bin: bin, memory: memory, timeout: timeout, logs: logs,
		slots: make(chan struct{}, max), idle: make(chan *environment, max), all: map[*environment]bool{},
		stats: runtimeStats{Requests: map[string]int{}}}
	for k, v := range env {
		r.env = append(r.env, k+"="+v)
	}
	r.env = append(r.env, "AWS_LAMBDA_FUNCTION_NAME="+name, "AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE="+strconv.Itoa(memory), "_HANDLER=bootstrap",
		"TZ=UTC", "PATH="+os.Getenv("PATH"), "HOME="+os.Getenv("HOME"))
	return r
}

// invoke runs one invocation and returns the function's response payload,
// or a *functionError (the function's own, a crash, or a timeout). It waits
// for a free environment while all max are busy, as long as ctx allows.
func (r *runtime) invoke(ctx context.Context, payload []byte) ([]byte, error) {
	select {
	case r.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-r.slots }()
	env, err := r.acquire()
	if err != nil {
		return nil, err
	}
	began := time.Now()
	out, err, reusable := env.invoke(ctx, payload)
	r.mu.Lock()
	r.stats.Busy += time.Since(began)
	r.stats.Invocations++
	var fe *functionError
	if errors.As(err, &fe) {
		r.stats.Errors++
		if fe.Type == errTimeout {
			r.stats.Timeouts++
		}
	}
	r.mu.Unlock()
	if reusable {
		r.idle <- env
	} else {
		env.stop()
	}
	return out, err
}

// acquire returns an idle environment, or a new one. An idle environment
// whose process died meanwhile (killed, as a host failure would) is
// replaced, as Lambda replaces it: no invocation goes to a dead one.
func (r *runtime) acquire() (*environment, error) {
	for {
		select {
		case env := <-r.idle:
			select {
			case <-env.exited:
				env.stop()
				continue
			default:
				if env.killed.Load() {
					env.stop()
					continue
				}
				return env, nil
			}
		default:
			return r.start()
		}
	}
}

// start launches a new environment and waits for its init to finish (its
// first request for work).
func (r *runtime) start() (*environment, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	e := &environment{rt: r, addr: l.Addr().String(), ready: make(chan struct{}), next: make(chan *invocation), exited: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", e.serveNext)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", e.serveResult(false))
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/error", e.serveResult(true))
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(io.LimitReader(req.Body, 64<<10))
		e.mu.Lock()
		e.initErr = string(b)
		e.mu.Unlock()
		r.logs.Printf("%s init error: %s", r.name, b)
		w.WriteHeader(http.StatusAccepted)
	})
	e.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = e.srv.Serve(l) }()

	cmd := exec.Command(r.bin)
	// A fresh slice: environments start concurrently, and appending to the
	// shared one could hand two processes the same Runtime API address.
	cmd.Env = append(slices.Clip(r.env), "AWS_LAMBDA_RUNTIME_API="+e.addr)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := cmd.StdoutPipe()
	if err != nil {
		_ = e.srv.Close()
		return nil, err
	}
	cmd.Stderr = cmd.Stdout
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		_ = e.srv.Close()
		return nil, errors.New("the local stack is stopping")
	}
	e.started = time.Now()
	if err := cmd.Start(); err != nil {
		r.mu.Unlock()
		_ = e.srv.Close()
		return nil, fmt.Errorf("start %s: %w", r.name, err)
	}
	e.cmd = cmd
	r.all[e] = true
	r.mu.Unlock()
	go r.pipe(out)
	go func() {
		_ = cmd.Wait()
		close(e.exited)
	}()
	select {
	case <-e.ready:
		r.mu.Lock()
		r.stats.ColdStarts++
		r.stats.InitTotal += time.Since(e.started)
		r.mu.Unlock()
		return e, nil
	case <-e.exited:
		e.stop()
		e.mu.Lock()
		defer e.mu.Unlock()
		return nil, &functionError{Message: "the runtime exited during init: " + e.initErr, Type: "Runtime.ExitError"}
	case <-time.After(r.timeout):
		e.stop()
		return nil, &functionError{Message: fmt.Sprintf("init did not finish within %s", r.timeout), Type: "Runtime.InitTimeout"}
	}
}

func (r *runtime) pipe(out io.Reader) {
	s := bufio.NewScanner(out)
	s.Buffer(make([]byte, 64<<10), 1<<20)
	for s.Scan() {
		line := s.Text()
		if r.tally != nil && strings.HasPrefix(line, "{") && strings.Contains(line, `"_aws"`) {
			if l, ok := metrics.Parse(line); ok {
				r.tally.add(l)
				continue
			}
		}
		if strings.HasPrefix(line, `{"aws_request":"`) {
			var c iam.Call
			if err := json.Unmarshal([]byte(line), &c); err == nil {
				if !c.Presigned { // not a request it sent
					r.mu.Lock()
					r.stats.Requests[c.Operation]++
					r.mu.Unlock()
				}
				r.record(c)
				continue
			}
		}
		r.logs.Printf("%s | %s", r.name, line)
	}
}

// stop ends every environment of the function.
func (r *runtime) stop() {
	r.mu.Lock()
	r.closed = true
	envs := make([]*environment, 0, len(r.all))
	for e := range r.all {
		envs = append(envs, e)
	}
	r.mu.Unlock()
	for _, e := range envs {
		e.stop()
	}
}

// snapshot returns the function's counters, with the peak memory of its
// live environments read now.
func (r *runtime) snapshot() runtimeStats {
	r.mu.Lock()
	envs := make([]*environment, 0, len(r.all))
	for e := range r.all {
		envs = append(envs, e)
	}
	r.mu.Unlock()
	for _, e := range envs {
		e.sampleRSS()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.stats
	st.Requests = maps.Clone(r.stats.Requests)
	return st
}

// reset zeroes the counters (the bench measures phases apart).
func (r *runtime) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stats = runtimeStats{Requests: map[string]int{}, PeakRSSKiB: r.stats.PeakRSSKiB}
}

// invoke hands one invocation to the environment's process and waits for
// its answer. reusable is false when the environment must be replaced
// (timed out or exited).
func (e *environment) invoke(ctx context.Context, payload []byte) ([]byte, error, bool) {
	inv := &invocation{id: ids.ULID(time.Now()), payload: payload, deadline: time.Now().Add(e.rt.timeout), done: make(chan result, 1)}
	timer := time.NewTimer(e.rt.timeout)
	defer timer.Stop()
	select {
	case e.next <- inv:
	case <-e.exited:
		return nil, &functionError{Message: "the runtime exited", Type: errExit}, false
	case <-timer.C:
		return nil, &functionError{Message: "the runtime did not ask for the invocation in time", Type: errTimeout}, false
	}
	select {
	case res := <-inv.done:
		e.sampleRSS()
		return res.payload, res.err, true
	case <-e.exited:
		return nil, &functionError{Message: "the runtime exited", Type: errExit}, false
	case <-timer.C:
		e.rt.logs.Printf("%s timed out after %s; replacing its environment", e.rt.name, e.rt.timeout)
		return nil, &functionError{Message: fmt.Sprintf("Task timed out after %s", e.rt.timeout), Type: errTimeout}, false
	case <-ctx.Done():
		// The caller went away mid-invocation: the environment is replaced
		// rather than reused while it may still be working.
		return nil, ctx.Err(), false
	}
}

// sampleRSS records the process's peak resident set (VmHWM, Linux).
// rss returns the resident set (KiB) of each live environment's process.
func (r *runtime) rss() []int {
	r.mu.Lock()
	envs := make([]*environment, 0, len(r.all))
	for e := range r.all {
		envs = append(envs, e)
	}
	r.mu.Unlock()
	var out []int
	for _, e := range envs {
		if e.cmd == nil || e.cmd.Process == nil {
			continue
		}
		if kib, ok := procStatus(e.cmd.Process.Pid, "VmRSS:"); ok {
			out = append(out, kib)
		}
	}
	return out
}

// procStatus reads one kB field of a process's /proc status.
func procStatus(pid int, field string) (int, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field); ok {
			kib, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return kib, err == nil
		}
	}
	return 0, false
}

func (e *environment) sampleRSS() {
	if e.cmd == nil || e.cmd.Process == nil {
		return
	}
	if kib, ok := procStatus(e.cmd.Process.Pid, "VmHWM:"); ok {
		e.rt.mu.Lock()
		e.rt.stats.PeakRSSKiB = max(e.rt.stats.PeakRSSKiB, kib)
		e.rt.mu.Unlock()
	}
}

func (e *environment) stop() {
	if e.cmd != nil && e.cmd.Process != nil {
		e.sampleRSS()
		_ = syscall.Kill(-e.cmd.Process.Pid, syscall.SIGKILL)
		<-e.exited
	}
	_ = e.srv.Close()
	e.rt.mu.Lock()
	delete(e.rt.all, e)
	e.rt.mu.Unlock()
}

func (e *environment) serveNext(w http.ResponseWriter, req *http.Request) {
	select {
	case <-e.ready:
	default:
		close(e.ready)
	}
	select {
	case inv := <-e.next:
		e.mu.Lock()
		e.current = inv
		e.mu.Unlock()
		h := w.Header()
		h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
		h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(inv.deadline.UnixMilli(), 10))
		h.Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:"+region+":123456789012:function:"+e.rt.name)
		h.Set("Lambda-Runtime-Trace-Id", "Root=1-"+strings.ToLower(inv.id[:8])+"-"+strings.ToLower(inv.id[8:])+";Sampled=0")
		h.Set("Content-Type", "application/json")
		_, _ = w.Write(inv.payload)
	case <-req.Context().Done():
	}
}

func (e *environment) serveResult(isError bool) http.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(req.Body, 6<<20)) // Lambda's response limit
		e.mu.Lock()
		inv := e.current
		if inv == nil || inv.id != req.PathValue("id") {
			e.mu.Unlock()
			http.Error(w, `{"errorMessage":"unknown request id"}`, http.StatusBadRequest)
			return
		}
		e.current = nil
		e.mu.Unlock()
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

func isTimeout(err error) bool {
	var fe *functionError
	return errors.As(err, &fe) && fe.Type == errTimeout
}

// kill sends SIGKILL to every environment's process now, as a host failure
// would: invocations in flight end with Runtime.ExitError and the
// environments are replaced on the next invocation. It returns how many
// processes it killed.
func (r *runtime) kill() int {
	r.mu.Lock()
	var killed []*environment
	for e := range r.all { // all marked first: none is handed out while the others die
		if e.cmd != nil && e.cmd.Process != nil {
			e.killed.Store(true)
			killed = append(killed, e)
		}
	}
	for _, e := range killed {
		_ = syscall.Kill(-e.cmd.Process.Pid, syscall.SIGKILL)
	}
	r.mu.Unlock()
	for _, e := range killed { // gone when the caller hears of it
		<-e.exited
	}
	return len(killed)
}
