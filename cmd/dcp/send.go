package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/digital-citizenship/functions/pkg/campaign"
)

func sendCmd(o *options) *cobra.Command {
	var csvPath, templatePath, resultsPath, at, lane string
	var perSecond float64
	var concurrency, attempts int
	cmd := &cobra.Command{
		Use:   "send --csv FILE",
		Short: "Send one message per row of a CSV file",
		Long: `Send one message per row of a CSV file (UTF-8, comma-separated, a header first).

Columns:
` + campaign.Columns + `

With --template FILE, the file's first line is the subject and the rest the markdown, and
{{column}} placeholders take each row's values (subject and markdown columns are then not needed).

Every row is validated first, with the API's own rules: if any is bad, each bad row is reported
with its line number and nothing is sent. Rows are then sent --concurrency at a time, at most
--rate per second; 429s (after Retry-After when given), 5xx and network errors are retried.

Each row carries an Idempotency-Key made of the file's content and the row's line: a run stopped
(Ctrl-C) and started again with the same command skips the rows already sent and sends nothing
twice. The results file (line, fiscal_code, message_id, error) is written as rows complete.`,
		Example: `  dcp send --csv tari-2026.csv --rate 20
  dcp send --csv residents.csv --template notice.md --results notice-results.csv`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.check(); err != nil {
				return err
			}
			if lane != "bulk" && lane != "normal" {
				return exitError{2, fmt.Sprintf("--lane is bulk or normal, not %q", lane)}
			}
			var tmpl *campaign.Template
			if templatePath != "" {
				text, err := os.ReadFile(templatePath)
				if err != nil {
					return err
				}
				t, err := campaign.ParseTemplate(string(text))
				if err != nil {
					return fmt.Errorf("%s: %w", templatePath, err)
				}
				tmpl = &t
			}
			f, err := os.Open(csvPath)
			if err != nil {
				return err
			}
			rows, bad, err := campaign.Read(f, tmpl)
			f.Close()
			if err != nil {
				return fmt.Errorf("%s: %w", csvPath, err)
			}
			if at != "" {
				when, err := campaign.ParseAt(at, time.Now())
				if err != nil {
					return exitError{2, err.Error()}
				}
				campaign.Schedule(rows, when)
				fmt.Fprintf(cmd.ErrOrStderr(), "scheduling every row for %s\n", when.UTC().Format(time.RFC3339))
			}
			if len(bad) > 0 {
				for _, b := range bad {
					fmt.Fprintf(cmd.ErrOrStderr(), "%s:%d: %s\n", csvPath, b.Line, b.Reason)
				}
				return exitError{2, fmt.Sprintf("%d bad rows of %d: nothing was sent; fix them and run again", len(bad), len(bad)+len(rows))}
			}
			if resultsPath == "" {
				resultsPath = csvPath + ".results.csv"
			}
			before, err := campaign.ReadResults(resultsPath)
			if err != nil {
				return fmt.Errorf("%s: %w", resultsPath, err)
			}
			done := map[int]campaign.Record{}
			for _, r := range before {
				done[r.Line] = r
			}
			var todo []campaign.Row
			for _, r := range rows {
				d, ok := done[r.Line]
				if ok && d.FiscalCode != r.FiscalCode {
					return fmt.Errorf("%s does not match %s (line %d is another citizen's): the file changed since; give a new --results",
						resultsPath, csvPath, r.Line)
				}
				if d.MessageID == "" {
					todo = append(todo, r)
				}
			}
			out := cmd.ErrOrStderr()
			if len(todo) < len(rows) {
				fmt.Fprintf(out, "resuming: %d of %d rows were sent already (%s)\n", len(rows)-len(todo), len(rows), resultsPath)
			}
			journal, err := campaign.OpenJournal(resultsPath)
			if err != nil {
				return err
			}
			defer journal.Close()
			c, throttled, err := o.client(perSecond, attempts)
			if err != nil {
				return err
			}
			p := newProgress(out, len(todo), "sending", throttled)
			p.journal = journal
			results, err := campaign.Send(cmd.Context(), c, todo, concurrency, lane, p)
			p.finish()
			if p.err != nil {
				return fmt.Errorf("the results file: %w", p.err)
			}
			all := map[int]campaign.Record{}
			for _, r := range before {
				all[r.Line] = r
			}
			for _, r := range results {
				all[r.Line] = campaign.Record{Result: r}
			}
			records := make([]campaign.Record, 0, len(all))
			for _, r := range all {
				records = append(records, r)
			}
			if werr := campaign.WriteResults(resultsPath, records); werr != nil {
				return werr
			}
			sent, failed := 0, 0
			for _, r := range records {
				if r.MessageID != "" {
					sent++
				} else if r.Error != "" {
					failed++
				}
			}
			if err != nil && cmd.Context().Err() != nil {
				return exitError{exitInterrupted, fmt.Sprintf("interrupted: %d of %d rows sent, %d failed; run the same command to resume (results in %s)",
					sent, len(rows), failed, resultsPath)}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%d of %d rows sent, %d failed; results in %s\n", sent, len(rows), failed, resultsPath)
			if failed > 0 {
				return exitError{1, fmt.Sprintf("%d rows failed: their error is in %s; run the same command to try them again", failed, resultsPath)}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&csvPath, "csv", "", "the CSV file (required)")
	cmd.Flags().StringVar(&templatePath, "template", "", "a template file: the subject on the first line, the markdown after it")
	cmd.Flags().StringVar(&resultsPath, "results", "", "the results file (default: <csv>.results.csv)")
	cmd.Flags().StringVar(&at, "at", "", "schedule every message for TIME (RFC 3339, e.g. 2026-12-24T09:00:00+01:00, or +2m, +1h30m from now): 1 minute to 7 days ahead; each is then SCHEDULED and processed at that time")
	paceFlags(cmd, &perSecond, &concurrency, 10)
	cmd.Flags().StringVar(&lane, "lane", "bulk", "the lane asked for: bulk (a campaign: it holds up no one else's messages) or normal (the platform's rule decides: bulk once the service's submissions in the last minute reach its threshold)")
	cmd.Flags().IntVar(&attempts, "attempts", 10, "tries of one request (429, 5xx, network errors) before its row fails")
	_ = cmd.MarkFlagRequired("csv")
	return cmd
}

// progress is the progress bar: done/total, rate, time left, and the
// sent/failed/throttled counts; it also appends each result to the journal.
type progress struct {
	mu        sync.Mutex
	bar       *progressbar.ProgressBar
	verb      string
	ok, fail  int
	throttled *atomic.Int64
	journal   *campaign.Journal
	err       error
	w         io.Writer
}

func newProgress(w io.Writer, total int, verb string, throttled *atomic.Int64) *progress {
	bar := progressbar.NewOptions(total, progressbar.OptionSetWriter(w), progressbar.OptionSetDescription(verb),
		progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("msg"),
		progressbar.OptionSetPredictTime(true), progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionFullWidth(), progressbar.OptionSetRenderBlankState(true))
	return &progress{bar: bar, verb: verb, throttled: throttled, w: w}
}

// Done implements campaign.Progress.
func (p *progress) Done(r campaign.Result) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if r.Error != "" {
		p.fail++
	} else {
		p.ok++
	}
	if p.journal != nil {
		if err := p.journal.Add(r); err != nil && p.err == nil {
			p.err = err
		}
	}
	p.bar.Describe(fmt.Sprintf("%s: %d ok, %d failed, %d throttled", p.verb, p.ok, p.fail, p.throttled.Load()))
	_ = p.bar.Add(1)
}

func (p *progress) finish() {
	_ = p.bar.Exit()
	fmt.Fprintln(p.w)
}
