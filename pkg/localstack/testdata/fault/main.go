// Command fault is a Lambda function for the local stack's tests: it answers
// as an API Gateway proxy integration, or fails, hangs or crashes as its
// event asks, and reports its process id so tests can tell environments apart.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(ctx context.Context, ev events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		switch ev.QueryStringParameters["do"] {
		case "fail":
			return events.APIGatewayProxyResponse{}, errors.New("failed on purpose")
		case "hang":
			time.Sleep(time.Hour)
		case "crash":
			os.Exit(3)
		case "sleep":
			time.Sleep(300 * time.Millisecond)
		}
		return events.APIGatewayProxyResponse{StatusCode: 200, Body: fmt.Sprint(os.Getpid())}, nil
	})
}
