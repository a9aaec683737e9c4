package iam

import (
	"encoding/json"
	"fmt"
)

// ManagedPrefix starts the ARN of every AWS managed policy.
const ManagedPrefix = "arn:aws:iam::aws:policy/"

// managed are the AWS managed policies SAM attaches to functions, as AWS
// publishes them (IAM console, policy versions of 2024-2026): basic logging,
// X-Ray for Tracing: Active, and the SQS poller's for SQS events.
var managed = map[string]string{
	"arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole": `{"Statement": [{"Effect": "Allow",
		"Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"], "Resource": "*"}]}`,
	"arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess": `{"Statement": [{"Effect": "Allow",
		"Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets",
		"xray:GetSamplingStatisticSummaries"], "Resource": "*"}]}`,
	"arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole": `{"Statement": [{"Effect": "Allow",
		"Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "logs:CreateLogGroup",
		"logs:CreateLogStream", "logs:PutLogEvents"], "Resource": "*"}]}`,
}

// Managed returns an AWS managed policy by ARN; one this package does not
// hold is an error, never an empty policy.
func Managed(arn string) (Policy, error) {
	doc, ok := managed[arn]
	if !ok {
		return Policy{}, fmt.Errorf("managed policy %s: its document is not in pkg/iam", arn)
	}
	p := Policy{Name: arn}
	return p, json.Unmarshal([]byte(doc), &p)
}
