// Command deploycheck rehearses a deployment (make deploy-check, also run by
// make test): it packages the built bootstraps as `sam package` does (a zip
// per function in S3, CodeUri s3://bucket/key), transforms template.yaml
// with aws-sam-translator, creates the stack in moto's CloudFormation and
// checks that every declared resource exists afterwards with its important
// properties. Where moto's CloudFormation cannot create a resource type, the
// rehearsal checks that part from the transformed template instead and says
// so (gaps); a template that no longer transforms, a resource that no longer
// creates, or a property that differs fails the run.
//
//	go run ./cmd/deploycheck -template template.yaml -lambda .build/lambda
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/digital-citizenship/functions/pkg/awstest"
	"github.com/digital-citizenship/functions/pkg/sam"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "deploy-check:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("deploycheck", flag.ContinueOnError)
	template := fs.String("template", "template.yaml", "SAM template")
	lambdaDir := fs.String("lambda", ".build/lambda", "built bootstraps, one folder per function (make build)")
	stack := fs.String("stack", "rehearsal", "stack name")
	if err := fs.Parse(args); err != nil {
		return err
	}
	start := time.Now()
	moto, err := awstest.StartMoto(0)
	if err != nil {
		return err
	}
	defer moto.Stop()
	r := &rehearsal{cfg: awstest.Config(moto.Endpoint), endpoint: moto.Endpoint, stack: *stack, out: out}
	if r.tmpl, err = sam.Load(*template); err != nil {
		return err
	}
	if r.codeURIs, err = r.packageFunctions(ctx, *lambdaDir); err != nil {
		return fmt.Errorf("package: %w", err)
	}
	if r.transformed, err = sam.Transform(*template, r.codeURIs); err != nil {
		return err
	}
	r.aliases = aliasesOf(r.transformed)
	if err := r.createStack(ctx); err != nil {
		return err
	}
	if err := r.check(ctx); err != nil {
		return err
	}
	resources, nested := len(r.transformed.Resources()), len(r.resources())-len(r.transformed.Resources())
	// The stack's life after its creation: a release, then its deletion.
	c := &checker{r: r}
	update, err := r.rehearseUpdate(ctx, c, *template, *lambdaDir)
	if err != nil {
		return fmt.Errorf("update rehearsal: %w", err)
	}
	deletion, err := r.rehearseDeletion(ctx, c)
	if err != nil {
		return fmt.Errorf("deletion rehearsal: %w", err)
	}
	if len(c.failures) > 0 {
		return fmt.Errorf("%d checks failed:\n  %s", len(c.failures), strings.Join(c.failures, "\n  "))
	}
	fmt.Fprintf(out, "deploy-check: update rehearsal: %s\n", update)
	fmt.Fprintf(out, "deploy-check: deletion rehearsal: %s\n", deletion)
	fmt.Fprintf(out, "deploy-check: deployments: %s\n", r.deployments)
	fmt.Fprintf(out, "deploy-check: %d resources after the SAM transform (CloudFormation's limit: 500 a stack), and %d in the nested monitoring stack; %d created by moto's CloudFormation and checked there, "+
		"%d of types it cannot create checked in the transformed template; %d checks passed (%.1fs)\n",
		resources, nested, r.created, r.fromTemplate, r.checks, time.Since(start).Seconds())
	return nil
}
