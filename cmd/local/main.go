// Command local runs the whole platform on this machine without Docker: it
// creates the tables and queues of template.yaml on an AWS-protocol
// emulator (moto_server, started here unless AWS_ENDPOINT_URL names one),
// runs every function's bootstrap binary as a process that speaks the Lambda
// Runtime API, serves the REST API on 127.0.0.1:3000 through the authorizer,
// and polls each function's queues as SQS event source mappings do.
//
//	go run ./cmd/local -bin .build/local        (what `make run` does)
//
// With ADMIN_KEY set it provisions a bootstrap admin subscription with that key
// and every group. Ctrl-C stops everything it started.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	apigw "github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/digital-citizenship/functions/pkg/apigateway/controlplane"
	"github.com/digital-citizenship/functions/pkg/awstest"
	"github.com/digital-citizenship/functions/pkg/sam"
)

const region = awstest.Region

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "local:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, out io.Writer) error {
	start := time.Now()
	fs := flag.NewFlagSet("local", flag.ContinueOnError)
	tmplPath := fs.String("template", "template.yaml", "SAM template")
	binDir := fs.String("bin", ".build/local", "folder with one binary per function, named after its folder under functions/")
	addr := fs.String("addr", envOr(getenv, "LOCAL_API_ADDR", "127.0.0.1:3000"), "address of the API")
	stackName := fs.String("stack", "local", "prefix of table and queue names")
	motoPort := fs.Int("moto-port", 5000, "port of the moto_server started when AWS_ENDPOINT_URL is unset")
	ddbPort := fs.Int("dynamodb-port", 8000, "port of the DynamoDB Local started when AWS_ENDPOINT_URL_DYNAMODB is unset")
	if err := fs.Parse(args); err != nil {
		return err
	}
	logs := log.New(out, "", log.Ltime)

	endpoints := awstest.Endpoints{AWS: getenv("AWS_ENDPOINT_URL"), DynamoDB: getenv("AWS_ENDPOINT_URL_DYNAMODB")}
	// The two emulators start side by side: the JVM takes the longer.
	type started struct {
		emu *awstest.Emulator
		err error
	}
	ddbDone := make(chan started, 1)
	if endpoints.DynamoDB == "" {
		root := filepath.Dir(*tmplPath)
		go func() {
			e, err := awstest.StartDynamoDBLocal(awstest.CacheDir(root), *ddbPort)
			ddbDone <- started{e, err}
		}()
	} else {
		ddbDone <- started{}
	}
	if endpoints.AWS == "" {
		emu, err := awstest.StartMoto(*motoPort)
		if err != nil {
			return err
		}
		defer emu.Stop()
		endpoints.AWS = emu.Endpoint
		logs.Printf("started moto_server (SQS, SES, SNS, API Gateway) on %s", endpoints.AWS)
	}
	if d := <-ddbDone; d.err != nil {
		return d.err
	} else if d.emu != nil {
		defer d.emu.Stop()
		endpoints.DynamoDB = d.emu.Endpoint
		logs.Printf("started DynamoDB Local %s on %s", awstest.DynamoDBLocalVersion, endpoints.DynamoDB)
	}
	endpoint := endpoints.AWS
	cfg := endpoints.Config()
	tmpl, err := sam.Load(*tmplPath)
	if err != nil {
		return err
	}
	stack, err := sam.Provision(ctx, cfg, tmpl, *stackName, nil)
	if err != nil {
		return fmt.Errorf("create tables and queues: %w", err)
	}
	if err := verifySender(ctx, cfg, stack.Params["MailFrom"]); err != nil {
		return err
	}
	plan, err := createUsagePlan(ctx, cfg, tmpl, stack)
	if err != nil {
		return err
	}
	if key := getenv("ADMIN_KEY"); key != "" {
		if err := provisionAdmin(ctx, cfg, stack, plan, key, envOr(getenv, "ADMIN_EMAIL", "admin@io.example.it"), logs); err != nil {
			return err
		}
	}

	fns := tmpl.Functions()
	runtimes := map[string]*runtime{}
	for _, f := range fns {
		env := stack.Env(f)
		for k, v := range map[string]string{"AWS_ENDPOINT_URL": endpoint, "AWS_ENDPOINT_URL_DYNAMODB": endpoints.DynamoDB, "AWS_REGION": region, "AWS_DEFAULT_REGION": region,
			"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
			// The local API does not cache authorizer answers.
			"AUTHORIZER_CACHE_TTL": "0"} {
			env[k] = v
		}
		bin := filepath.Join(*binDir, f.Dir)
		if _, err := os.Stat(bin); err != nil {
			return fmt.Errorf("function %s: %w (build with `make run`)", f.LogicalID, err)
		}
		rt, err := newRuntime(f.LogicalID, bin, env, time.Duration(f.Timeout)*time.Second, logs)
		if err != nil {
			return err
		}
		defer rt.stop()
		if err := rt.start(); err != nil {
			return err
		}
		runtimes[f.LogicalID] = rt
	}

	a, err := newAPI(tmpl, fns, runtimes, logs)
	if err != nil {
		return err
	}
	q := sqs.NewFromConfig(cfg)
	pollCtx, stopPolling := context.WithCancel(ctx)
	defer stopPolling()
	for _, f := range fns {
		for _, ev := range f.Queues {
			m := mapping{fn: runtimes[f.LogicalID], sqs: q, queueURL: stack.Refs[ev.Queue],
				queueARN: stack.Attrs[ev.Queue+".Arn"], batchSize: ev.BatchSize, logs: logs}
			go m.run(pollCtx)
		}
	}

	l, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: a, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(l) }()
	logs.Printf("serving the API on http://%s (%d functions, DynamoDB %s, SQS/SES %s) after %.1fs; Ctrl-C stops",
		l.Addr(), len(fns), endpoints.DynamoDB, endpoint, time.Since(start).Seconds())
	<-ctx.Done()
	logs.Printf("stopping")
	stopPolling()
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}

func newAPI(tmpl *sam.Template, fns []sam.Function, runtimes map[string]*runtime, logs *log.Logger) (*api, error) {
	props := tmpl.Resources["Api"].Properties
	auth, _ := props["Auth"].(map[string]any)
	authorizers, _ := auth["Authorizers"].(map[string]any)
	def, _ := authorizers[fmt.Sprint(auth["DefaultAuthorizer"])].(map[string]any)
	// FunctionArn is !GetAtt <Id>.Arn: the authorizer is function <Id>.
	var authFn string
	if fa, ok := def["FunctionArn"].(map[string]any); ok {
		if ga, ok := fa["Fn::GetAtt"].([]any); ok && len(ga) > 0 {
			authFn = fmt.Sprint(ga[0])
		}
	}
	a := &api{authorizer: runtimes[authFn], functions: runtimes, gateway: map[string]string{}, logs: logs}
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
	gw, _ := props["GatewayResponses"].(map[string]any)
	for typ, v := range gw {
		tpl, _ := v.(map[string]any)["ResponseTemplates"].(map[string]any)
		a.gateway[typ] = fmt.Sprint(tpl["application/json"])
	}
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

func verifySender(ctx context.Context, cfg aws.Config, from string) error {
	_, err := sesv2.NewFromConfig(cfg).CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: &from})
	if err != nil && !strings.Contains(err.Error(), "AlreadyExists") {
		return fmt.Errorf("verify sender %s in SES: %w", from, err)
	}
	return nil
}

func envOr(getenv func(string) string, name, def string) string {
	if v := getenv(name); v != "" {
		return v
	}
	return def
}
