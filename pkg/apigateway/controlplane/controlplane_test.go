package controlplane

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	apigw "github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/awslabs/aws-lambda-go-api-proxy/core"

	"github.com/digital-citizenship/functions/pkg/awstest"
	"github.com/digital-citizenship/functions/pkg/subscriptions"
)

func TestMain(m *testing.M) { awstest.Main(m) }

func TestUsagePlan_Register(t *testing.T) {
	ctx := context.Background()
	c := apigw.NewFromConfig(awstest.Config(awstest.Endpoint(t)))
	plan, err := c.CreateUsagePlan(ctx, &apigw.CreateUsagePlanInput{Name: aws.String("test-subscriptions")})
	if err != nil {
		t.Fatal(err)
	}
	u := &UsagePlan{API: c, Name: "test-subscriptions"}
	key := subscriptions.UsageKey("svc-usage")
	for range 2 { // registering twice is harmless
		if err := u.Register(ctx, "svc-usage", key); err != nil {
			t.Fatal(err)
		}
	}
	keys, err := c.GetUsagePlanKeys(ctx, &apigw.GetUsagePlanKeysInput{UsagePlanId: plan.Id})
	if err != nil {
		t.Fatal(err)
	}
	if len(keys.Items) != 1 || aws.ToString(keys.Items[0].Value) != key || aws.ToString(keys.Items[0].Name) != "svc-usage" {
		t.Fatalf("usage plan keys %+v", keys.Items)
	}
	if err := (&UsagePlan{API: c, Name: "missing"}).Register(ctx, "svc", key); err == nil {
		t.Fatal("registering in a missing plan succeeded")
	}
}

type flushRecorder struct{ api, stage string }

func (f *flushRecorder) FlushStageAuthorizersCache(_ context.Context, in *apigw.FlushStageAuthorizersCacheInput, _ ...func(*apigw.Options)) (*apigw.FlushStageAuthorizersCacheOutput, error) {
	f.api, f.stage = aws.ToString(in.RestApiId), aws.ToString(in.StageName)
	return &apigw.FlushStageAuthorizersCacheOutput{}, nil
}

// moto does not implement FlushStageAuthorizersCache: this checks the call.
func TestCacheFlusher(t *testing.T) {
	rec := &flushRecorder{}
	req, err := (&core.RequestAccessor{}).EventToRequestWithContext(context.Background(), events.APIGatewayProxyRequest{
		HTTPMethod: "PUT", Path: "/adm/services/x/keys", RequestContext: events.APIGatewayProxyRequestContext{APIID: "a1b2", Stage: "prod"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := (CacheFlusher{API: rec}).Flush(req); err != nil || rec.api != "a1b2" || rec.stage != "prod" {
		t.Fatalf("flushed %+v: %v", rec, err)
	}
	if err := (CacheFlusher{API: rec}).Flush(httptest.NewRequest("PUT", "/", nil)); err == nil {
		t.Fatal("a request without API Gateway context cannot be flushed")
	}
}
