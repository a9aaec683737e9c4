package apigateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/core"

	"github.com/digital-citizenship/functions/pkg/auth"
	"github.com/digital-citizenship/functions/pkg/services"
	"github.com/digital-citizenship/functions/pkg/storetest"
	"github.com/digital-citizenship/functions/pkg/subscriptions"
)

func TestAuthorizer(t *testing.T) {
	ctx := context.Background()
	st := &storetest.Accounts{}
	if _, err := subscriptions.SetGroups(ctx, st, "dev@pa.it", []string{"ApiInfoRead"}); err != nil {
		t.Fatal(err)
	}
	_, keys, err := subscriptions.Create(ctx, st, &storetest.UsagePlan{}, "dev@pa.it", "svc", "", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	a := Authorizer{Store: st, Log: slog.Default()}
	arn := "arn:aws:execute-api:eu-south-1:123:api1/prod/GET/api/v1/info"
	res, err := a.Handle(ctx, events.APIGatewayCustomAuthorizerRequestTypeRequest{MethodArn: arn,
		Headers: map[string]string{"ocp-apim-subscription-key": keys.Secondary}})
	if err != nil {
		t.Fatal(err)
	}
	st0 := res.PolicyDocument.Statement[0]
	if st0.Effect != "Allow" || st0.Resource[0] != "arn:aws:execute-api:eu-south-1:123:api1/prod/*" {
		t.Fatalf("policy %+v", res.PolicyDocument)
	}
	if res.UsageIdentifierKey != subscriptions.UsageKey("svc") {
		t.Fatalf("usage identifier %q", res.UsageIdentifierKey)
	}
	if res.Context["subscriptionId"] != "svc" || res.Context["groups"] != "ApiInfoRead" || res.Context["email"] != "dev@pa.it" {
		t.Fatalf("context %+v", res.Context)
	}
	for _, h := range []map[string]string{nil, {KeyHeader: "nope"}} {
		if _, err := a.Handle(ctx, events.APIGatewayCustomAuthorizerRequestTypeRequest{MethodArn: arn, Headers: h}); !errors.Is(err, ErrUnauthorized) {
			t.Fatalf("headers %v: %v", h, err)
		}
	}

	// The context travels to the functions and becomes the caller.
	rc := events.APIGatewayProxyRequestContext{Authorizer: res.Context, Identity: events.APIGatewayRequestIdentity{SourceIP: "10.1.2.3"}}
	var got auth.Caller
	h := WithCaller(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got, _ = auth.CallerFrom(r.Context()) }))
	req, err := (&core.RequestAccessor{}).EventToRequestWithContext(ctx, events.APIGatewayProxyRequest{HTTPMethod: "GET", Path: "/api/v1/info", RequestContext: rc})
	if err != nil {
		t.Fatal(err)
	}
	h.ServeHTTP(httptest.NewRecorder(), req)
	if got.SubscriptionID != "svc" || !got.Has(auth.InfoRead) || got.SourceIP != "10.1.2.3" || got.UserID == "" {
		t.Fatalf("caller %+v", got)
	}
}

// The authorizer hands the caller's service on in the context, so that the
// operations need no read of their own; a service too large for the context
// is left out and read by the operation.
func TestAuthorizer_ServiceInContext(t *testing.T) {
	ctx := context.Background()
	st, svcs := &storetest.Accounts{}, &storetest.Services{}
	if _, err := subscriptions.SetGroups(ctx, st, "dev@pa.it", []string{"ApiMessageWrite"}); err != nil {
		t.Fatal(err)
	}
	_, keys, err := subscriptions.Create(ctx, st, &storetest.UsagePlan{}, "dev@pa.it", "svc", "", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	a := Authorizer{Store: st, Services: svcs, Log: slog.Default()}
	serviceSeen := func() (services.Service, bool) {
		t.Helper()
		res, err := a.Handle(ctx, events.APIGatewayCustomAuthorizerRequestTypeRequest{MethodArn: "arn:aws:execute-api:eu-south-1:123:api1/prod/GET/x",
			Headers: map[string]string{KeyHeader: keys.Primary}})
		if err != nil {
			t.Fatal(err)
		}
		var got services.Service
		var ok bool
		h := WithCaller(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got, ok = services.FromContext(r.Context()) }))
		req, err := (&core.RequestAccessor{}).EventToRequestWithContext(ctx, events.APIGatewayProxyRequest{HTTPMethod: "GET", Path: "/x",
			RequestContext: events.APIGatewayProxyRequestContext{Authorizer: res.Context}})
		if err != nil {
			t.Fatal(err)
		}
		h.ServeHTTP(httptest.NewRecorder(), req)
		return got, ok
	}
	if _, ok := serviceSeen(); ok {
		t.Fatal("a service that does not exist is in the context")
	}
	svc := services.Service{ServiceID: "svc", ServiceName: "TARI", AuthorizedCIDRs: []string{"10.0.0.0/8"}, AuthorizedRecipients: []string{}, MaxAllowedPaymentAmount: 100}
	if err := svcs.Create(ctx, svc); err != nil {
		t.Fatal(err)
	}
	if got, ok := serviceSeen(); !ok || got.ServiceName != "TARI" || got.AuthorizedCIDRs[0] != "10.0.0.0/8" || got.MaxAllowedPaymentAmount != 100 {
		t.Fatalf("service in the context: %+v %v", got, ok)
	}
	svc.Version = 1
	for i := range 300 {
		svc.AuthorizedRecipients = append(svc.AuthorizedRecipients, fmt.Sprintf("AAAAAA00A00A%03dA", i))
	}
	if err := svcs.Create(ctx, svc); err != nil {
		t.Fatal(err)
	}
	if _, ok := serviceSeen(); ok {
		t.Fatal("a service over MaxContextService is in the context")
	}
}
