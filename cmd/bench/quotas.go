package main

// Quota is one limit the capacity model uses: an AWS quota as AWS documents
// it, or one of this platform's own settings.
type Quota struct {
	Value float64 `json:"value"`
	Unit  string  `json:"unit"`
	// Adjustable says whether an operator can have it raised (a quota
	// request, a setting), and how.
	Adjustable string `json:"adjustable,omitempty"`
	Source     string `json:"source"`
}

// Quotas are every limit the capacity model uses, all in this one place
// with where each comes from, as Prices are. They are the defaults of a new
// account in eu-south-1 (Milan), this platform's Region, where AWS documents
// a figure for it; QuotasDate is when they were recorded. Replace a value
// with your account's (Service Quotas console, or `aws sesv2 get-account`
// for SES) and the model follows.
var Quotas = struct {
	Date, Region string

	APIGatewayAccountRPS Quota // requests a second, every API of the account in the Region
	LambdaConcurrency    Quota // concurrent executions, every function of the account in the Region
	LambdaScaling        Quota // new execution environments per function, every 10 seconds
	SQSMappingStart      Quota // concurrent batches an SQS event source mapping starts with
	SQSMappingStep       Quota // concurrent batches it adds a minute
	SQSMappingMax        Quota // concurrent batches of one mapping at most
	DynamoDBTableWrite   Quota // on-demand write request units a second, per table (and per index)
	DynamoDBNewTable     Quota // write request units a second a new on-demand table sustains at once
	DynamoDBPartition    Quota // write units a second one partition (one key) takes
	DynamoDBTransactItem Quota // write units of an item of up to 1 KB in a transaction
	SESRate              Quota // e-mails a second
	SESDay               Quota // e-mails in 24 hours
	SNSPublish           Quota // Publish calls a second (one per device for push)
}{
	Date: "2026-12-07", Region: "eu-south-1",
	APIGatewayAccountRPS: Quota{2500, "requests/s", "quota request (Service Quotas L-8A5B8E43)",
		"docs.aws.amazon.com/apigateway/latest/developerguide/limits.html: 10,000 RPS, 2,500 in Europe (Milan) and the other newer Regions"},
	LambdaConcurrency: Quota{1000, "concurrent executions", "quota request (Service Quotas L-B99A9384)",
		"docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html: 1,000 per account and Region"},
	LambdaScaling: Quota{1000, "environments per 10 s per function", "",
		"docs.aws.amazon.com/lambda/latest/dg/scaling-behavior.html"},
	SQSMappingStart: Quota{5, "concurrent batches", "",
		"docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html"},
	SQSMappingStep: Quota{300, "concurrent batches a minute", "",
		"docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html"},
	SQSMappingMax: Quota{1000, "concurrent batches per mapping", "provisioned pollers (ProvisionedPollerConfig)",
		"docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html"},
	DynamoDBTableWrite: Quota{40000, "WRU/s per table", "quota request (table-level write throughput)",
		"docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html: 40,000 read and 40,000 write request units per on-demand table"},
	DynamoDBNewTable: Quota{4000, "WRU/s", "pre-warm: UpdateTable WarmThroughput, 24 hours ahead",
		"docs.aws.amazon.com/amazondynamodb/latest/developerguide/on-demand-capacity-mode.html: 4,000 writes and 12,000 reads a second at first, then twice the previous peak within 30 minutes"},
	DynamoDBPartition: Quota{1000, "WCU/s per partition", "",
		"docs.aws.amazon.com/amazondynamodb/latest/developerguide/burst-adaptive-capacity.html: 3,000 RCU or 1,000 WCU per partition"},
	DynamoDBTransactItem: Quota{2, "WCU per item in a transaction", "",
		"docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html: two writes per item (prepare, commit)"},
	SESRate: Quota{14, "e-mails/s", "SES sending quota increase (Service Quotas, SES)",
		"docs.aws.amazon.com/ses/latest/dg/quotas.html: 1/s in the sandbox; out of it, set per account and no longer published: 14/s is a common first grant, read yours with aws sesv2 get-account"},
	SESDay: Quota{50000, "e-mails per 24 h", "SES sending quota increase (Service Quotas, SES)",
		"docs.aws.amazon.com/ses/latest/dg/quotas.html: 200 in the sandbox; out of it, set per account: 50,000 is a common first grant"},
	SNSPublish: Quota{300, "Publish/s", "quota request (Service Quotas, SNS Publish)",
		"docs.aws.amazon.com/general/latest/gr/sns.html: Publish is throttled per account and Region; 30,000/s in us-east-1, the smallest tier (300/s) assumed for eu-south-1, not verified here"},
}
