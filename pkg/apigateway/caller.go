// Package apigateway adapts the platform to Amazon API Gateway (REST API,
// proxy integration): the Lambda REQUEST authorizer that turns subscription
// keys into callers, and the bridge that serves plain net/http handlers to
// proxy events with the authorizer's caller in the request context.
package apigateway

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/awslabs/aws-lambda-go-api-proxy/core"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/digital-citizenship/functions/pkg/auth"
	"github.com/digital-citizenship/functions/pkg/services"
)

// Authorizer context keys, shared by the authorizer and the functions.
const (
	ctxSubscriptionID = "subscriptionId"
	ctxUserID         = "userId"
	ctxEmail          = "email"
	ctxGroups         = "groups"
	ctxService        = "service"
	// ctxTest is "true" for a test key.
	ctxTest = "test"
)

// CallerFrom returns the caller the authorizer established for a request,
// and false when the request carries no authorizer context (anonymous).
func CallerFrom(rc events.APIGatewayProxyRequestContext) (auth.Caller, bool) {
	a := rc.Authorizer
	if a == nil {
		return auth.Caller{SourceIP: rc.Identity.SourceIP}, false
	}
	str := func(k string) string { s, _ := a[k].(string); return s }
	c := auth.Caller{
		SubscriptionID: str(ctxSubscriptionID),
		UserID:         str(ctxUserID),
		Email:          str(ctxEmail),
		Groups:         auth.ParseGroups(str(ctxGroups)),
		SourceIP:       rc.Identity.SourceIP,
		Test:           str(ctxTest) == "true",
	}
	return c, true
}

// WithCaller is middleware that puts the API Gateway caller into the request
// context, where handlers find it with auth.CallerFrom.
func WithCaller(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rc, ok := core.GetAPIGatewayContextFromContext(r.Context()); ok {
			if c, ok := CallerFrom(rc); ok {
				ctx := auth.WithCaller(r.Context(), c)
				if svc, ok := serviceFrom(rc, c); ok {
					ctx = services.NewContext(ctx, svc)
				}
				r = r.WithContext(ctx)
			}
		}
		next.ServeHTTP(w, r)
	})
}

// serviceFrom decodes the caller's service the authorizer put in the
// context; a missing or undecodable one is read by the operation instead.
func serviceFrom(rc events.APIGatewayProxyRequestContext, c auth.Caller) (services.Service, bool) {
	raw, _ := rc.Authorizer[ctxService].(string)
	var s services.Service
	if raw == "" || json.Unmarshal([]byte(raw), &s) != nil || s.ServiceID != c.ServiceID() {
		return services.Service{}, false
	}
	return s, true
}

// Start serves h to API Gateway proxy events; it never returns.
func Start(h http.Handler) {
	lambda.Start(Handler(h))
}

// Handler adapts h to API Gateway proxy events. API Gateway hands over the
// path decoded, and the proxy adapter parses it as a URL: a decoded control
// character, '%', '?' or '#' would break that parse (a 502 before any of our
// code ran) or change the route. The path is escaped again first, so h sees
// exactly the path the client sent and answers it, 400 included. An event
// the adapter still cannot read (a body that is not base64 although it says
// so) is a 400 problem+json.
func Handler(h http.Handler) func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	adapter := httpadapter.New(WithCaller(h))
	return func(ctx context.Context, ev events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		ev.Path = (&url.URL{Path: ev.Path}).EscapedPath()
		res, err := adapter.ProxyWithContext(ctx, ev)
		if err != nil {
			return events.APIGatewayProxyResponse{StatusCode: http.StatusBadRequest,
				Headers: map[string]string{"Content-Type": "application/problem+json", "X-Content-Type-Options": "nosniff"},
				Body:    `{"detail":"The request could not be read.","status":400,"title":"Invalid request"}`}, nil
		}
		return res, nil
	}
}
