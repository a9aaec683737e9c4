package apigateway

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/digital-citizenship/functions/pkg/auth"
	"github.com/digital-citizenship/functions/pkg/problem"
	"github.com/digital-citizenship/functions/pkg/services"
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
	// Services, when set, gives the caller's service, which travels in the
	// context too: the operations then need no read of their own, and a
	// cached answer spares that read for the cache's TTL. Service writes
	// flush the cache, so a change is seen on the next request.
	Services services.Store
	Log      *slog.Logger
}

// MaxContextService bounds the encoded service put in the context (API
// Gateway limits the whole authorizer response); a larger one, say with a
// long authorized_recipients list, is left out and read by the operation.
const MaxContextService = 4096

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
	context := map[string]any{
		ctxSubscriptionID: c.SubscriptionID,
		ctxUserID:         c.UserID,
		ctxEmail:          c.Email,
		ctxGroups:         auth.JoinGroups(c.Groups),
	}
	if c.Test {
		context[ctxTest] = "true"
	}
	if a.Services != nil {
		svc, err := a.Services.Latest(ctx, c.ServiceID())
		switch {
		case err == nil:
			if b, err := json.Marshal(svc); err == nil && len(b) <= MaxContextService {
				context[ctxService] = string(b)
			}
		case !errors.Is(err, problem.ErrNotFound):
			// The operation reads the service itself; nothing is lost.
			a.Log.Warn("service not read for the context", "request_id", req.RequestContext.RequestID, "error", err.Error())
		}
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
		Context:            context,
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
