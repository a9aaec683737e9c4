package apigateway

import (
	"context"
	"errors"
	"log/slog"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/digital-citizenship/functions/pkg/auth"
	"github.com/digital-citizenship/functions/pkg/subscriptions"
)

// KeyHeader carries the subscription key, as in the original (Azure API Management).
const KeyHeader = "Ocp-Apim-Subscription-Key"

// ErrUnauthorized is the authorizer's refusal; API Gateway answers 401.
var ErrUnauthorized = errors.New("Unauthorized")

// Authorizer is the Lambda REQUEST authorizer: it resolves the key header to
// the caller and allows the whole API for it, so API Gateway can cache the
// answer per key. The caller travels on in the authorizer context.
type Authorizer struct {
	Store subscriptions.Store
	Log   *slog.Logger
}

// Handle is the Lambda handler.
func (a Authorizer) Handle(ctx context.Context, req events.APIGatewayCustomAuthorizerRequestTypeRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
	key := header(req.Headers, KeyHeader)
	c, err := subscriptions.Authenticate(ctx, a.Store, key)
	if errors.Is(err, subscriptions.ErrUnknownKey) {
		a.Log.Info("refused subscription key", "request_id", req.RequestContext.RequestID)
		return events.APIGatewayCustomAuthorizerResponse{}, ErrUnauthorized
	}
	if err != nil {
		// API Gateway answers 500 for an authorizer error; nothing else runs.
		return events.APIGatewayCustomAuthorizerResponse{}, err
	}
	return events.APIGatewayCustomAuthorizerResponse{
		PrincipalID: c.UserID,
		PolicyDocument: events.APIGatewayCustomAuthorizerPolicy{
			Version: "2012-10-17",
			Statement: []events.IAMPolicyStatement{{
				Action: []string{"execute-api:Invoke"}, Effect: "Allow", Resource: []string{wholeAPI(req.MethodArn)},
			}},
		},
		// The usage plan throttles per subscription (ApiKeySourceType AUTHORIZER).
		UsageIdentifierKey: subscriptions.UsageKey(c.SubscriptionID),
		Context: map[string]any{
			ctxSubscriptionID: c.SubscriptionID,
			ctxUserID:         c.UserID,
			ctxEmail:          c.Email,
			ctxGroups:         auth.JoinGroups(c.Groups),
		},
	}, nil
}

// wholeAPI turns arn:aws:execute-api:region:account:api/stage/METHOD/path into
// arn:aws:execute-api:region:account:api/stage/*: a cached answer for a key
// must hold for every route, not only the first one called.
func wholeAPI(methodARN string) string {
	parts := strings.SplitN(methodARN, "/", 3)
	if len(parts) < 2 {
		return methodARN
	}
	return parts[0] + "/" + parts[1] + "/*"
}

func header(h map[string]string, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}
