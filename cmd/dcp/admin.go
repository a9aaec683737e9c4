package main

import (
	"bytes"
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
	// api is the admin's client: every call is tried up to 5 times, as
	// far as it is safe to repeat.
	api := func() (*apiclient.ClientWithResponses, error) {
		if err := o.check(); err != nil {
			return nil, err
		}
		c, _, err := o.client(0, 5)
		return c, err
	}
	// show prints an answer as indented JSON, or returns its refusal.
	show := func(cmd *cobra.Command) func(apiclient.Response, error) error {
		return func(res apiclient.Response, err error) error {
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
			c, err := api()
			if err != nil {
				return err
			}
			return show(cmd)(c.CreateServiceWithBodyWithResponse(cmd.Context(), "application/json", bytes.NewReader(body)))
		}}
	create.Flags().StringVar(&svcFile, "file", "", "the service as JSON (- for stdin)")
	_ = create.MarkFlagRequired("file")
	get := &cobra.Command{Use: "get SERVICE_ID", Short: "Read a service", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := api()
			if err != nil {
				return err
			}
			return show(cmd)(c.AdminGetServiceWithResponse(cmd.Context(), args[0]))
		}}
	var updFile string
	update := &cobra.Command{Use: "update SERVICE_ID --file SERVICE.json", Short: "Replace a service with a new version", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			body, err := file(updFile)
			if err != nil {
				return err
			}
			c, err := api()
			if err != nil {
				return err
			}
			return show(cmd)(c.UpdateServiceWithBodyWithResponse(cmd.Context(), args[0], "application/json", bytes.NewReader(body)))
		}}
	update.Flags().StringVar(&updFile, "file", "", "the service as JSON (- for stdin)")
	_ = update.MarkFlagRequired("file")
	service.AddCommand(create, get, update)

	groups := &cobra.Command{Use: "groups EMAIL GROUP...", Short: "Set a user's groups (creating the user)", Args: cobra.MinimumNArgs(2),
		Example: "  dcp admin groups dev@comune.roma.it ApiMessageWrite ApiMessageRead ApiLimitedProfileRead",
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := api()
			if err != nil {
				return err
			}
			return show(cmd)(c.SetUserGroupsWithResponse(cmd.Context(), args[0], apiclient.UserGroups{Groups: args[1:]}))
		}}
	subscription := &cobra.Command{Use: "subscription EMAIL SERVICE_ID", Short: "Create the subscription of a service for a user; prints its keys once",
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := api()
			if err != nil {
				return err
			}
			product := "IO"
			return show(cmd)(c.CreateSubscriptionWithResponse(cmd.Context(), args[0], args[1], apiclient.CreateSubscriptionJSONRequestBody{ProductName: &product}))
		}}
	key := &cobra.Command{Use: "key SERVICE_ID primary|secondary", Short: "Regenerate one of a subscription's keys (the old one stops working)",
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			kt := apiclient.KeyTypePayloadKeyType(strings.ToUpper(args[1]) + "_KEY")
			if !kt.Valid() {
				return fmt.Errorf("the key is primary or secondary, not %q", args[1])
			}
			c, err := api()
			if err != nil {
				return err
			}
			return show(cmd)(c.RegenerateSubscriptionKeyWithResponse(cmd.Context(), args[0], apiclient.KeyTypePayload{KeyType: kt}))
		}}
	cmd.AddCommand(bootstrapCmd(), service, groups, subscription, key)
	return cmd
}
