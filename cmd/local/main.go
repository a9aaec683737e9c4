// Command local runs the whole platform on this machine without Docker (see
// package localstack): DynamoDB Local and moto_server, the tables and queues
// of template.yaml, every function as Lambda execution environments, the
// REST API on 127.0.0.1:3000 through the cached authorizer, and the SQS
// event source mappings.
//
//	go run ./cmd/local -bin .build/local        (what `make run` does)
//
// With ADMIN_KEY set it provisions a bootstrap admin subscription with that key
// and every group. Ctrl-C stops everything it started.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/digital-citizenship/functions/pkg/awstest"
	"github.com/digital-citizenship/functions/pkg/localstack"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "local:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, out io.Writer) (err error) {
	fs := flag.NewFlagSet("local", flag.ContinueOnError)
	o := localstack.Options{Logs: out}
	fs.StringVar(&o.Template, "template", "template.yaml", "SAM template")
	fs.StringVar(&o.Bin, "bin", ".build/local", "folder with one binary per function, named after its folder under functions/")
	fs.StringVar(&o.Addr, "addr", envOr(getenv, "LOCAL_API_ADDR", "127.0.0.1:3000"), "address of the API (env LOCAL_API_ADDR)")
	fs.StringVar(&o.Name, "stack", "local", "prefix of table and queue names")
	fs.IntVar(&o.MotoPort, "moto-port", 5000, "port of the moto_server started when AWS_ENDPOINT_URL is unset")
	fs.IntVar(&o.DynamoDBPort, "dynamodb-port", 8000, "port of the DynamoDB Local started when AWS_ENDPOINT_URL_DYNAMODB is unset")
	fs.StringVar(&o.WebhookAddr, "webhook-addr", envOr(getenv, "LOCAL_WEBHOOK_ADDR", "127.0.0.1:3001"),
		"address of the local app backend's notify endpoint, the webhook's receiver, when -param WebhookUrl=... is not given (env LOCAL_WEBHOOK_ADDR)")
	fs.StringVar(&o.CallbacksAddr, "callbacks-addr", envOr(getenv, "LOCAL_CALLBACKS_ADDR", "127.0.0.1:3002"),
		"address of the local receiver of delivery callbacks, at /callbacks (env LOCAL_CALLBACKS_ADDR)")
	fs.StringVar(&o.RemoteContentAddr, "remote-content-addr", envOr(getenv, "LOCAL_REMOTE_CONTENT_ADDR", "127.0.0.1:3003"),
		"address of the local sender's system of remote content, a configuration's base_url (env LOCAL_REMOTE_CONTENT_ADDR)")
	o.Params = map[string]string{}
	fs.Func("param", "template parameter `Name=value` (repeatable), as sam deploy --parameter-overrides", func(v string) error {
		k, val, ok := strings.Cut(v, "=")
		if !ok || k == "" {
			return fmt.Errorf("want Name=value, got %q", v)
		}
		o.Params[k] = val
		return nil
	})
	iamReport := fs.String("iam-report", "", "record every AWS call of every function and, on stopping, write to this `file` the "+
		"check of each against the function's IAM policy in the template (JSON)")
	conc, _ := strconv.Atoi(envOr(getenv, "LOCAL_CONCURRENCY", strconv.Itoa(localstack.DefaultConcurrency)))
	fs.IntVar(&o.Concurrency, "concurrency", conc, "execution environments per function at most (env LOCAL_CONCURRENCY); ReservedConcurrentExecutions caps it further")
	if err := fs.Parse(args); err != nil {
		return err
	}
	o.Endpoints = awstest.Endpoints{AWS: getenv("AWS_ENDPOINT_URL"), DynamoDB: getenv("AWS_ENDPOINT_URL_DYNAMODB")}
	o.AdminKey, o.AdminEmail = getenv("ADMIN_KEY"), envOr(getenv, "ADMIN_EMAIL", "admin@io.example.it")
	o.AuditIAM = *iamReport != ""
	s, err := localstack.Start(ctx, o)
	if err != nil {
		return err
	}
	defer s.Close()
	if o.AuditIAM {
		defer func() {
			if werr := writeIAMReport(s, *iamReport); werr != nil && err == nil {
				err = werr
			}
		}()
	}
	fmt.Fprintf(out, "serving the API on %s (%d functions, up to %d environments each; DynamoDB %s, SQS/SES/SNS %s; webhook %s) after %.1fs; Ctrl-C stops\n",
		s.URL, len(s.Template.Functions()), o.Concurrency, s.Endpoints.DynamoDB, s.Endpoints.AWS, s.Resources.Params["WebhookUrl"], s.Ready.Seconds())
	fmt.Fprintf(out, "the developer portal: %s/portal/ (sign in with a subscription key)\n", s.URL)
	<-ctx.Done()
	fmt.Fprintln(out, "stopping")
	return nil
}

func envOr(getenv func(string) string, name, def string) string {
	if v := getenv(name); v != "" {
		return v
	}
	return def
}

// writeIAMReport checks the stack's calls against the policies and writes
// the report as JSON to file.
func writeIAMReport(s *localstack.Stack, file string) error {
	rep, err := s.AuditIAM()
	if err != nil {
		return fmt.Errorf("IAM check: %w", err)
	}
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(file, b, 0o644)
}
