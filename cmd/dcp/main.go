// Command dcp is the Digital Citizenship Platform's command-line tool for
// administrations and operators: send a message to every citizen of a CSV
// file (validated first, paced, resumable), follow what became of them, and
// administer services, users and subscriptions over the admin API.
//
//	go install ./cmd/dcp
//	export DCP_API_URL=http://127.0.0.1:3000 DCP_KEY=<subscription key>
//	dcp send --csv notices.csv
//	dcp status --results notices.csv.results.csv --wait
package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/time/rate"

	"github.com/digital-citizenship/functions/pkg/apiclient"
)

// exitInterrupted is the exit status of a run stopped by Ctrl-C.
const exitInterrupted = 130

// exitNotFinal is the exit status of dcp status --wait when the time is up before every message is final.
const exitNotFinal = 3

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := root().ExecuteContext(ctx)
	var ex exitError
	switch {
	case errors.As(err, &ex):
		fmt.Fprintln(os.Stderr, ex.msg)
		os.Exit(ex.code)
	case err != nil:
		fmt.Fprintln(os.Stderr, "Error:", err)
		os.Exit(1)
	}
}

// exitError ends the program with a status of its own.
type exitError struct {
	code int
	msg  string
}

func (e exitError) Error() string { return e.msg }

// options are the flags every command shares.
type options struct {
	api, key string
	timeout  time.Duration
}

func (o *options) check() error {
	if o.api == "" || o.key == "" {
		return errors.New("the API URL and a subscription key are needed: --api and --key, or DCP_API_URL and DCP_KEY")
	}
	return nil
}

// client calls the API, at most perSecond requests a second (none: no
// pace), trying each one attempts times; throttled counts the 429s met.
func (o *options) client(perSecond float64, attempts int) (c *apiclient.ClientWithResponses, throttled *atomic.Int64, err error) {
	throttled = &atomic.Int64{}
	opts := apiclient.Options{Key: o.key, HTTP: &http.Client{Timeout: o.timeout}, Attempts: attempts,
		Throttled: func() { throttled.Add(1) }}
	if perSecond > 0 {
		opts.Limiter = rate.NewLimiter(rate.Limit(perSecond), max(1, int(perSecond)))
	}
	c, err = apiclient.New(o.api, opts)
	return c, throttled, err
}

// paceFlags are the flags of the commands that send many requests.
func paceFlags(cmd *cobra.Command, perSecond *float64, concurrency *int, defaultRate float64) {
	cmd.Flags().Float64Var(perSecond, "rate", defaultRate, "at most this many requests per second")
	cmd.Flags().IntVar(concurrency, "concurrency", 8, "requests in flight at once")
}

func root() *cobra.Command {
	o := &options{}
	cmd := &cobra.Command{
		Use:   "dcp",
		Short: "Send messages to citizens and administer the Digital Citizenship Platform",
		Long: `dcp talks to the platform's API with a subscription key.

  dcp send --csv FILE       one message per row, validated first, paced, resumable
  dcp status --results FILE what became of each message, written back to the file
  dcp admin ...             services, users' groups, subscriptions and keys
  dcp receipt verify FILE   check a signed receipt of an opening against the published keys
  dcp dlq list|show|redrive the stack's dead letters: what they are, and sending them back (AWS credentials)

The API URL and the key come from --api and --key, or DCP_API_URL and DCP_KEY.`,
		SilenceUsage:  true,
		SilenceErrors: true, // main prints them, once
	}
	cmd.PersistentFlags().StringVar(&o.api, "api", os.Getenv("DCP_API_URL"), "the API's base URL (env DCP_API_URL), e.g. https://<id>.execute-api.<region>.amazonaws.com/prod")
	cmd.PersistentFlags().StringVar(&o.key, "key", os.Getenv("DCP_KEY"), "the subscription key (env DCP_KEY)")
	cmd.PersistentFlags().DurationVar(&o.timeout, "timeout", 30*time.Second, "how long one HTTP request may take")
	cmd.AddCommand(sendCmd(o), statusCmd(o), adminCmd(o), receiptCmd(o), dlqCmd(), feedCmd(o))
	return cmd
}
