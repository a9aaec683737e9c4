package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/digital-citizenship/functions/pkg/campaign"
)

func statusCmd(o *options) *cobra.Command {
	var resultsPath string
	var perSecond float64
	var concurrency int
	var wait time.Duration
	cmd := &cobra.Command{
		Use:   "status --results FILE",
		Short: "Show what became of the messages of a results file, and write it back",
		Long: `Read the status of every message of a results file written by dcp send (the sending service's
subscription key, with the group ApiMessageRead), write each one's status, rejection reason and e-mail, push and webhook
statuses back into the file, and print a summary: messages processed, rejected (by reason),
and per channel sent, failed and expired. The statuses come from the list of what the service
sent (GET /api/v1/messages), a hundred a request; a message the list does not show is read
on its own.

With --wait DURATION, poll again until every message and channel is final, or the time is up;
if the time is up first, the summary is printed and dcp exits with status 3.`,
		Example: `  dcp status --results tari-2026.csv.results.csv
  dcp status --results tari-2026.csv.results.csv --wait 5m`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.check(); err != nil {
				return err
			}
			records, err := campaign.ReadResults(resultsPath)
			if err != nil {
				return err
			}
			if len(records) == 0 {
				return fmt.Errorf("%s has no results", resultsPath)
			}
			c, throttled, err := o.client(perSecond, 10)
			if err != nil {
				return err
			}
			deadline := time.Now().Add(wait)
			for {
				n := 0
				for _, r := range records {
					if r.MessageID != "" {
						n++
					}
				}
				p := newProgress(cmd.ErrOrStderr(), n, "polling", throttled)
				stats, err := campaign.Poll(cmd.Context(), c, records, concurrency, p)
				p.finish()
				fmt.Fprintf(cmd.ErrOrStderr(), "read %d statuses in %d requests (%d pages of the list, %d messages one by one)\n",
					n, stats.Requests(), stats.Pages, stats.Singles)
				if werr := campaign.WriteResults(resultsPath, records); werr != nil {
					return werr
				}
				if err != nil {
					if cmd.Context().Err() != nil {
						return exitError{exitInterrupted, "interrupted; the statuses read so far are in " + resultsPath}
					}
					return err
				}
				s := campaign.Summarize(records)
				if s.Pending == 0 || !time.Now().Before(deadline) {
					fmt.Fprint(cmd.OutOrStdout(), s.String())
					if s.Pending > 0 && wait > 0 {
						return exitError{exitNotFinal, fmt.Sprintf("%d messages still not final after %s", s.Pending, wait)}
					}
					return nil
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "%d messages not final yet; polling again\n", s.Pending)
				select {
				case <-cmd.Context().Done():
					return exitError{exitInterrupted, "interrupted; the statuses read so far are in " + resultsPath}
				case <-time.After(2 * time.Second):
				}
			}
		},
	}
	cmd.Flags().StringVar(&resultsPath, "results", "", "the results file written by dcp send (required)")
	paceFlags(cmd, &perSecond, &concurrency, 20)
	cmd.Flags().DurationVar(&wait, "wait", 0, "poll again until every message is final, for at most this long (e.g. 5m)")
	_ = cmd.MarkFlagRequired("results")
	return cmd
}
