package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
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
	call := func(cmd *cobra.Command, method, path string, body []byte, want int) error {
		if err := o.check(); err != nil {
			return err
		}
		res, err := o.client(0, 5).Do(cmd.Context(), method, path, body, nil)
		if err != nil {
			return err
		}
		if res.Status != want {
			title, _ := res.Body["title"].(string)
			detail, _ := res.Body["detail"].(string)
			return fmt.Errorf("HTTP %d %s: %s", res.Status, title, detail)
		}
		var pretty any
		if json.Unmarshal([]byte(res.Raw), &pretty) == nil {
			out, _ := json.MarshalIndent(pretty, "", "  ")
			fmt.Fprintln(cmd.OutOrStdout(), string(out))
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
			return call(cmd, "POST", "/adm/services", body, 200)
		}}
	create.Flags().StringVar(&svcFile, "file", "", "the service as JSON (- for stdin)")
	_ = create.MarkFlagRequired("file")
	get := &cobra.Command{Use: "get SERVICE_ID", Short: "Read a service", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return call(cmd, "GET", "/adm/services/"+args[0], nil, 200)
		}}
	var updFile string
	update := &cobra.Command{Use: "update SERVICE_ID --file SERVICE.json", Short: "Replace a service with a new version", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			body, err := file(updFile)
			if err != nil {
				return err
			}
			return call(cmd, "PUT", "/adm/services/"+args[0], body, 200)
		}}
	update.Flags().StringVar(&updFile, "file", "", "the service as JSON (- for stdin)")
	_ = update.MarkFlagRequired("file")
	service.AddCommand(create, get, update)

	groups := &cobra.Command{Use: "groups EMAIL GROUP...", Short: "Set a user's groups (creating the user)", Args: cobra.MinimumNArgs(2),
		Example: "  dcp admin groups dev@comune.roma.it ApiMessageWrite ApiMessageRead ApiLimitedProfileRead",
		RunE: func(cmd *cobra.Command, args []string) error {
			body, _ := json.Marshal(map[string][]string{"groups": args[1:]})
			return call(cmd, "PUT", "/adm/users/"+args[0]+"/groups", body, 200)
		}}
	subscription := &cobra.Command{Use: "subscription EMAIL SERVICE_ID", Short: "Create the subscription of a service for a user; prints its keys once",
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return call(cmd, "PUT", "/adm/users/"+args[0]+"/subscriptions/"+args[1], []byte(`{"product_name":"IO"}`), 200)
		}}
	key := &cobra.Command{Use: "key SERVICE_ID primary|secondary", Short: "Regenerate one of a subscription's keys (the old one stops working)",
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			kt := strings.ToUpper(args[1]) + "_KEY"
			if kt != "PRIMARY_KEY" && kt != "SECONDARY_KEY" {
				return fmt.Errorf("the key is primary or secondary, not %q", args[1])
			}
			body, _ := json.Marshal(map[string]string{"key_type": kt})
			return call(cmd, "PUT", "/adm/services/"+args[0]+"/keys", body, 200)
		}}
	cmd.AddCommand(bootstrapCmd(), service, groups, subscription, key)
	return cmd
}
