// Package localstack runs the whole platform on this machine without
// Docker, as AWS would run template.yaml: DynamoDB Local and moto_server as
// the AWS endpoints (started here unless given), the template's tables and
// queues, every function's bootstrap binary as Lambda execution
// environments speaking the Runtime API (up to a concurrency cap each,
// started on demand and reused while warm), the REST API with its cached
// REQUEST authorizer, and SQS event source mappings.
package localstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	apigw "github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"golang.org/x/time/rate"

	"github.com/digital-citizenship/functions/pkg/apigateway/controlplane"
	"github.com/digital-citizenship/functions/pkg/awstest"
	"github.com/digital-citizenship/functions/pkg/sam"
)

const region = awstest.Region

// DefaultConcurrency is how many execution environments a function may
// have at once when the template reserves none.
const DefaultConcurrency = 4

// Options configure a local stack.
type Options struct {
	Template string // path of template.yaml
	Bin      string // folder with one binary per function (named after functions/<dir>)
	Addr     string // address of the API ("127.0.0.1:0" picks a port)
	Name     string // prefix of table and queue names
	// Endpoints of running emulators; an empty one is started here on
	// MotoPort or DynamoDBPort (0 picks a free port).
	Endpoints    awstest.Endpoints
	MotoPort     int
	DynamoDBPort int
	// Concurrency caps each function's environments (ReservedConcurrentExecutions
	// caps it further where the template sets it).
	Concurrency int
	// AdminKey, when set, provisions AdminEmail as an administrator (every
	// group) whose subscription key is AdminKey.
	AdminKey   string
	AdminEmail string
	// Params override template parameters.
	Params map[string]string
	// WebhookAddr is where the local app backend's notify endpoint listens
	// when the WebhookUrl parameter is not given ("127.0.0.1:0" picks a
	// port).
	WebhookAddr string
	// CallbacksAddr is where the local receiver of delivery callbacks
	// listens ("127.0.0.1:0" picks a port; empty: 127.0.0.1:0).
	CallbacksAddr string
	// RemoteContentAddr is where the local sender's system of remote
	// content listens (empty: 127.0.0.1:0).
	RemoteContentAddr string
	// CountRequests makes every function report its AWS requests
	// (AWS_REQUEST_LOG=1), which Stats then gives by operation.
	CountRequests bool
	// AuditIAM records every AWS call of every function (CountRequests too)
	// for AuditIAM to check against the functions' policies.
	AuditIAM bool
	Logs     io.Writer
}

// Stack is a running local stack.
type Stack struct {
	// URL is the API's base URL.
	URL       string
	Endpoints awstest.Endpoints
	Config    aws.Config
	Resources *sam.Stack
	Template  *sam.Template
	// Webhook is the local app backend's notify endpoint (nil when the
	// WebhookUrl parameter names another).
	Webhook *WebhookReceiver
	// Callbacks is a receiver for services' delivery callbacks: a service
	// sets its URL with PUT /api/v1/callback.
	Callbacks *WebhookReceiver
	// RemoteContent stands for a sender's system that keeps its messages'
	// content: a remote-content configuration points its base_url at it.
	RemoteContent *RemoteContentReceiver
	// transformed is the template after the SAM transform (AuditIAM).
	transformed *sam.Transformed

	runtimes map[string]*runtime
	// tally sums the functions' metrics for the summary line.
	tally *tally
	// scheduleMu runs scheduled invocations one at a time.
	scheduleMu sync.Mutex
	mappings   map[string]*mappingStats // by function
	api        *api
	srv        *http.Server
	stopPoll   context.CancelFunc
	polling    chan struct{}
	cleanup    []func()
	Ready      time.Duration
}

// Start brings the stack up and returns once the API serves.
func Start(ctx context.Context, o Options) (s *Stack, err error) {
	start := time.Now()
	logs := log.New(o.Logs, "", log.Ltime)
	s = &Stack{Endpoints: o.Endpoints, runtimes: map[string]*runtime{}, mappings: map[string]*mappingStats{}, tally: newTally()}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	if err := s.Endpoints.Check(); err != nil {
		return s, err
	}
	if err := s.startEmulators(o, logs); err != nil {
		return s, err
	}
	s.Config = s.Endpoints.Config()
	if s.Template, err = sam.Load(o.Template); err != nil {
		return s, err
	}
	if o.AuditIAM {
		if s.transformed, err = sam.Transform(o.Template, nil); err != nil {
			return s, err
		}
		o.CountRequests = true
	}
	params, err := s.localParams(ctx, o, logs)
	if err != nil {
		return s, err
	}
	if s.Resources, err = sam.Provision(ctx, s.Config, s.Template, o.Name, params); err != nil {
		return s, fmt.Errorf("create the template's resources: %w", err)
	}
	if err := verifySender(ctx, s.Config, s.Resources.Params["MailFrom"]); err != nil {
		return s, err
	}
	plan, err := createUsagePlan(ctx, s.Config, s.Template, s.Resources)
	if err != nil {
		return s, err
	}
	if o.AdminKey != "" {
		if err := provisionAdmin(ctx, s.Config, s.Resources, plan, o.AdminKey, o.AdminEmail, logs); err != nil {
			return s, err
		}
	}
	// The API listens first: functions call its management endpoint.
	l, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return s, err
	}
	s.URL = "http://" + l.Addr().String()
	fns := s.Template.Functions()
	for _, f := range fns {
		bin := filepath.Join(o.Bin, f.Dir)
		if _, err := os.Stat(bin); err != nil {
			_ = l.Close()
			return s, fmt.Errorf("function %s: %w (build with `make run`)", f.LogicalID, err)
		}
		env := s.FunctionEnv(f)
		if o.CountRequests {
			env["AWS_REQUEST_LOG"] = "1"
		}
		limit := max(o.Concurrency, 1)
		if f.Reserved > 0 {
			limit = min(limit, f.Reserved)
		}
		rt := newRuntime(f.LogicalID, bin, env, f.MemorySize, time.Duration(f.Timeout)*time.Second, limit, logs)
		rt.tally = s.tally
		s.cleanup = append(s.cleanup, rt.stop)
		s.runtimes[f.LogicalID] = rt
	}
	if s.api, err = newAPI(s.Template, s.Resources, fns, s.runtimes, logs); err != nil {
		_ = l.Close()
		return s, err
	}
	moto, _ := url.Parse(s.Endpoints.AWS)
	s.api.control = httputil.NewSingleHostReverseProxy(moto)
	s.api.local = s.controls()
	s.startMappings(fns, logs)
	mctx, stopMetrics := context.WithCancel(context.Background())
	s.cleanup = append(s.cleanup, stopMetrics)
	go s.tally.report(mctx, 5*time.Second, logs)
	s.srv = &http.Server{Handler: s.api, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(l) }()
	s.Ready = time.Since(start)
	return s, nil
}

// FunctionEnv is the environment a function runs with: the template's
// variables resolved (PUBLIC_API_URL is this API), the emulators' endpoints, this API for API Gateway's
// management calls, the region and local credentials.
func (s *Stack) FunctionEnv(f sam.Function) map[string]string {
	env := s.Resources.Env(f)
	if _, ok := env["PUBLIC_API_URL"]; ok {
		env["PUBLIC_API_URL"] = s.URL // the API is served here
	}
	for k, v := range s.Endpoints.Env() {
		env[k] = v
	}
	for k, v := range map[string]string{"AWS_ENDPOINT_URL_API_GATEWAY": s.URL, "AWS_REGION": region, "AWS_DEFAULT_REGION": region,
		"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"} {
		env[k] = v
	}
	return env
}

func (s *Stack) startEmulators(o Options, logs *log.Logger) error {
	type started struct {
		emu *awstest.Emulator
		err error
	}
	// The two emulators start side by side: the JVM takes the longer.
	ddb := make(chan started, 1)
	if s.Endpoints.DynamoDB == "" {
		go func() {
			e, err := awstest.StartDynamoDBLocal(awstest.CacheDir(filepath.Dir(o.Template)), o.DynamoDBPort)
			ddb <- started{e, err}
		}()
	} else {
		ddb <- started{}
	}
	var motoErr error
	if s.Endpoints.AWS == "" {
		emu, err := awstest.StartMoto(o.MotoPort)
		if err == nil {
			s.cleanup = append(s.cleanup, emu.Stop)
			s.Endpoints.AWS = emu.Endpoint
			logs.Printf("started moto_server (SQS, SES, SNS, API Gateway) on %s", emu.Endpoint)
		}
		motoErr = err
	}
	d := <-ddb
	if d.emu != nil {
		s.cleanup = append(s.cleanup, d.emu.Stop)
		s.Endpoints.DynamoDB = d.emu.Endpoint
		logs.Printf("started DynamoDB Local %s on %s", awstest.DynamoDBLocalVersion, d.emu.Endpoint)
	}
	return errors.Join(motoErr, d.err)
}

func (s *Stack) startMappings(fns []sam.Function, logs *log.Logger) {
	q := sqs.NewFromConfig(s.Config)
	ctx, cancel := context.WithCancel(context.Background())
	s.stopPoll = cancel
	s.polling = make(chan struct{})
	n := 0
	done := make(chan struct{})
	for _, f := range fns {
		rt := s.runtimes[f.LogicalID]
		for _, ev := range f.Queues {
			stats := s.mappings[f.LogicalID] // one function's mappings count together
			if stats == nil {
				stats = &mappingStats{}
				s.mappings[f.LogicalID] = stats
			}
			conc := cap(rt.slots)
			if ev.MaxConcurrency > 0 {
				conc = min(conc, ev.MaxConcurrency)
			}
			if strings.HasSuffix(ev.Queue, "BulkQueue") && len(f.Queues) > 1 && conc > 1 {
				// The bulk lane leaves an environment to the function's other
				// lanes, as its MaximumConcurrency leaves them room in AWS.
				conc = cap(rt.slots) - 1
			}
			m := mapping{fn: rt, sqs: q, queueURL: s.Resources.Refs[ev.Queue], queueARN: s.Resources.Attrs[ev.Queue+".Arn"],
				batchSize: ev.BatchSize, window: time.Duration(ev.BatchingWindow) * time.Second, concurrency: conc, logs: logs, stats: stats}
			n++
			go func() { m.run(ctx); done <- struct{}{} }()
		}
		for _, every := range f.Schedules {
			n++
			go func() { s.schedule(ctx, f.LogicalID, every, logs); done <- struct{}{} }()
		}
	}
	go func() {
		for range n {
			<-done
		}
		close(s.polling)
	}()
}

// Close stops the API, the mappings, every function and the emulators it
// started.
func (s *Stack) Close() {
	if s.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = s.srv.Shutdown(ctx)
		cancel()
	}
	if s.stopPoll != nil {
		s.stopPoll()
		<-s.polling
	}
	for i := len(s.cleanup) - 1; i >= 0; i-- {
		s.cleanup[i]()
	}
	s.cleanup = nil
}

// FunctionStats is what one function did since the stack started.
type FunctionStats struct {
	ColdStarts, Invocations, Errors, Timeouts int
	// Busy is the total time in invocations; Requests the AWS requests by
	// "Service.Operation" (with Options.CountRequests).
	Busy     time.Duration
	Requests map[string]int
	// MeanInit is the mean time from process start to its first request
	// for work; PeakRSSKiB the largest resident set of its environments.
	MeanInit   time.Duration
	PeakRSSKiB int
	// The function's event source mapping's own SQS requests, if it has one.
	Receives, Deletes, Batches, Records int
}

// Stats returns every function's counters by logical id.
func (s *Stack) Stats() map[string]FunctionStats {
	out := map[string]FunctionStats{}
	for id, rt := range s.runtimes {
		st := rt.snapshot()
		fs := FunctionStats{ColdStarts: st.ColdStarts, Invocations: st.Invocations, Errors: st.Errors, Timeouts: st.Timeouts,
			PeakRSSKiB: st.PeakRSSKiB, Busy: st.Busy, Requests: st.Requests}
		if st.ColdStarts > 0 {
			fs.MeanInit = st.InitTotal / time.Duration(st.ColdStarts)
		}
		if m := s.mappings[id]; m != nil {
			m.mu.Lock()
			fs.Receives, fs.Deletes, fs.Batches, fs.Records = m.Receives, m.Deletes, m.Batches, m.Records
			m.mu.Unlock()
		}
		out[id] = fs
	}
	return out
}

// RSS returns, by function, the resident set (KiB) of each of its live
// execution environments.
func (s *Stack) RSS() map[string][]int {
	out := map[string][]int{}
	for id, rt := range s.runtimes {
		if r := rt.rss(); len(r) > 0 {
			out[id] = r
		}
	}
	return out
}

// ResetStats zeroes every counter (peak memory stays), so that a phase of
// work can be measured apart.
func (s *Stack) ResetStats() {
	for _, rt := range s.runtimes {
		rt.reset()
	}
	for _, m := range s.mappings {
		m.mu.Lock()
		m.Receives, m.Deletes, m.Batches, m.Records = 0, 0, 0, 0
		m.mu.Unlock()
	}
	c := s.api.authCache
	c.mu.Lock()
	c.hits, c.misses = 0, 0
	c.mu.Unlock()
}

// AuthorizerCache returns the authorizer cache's hits and misses.
func (s *Stack) AuthorizerCache() (hits, misses int) {
	c := s.api.authCache
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hits, c.misses
}

func newAPI(tmpl *sam.Template, st *sam.Stack, fns []sam.Function, runtimes map[string]*runtime, logs *log.Logger) (*api, error) {
	props := tmpl.Resources["Api"].Properties
	auth, _ := props["Auth"].(map[string]any)
	authorizers, _ := auth["Authorizers"].(map[string]any)
	def, _ := authorizers[fmt.Sprint(auth["DefaultAuthorizer"])].(map[string]any)
	// FunctionArn is !Ref <Id>.Alias (the alias AutoPublishAlias makes) or
	// !GetAtt <Id>.Arn: the authorizer is function <Id>.
	var authFn string
	if fa, ok := def["FunctionArn"].(map[string]any); ok {
		if ga, ok := fa["Fn::GetAtt"].([]any); ok && len(ga) > 0 {
			authFn = fmt.Sprint(ga[0])
		}
		if ref, ok := fa["Ref"].(string); ok {
			authFn = strings.TrimSuffix(ref, ".Alias")
		}
	}
	ttl, _ := strconv.Atoi(st.Resolve(asMap(def["Identity"])["ReauthorizeEvery"]))
	a := &api{authorizer: runtimes[authFn], functions: runtimes, gateway: map[string]string{}, logs: logs,
		authCache: &authorizerCache{ttl: time.Duration(ttl) * time.Second, answers: map[string]cachedAnswer{}}}
	for _, id := range tmpl.OfType("AWS::ApiGateway::UsagePlan") {
		th := asMap(tmpl.Resources[id].Properties["Throttle"])
		r, _ := strconv.ParseFloat(st.Resolve(th["RateLimit"]), 64)
		b, _ := strconv.Atoi(st.Resolve(th["BurstLimit"]))
		if r > 0 && b > 0 {
			a.throttle = &throttle{rate: rate.Limit(r), burst: b, by: map[string]*rate.Limiter{}}
		}
	}
	if a.authorizer == nil {
		return nil, errors.New("template.yaml: the Api has no DefaultAuthorizer function")
	}
	a.cors = map[string]string{}
	cors, _ := props["Cors"].(map[string]any)
	for prop, header := range map[string]string{"AllowOrigin": "Access-Control-Allow-Origin", "AllowMethods": "Access-Control-Allow-Methods",
		"AllowHeaders": "Access-Control-Allow-Headers", "MaxAge": "Access-Control-Max-Age"} {
		if v, ok := cors[prop].(string); ok {
			a.cors[header] = strings.Trim(v, "'")
		}
	}
	loadGatewayResponses(a, tmpl)
	for _, f := range fns {
		for _, r := range f.Routes {
			a.routes = append(a.routes, route{Route: r, segments: strings.Split(strings.Trim(r.Path, "/"), "/"), fn: runtimes[f.LogicalID]})
		}
	}
	return a, nil
}

// createUsagePlan creates the Api's usage plan on the emulator, as SAM does
// on deploy, so that create-subscription registers keys in it. The local API
// itself does not throttle.
func createUsagePlan(ctx context.Context, cfg aws.Config, tmpl *sam.Template, stack *sam.Stack) (*controlplane.UsagePlan, error) {
	ids := tmpl.OfType("AWS::ApiGateway::UsagePlan")
	if len(ids) != 1 {
		return nil, errors.New("template.yaml: want exactly one AWS::ApiGateway::UsagePlan")
	}
	name := stack.Resolve(tmpl.Resources[ids[0]].Properties["UsagePlanName"])
	c := apigw.NewFromConfig(cfg)
	plans, err := c.GetUsagePlans(ctx, &apigw.GetUsagePlansInput{Limit: aws.Int32(500)})
	if err != nil {
		return nil, fmt.Errorf("list usage plans: %w", err)
	}
	exists := false // an emulator may outlive one run
	for _, p := range plans.Items {
		exists = exists || aws.ToString(p.Name) == name
	}
	if !exists {
		if _, err := c.CreateUsagePlan(ctx, &apigw.CreateUsagePlanInput{Name: &name}); err != nil {
			return nil, fmt.Errorf("create usage plan: %w", err)
		}
	}
	return &controlplane.UsagePlan{API: c, Name: name}, nil
}

// localParams completes the template's parameters with what the local
// stack provides itself: an SNS platform application per push platform
// (the emulator's), and the local app backend as the webhook.
func (s *Stack) localParams(ctx context.Context, o Options, logs *log.Logger) (map[string]string, error) {
	params := map[string]string{}
	for k, v := range o.Params {
		params[k] = v
	}
	given := func(name string) bool {
		_, declared := s.Template.Parameters[name]
		return !declared || params[name] != "" || s.Template.ParameterDefault(name) != ""
	}
	c := sns.NewFromConfig(s.Config)
	for param, platform := range map[string]string{"ApnsPlatformApplicationArn": "APNS", "FcmPlatformApplicationArn": "GCM"} {
		if given(param) {
			continue
		}
		name := o.Name + "-" + strings.ToLower(platform)
		out, err := c.CreatePlatformApplication(ctx, &sns.CreatePlatformApplicationInput{Name: &name, Platform: aws.String(platform),
			Attributes: map[string]string{"PlatformCredential": "local", "PlatformPrincipal": "local"}})
		if err != nil {
			return nil, fmt.Errorf("create the %s platform application: %w", platform, err)
		}
		params[param] = aws.ToString(out.PlatformApplicationArn)
	}
	if !given("WebhookUrl") {
		addr := o.WebhookAddr
		if addr == "" {
			addr = "127.0.0.1:0"
		}
		w, err := StartWebhookReceiver(addr)
		if err != nil {
			return nil, err
		}
		s.Webhook = w
		s.cleanup = append(s.cleanup, w.Close)
		params["WebhookUrl"] = w.URL()
		logs.Printf("the app backend's notify endpoint (webhook receiver) listens on %s", w.URL())
	}
	if params["CallbackAllowLocal"] == "" {
		params["CallbackAllowLocal"] = "true" // the receiver below is on loopback, over http
	}
	if params["SimulatedOutcomes"] == "" {
		params["SimulatedOutcomes"] = "ANY_KEY" // the documented sandbox citizens answer any key
	}
	if params["SesMaxSendRate"] == "" {
		params["SesMaxSendRate"] = "0" // moto's SES has no sending rate: the bulk lane is not paced
	}
	addr := o.CallbacksAddr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	cb, err := StartReceiver(addr, "/callbacks")
	if err != nil {
		return nil, err
	}
	s.Callbacks = cb
	s.cleanup = append(s.cleanup, cb.Close)
	logs.Printf("a receiver of delivery callbacks listens on %s (PUT /api/v1/callback {\"url\": ...})", cb.URL())
	addr = o.RemoteContentAddr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	rc, err := StartRemoteContentReceiver(addr)
	if err != nil {
		return nil, err
	}
	s.RemoteContent = rc
	s.cleanup = append(s.cleanup, rc.Close)
	logs.Printf("a sender's system of remote content listens on %s (PUT /_local/remote-content/{id} sets what it answers)", rc.URL())
	return params, nil
}

func verifySender(ctx context.Context, cfg aws.Config, from string) error {
	_, err := sesv2.NewFromConfig(cfg).CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: &from})
	if err != nil && !strings.Contains(err.Error(), "AlreadyExists") {
		return fmt.Errorf("verify sender %s in SES: %w", from, err)
	}
	return nil
}

// MeasureInit starts bin as a Lambda execution environment with env and
// returns how long its init took: from the process's start to its first
// request for work, as Lambda's Init Duration. The process is then stopped.
func MeasureInit(bin string, env map[string]string) (time.Duration, error) {
	rt := newRuntime("init", bin, env, 128, 10*time.Second, 1, log.New(io.Discard, "", 0))
	defer rt.stop()
	if _, err := rt.start(); err != nil {
		return 0, err
	}
	return rt.snapshot().InitTotal, nil
}

// loadGatewayResponses reads the Api's gateway responses (body by type).
func loadGatewayResponses(a *api, tmpl *sam.Template) {
	gw, _ := tmpl.Resources["Api"].Properties["GatewayResponses"].(map[string]any)
	a.gatewayHeaders = map[string]map[string]string{}
	for typ, v := range gw {
		tpl, _ := v.(map[string]any)["ResponseTemplates"].(map[string]any)
		a.gateway[typ] = fmt.Sprint(tpl["application/json"])
		params, _ := v.(map[string]any)["ResponseParameters"].(map[string]any)
		headers, _ := params["Headers"].(map[string]any)
		for name, value := range headers { // static values are quoted: 'application/problem+json'
			if a.gatewayHeaders[typ] == nil {
				a.gatewayHeaders[typ] = map[string]string{}
			}
			a.gatewayHeaders[typ][name] = strings.Trim(fmt.Sprint(value), "'")
		}
	}
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}
