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
	"encoding/json"
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
	smithyhttp "github.com/aws/smithy-go/transport/http"
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
// (retries included) to w:
//
//	{"aws_request":"<service>.<operation>","method":"POST","path":"/","params":{"TableName":["..."]}}
//
// The local stack sets AWS_REQUEST_LOG=1 and reads these lines per
// function: the bench counts the requests a message costs, and the IAM
// check evaluates each call against the function's policy. params holds
// only the input fields that name what a call acts on (Audited), by their
// path in the input: never keys, bodies, addresses or other content. A
// presigned request (an S3 link the function hands out) is written once,
// with "presigned":true: it is not sent, but acts with the function's role.
func LogRequests(w io.Writer) func(*middleware.Stack) error {
	return func(s *middleware.Stack) error {
		err := s.Initialize.Add(middleware.InitializeMiddlewareFunc("AuditParams", func(ctx context.Context, in middleware.InitializeInput,
			next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			return next.HandleInitialize(middleware.WithStackValue(ctx, auditKey{}, AuditParams(in.Parameters)), in)
		}), middleware.Before)
		if err != nil {
			return err
		}
		// A presigned request (an S3 link) is never sent by the function, but
		// acts with its role: it is written too, marked. Presigning replaces
		// the signing step and stops there, so its line is written first.
		_, signs := s.Finalize.Get("Signing")
		position := middleware.After
		if !signs {
			position = middleware.Before
		}
		return s.Finalize.Add(middleware.FinalizeMiddlewareFunc("LogRequests", func(ctx context.Context, in middleware.FinalizeInput,
			next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			line := RequestLine{Op: awsmiddleware.GetServiceID(ctx) + "." + awsmiddleware.GetOperationName(ctx), Presigned: !signs}
			if req, ok := in.Request.(*smithyhttp.Request); ok {
				line.Method, line.Path = req.Method, req.URL.EscapedPath()
			}
			line.Params, _ = middleware.GetStackValue(ctx, auditKey{}).(map[string][]string)
			line.Write(w)
			return next.HandleFinalize(ctx, in)
		}), position)
	}
}

type auditKey struct{}

// RequestLine is one line of the request log (LogRequests): a call, or a
// presigned request, of the function.
type RequestLine struct {
	Op        string              `json:"aws_request"`
	Method    string              `json:"method,omitempty"`
	Path      string              `json:"path,omitempty"`
	Params    map[string][]string `json:"params,omitempty"`
	Presigned bool                `json:"presigned,omitempty"`
}

// Write writes the line to w.
func (l RequestLine) Write(w io.Writer) {
	b, _ := json.Marshal(l)
	fmt.Fprintf(w, "%s\n", b)
}

// Audited are the names of the SDK input fields that say what a call acts
// on: tables and indexes, queues, buckets and object keys, topics and
// endpoints, platform applications, the sender address and configuration
// set of an e-mail (the platform's, never a recipient's), an object's
// version, a KMS key.
var Audited = map[string]bool{"TableName": true, "IndexName": true, "QueueUrl": true, "QueueName": true, "Bucket": true,
	"Key": true, "Prefix": true, "TopicArn": true, "TargetArn": true, "EndpointArn": true, "PlatformApplicationArn": true,
	"FromEmailAddress": true, "ConfigurationSetName": true, "VersionId": true, "KeyId": true}

// AuditParams returns the Audited string fields of an SDK input, at any
// depth, by their path (names joined by dots, list indexes left out), and
// the keys of maps named RequestItems (tables).
func AuditParams(input any) map[string][]string {
	out := map[string][]string{}
	var walk func(v reflect.Value, path string, depth int)
	walk = func(v reflect.Value, path string, depth int) {
		if depth > 6 {
			return
		}
		switch v.Kind() {
		case reflect.Pointer, reflect.Interface:
			if !v.IsNil() {
				walk(v.Elem(), path, depth)
			}
		case reflect.Struct:
			for i := range v.NumField() {
				f := v.Type().Field(i)
				if !f.IsExported() {
					continue
				}
				p := f.Name
				if path != "" {
					p = path + "." + f.Name
				}
				fv := v.Field(i)
				switch {
				case Audited[f.Name] && (fv.Kind() == reflect.String || fv.Kind() == reflect.Pointer && fv.Type().Elem().Kind() == reflect.String):
					if s := reflect.Indirect(fv); s.IsValid() {
						out[p] = append(out[p], s.String())
					}
				case f.Name == "RequestItems" && fv.Kind() == reflect.Map:
					for _, k := range fv.MapKeys() {
						out[p] = append(out[p], k.String())
					}
				default:
					walk(fv, p, depth+1)
				}
			}
		case reflect.Slice, reflect.Array:
			if v.Type().Elem().Kind() == reflect.Uint8 {
				return // bytes: content
			}
			for i := range v.Len() {
				walk(v.Index(i), path, depth+1)
			}
		}
	}
	walk(reflect.ValueOf(input), "", 0)
	return out
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

// WithoutAWS returns environ (KEY=value entries) without its AWS_*
// variables: the environment of a helper process (an emulator, the SAM
// transform) that a developer's AWS settings must not reach.
func WithoutAWS(environ []string) []string {
	var out []string
	for _, kv := range environ {
		if !strings.HasPrefix(kv, "AWS_") {
			out = append(out, kv)
		}
	}
	return out
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

// Int reads environment variable name as a positive integer, def when it is
// unset or not one.
func Int(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// Float reads environment variable name as a number at least 0, def when
// it is unset or not one.
func Float(name string, def float64) float64 {
	if f, err := strconv.ParseFloat(os.Getenv(name), 64); err == nil && f >= 0 {
		return f
	}
	return def
}

// Scale reads environment variable name as a positive number, 1 when it is
// unset or not one (REMINDER_TIME_SCALE: how much faster than in AWS a local
// stack reminds).
func Scale(name string) float64 {
	if f, err := strconv.ParseFloat(os.Getenv(name), 64); err == nil && f > 0 {
		return f
	}
	return 1
}
