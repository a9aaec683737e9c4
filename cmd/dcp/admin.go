package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/digital-citizenship/functions/pkg/apiclient"
)

// adminCmd wraps the admin API: each subcommand is one call, its answer
// printed as JSON; a refusal is an error with the problem's text.
func adminCmd(o *options) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "admin",
		Short: "Administer services, users' groups, subscriptions and keys (an administrator's key)",
		Long: `Call the admin API with an administrator's subscription key (group ApiServiceWrite,
ApiServiceRead or ApiUserAdmin, as each call needs). Every answer is printed as JSON.`,
	}
	// call makes one call with the administrator's client (each request
	// tried up to 5 times, as far as it is safe to repeat) and prints the
	// answer as indented JSON, or returns its refusal.
	call := func(cmd *cobra.Command, op func(context.Context, *apiclient.ClientWithResponses) (apiclient.Response, error)) error {
		if err := o.check(); err != nil {
			return err
		}
		c, _, err := o.client(0, 5)
		if err != nil {
			return err
		}
		res, err := op(cmd.Context(), c)
		if err == nil {
			err = res.Err()
		}
		if err != nil {
			return err
		}
		var pretty bytes.Buffer
		if json.Indent(&pretty, res.RawBody(), "", "  ") == nil {
			fmt.Fprintln(cmd.OutOrStdout(), pretty.String())
		}
		return nil
	}
	file := func(path string) ([]byte, error) {
		if path == "-" {
			return io.ReadAll(os.Stdin)
		}
		return os.ReadFile(path)
	}

	service := &cobra.Command{Use: "service", Short: "Create, read and update services"}
	var svcFile string
	create := &cobra.Command{Use: "create --file SERVICE.json", Short: "Create a service (the Service JSON of the admin API)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			body, err := file(svcFile)
			if err != nil {
				return err
			}
			return call(cmd, func(ctx context.Context, c *apiclient.ClientWithResponses) (apiclient.Response, error) {
				return c.CreateServiceWithBodyWithResponse(ctx, "application/json", bytes.NewReader(body))
			})
		}}
	create.Flags().StringVar(&svcFile, "file", "", "the service as JSON (- for stdin)")
	_ = create.MarkFlagRequired("file")
	get := &cobra.Command{Use: "get SERVICE_ID", Short: "Read a service", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return call(cmd, func(ctx context.Context, c *apiclient.ClientWithResponses) (apiclient.Response, error) {
				return c.AdminGetServiceWithResponse(ctx, args[0])
			})
		}}
	var updFile string
	update := &cobra.Command{Use: "update SERVICE_ID --file SERVICE.json", Short: "Replace a service with a new version", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			body, err := file(updFile)
			if err != nil {
				return err
			}
			return call(cmd, func(ctx context.Context, c *apiclient.ClientWithResponses) (apiclient.Response, error) {
				return c.UpdateServiceWithBodyWithResponse(ctx, args[0], "application/json", bytes.NewReader(body))
			})
		}}
	update.Flags().StringVar(&updFile, "file", "", "the service as JSON (- for stdin)")
	_ = update.MarkFlagRequired("file")
	service.AddCommand(create, get, update)

	groups := &cobra.Command{Use: "groups EMAIL GROUP...", Short: "Set a user's groups (creating the user)", Args: cobra.MinimumNArgs(2),
		Example: "  dcp admin groups dev@comune.roma.it ApiMessageWrite ApiMessageRead ApiLimitedProfileRead",
		RunE: func(cmd *cobra.Command, args []string) error {
			return call(cmd, func(ctx context.Context, c *apiclient.ClientWithResponses) (apiclient.Response, error) {
				return c.SetUserGroupsWithResponse(ctx, args[0], apiclient.UserGroups{Groups: args[1:]})
			})
		}}
	var testKeys bool
	subscription := &cobra.Command{Use: "subscription EMAIL SERVICE_ID [--test]", Short: "Create the subscription of a service for a user; prints its keys once",
		Long: `Create the subscription of a service for a user and print its two keys, shown only here.
With --test its keys are test keys (key_type TEST): they send only to development profiles, every
outcome is simulated (the documented sandbox citizens: README, "Test keys"), nothing reaches SES,
SNS or the app backend, and the messages are not counted in the daily limit and kept 7 days.`,
		Example: `  dcp admin subscription dev@comune.roma.it tari-roma
  dcp admin subscription dev@comune.roma.it tari-roma-test --test`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			product, kind := "IO", apiclient.CreateSubscriptionJSONBodyKeyTypeLIVE
			if testKeys {
				kind = apiclient.CreateSubscriptionJSONBodyKeyTypeTEST
			}
			return call(cmd, func(ctx context.Context, c *apiclient.ClientWithResponses) (apiclient.Response, error) {
				return c.CreateSubscriptionWithResponse(ctx, args[0], args[1], apiclient.CreateSubscriptionJSONRequestBody{ProductName: &product, KeyType: &kind})
			})
		}}
	subscription.Flags().BoolVar(&testKeys, "test", false, "test keys: development profiles only, simulated outcomes")
	key := &cobra.Command{Use: "key SERVICE_ID primary|secondary", Short: "Regenerate one of a subscription's keys (the old one stops working)",
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			kt := apiclient.KeyTypePayloadKeyType(strings.ToUpper(args[1]) + "_KEY")
			if !kt.Valid() {
				return fmt.Errorf("the key is primary or secondary, not %q", args[1])
			}
			return call(cmd, func(ctx context.Context, c *apiclient.ClientWithResponses) (apiclient.Response, error) {
				return c.RegenerateSubscriptionKeyWithResponse(ctx, args[0], apiclient.KeyTypePayload{KeyType: kt})
			})
		}}
	cmd.AddCommand(bootstrapCmd(), service, groups, subscription, key)
	return cmd
}
