// Command hello is the bench's yardstick: the smallest aws-lambda-go
// function, built with the same flags as ours, whose init time and size
// every function is compared with.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(context.Context, map[string]any) (string, error) { return "hello", nil })
}
