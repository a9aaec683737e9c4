package main

import (
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/digital-citizenship/functions/pkg/sam"
	queue "github.com/digital-citizenship/functions/pkg/sqs"
)

// dlqCmd is what an operator does with dead letters (docs/runbooks.md):
// see them, understand them, send them back.
func dlqCmd() *cobra.Command {
	var stack, region, profile, endpoint string
	cmd := &cobra.Command{
		Use:   "dlq",
		Short: "The stack's dead-letter queues: list them, show their messages, send them back (AWS credentials)",
		Long: `A message lands in a dead-letter queue when its consumer failed on it maxReceiveCount times.
The e-mail, push, webhook and created-messages dead-letter queues are emptied by the fail-*
functions (the message or channel becomes FAILED); a message stays in one when that also fails,
and in the callbacks, profile-events, reminders and bounce dead-letter queues always.
docs/runbooks.md says, for each, what it means and what to do.

  dcp dlq list                       each dead-letter queue: messages, in flight, oldest, sources
  dcp dlq show QUEUE [--max N]       the messages' ids, kinds, services and receive counts
  dcp dlq redrive QUEUE [--max N] [--dry-run]
                                     send them back to the queues they came from

QUEUE is a logical id (CallbacksDeadLetterQueue, or just Callbacks), a name or a URL. Nothing
personal is printed: a message's identifiers only (message, service, channel, lane, kind).
Credentials come from the SDK's usual chain (environment, --profile, SSO, an instance role);
the local stack's moto is --endpoint-url http://127.0.0.1:5000 --stack local (no credentials needed).`,
	}
	cmd.PersistentFlags().StringVar(&stack, "stack", envOr("DCP_STACK", "digital-citizenship"), "the stack's name, the prefix of its queues' names (env DCP_STACK)")
	cmd.PersistentFlags().StringVar(&region, "region", "", "the AWS region (default: the SDK's, e.g. AWS_REGION)")
	cmd.PersistentFlags().StringVar(&profile, "profile", "", "the AWS profile")
	cmd.PersistentFlags().StringVar(&endpoint, "endpoint-url", "", "an SQS endpoint instead of AWS's (the local stack's moto)")
	letters := func(cmd *cobra.Command) (queue.DeadLetters, error) {
		opts := []func(*awsconfig.LoadOptions) error{}
		if region != "" {
			opts = append(opts, awsconfig.WithRegion(region))
		}
		if profile != "" {
			opts = append(opts, awsconfig.WithSharedConfigProfile(profile))
		}
		cfg, err := awsconfig.LoadDefaultConfig(cmd.Context(), opts...)
		if err != nil {
			return queue.DeadLetters{}, fmt.Errorf("AWS configuration: %w", err)
		}
		if endpoint != "" {
			cfg.BaseEndpoint = &endpoint
			// An emulator (the local stack's moto) takes any credentials:
			// none are needed when the shell has none.
			if profile == "" && os.Getenv("AWS_ACCESS_KEY_ID") == "" && os.Getenv("AWS_PROFILE") == "" {
				cfg.Credentials = credentials.NewStaticCredentialsProvider("local", "local", "")
			}
		}
		// SQS's own endpoint moves messages back itself; an emulator's
		// (--endpoint-url, AWS_ENDPOINT_URL[_SQS]) does not.
		native := cfg.BaseEndpoint == nil && os.Getenv("AWS_ENDPOINT_URL_SQS") == ""
		if cfg.Region == "" {
			cfg.Region = "eu-south-1" // the template's default region
		}
		return queue.DeadLetters{API: sqs.NewFromConfig(cfg), Stack: stack, MoveTasks: native}, nil
	}
	// named is the stack's dead letters and the one queue the command names.
	named := func(cmd *cobra.Command, which string) (queue.DeadLetters, queue.DeadLetterQueue, error) {
		d, err := letters(cmd)
		if err != nil {
			return d, queue.DeadLetterQueue{}, err
		}
		q, err := d.Queue(cmd.Context(), which)
		return d, q, err
	}

	list := &cobra.Command{Use: "list", Short: "Each dead-letter queue: its messages, in flight, the oldest's age (of up to 10 looked at) and its source queues",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			d, err := letters(cmd)
			if err != nil {
				return err
			}
			qs, err := d.Queues(cmd.Context())
			if err != nil {
				return err
			}
			if len(qs) == 0 {
				return fmt.Errorf("no dead-letter queue in stack %q (is --stack right?)", stack)
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "QUEUE\tMESSAGES\tIN FLIGHT\tOLDEST\tSOURCES\tRUNBOOK")
			for _, q := range qs {
				oldest := "-"
				if q.Messages > 0 {
					oldest = q.Oldest.Round(time.Second).String()
				}
				fmt.Fprintf(w, "%s\t%d\t%d\t%s\t%s\t%s\n", q.LogicalID, q.Messages, q.InFlight, oldest, sourceNames(d, q.Sources), sam.Runbook(q.LogicalID))
			}
			return w.Flush()
		}}

	var showMax int
	show := &cobra.Command{Use: "show QUEUE", Short: "A dead-letter queue's messages: ids, when first sent, receives, identifiers (no personal data)",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			d, q, err := named(cmd, args[0])
			if err != nil {
				return err
			}
			ls, err := d.Peek(cmd.Context(), q, showMax)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "%s: %s, %d in flight; sources %s\n", q.LogicalID, messagesN(q.Messages), q.InFlight, sourceNames(d, q.Sources))
			fmt.Fprintf(out, "Why: %s\n", sam.DeadLetterWhy(q.LogicalID))
			fmt.Fprintf(out, "Each failure is in its consumer's log with the message's id: CloudWatch Logs Insights,\n"+
				"  fields @timestamp, msg, error | filter sqs_message_id = \"<ID>\"\nRunbook: %s\n\n", sam.Runbook(q.LogicalID))
			w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "ID\tFIRST SENT\tRECEIVES\tFROM\tGROUP\tIDENTIFIERS")
			for _, l := range ls {
				from := "-"
				if l.Source != "" {
					from = queue.QueueName(l.Source)
				}
				ids := strings.Join(l.Fields, " ")
				if l.MalformedBody {
					ids = "(a body that is not JSON)"
				}
				fmt.Fprintf(w, "%s\t%s\t%d\t%s\t%s\t%s\n", l.ID, l.SentAt.Format(time.RFC3339), l.Receives, from, dash(l.Group), ids)
			}
			if err := w.Flush(); err != nil {
				return err
			}
			if q.Messages > len(ls) {
				fmt.Fprintf(out, "(%d of about %d shown: --max for more)\n", len(ls), q.Messages)
			}
			return nil
		}}
	show.Flags().IntVar(&showMax, "max", 20, "show at most this many messages")

	var o queue.RedriveOptions
	redrive := &cobra.Command{Use: "redrive QUEUE", Short: "Send a dead-letter queue's messages back to the queues they came from",
		Long: `Send a dead-letter queue's messages back to their source queues, where their consumers try them
again (with a fresh count of receives). Fix the cause first (docs/runbooks.md): a message sent back
to a consumer that still fails comes back here after maxReceiveCount receives.

Without --max or --dry-run SQS moves them itself (StartMessageMoveTask, each to the queue it came
from). With --max, --dry-run, or with an emulator (--endpoint-url), which has no move tasks, dcp receives,
sends and deletes them, each to the queue SQS names, or its lane's (a message is never deleted
before it is sent; one stopped between the two is in both, and the consumers are idempotent).`,
		Example: `  dcp dlq redrive Callbacks --dry-run
  dcp dlq redrive CallbacksDeadLetterQueue --max 10
  dcp dlq redrive CallbacksDeadLetterQueue`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.Max < 0 {
				return fmt.Errorf("--max is a number of messages, not %d", o.Max)
			}
			d, q, err := named(cmd, args[0])
			if err != nil {
				return err
			}
			verb := "redrive"
			if o.DryRun {
				verb = "dry run"
			}
			var bar *progressbar.ProgressBar
			o.Progress = func(moved, total int) {
				if bar == nil {
					bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(cmd.ErrOrStderr()), progressbar.OptionSetDescription(verb),
						progressbar.OptionShowCount(), progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionFullWidth(),
						progressbar.OptionSetRenderBlankState(true))
				}
				bar.ChangeMax(total)
				_ = bar.Set(moved)
			}
			r, err := d.Redrive(cmd.Context(), q, o)
			if bar != nil {
				_ = bar.Exit()
				fmt.Fprintln(cmd.ErrOrStderr())
			}
			out := cmd.OutOrStdout()
			switch {
			case r.Native:
				fmt.Fprintf(out, "%s: %s moved back to their source queues by SQS (task %s)\n", q.LogicalID, messagesN(r.Moved), r.TaskHandle)
			case o.DryRun:
				fmt.Fprintf(out, "%s: %s would go back (nothing moved):%s\n", q.LogicalID, messagesN(r.Moved), destinations(d, r.To))
			default:
				fmt.Fprintf(out, "%s: %s sent back:%s\n", q.LogicalID, messagesN(r.Moved), destinations(d, r.To))
			}
			return err
		}}
	redrive.Flags().IntVar(&o.Max, "max", 0, "send back at most this many messages (default: all)")
	redrive.Flags().BoolVar(&o.DryRun, "dry-run", false, "say where each message would go, and move nothing")
	cmd.AddCommand(list, show, redrive)
	return cmd
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func messagesN(n int) string {
	if n == 1 {
		return "1 message"
	}
	return fmt.Sprintf("%d messages", n)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// sourceNames are the logical ids of source queue URLs.
func sourceNames(d queue.DeadLetters, urls []string) string {
	var names []string
	for _, u := range urls {
		names = append(names, d.LogicalID(u))
	}
	if len(names) == 0 {
		return "-"
	}
	return strings.Join(names, ",")
}

func destinations(d queue.DeadLetters, to map[string]int) string {
	var b strings.Builder
	for name, n := range to {
		fmt.Fprintf(&b, " %d to %s", n, d.LogicalID(name))
	}
	return b.String()
}
