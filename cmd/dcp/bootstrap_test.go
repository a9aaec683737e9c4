package main

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	apigw "github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/digital-citizenship/functions/pkg/auth"
	"github.com/digital-citizenship/functions/pkg/awstest"
	store "github.com/digital-citizenship/functions/pkg/dynamodb"
	"github.com/digital-citizenship/functions/pkg/subscriptions"
)

func TestMain(m *testing.M) { awstest.Main(m) }

// stackTemplate declares the two tables bootstrap writes, keyed as
// template.yaml keys them; moto's CloudFormation creates them.
const stackTemplate = `AWSTemplateFormatVersion: "2010-09-09"
Resources:
  AccountsTable:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: pk, AttributeType: S}, {AttributeName: sk, AttributeType: S}]
      KeySchema: [{AttributeName: pk, KeyType: HASH}, {AttributeName: sk, KeyType: RANGE}]
  ServicesTable:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: pk, AttributeType: S}, {AttributeName: sk, AttributeType: S}]
      KeySchema: [{AttributeName: pk, KeyType: HASH}, {AttributeName: sk, KeyType: RANGE}]
`

// TestAdminBootstrap runs dcp admin bootstrap against a CloudFormation
// stack in the emulator, through the SDK's default credential chain: the
// printed key authenticates as an administrator in every group and is in
// the usage plan; a second run changes nothing and shows no key.
func TestAdminBootstrap(t *testing.T) {
	endpoint := awstest.Endpoint(t)
	awstest.ClearEnv(t) // the shell's profile, CA bundle or endpoints are not the test's
	t.Setenv("AWS_ENDPOINT_URL", endpoint)
	t.Setenv("AWS_ACCESS_KEY_ID", "local")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "local")
	t.Setenv("AWS_REGION", awstest.Region)
	ctx := context.Background()
	cfg := awstest.Config(endpoint)
	name := "dcp-bootstrap"
	if _, err := cloudformation.NewFromConfig(cfg).CreateStack(ctx, &cloudformation.CreateStackInput{StackName: &name,
		TemplateBody: aws.String(stackTemplate)}); err != nil {
		t.Fatal(err)
	}
	gw := apigw.NewFromConfig(cfg)
	plan, err := gw.CreateUsagePlan(ctx, &apigw.CreateUsagePlanInput{Name: aws.String(name + "-subscriptions")})
	if err != nil {
		t.Fatal(err)
	}
	run := func() (string, string) {
		var out, errOut bytes.Buffer
		cmd := root()
		cmd.SetOut(&out)
		cmd.SetErr(&errOut)
		cmd.SetArgs([]string{"admin", "bootstrap", "--email", "ops@io.example.it", "--stack", name})
		if err := cmd.ExecuteContext(ctx); err != nil {
			t.Fatalf("bootstrap: %v\n%s", err, errOut.String())
		}
		return strings.TrimSpace(out.String()), errOut.String()
	}
	key, _ := run()
	if len(key) < 32 {
		t.Fatalf("printed key %q", key)
	}
	res, err := cloudformation.NewFromConfig(cfg).DescribeStackResource(ctx, &cloudformation.DescribeStackResourceInput{
		StackName: &name, LogicalResourceId: aws.String("AccountsTable")})
	if err != nil {
		t.Fatal(err)
	}
	accounts := store.NewAccounts(dynamodb.NewFromConfig(cfg), aws.ToString(res.StackResourceDetail.PhysicalResourceId))
	caller, err := subscriptions.Authenticate(ctx, accounts, key)
	if err != nil || caller.SubscriptionID != subscriptions.AdminServiceID || !slices.Contains(caller.Groups, auth.UserAdmin) ||
		len(caller.Groups) != len(auth.AllGroups) {
		t.Fatalf("the printed key: %+v %v", caller, err)
	}
	keys, err := gw.GetUsagePlanKeys(ctx, &apigw.GetUsagePlanKeysInput{UsagePlanId: plan.Id})
	if err != nil || len(keys.Items) != 1 {
		t.Fatalf("usage plan keys %+v %v", keys, err)
	}
	again, msg := run()
	if again != "" || !strings.Contains(msg, "exists already") {
		t.Fatalf("second run printed %q, %q", again, msg)
	}
	if _, err := subscriptions.Authenticate(ctx, accounts, key); err != nil {
		t.Fatalf("the key stopped working after a second run: %v", err)
	}
}
