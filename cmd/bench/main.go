// Command bench runs the local stack against its emulators and measures, in
// one run: the emulators' own ceiling for the request mix of one message;
// the AWS requests each function makes on the path of one delivered e-mail;
// submit latency and rate; pipeline throughput and accepted→SENT latency;
// cold-start init and bootstrap size next to a hello-world aws-lambda-go
// function; peak memory per function; and a cost model per million
// delivered e-mails. It prints a table and writes the numbers as JSON.
//
//	make bench
//
// The numbers are for comparing changes on one machine, not pass/fail
// timings: nothing here fails on a slow run.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	store "github.com/digital-citizenship/functions/pkg/dynamodb"
	"github.com/digital-citizenship/functions/pkg/localstack"
	"github.com/digital-citizenship/functions/pkg/messages"
	"github.com/digital-citizenship/functions/pkg/sam"
	"github.com/digital-citizenship/functions/pkg/services"
)

// Report is everything one run measured.
type Report struct {
	Date        string   `json:"date"`
	Machine     string   `json:"machine"`
	Concurrency int      `json:"function_concurrency"`
	Ceiling     Ceiling  `json:"ceiling"`
	OneEmail    PathCost `json:"one_email"`
	Submit      []Submit `json:"submit"`
	Pipeline    Pipeline `json:"pipeline"`
	HalfRate    Pipeline `json:"half_rate"`
	// Paced is the local pace's target run: 300 messages at 12 a second.
	Paced      Pipeline       `json:"paced_12"`
	Lanes      LanesBench     `json:"lanes"`
	Inits      []Init         `json:"init"`
	HelloBytes int64          `json:"hello_bootstrap_bytes"`
	Sizes      []Size         `json:"bootstrap_sizes"`
	PeakRSS    map[string]int `json:"peak_rss_kib"`
	Cost       Cost           `json:"cost_per_million_emails_usd"`
	Callbacks  CallbackBench  `json:"callbacks"`
	Acts       ActsBench      `json:"acts"`
	Capacity   Capacity       `json:"capacity"`
}

// PathCost is the AWS requests on the path of one delivered e-mail, by
// function and operation, with the authorizer's answer cached as in AWS.
type PathCost struct {
	ByFunction map[string]map[string]int `json:"by_function"`
	Functions  int                       `json:"function_requests"`
	// Mapping requests per e-mail at batch size 10: one receive and one
	// delete per batch on each of the two queues.
	MappingsAtBatch10 float64 `json:"mapping_requests_at_batch_10"`
	// CounterReads are submit-message's reads of the day's counters
	// (RateLimit-Remaining): at most one a second per environment, whatever
	// it submits, so not part of one message's cost.
	CounterReads int `json:"counter_reads"`
}

// Submit is one submit-latency measurement.
type Submit struct {
	Concurrency int     `json:"concurrency"`
	Latency     Latency `json:"latency"`
	PerSecond   float64 `json:"submissions_per_second"`
}

// Pipeline is messages from 201 to e-mail SENT.
type Pipeline struct {
	Messages       int     `json:"messages"`
	PerSecond      float64 `json:"messages_per_second"`
	OfCeiling      float64 `json:"ratio_of_ceiling"`
	OfferedRate    float64 `json:"offered_rate,omitempty"`
	AcceptedToSent Latency `json:"accepted_to_sent"`
	// Requests per delivered e-mail, measured over the run.
	FunctionRequests float64 `json:"function_requests_per_email"`
	MappingRequests  float64 `json:"mapping_requests_per_email"`
	AuthorizerCalls  float64 `json:"authorizer_invocations_per_email"`
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type options struct {
	template, bin, lambda, hello, helloARM, out string
	messages, concurrency, rounds               int
	static, quick, quickLanes                   bool
	soak                                        soakPlan
	soakOnly                                    bool
	campaign                                    int
	campaignHours, pushShare                    float64
	print                                       string
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	var o options
	fs.StringVar(&o.template, "template", "template.yaml", "SAM template")
	fs.StringVar(&o.bin, "bin", ".build/local", "function binaries for this machine (make .build/local)")
	fs.StringVar(&o.lambda, "lambda", ".build/lambda", "deployable linux/arm64 bootstraps (make build)")
	fs.StringVar(&o.hello, "hello", ".build/local/hello", "hello-world function for this machine")
	fs.StringVar(&o.helloARM, "hello-arm64", ".build/bench/hello-arm64/bootstrap", "hello-world bootstrap, linux/arm64")
	fs.StringVar(&o.out, "out", ".build/bench", "folder for the JSON report")
	fs.IntVar(&o.messages, "messages", 1000, "messages in the pipeline run (at least 1000 for the table of docs/performance.md)")
	fs.IntVar(&o.concurrency, "concurrency", localstack.DefaultConcurrency, "execution environments per function")
	fs.IntVar(&o.rounds, "rounds", 15, "cold starts per function (and as many of hello-world, alternating)")
	fs.IntVar(&o.campaign, "campaign", 1000000, "the capacity model's campaign: messages to as many citizens from one service")
	fs.Float64Var(&o.campaignHours, "campaign-hours", 1, "the capacity model plans the quota increases for the campaign in this many hours")
	fs.Float64Var(&o.pushShare, "push-share", 1, "the capacity model's share of citizens with the app (one push device each)")
	fs.StringVar(&o.print, "print", "", "print a saved JSON report again, its capacity model run with today's Quotas and the campaign flags; no run")
	fs.BoolVar(&o.quickLanes, "quick-lanes", false, "with -quick, the lanes too: the bulk lane alone, a flood and what others get meanwhile")
	fs.BoolVar(&o.static, "static", false, "only init, sizes and requests per function: no load")
	fs.BoolVar(&o.quick, "quick", false, "only the local pace: submissions at concurrency 16, then 300 messages at 12/s accepted→SENT; no report")
	fs.BoolVar(&o.soakOnly, "soak", false, "make soak instead: a long run at half the pipeline's ceiling, then a burst at three times")
	fs.DurationVar(&o.soak.steady, "soak-steady", 15*time.Minute, "the soak's steady phase")
	fs.DurationVar(&o.soak.burst, "soak-burst", 30*time.Second, "the soak's burst")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.print != "" {
		return reprint(o.print, o, out)
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	logFile, err := os.Create(filepath.Join(o.out, "stack.log"))
	if err != nil {
		return err
	}
	defer logFile.Close()
	rep := Report{Date: time.Now().UTC().Format(time.RFC3339), Concurrency: o.concurrency,
		Machine: fmt.Sprintf("%s/%s, %d cores", goruntime.GOOS, goruntime.GOARCH, goruntime.NumCPU())}

	step := func(name string) func() {
		fmt.Fprintf(out, "… %s\n", name)
		t0 := time.Now()
		return func() { fmt.Fprintf(out, "  done in %.1fs\n", time.Since(t0).Seconds()) }
	}
	done := step("starting the local stack (DynamoDB Local, moto_server, every function)")
	adminKey := randomKey()
	s, err := localstack.Start(ctx, localstack.Options{Template: o.template, Bin: o.bin, Addr: "127.0.0.1:0", Name: "bench",
		Concurrency: o.concurrency, AdminKey: adminKey, AdminEmail: "admin@bench.local", CountRequests: true, Logs: logFile,
		Params: unthrottled})
	if err != nil {
		return err
	}
	defer s.Close()
	done()
	c := client{api: s.URL, http: &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	citizens, key, err := provision(c, adminKey)
	if err != nil {
		return err
	}
	if err := settle(ctx, s, len(citizens)); err != nil {
		return err
	}
	c.key = key
	if o.soakOnly {
		return soak(ctx, s, c, citizens, o.soak, out, logFile.Name())
	}
	if o.quick {
		return quick(ctx, s, c, adminKey, citizens, o.quickLanes, out)
	}

	done = step("AWS requests on the path of one delivered e-mail")
	if rep.OneEmail, err = onePath(ctx, s, c, citizens, 0); err != nil {
		return err
	}
	done()
	done = step("notifying acts: a submission with third_party_data, openings, 200 reads of remote content")
	if rep.Acts, err = measureActs(ctx, s, c, adminKey, citizens, 200); err != nil {
		return err
	}
	done()

	if !o.static {
		if err := load(ctx, s, c, adminKey, citizens, o, &rep, step); err != nil {
			return err
		}
	}

	done = step(fmt.Sprintf("cold-start init: every function and hello-world, %d times each, alternating", o.rounds))
	bins, envs, dirs := map[string]string{}, map[string]map[string]string{}, []string{}
	for _, f := range s.Template.Functions() {
		bins[f.Dir] = filepath.Join(o.bin, f.Dir)
		envs[f.Dir] = s.FunctionEnv(f)
		dirs = append(dirs, f.Dir)
	}
	if rep.Inits, err = measureInits(bins, envs, o.hello, o.rounds); err != nil {
		return err
	}
	if rep.Sizes, rep.HelloBytes, err = measureSizes(o.lambda, dirs, o.helloARM); err != nil {
		return err
	}
	done()

	printReport(out, rep)
	b, _ := json.MarshalIndent(rep, "", "  ")
	path := filepath.Join(o.out, "bench-"+time.Now().UTC().Format("20060102T150405Z")+".json")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(out, "\nwritten to %s (stack log: %s)\n", path, logFile.Name())
	return nil
}

// load measures under load: the emulators' ceiling, submit latency, the
// pipeline closed loop and at half its rate, peak RSS and the cost model.
func load(ctx context.Context, s *localstack.Stack, c client, adminKey string, citizens []string, o options, r *Report, step func(string) func()) error {
	var err error
	done := step("emulator ceiling: the request mix of one message, straight to the emulators")
	if r.Ceiling, err = measureCeiling(ctx, s, o.messages, 8); err != nil {
		return err
	}
	done()

	done = step("submit latency at concurrency 1 and 16")
	for _, k := range []struct{ conc, n int }{{1, 200}, {16, 800}} {
		subs, span, err := c.submit(k.n, k.conc, 0, citizens)
		if err != nil {
			return err
		}
		lat := make([]time.Duration, len(subs))
		for i, sb := range subs {
			lat[i] = sb.latency
		}
		r.Submit = append(r.Submit, Submit{Concurrency: k.conc, Latency: distribution(lat), PerSecond: float64(k.n) / span.Seconds()})
		if _, _, err := waitSent(ctx, s, subs, 5*time.Minute); err != nil { // let the pipeline drain
			return err
		}
	}
	done()

	done = step(fmt.Sprintf("pipeline throughput: %d messages from 201 to e-mail SENT", o.messages))
	if r.Pipeline, _, err = pipeline(ctx, s, c, citizens, o.messages, 16, 0); err != nil {
		return err
	}
	r.Pipeline.OfCeiling = r.Pipeline.PerSecond / r.Ceiling.MessagesPerSecond
	rate := r.Pipeline.PerSecond / 2
	n := max(300, int(rate*20))
	done()
	done = step(fmt.Sprintf("accepted→SENT at half that throughput: %d messages at %.0f/s", n, rate))
	var halfStats map[string]localstack.FunctionStats
	if r.HalfRate, halfStats, err = pipeline(ctx, s, c, citizens, n, 64, rate); err != nil {
		return err
	}
	r.HalfRate.OfCeiling = r.HalfRate.PerSecond / r.Ceiling.MessagesPerSecond
	done()

	r.PeakRSS = map[string]int{}
	for id, st := range s.Stats() {
		if st.PeakRSSKiB > 0 {
			r.PeakRSS[id] = st.PeakRSSKiB
		}
	}
	r.Cost = cost(*r, s, halfStats)

	done = step(fmt.Sprintf("delivery callbacks: one e-mail's requests, then status → receiver for %d messages at %.0f/s", n, rate))
	if r.Callbacks, err = measureCallbacks(ctx, s, c, citizens, n, rate, r.OneEmail); err != nil {
		return err
	}
	done()
	done = step("the local pace: 300 messages at 12/s, 201 → SENT")
	if r.Paced, err = paced(ctx, s, c, citizens); err != nil {
		return err
	}
	r.Paced.OfCeiling = r.Paced.PerSecond / r.Ceiling.MessagesPerSecond
	done()
	done = step(fmt.Sprintf("lanes: the bulk lane alone (%d messages), then a flood of 1,200 from one service and another's messages, validation links, welcome messages", o.messages))
	if r.Lanes, err = measureLanes(ctx, s, c, adminKey, citizens, o.messages, r.Pipeline); err != nil {
		return err
	}
	r.Lanes.BulkAlone.OfCeiling = r.Lanes.BulkAlone.PerSecond / r.Ceiling.MessagesPerSecond
	done()
	r.Capacity = capacityOf(*r, s, halfStats, o)
	return nil
}

// paced is the local pace's target run: 300 messages at 12 a second,
// 201 → SENT (make bench and -quick run the same).
func paced(ctx context.Context, s *localstack.Stack, c client, citizens []string) (Pipeline, error) {
	p, _, err := pipeline(ctx, s, c, citizens, 300, 64, 12)
	return p, err
}

// quick measures only the local pace, for a change's before and after:
// saturated submissions and the paced pipeline of the targets.
func quick(ctx context.Context, s *localstack.Stack, c client, admin string, citizens []string, lanes bool, out io.Writer) error {
	subs, span, err := c.submit(800, 16, 0, citizens)
	if err != nil {
		return err
	}
	lat := make([]time.Duration, len(subs))
	for i, sb := range subs {
		lat[i] = sb.latency
	}
	d := distribution(lat)
	fmt.Fprintf(out, "submit c16: %.1f/s p50 %.0f p95 %.0f ms\n", 800/span.Seconds(), d.P50, d.P95)
	if _, _, err := waitSent(ctx, s, subs, 5*time.Minute); err != nil {
		return err
	}
	p, err := paced(ctx, s, c, citizens)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "paced 300 at 12/s: accepted→SENT p50 %.0f p95 %.0f max %.0f ms; mapping requests per message %.2f\n",
		p.AcceptedToSent.P50, p.AcceptedToSent.P95, p.AcceptedToSent.Max, p.MappingRequests)
	if !lanes {
		return nil
	}
	normal, _, err := pipeline(ctx, s, c, citizens, 500, 16, 0)
	if err != nil {
		return err
	}
	l, err := measureLanes(ctx, s, c, admin, citizens, 500, normal)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "closed loop 500: normal %.1f/s, bulk %.1f/s (%.2f)\nflood %d at %.1f/s, %d bulk; other service %v ms; validation %v ms; welcome %v ms\n",
		normal.PerSecond, l.BulkAlone.PerSecond, l.BulkOfNormal, l.Flood, l.FloodRate, l.FloodBulk, l.Other, l.Validation, l.Welcome)
	return nil
}

// capacityOf feeds the capacity model with the run's measurements: each
// function's time per message and per record from the half-rate run (the
// pipeline in steady operation), DynamoDB's units by phase, table and index
// from the ceiling run.
func capacityOf(r Report, s *localstack.Stack, stats map[string]localstack.FunctionStats, o options) Capacity {
	in := CapacityInputs{Messages: o.campaign, DailyLimit: services.DefaultDailyMessageLimit, LambdaSeconds: map[string]float64{},
		PerRecord: map[string]float64{}, Units: awsUnits(r.Ceiling), Shards: store.IndexShards(), QuotaShards: messages.MaxQuotaShards,
		Latency: time.Duration(r.HalfRate.AcceptedToSent.P95 * float64(time.Millisecond)), PushShare: o.pushShare, TargetHours: o.campaignHours}
	in.UsagePlanRPS, _ = strconv.ParseFloat(s.Template.ParameterDefault("ThrottleRateLimit"), 64)
	in.Reserved, _ = strconv.ParseFloat(s.Template.ParameterDefault("SesReservedShare"), 64)
	in.BulkEmailConcurrency, _ = strconv.ParseFloat(s.Template.ParameterDefault("BulkEmailConcurrency"), 64)
	n := float64(r.HalfRate.Messages)
	for id, st := range stats {
		if st.Invocations == 0 {
			continue
		}
		in.LambdaSeconds[id] = st.Busy.Seconds() / n
		if st.Records > 0 {
			in.PerRecord[id] = st.Busy.Seconds() / float64(st.Records)
		}
	}
	return capacityFor(r, in)
}

// capacityFor runs the model on in and prices the campaign: the measured
// cost of a delivered e-mail, and a push to the share of citizens with
// the app.
func capacityFor(r Report, in CapacityInputs) Capacity {
	c := CapacityModel(in)
	m := float64(in.Messages) / 1e6
	c.Cost = r.Cost.Total*m + in.PushShare*m*Prices.SNSMobilePushPerMillion
	return c
}

// reprint prints a saved report again, its capacity model run anew with
// today's Quotas and the campaign flags: change a quota, see the campaign.
func reprint(path string, o options, out io.Writer) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if in := r.Capacity.Inputs; in.Messages > 0 {
		in.Messages, in.TargetHours, in.PushShare = o.campaign, o.campaignHours, o.pushShare
		if t, err := sam.Load(o.template); err == nil && in.BulkEmailConcurrency == 0 { // a report from before the lanes: today's template's
			in.Reserved, _ = strconv.ParseFloat(t.ParameterDefault("SesReservedShare"), 64)
			in.BulkEmailConcurrency, _ = strconv.ParseFloat(t.ParameterDefault("BulkEmailConcurrency"), 64)
		}
		r.Capacity = capacityFor(r, in)
	}
	printReport(out, r)
	return nil
}

func randomKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// provision creates the bench's service, its developer and subscription,
// and 50 citizens with an e-mail address; it returns their fiscal codes and
// the service's key.
func provision(c client, admin string) ([]string, string, error) {
	steps := []struct{ method, path, body string }{
		{"POST", "/adm/services", `{"service_id":"bench","service_name":"TARI","organization_name":"Comune di Bench","department_name":"Tributi",
			"organization_fiscal_code":"00000000000","authorized_cidrs":[],"authorized_recipients":[],"max_allowed_payment_amount":100000,
			"bulk_threshold_per_minute":1000000}`}, // the normal lane, whatever its pace (the lanes are measured apart)
		{"PUT", "/adm/users/dev@bench.local/groups", `{"groups":["ApiMessageWrite","ApiMessageRead","ApiLimitedProfileRead","ApiCallbackWrite",
			"ApiRemoteContentWrite"]}`},
	}
	for _, st := range steps {
		if _, err := c.must(200, st.method, st.path, st.body, admin); err != nil {
			return nil, "", err
		}
	}
	sub, err := c.must(200, "PUT", "/adm/users/dev@bench.local/subscriptions/bench", `{"product_name":"IO"}`, admin)
	if err != nil {
		return nil, "", err
	}
	key, _ := sub["primary_key"].(string)
	citizens := make([]string, 50)
	for i := range citizens {
		citizens[i] = fiscalCode(i)
		// Test citizens: development profiles, whose addresses need no
		// validation link; then e-mail only (no webhook), in Italian.
		body := fmt.Sprintf(`{"email":"citizen%d@example.com"}`, i)
		if _, err := c.must(200, "POST", "/adm/development-profiles/"+citizens[i], body, admin); err != nil {
			return nil, "", err
		}
		body = fmt.Sprintf(`{"email":"citizen%d@example.com","is_inbox_enabled":true,"preferred_languages":["it_IT"],"version":0}`, i)
		if _, err := c.must(200, "POST", "/api/v1/profiles/"+citizens[i], body, admin); err != nil {
			return nil, "", err
		}
	}
	return citizens, key, nil
}

// settle waits until the citizens' welcome messages (two each, with their
// e-mails) are delivered and the stack is idle, so that no measurement
// counts them: they are sent once per citizen, not per message.
// unthrottled lifts the usage plan's per-subscription throttling: the bench
// measures what the platform carries, not the cap a subscription gets.
var unthrottled = map[string]string{"ThrottleRateLimit": "100000", "ThrottleBurstLimit": "100000"}

func settle(ctx context.Context, s *localstack.Stack, citizens int) error {
	deadline := time.Now().Add(2 * time.Minute)
	last, quiet := -1, 0
	for time.Now().Before(deadline) {
		total, emails := 0, 0
		for id, st := range s.Stats() {
			total += st.Invocations
			if id == "SendEmailFunction" {
				emails = st.Records
			}
		}
		if total == last && emails >= 2*citizens {
			if quiet++; quiet == 5 {
				return nil
			}
		} else {
			quiet = 0
		}
		last = total
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(300 * time.Millisecond):
		}
	}
	return fmt.Errorf("the welcome messages of %d citizens were not all delivered after 2 minutes", citizens)
}

// onePath sends one message with everything warm (the authorizer's answer
// cached, every function started) and counts each function's requests;
// with callbacks > 0, the service has a callback and each message's
// callbacks are waited for, the warm messages' before the count starts.
func onePath(ctx context.Context, s *localstack.Stack, c client, citizens []string, callbacks int) (PathCost, error) {
	received := len(s.Callbacks.Calls())
	waitCallbacks := func(n int) error {
		if err := waitCallbackCalls(ctx, s, received, n*callbacks, time.Minute); err != nil {
			return fmt.Errorf("one e-mail's path: %w", err)
		}
		return nil
	}
	warm, _, err := c.submit(2, 1, 0, citizens)
	if err != nil {
		return PathCost{}, err
	}
	if _, _, err := waitSent(ctx, s, warm, time.Minute); err != nil {
		return PathCost{}, err
	}
	if err := waitCallbacks(2); err != nil {
		return PathCost{}, err
	}
	time.Sleep(300 * time.Millisecond)
	s.ResetStats()
	one, _, err := c.submit(1, 1, 0, citizens)
	if err != nil {
		return PathCost{}, err
	}
	if _, _, err := waitSent(ctx, s, one, time.Minute); err != nil {
		return PathCost{}, err
	}
	if err := waitCallbacks(3); err != nil {
		return PathCost{}, err
	}
	time.Sleep(300 * time.Millisecond) // the last request lines reach the stack
	p := PathCost{ByFunction: map[string]map[string]int{}, MappingsAtBatch10: 2 * 2 / 10.0}
	for id, st := range s.Stats() {
		if id == "SubmitMessageFunction" {
			p.CounterReads = st.Requests["DynamoDB.BatchGetItem"]
			delete(st.Requests, "DynamoDB.BatchGetItem")
		}
		if len(st.Requests) > 0 {
			p.ByFunction[id] = st.Requests
			for _, n := range st.Requests {
				p.Functions += n
			}
		}
	}
	return p, nil
}

// pipeline submits n messages (closed loop at the given concurrency, or
// open loop at rate), measures them to e-mail SENT, and returns the
// functions' counters for the run.
func pipeline(ctx context.Context, s *localstack.Stack, c client, citizens []string, n, conc int, rate float64) (Pipeline, map[string]localstack.FunctionStats, error) {
	s.ResetStats()
	subs, _, err := c.submit(n, conc, rate, citizens)
	if err != nil {
		return Pipeline{}, nil, err
	}
	lat, span, err := waitSent(ctx, s, subs, 10*time.Minute)
	if err != nil {
		return Pipeline{}, nil, err
	}
	time.Sleep(300 * time.Millisecond)
	p := Pipeline{Messages: n, PerSecond: float64(n) / span.Seconds(), OfferedRate: rate, AcceptedToSent: distribution(lat)}
	stats := s.Stats()
	for id, st := range stats {
		for _, k := range st.Requests {
			p.FunctionRequests += float64(k)
		}
		p.MappingRequests += float64(st.Receives + st.Deletes)
		if id == "AuthorizerFunction" {
			p.AuthorizerCalls = float64(st.Invocations)
		}
	}
	p.FunctionRequests /= float64(n)
	p.MappingRequests /= float64(n)
	p.AuthorizerCalls /= float64(n)
	return p, stats, nil
}

// cost prices a million e-mails from the half-rate run's measurements (the
// pipeline in steady operation, not saturated), with DynamoDB's capacity
// per message from the ceiling run.
func cost(rep Report, s *localstack.Stack, stats map[string]localstack.FunctionStats) Cost {
	var invocations, gbs, sqsReq, authReads float64
	memory := map[string]int{}
	for _, f := range s.Template.Functions() {
		memory[f.LogicalID] = f.MemorySize
	}
	n := float64(rep.HalfRate.Messages)
	for id, st := range stats {
		invocations += float64(st.Invocations)
		gbs += billedGBSeconds(st.Invocations, ms(st.Busy), memory[id])
		sqsReq += float64(st.Receives + st.Deletes)
		for op, k := range st.Requests {
			switch {
			case len(op) > 4 && op[:4] == "SQS.":
				sqsReq += float64(k)
			case id == "AuthorizerFunction":
				authReads += float64(k)
			}
		}
	}
	wru, _ := rep.Ceiling.awsUnits() // billed by AWS's rules
	return costPerMillion(invocations/n, gbs/n, wru, rep.Ceiling.ReadUnitsPerMsg+authReads/n, sqsReq/n)
}

func printReport(w io.Writer, r Report) {
	fmt.Fprintf(w, "\n## Bench %s (%s, up to %d environments per function)\n\n", r.Date, r.Machine, r.Concurrency)
	fmt.Fprintf(w, "| Measure | Value |\n|---|---|\n")
	loaded := r.Pipeline.Messages > 0 // not under -static
	if loaded {
		fmt.Fprintf(w, "| Emulator ceiling, request mix of one message (concurrency %d) | %.0f messages/s (%.0f requests/s) |\n",
			r.Ceiling.Concurrency, r.Ceiling.MessagesPerSecond, r.Ceiling.RequestsPerSecond)
		wru, byPhase := r.Ceiling.awsUnits()
		fmt.Fprintf(w, "| DynamoDB capacity per message, by AWS's rules (the cost's) | %.1f WRU (%s), %.1f RRU |\n", wru, phases(byPhase), r.Ceiling.ReadUnitsPerMsg)
		fmt.Fprintf(w, "| … as DynamoDB Local reports it (a transaction's writes at twice AWS's units) | %.1f WRU (%s) |\n", r.Ceiling.WriteUnitsPerMsg, phases(r.Ceiling.UnitsPerMsg))
	}
	fmt.Fprintf(w, "| AWS requests, one delivered e-mail (functions, authorizer cached) | %d |\n", r.OneEmail.Functions)
	fmt.Fprintf(w, "| + mapping receives and deletes at batch size 10 | %.1f (total %.1f) |\n", r.OneEmail.MappingsAtBatch10,
		float64(r.OneEmail.Functions)+r.OneEmail.MappingsAtBatch10)
	for _, sb := range r.Submit {
		fmt.Fprintf(w, "| Submit at concurrency %d: p50 / p95 / p99 | %.1f / %.1f / %.1f ms, %.0f submissions/s |\n",
			sb.Concurrency, sb.Latency.P50, sb.Latency.P95, sb.Latency.P99, sb.PerSecond)
	}
	for _, p := range []struct {
		name string
		p    Pipeline
	}{{"Pipeline, closed loop", r.Pipeline}, {"Pipeline at half that rate", r.HalfRate}, {"Pipeline paced at 12/s (the local pace's target)", r.Paced},
		{"Bulk lane alone, closed loop (X-Lane: bulk)", r.Lanes.BulkAlone}} {
		if p.p.Messages == 0 {
			continue
		}
		if !loaded {
			break
		}
		fmt.Fprintf(w, "| %s: %d messages, 201 → SENT | %.0f messages/s (%.2f of the ceiling); p50 / p95 / max %.0f / %.0f / %.0f ms |\n",
			p.name, p.p.Messages, p.p.PerSecond, p.p.OfCeiling, p.p.AcceptedToSent.P50, p.p.AcceptedToSent.P95, p.p.AcceptedToSent.Max)
		fmt.Fprintf(w, "| … requests per e-mail: functions / mappings / authorizer calls | %.2f / %.2f / %.3f |\n",
			p.p.FunctionRequests, p.p.MappingRequests, p.p.AuthorizerCalls)
	}
	if loaded {
		fmt.Fprintf(w, "| Cost per million delivered e-mails (%s) | $%.2f: API Gateway %.2f, Lambda %.2f + %.2f, DynamoDB %.2f, SQS %.2f, SES %.2f |\n",
			Prices.Region, r.Cost.Total, r.Cost.APIGateway, r.Cost.LambdaRequests, r.Cost.LambdaDuration, r.Cost.DynamoDB, r.Cost.SQS, r.Cost.SES)
	}

	if loaded {
		cb := r.Callbacks
		fmt.Fprintf(w, "| One e-mail with callbacks for message.processed and notification.sent | %d requests (+%d: %s) |\n",
			cb.Path.Functions, cb.Added, cb.addedBy(r.OneEmail))
		for _, ev := range sortedKeys(cb.Latency) {
			l := cb.Latency[ev]
			fmt.Fprintf(w, "| Callback %s, status written → receiver, %d messages at %.0f/s: p50 / p95 / max | %.0f / %.0f / %.0f ms |\n",
				ev, cb.Messages, cb.Rate, l.P50, l.P95, l.Max)
		}
	}
	if l := r.Lanes; len(l.Other) > 0 {
		list := func(v []float64) string {
			s := ""
			for i, x := range v {
				if i > 0 {
					s += ", "
				}
				s += fmt.Sprintf("%.0f", x)
			}
			return s
		}
		fmt.Fprintf(w, "| Bulk lane alone ÷ normal lane, closed loop | %.2f |\n", l.BulkOfNormal)
		fmt.Fprintf(w, "| A flood: %d messages from one service at concurrency 8 | %.0f submissions/s; %d in bulk (the rest before its threshold) |\n",
			l.Flood, l.FloodRate, l.FloodBulk)
		fmt.Fprintf(w, "| … meanwhile another service's messages, 201 → e-mail SENT (ms) | %s |\n", list(l.Other))
		fmt.Fprintf(w, "| … a new citizen's validation link, 200 → SES (ms) | %s |\n", list(l.Validation))
		fmt.Fprintf(w, "| … their welcome messages (priority), created → in the inbox (ms) | %s |\n", list(l.Welcome))
	}
	if a := r.Acts; a.Opening != nil {
		fmt.Fprintf(w, "| Submit with third_party_data (its configuration checked in the message's transaction) | %s |\n", describe(a.SubmitThirdParty))
		fmt.Fprintf(w, "| An opening: recorded, its receipt signed and kept, message.opened queued (warm environment) | %s |\n", describe(a.Opening))
		fmt.Fprintf(w, "| An opening of remote content (+ 1 call to the sender's system) | %s |\n", describe(a.RemoteOpening))
		fmt.Fprintf(w, "| A read of remote content (+ 1 call to the sender's system) | %s |\n", describe(a.RemoteFetch))
		fmt.Fprintf(w, "| … its latency through the platform, the sender answering at once, %d reads: p50 / p95 / max | %.1f / %.1f / %.1f ms |\n",
			a.Fetches, a.FetchLatency.P50, a.FetchLatency.P95, a.FetchLatency.Max)
	}
	fmt.Fprintf(w, "\n| Function | Requests on one e-mail's path | Init (ms) | × hello | Bootstrap (MiB) | × hello | Peak RSS (MiB) |\n|---|---|---|---|---|---|---|\n")
	sizes := map[string]Size{}
	for _, s := range r.Sizes {
		sizes[s.Function] = s
	}
	ids := map[string]string{}
	for id := range r.PeakRSS {
		ids[sam.Kebab(id)] = id
	}
	for id := range r.OneEmail.ByFunction {
		ids[sam.Kebab(id)] = id
	}
	var worstInit, worstSize float64
	for _, in := range r.Inits {
		id := ids[in.Function]
		reqs := ""
		ops := r.OneEmail.ByFunction[id]
		keys := make([]string, 0, len(ops))
		for op := range ops {
			keys = append(keys, op)
		}
		slices.Sort(keys)
		for _, op := range keys {
			reqs += fmt.Sprintf("%s×%d ", op, ops[op])
		}
		rss := "–"
		if k := r.PeakRSS[id]; k > 0 {
			rss = fmt.Sprintf("%.1f", float64(k)/1024)
		}
		sz := sizes[in.Function]
		worstInit, worstSize = max(worstInit, in.Ratio), max(worstSize, sz.Ratio)
		fmt.Fprintf(w, "| %s | %s | %.1f | %.2f | %.1f | %.2f | %s |\n", in.Function, reqs, in.Median, in.Ratio, float64(sz.Bytes)/(1<<20), sz.Ratio, rss)
	}
	var hellos []time.Duration // each function's hello-world median, in µs
	for _, in := range r.Inits {
		hellos = append(hellos, time.Duration(in.Hello*1000))
	}
	hello := 0.0
	if len(hellos) > 0 {
		hello = float64(median(hellos)) / 1000
	}
	fmt.Fprintf(w, "| hello-world (aws-lambda-go, same flags) | – | %.1f | 1 | %.1f | 1 | – |\n", hello, float64(r.HelloBytes)/(1<<20))
	fmt.Fprintf(w, "\nWorst init ratio %.2f× hello-world; worst bootstrap ratio %.2f×.\n", worstInit, worstSize)
	if r.Capacity.Inputs.Messages > 0 {
		printCapacity(w, r.Capacity)
	}
}

// awsUnits is the ceiling's units by phase and table, by AWS's rules.
func awsUnits(c Ceiling) map[string]map[string]Units {
	_, u := c.awsUnits()
	return u
}

// phases writes the write units by phase: "submit 8, process 4, email 3".
func phases(units map[string]map[string]Units) string {
	var out []string
	for _, phase := range []string{"submit", "process", "email"} {
		w := 0.0
		for _, u := range units[phase] {
			w += u.Write
		}
		out = append(out, fmt.Sprintf("%s %.1f", phase, w))
	}
	return strings.Join(out, ", ")
}
