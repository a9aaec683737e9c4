package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"time"

	openapi_types "github.com/oapi-codegen/runtime/types"
	"github.com/spf13/cobra"

	"github.com/digital-citizenship/functions/pkg/apiclient"
)

// feedCmd reads a day of the calling service's subscriptions feed, every
// page of it.
func feedCmd(o *options) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "feed DATE [--out FILE]",
		Short: "Print or save a day's subscriptions feed: who subscribed to the service, who unsubscribed",
		Long: `Read the subscriptions feed of the service whose key is given (group ApiSubscriptionFeedRead)
for DATE (YYYY-MM-DD, UTC, within the last 90 days), every page of it, and print it as JSON:
{"dateUTC", "subscriptions", "unsubscriptions"}, each a list of SHA-256 of fiscal codes (lowercase
hexadecimal, of the upper-case code). With --out, write it to FILE and print the counts.`,
		Example: `  dcp feed 2026-12-07
  dcp feed 2026-12-07 --out feed-2026-12-07.json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.check(); err != nil {
				return err
			}
			day, err := time.Parse("2006-01-02", args[0])
			if err != nil {
				return fmt.Errorf("DATE is YYYY-MM-DD, not %q", args[0])
			}
			c, _, err := o.client(0, 5)
			if err != nil {
				return err
			}
			all := apiclient.SubscriptionsFeed{DateUTC: openapi_types.Date{Time: day}, Subscriptions: []string{}, Unsubscriptions: []string{}}
			params := &apiclient.GetSubscriptionsFeedParams{}
			for {
				res, err := c.GetSubscriptionsFeedWithResponse(cmd.Context(), openapi_types.Date{Time: day}, params)
				if err == nil {
					err = res.Err()
				}
				if err != nil {
					return err
				}
				page := res.JSON200
				all.Subscriptions = append(all.Subscriptions, page.Subscriptions...)
				all.Unsubscriptions = append(all.Unsubscriptions, page.Unsubscriptions...)
				if page.Next == nil {
					break
				}
				u, err := url.Parse(*page.Next)
				if err != nil {
					return fmt.Errorf("the next page's URL: %w", err)
				}
				cursor := u.Query().Get("cursor")
				params.Cursor = &cursor
			}
			body, err := json.MarshalIndent(all, "", "  ")
			if err != nil {
				return err
			}
			if out == "" {
				fmt.Fprintln(cmd.OutOrStdout(), string(body))
				return nil
			}
			if err := os.WriteFile(out, append(body, '\n'), 0o644); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %d subscriptions, %d unsubscriptions, written to %s\n",
				args[0], len(all.Subscriptions), len(all.Unsubscriptions), out)
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "write the feed to this file")
	return cmd
}
