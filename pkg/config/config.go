// Package config reads a function's configuration at cold start: required
// environment variables and the AWS SDK configuration, and sets up JSON
// logging.
//
// The SDK configuration is built from the environment Lambda gives every
// function (AWS_REGION and the execution role's AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), not with the SDK's shared-config
// loader: that loader links and initialises the SSO, STS, IMDS and INI
// machinery, about a fifth of every binary and of its cold start, for
// credential sources a Lambda never uses. Endpoints follow the SDK's own
// variables: AWS_ENDPOINT_URL, and AWS_ENDPOINT_URL_<SERVICE> beside it
// (AWS_ENDPOINT_URL_DYNAMODB), which is how the local stack points functions
// at its emulators.
//
// Every setting comes from the getenv a caller passes, never from the
// process environment behind its back: each service client's endpoint is
// pinned when the client is made (PinEndpoints). The SDK's own resolution
// would look at the process environment and, with AWS_ENDPOINT_URL set
// there but not AWS_ENDPOINT_URL_DYNAMODB, send DynamoDB to the global
// endpoint whatever the configuration said: the local stack's own clients
// then wrote to one emulator while its functions read another.
package config

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"
)

// Env holds the validated environment variables of a function.
type Env map[string]string

// Load checks that every name in required is set, builds the SDK
// configuration and installs a JSON slog logger; it fails on the first
// problem, so a misconfigured function never serves.
func Load(ctx context.Context, getenv func(string) string, required ...string) (aws.Config, Env, error) {
	env := Env{}
	var missing []string
	for _, n := range required {
		v := getenv(n)
		if v == "" {
			missing = append(missing, n)
		}
		env[n] = v
	}
	if len(missing) > 0 {
		return aws.Config{}, nil, fmt.Errorf("missing environment variables: %s", strings.Join(missing, ", "))
	}
	level := slog.LevelInfo
	if getenv("LOG_LEVEL") == "DEBUG" {
		level = slog.LevelDebug
	}
	slog.SetDefault(slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: level})))
	cfg, err := AWS(getenv)
	if err != nil {
		return aws.Config{}, nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	return cfg, env, nil
}

// AWS returns the SDK configuration from the environment: region, the
// execution role's credentials, and the endpoint variables. It fails when the
// region or the credentials are missing.
func AWS(getenv func(string) string) (aws.Config, error) {
	region := getenv("AWS_REGION")
	if region == "" {
		region = getenv("AWS_DEFAULT_REGION")
	}
	creds := aws.Credentials{AccessKeyID: getenv("AWS_ACCESS_KEY_ID"), SecretAccessKey: getenv("AWS_SECRET_ACCESS_KEY"),
		SessionToken: getenv("AWS_SESSION_TOKEN"), Source: "EnvironmentVariables"}
	switch {
	case region == "":
		return aws.Config{}, errors.New("AWS_REGION is not set")
	case creds.AccessKeyID == "" || creds.SecretAccessKey == "":
		return aws.Config{}, errors.New("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set")
	}
	cfg := aws.Config{
		Region: region,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return creds, nil
		}),
		ServiceOptions: []func(string, any){PinEndpoints(getenv)},
	}
	if getenv("AWS_REQUEST_LOG") == "1" {
		cfg.APIOptions = append(cfg.APIOptions, LogRequests(os.Stdout))
	}
	return cfg, nil
}

// LogRequests is SDK middleware that writes one line per HTTP request sent
// (retries included), {"aws_request":"<service>.<operation>"}, to w. The
// local stack sets AWS_REQUEST_LOG=1 and counts these lines per function:
// that is how the bench measures the requests a message costs. The lines
// carry no request content.
func LogRequests(w io.Writer) func(*middleware.Stack) error {
	return func(s *middleware.Stack) error {
		return s.Finalize.Add(middleware.FinalizeMiddlewareFunc("LogRequests", func(ctx context.Context, in middleware.FinalizeInput,
			next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			fmt.Fprintf(w, "{\"aws_request\":\"%s.%s\"}\n", awsmiddleware.GetServiceID(ctx), awsmiddleware.GetOperationName(ctx))
			return next.HandleFinalize(ctx, in)
		}), middleware.After)
	}
}

// ServiceEndpoint returns the endpoint getenv sets for the service whose
// SDK id is sdkID, as the SDK documents the variables: its own
// AWS_ENDPOINT_URL_<SERVICE ID> (upper case, spaces as underscores), else
// AWS_ENDPOINT_URL, else "" (AWS's own endpoint).
func ServiceEndpoint(getenv func(string) string, sdkID string) string {
	if v := getenv("AWS_ENDPOINT_URL_" + strings.ToUpper(strings.ReplaceAll(sdkID, " ", "_"))); v != "" {
		return v
	}
	return getenv("AWS_ENDPOINT_URL")
}

// PinEndpoints is an aws.Config.ServiceOptions entry that sets every
// service client's BaseEndpoint to ServiceEndpoint(getenv, its id), or
// clears it, after the SDK's own resolution: what the process environment
// holds has no say.
func PinEndpoints(getenv func(string) string) func(string, any) {
	return func(sdkID string, options any) {
		v := reflect.ValueOf(options)
		if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
			return
		}
		f := v.Elem().FieldByName("BaseEndpoint")
		if !f.IsValid() || !f.CanSet() || f.Type() != reflect.TypeFor[*string]() {
			return
		}
		if e := ServiceEndpoint(getenv, sdkID); e != "" {
			f.Set(reflect.ValueOf(&e))
		} else {
			f.SetZero()
		}
	}
}

// MustLoad is Load for main: it exits on failure.
func MustLoad(required ...string) (aws.Config, Env) {
	cfg, env, err := Load(context.Background(), os.Getenv, required...)
	if err != nil {
		slog.Error("cold start failed", "error", err.Error())
		os.Exit(1)
	}
	return cfg, env
}

// Seconds reads environment variable name as a number of seconds, def when
// it is unset or not a positive integer.
func Seconds(name string, def time.Duration) time.Duration {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return time.Duration(n) * time.Second
	}
	return def
}
