package main

import "math"

// Prices are the AWS list prices the cost model uses, in US dollars, all in
// this one place. They are the on-demand list prices of AWS's public price
// pages as recorded on PricesDate for US East (N. Virginia): the Milan
// (eu-south-1) figures could not be read from this project's machines,
// which reach no web page. Milan list prices are the same or a little
// higher for these services; replace these numbers with Milan's before
// quoting a figure, and the model follows.
var Prices = struct {
	Date, Region                 string
	APIGatewayPerMillion         float64 // REST API requests, first tier
	LambdaRequestsPerMillion     float64
	LambdaArmPerGBSecond         float64 // arm64, first tier
	DynamoDBWritePerMillionUnits float64 // on-demand write request units
	DynamoDBReadPerMillionUnits  float64 // on-demand read request units
	SQSPerMillionRequests        float64 // standard queues, beyond the free tier
	SESPerThousandEmails         float64 // outbound, beyond the free tier
	SNSMobilePushPerMillion      float64 // mobile push notifications delivered
}{
	Date: "2026-11-24", Region: "us-east-1 list prices, cmd/bench/cost.go",
	APIGatewayPerMillion: 3.50, LambdaRequestsPerMillion: 0.20, LambdaArmPerGBSecond: 0.0000133334,
	DynamoDBWritePerMillionUnits: 0.625, DynamoDBReadPerMillionUnits: 0.125,
	SQSPerMillionRequests: 0.40, SESPerThousandEmails: 0.10, SNSMobilePushPerMillion: 0.50,
}

// Cost is the model's answer for one million delivered e-mails.
type Cost struct {
	APIGateway     float64 `json:"api_gateway"`
	LambdaRequests float64 `json:"lambda_requests"`
	LambdaDuration float64 `json:"lambda_duration"`
	DynamoDB       float64 `json:"dynamodb"`
	SQS            float64 `json:"sqs"`
	SES            float64 `json:"ses"`
	Total          float64 `json:"total"`
	// Inputs per delivered e-mail, as measured.
	LambdaInvocations float64 `json:"lambda_invocations_per_email"`
	LambdaGBSeconds   float64 `json:"lambda_gb_seconds_per_email"`
	WriteUnits        float64 `json:"write_units_per_email"`
	ReadUnits         float64 `json:"read_units_per_email"`
	SQSRequests       float64 `json:"sqs_requests_per_email"`
}

// costPerMillion prices one million delivered e-mails from per-e-mail
// measurements: invocations and billed GB-seconds of Lambda, DynamoDB
// capacity units, SQS requests (functions' and mappings'), one API call and
// one e-mail each.
func costPerMillion(invocations, gbSeconds, wru, rru, sqsRequests float64) Cost {
	const m = 1e6
	c := Cost{
		APIGateway:        Prices.APIGatewayPerMillion,
		LambdaRequests:    invocations * Prices.LambdaRequestsPerMillion,
		LambdaDuration:    gbSeconds * m * Prices.LambdaArmPerGBSecond,
		DynamoDB:          wru*Prices.DynamoDBWritePerMillionUnits + rru*Prices.DynamoDBReadPerMillionUnits,
		SQS:               sqsRequests * Prices.SQSPerMillionRequests,
		SES:               m / 1000 * Prices.SESPerThousandEmails,
		LambdaInvocations: invocations, LambdaGBSeconds: gbSeconds, WriteUnits: wru, ReadUnits: rru, SQSRequests: sqsRequests,
	}
	c.Total = c.APIGateway + c.LambdaRequests + c.LambdaDuration + c.DynamoDB + c.SQS + c.SES
	return c
}

// billedGBSeconds is Lambda's duration charge basis: each invocation's
// duration rounded up to the millisecond, times the memory in GB.
func billedGBSeconds(invocations int, busyMS float64, memoryMB int) float64 {
	if invocations == 0 {
		return 0
	}
	perInvocation := math.Ceil(busyMS / float64(invocations))
	return float64(invocations) * perInvocation / 1000 * float64(memoryMB) / 1024
}
