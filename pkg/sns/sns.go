// Package sns publishes push notifications with Amazon SNS mobile push: one
// platform application per platform (APNs, FCM), one platform endpoint per
// device.
package sns

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/digital-citizenship/functions/pkg/push"
)

// API is the part of the SNS client used here.
type API interface {
	Publish(context.Context, *sns.PublishInput, ...func(*sns.Options)) (*sns.PublishOutput, error)
	CreatePlatformEndpoint(context.Context, *sns.CreatePlatformEndpointInput, ...func(*sns.Options)) (*sns.CreatePlatformEndpointOutput, error)
	DeleteEndpoint(context.Context, *sns.DeleteEndpointInput, ...func(*sns.Options)) (*sns.DeleteEndpointOutput, error)
	SetEndpointAttributes(context.Context, *sns.SetEndpointAttributesInput, ...func(*sns.Options)) (*sns.SetEndpointAttributesOutput, error)
}

// Push implements push.Publisher and push.Endpoints.
type Push struct {
	API API
	// Applications maps a platform (push.APNS, push.FCM) to its platform
	// application's ARN.
	Applications map[string]string
}

// Publish implements push.Publisher.
func (p Push) Publish(ctx context.Context, endpointARN, payload string) error {
	_, err := p.API.Publish(ctx, &sns.PublishInput{TargetArn: aws.String(endpointARN), Message: aws.String(payload),
		MessageStructure: aws.String("json")})
	var disabled *types.EndpointDisabledException
	var notFound *types.NotFoundException
	switch {
	case err == nil:
		return nil
	case errors.As(err, &disabled) || errors.As(err, &notFound):
		return fmt.Errorf("%w: %v", push.ErrGone, err)
	}
	return fmt.Errorf("publish: %w", err)
}

// Create implements push.Endpoints. SNS answers an existing token with its
// endpoint as it is, possibly disabled after the push service refused it
// once; a device registering again re-enables it (as AWS's mobile-push
// guide does).
func (p Push) Create(ctx context.Context, platform, token string) (string, error) {
	app := p.Applications[platform]
	if app == "" {
		return "", fmt.Errorf("%w: value.platform %s is not enabled on this deployment", push.ErrRefused, platform)
	}
	out, err := p.API.CreatePlatformEndpoint(ctx, &sns.CreatePlatformEndpointInput{PlatformApplicationArn: aws.String(app), Token: aws.String(token)})
	var arn string
	var invalid *types.InvalidParameterException
	switch {
	case errors.As(err, &invalid):
		// "Endpoint <arn> already exists with the same Token, but different
		// attributes": the token's endpoint, disabled (AWS's guide reads the
		// ARN from the message likewise).
		if arn = existingEndpoint(aws.ToString(invalid.Message)); arn == "" {
			return "", fmt.Errorf("%w: value.push_channel is not a token the push service accepts", push.ErrRefused)
		}
	case err != nil:
		return "", fmt.Errorf("create platform endpoint: %w", err)
	default:
		arn = aws.ToString(out.EndpointArn)
	}
	_, err = p.API.SetEndpointAttributes(ctx, &sns.SetEndpointAttributesInput{EndpointArn: aws.String(arn),
		Attributes: map[string]string{"Enabled": "true", "Token": token}})
	if err != nil {
		return "", fmt.Errorf("enable platform endpoint: %w", err)
	}
	return arn, nil
}

// Delete implements push.Endpoints.
func (p Push) Delete(ctx context.Context, endpointARN string) error {
	_, err := p.API.DeleteEndpoint(ctx, &sns.DeleteEndpointInput{EndpointArn: aws.String(endpointARN)})
	var notFound *types.NotFoundException
	if err != nil && !errors.As(err, &notFound) {
		return fmt.Errorf("delete endpoint: %w", err)
	}
	return nil
}

// existingEndpoint returns the ARN SNS names in its answer to a token that
// already has an endpoint with other attributes, or "".
func existingEndpoint(message string) string {
	_, rest, ok := strings.Cut(message, "Endpoint arn:")
	if !ok {
		return ""
	}
	arn, _, ok := strings.Cut(rest, " already exists with the same")
	if !ok || strings.ContainsAny(arn, " \t") {
		return ""
	}
	return "arn:" + arn
}
