// Package controlplane adapts the platform to API Gateway's management API: it
// registers subscriptions in the usage plan and flushes the stage's authorizer
// cache. It is a package of its own so that only the functions that call it
// link and initialise the API Gateway client.
package controlplane

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	apigw "github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/apigateway/types"
	"github.com/awslabs/aws-lambda-go-api-proxy/core"
)

// UsagePlanAPI is the part of the API Gateway client the usage plan uses.
type UsagePlanAPI interface {
	GetUsagePlans(context.Context, *apigw.GetUsagePlansInput, ...func(*apigw.Options)) (*apigw.GetUsagePlansOutput, error)
	CreateApiKey(context.Context, *apigw.CreateApiKeyInput, ...func(*apigw.Options)) (*apigw.CreateApiKeyOutput, error)
	GetApiKeys(context.Context, *apigw.GetApiKeysInput, ...func(*apigw.Options)) (*apigw.GetApiKeysOutput, error)
	CreateUsagePlanKey(context.Context, *apigw.CreateUsagePlanKeyInput, ...func(*apigw.Options)) (*apigw.CreateUsagePlanKeyOutput, error)
}

// UsagePlan registers subscriptions in the API's usage plan, which throttles
// each one separately: the authorizer names the subscription's usage key
// (API keys come from the authorizer, never from clients).
type UsagePlan struct {
	API  UsagePlanAPI
	Name string

	once sync.Once
	id   string
	err  error
}

// planID finds the plan by name once per cold start (its id cannot be put in
// the function's environment without a circular reference in the template).
func (u *UsagePlan) planID(ctx context.Context) (string, error) {
	u.once.Do(func() {
		p := apigw.NewGetUsagePlansPaginator(u.API, &apigw.GetUsagePlansInput{})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				u.err = err
				return
			}
			for _, plan := range page.Items {
				if aws.ToString(plan.Name) == u.Name {
					u.id = aws.ToString(plan.Id)
					return
				}
			}
		}
		u.err = fmt.Errorf("no usage plan named %q", u.Name)
	})
	return u.id, u.err
}

// Register implements subscriptions.UsagePlan; registering twice is harmless.
func (u *UsagePlan) Register(ctx context.Context, subscriptionID, usageKey string) error {
	plan, err := u.planID(ctx)
	if err != nil {
		return fmt.Errorf("usage plan: %w", err)
	}
	key, err := u.API.CreateApiKey(ctx, &apigw.CreateApiKeyInput{Name: aws.String(subscriptionID), Value: aws.String(usageKey),
		Enabled: true, Description: aws.String("usage key of subscription " + subscriptionID)})
	keyID := ""
	var conflict *types.ConflictException
	switch {
	case errors.As(err, &conflict):
		if keyID, err = u.existingKey(ctx, subscriptionID, usageKey); err != nil {
			return err
		}
	case err != nil:
		return fmt.Errorf("create API key: %w", err)
	default:
		keyID = aws.ToString(key.Id)
	}
	_, err = u.API.CreateUsagePlanKey(ctx, &apigw.CreateUsagePlanKeyInput{UsagePlanId: &plan, KeyId: &keyID, KeyType: aws.String("API_KEY")})
	if err != nil && !errors.As(err, &conflict) {
		return fmt.Errorf("add API key to usage plan: %w", err)
	}
	return nil
}

func (u *UsagePlan) existingKey(ctx context.Context, name, value string) (string, error) {
	out, err := u.API.GetApiKeys(ctx, &apigw.GetApiKeysInput{NameQuery: &name, IncludeValues: aws.Bool(true)})
	if err != nil {
		return "", fmt.Errorf("find API key: %w", err)
	}
	for _, k := range out.Items {
		if aws.ToString(k.Value) == value {
			return aws.ToString(k.Id), nil
		}
	}
	return "", fmt.Errorf("API key of %q exists with another value", name)
}

// CacheAPI is the part of the API Gateway client the cache flusher uses.
type CacheAPI interface {
	FlushStageAuthorizersCache(context.Context, *apigw.FlushStageAuthorizersCacheInput, ...func(*apigw.Options)) (*apigw.FlushStageAuthorizersCacheOutput, error)
}

// CacheFlusher empties the authorizer cache of the stage a request came
// through, so that a replaced key stops working at once.
type CacheFlusher struct{ API CacheAPI }

// Flush implements httpapi.CacheFlusher.
func (f CacheFlusher) Flush(r *http.Request) error {
	rc, ok := core.GetAPIGatewayContextFromContext(r.Context())
	if !ok || rc.APIID == "" || rc.Stage == "" {
		return errors.New("the request carries no API Gateway context")
	}
	_, err := f.API.FlushStageAuthorizersCache(r.Context(), &apigw.FlushStageAuthorizersCacheInput{RestApiId: &rc.APIID, StageName: &rc.Stage})
	return err
}

// Flusher flushes the authorizer cache of a request's stage
// (httpapi.CacheFlusher).
type Flusher interface{ Flush(r *http.Request) error }

// NewCacheFlusher returns the flusher of a function whose
// AUTHORIZER_CACHE_TTL is cacheTTL: none when the cache is off ("0", as in
// the local stack), nothing being cached.
func NewCacheFlusher(cfg aws.Config, cacheTTL string) Flusher {
	if cacheTTL == "0" {
		return nil
	}
	return CacheFlusher{API: apigw.NewFromConfig(cfg)}
}
