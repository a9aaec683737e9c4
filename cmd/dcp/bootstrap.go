package main

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	apigw "github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/spf13/cobra"

	"github.com/digital-citizenship/functions/pkg/apigateway/controlplane"
	store "github.com/digital-citizenship/functions/pkg/dynamodb"
	"github.com/digital-citizenship/functions/pkg/subscriptions"
)

// bootstrapCmd creates the first administrator of a deployed stack, with
// AWS credentials (the SDK's usual chain: environment, profile, SSO, role),
// through the same code the local stack uses for ADMIN_KEY.
func bootstrapCmd() *cobra.Command {
	var email, stack, region, profile string
	cmd := &cobra.Command{
		Use:   "bootstrap --email EMAIL --stack STACK",
		Short: "Create the first administrator of a deployed stack and print its key once (AWS credentials)",
		Long: `Create the first administrator of a deployment: the service "admin", a user in every group and
the service's subscription, registered in the stack's usage plan. Its primary key is printed once;
store it (a secrets manager, a password vault). Run it again and nothing changes: an existing
administrator keeps its keys (regenerate them with dcp admin key admin primary).

It needs AWS credentials allowed to read the stack (cloudformation:DescribeStackResource), to
write its AccountsTable and ServicesTable, and to add keys to its usage plan; the SDK's usual
chain provides them (environment, --profile, SSO, an instance role).`,
		Example: `  dcp admin bootstrap --email ops@io.example.it --stack digital-citizenship --region eu-south-1`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			opts := []func(*awsconfig.LoadOptions) error{}
			if region != "" {
				opts = append(opts, awsconfig.WithRegion(region))
			}
			if profile != "" {
				opts = append(opts, awsconfig.WithSharedConfigProfile(profile))
			}
			cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
			if err != nil {
				return fmt.Errorf("AWS configuration: %w", err)
			}
			cf := cloudformation.NewFromConfig(cfg)
			physical := func(id string) (string, error) {
				out, err := cf.DescribeStackResource(ctx, &cloudformation.DescribeStackResourceInput{StackName: &stack, LogicalResourceId: &id})
				if err != nil {
					return "", fmt.Errorf("stack %s, resource %s: %w", stack, id, err)
				}
				return aws.ToString(out.StackResourceDetail.PhysicalResourceId), nil
			}
			accountsTable, err := physical("AccountsTable")
			if err != nil {
				return err
			}
			servicesTable, err := physical("ServicesTable")
			if err != nil {
				return err
			}
			db := dynamodb.NewFromConfig(cfg)
			plan := &controlplane.UsagePlan{API: apigw.NewFromConfig(cfg), Name: stack + "-subscriptions"}
			key, created, err := bootstrap(ctx, db, servicesTable, accountsTable, plan, email)
			if err != nil {
				return err
			}
			if !created {
				fmt.Fprintf(cmd.ErrOrStderr(), "the administrator's subscription exists already: its keys are unchanged and not shown\n")
				return nil
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "administrator %s created in every group; its primary key, shown only now:\n", email)
			fmt.Fprintln(cmd.OutOrStdout(), key)
			return nil
		},
	}
	cmd.Flags().StringVar(&email, "email", "", "the administrator's e-mail (required)")
	cmd.Flags().StringVar(&stack, "stack", "", "the CloudFormation stack's name (required)")
	cmd.Flags().StringVar(&region, "region", "", "the AWS region (default: the SDK's, e.g. AWS_REGION)")
	cmd.Flags().StringVar(&profile, "profile", "", "an AWS shared-config profile")
	_ = cmd.MarkFlagRequired("email")
	_ = cmd.MarkFlagRequired("stack")
	return cmd
}

func bootstrap(ctx context.Context, db *dynamodb.Client, servicesTable, accountsTable string, plan subscriptions.UsagePlan, email string) (string, bool, error) {
	return subscriptions.Bootstrap(ctx, store.NewServices(db, servicesTable), store.NewAccounts(db, accountsTable), plan, email, "")
}
