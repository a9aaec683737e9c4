// Package config reads a function's configuration at cold start: required
// environment variables and the AWS SDK configuration (which itself honours
// AWS_ENDPOINT_URL for the local stack), and sets up JSON logging.
package config

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
)

// Env holds the validated environment variables of a function.
type Env map[string]string

// Load checks that every name in required is set, loads the SDK
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
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return aws.Config{}, nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	return cfg, env, nil
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
