// Package apigateway adapts the platform to Amazon API Gateway (REST API,
// proxy integration): the Lambda REQUEST authorizer that turns subscription
// keys into callers, and the bridge that serves plain net/http handlers to
// proxy events with the authorizer's caller in the request context.
package apigateway

import (
	"context"
	"encoding/json"
	"net/http"

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
	adapter := httpadapter.New(WithCaller(h))
	lambda.Start(func(ctx context.Context, ev events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		return adapter.ProxyWithContext(ctx, ev)
	})
}
