package config

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	apigw "github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// TestAWS_Endpoints pins what each client resolves to the getenv given,
// under a process environment that says otherwise: the SDK by itself sends
// DynamoDB to AWS_ENDPOINT_URL when the process has it without
// AWS_ENDPOINT_URL_DYNAMODB, whatever the configuration holds.
func TestAWS_Endpoints(t *testing.T) {
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
	t.Setenv("AWS_ENDPOINT_URL_SQS", "http://127.0.0.1:2")
	t.Setenv("AWS_PROFILE", "no-such-profile")
	t.Setenv("AWS_CA_BUNDLE", "/no/such/bundle.pem")
	base := map[string]string{"AWS_REGION": "eu-south-1", "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}
	for _, tc := range []struct {
		name string
		env  map[string]string
		want map[string]string // client -> endpoint ("" is AWS's own)
	}{
		{"both endpoints", map[string]string{"AWS_ENDPOINT_URL": "http://moto:5000", "AWS_ENDPOINT_URL_DYNAMODB": "http://ddb:8000"},
			map[string]string{"DynamoDB": "http://ddb:8000", "SQS": "http://moto:5000", "SESv2": "http://moto:5000", "SNS": "http://moto:5000",
				"S3": "http://moto:5000", "API Gateway": "http://moto:5000"}},
		{"a service's own", map[string]string{"AWS_ENDPOINT_URL": "http://moto:5000", "AWS_ENDPOINT_URL_DYNAMODB": "http://ddb:8000",
			"AWS_ENDPOINT_URL_API_GATEWAY": "http://api:3000"},
			map[string]string{"DynamoDB": "http://ddb:8000", "SQS": "http://moto:5000", "API Gateway": "http://api:3000"}},
		{"the global one alone", map[string]string{"AWS_ENDPOINT_URL": "http://moto:5000"},
			map[string]string{"DynamoDB": "http://moto:5000", "SQS": "http://moto:5000"}},
		{"none: AWS's own", map[string]string{}, map[string]string{"DynamoDB": "", "SQS": "", "SESv2": "", "S3": ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{}
			for k, v := range base {
				env[k] = v
			}
			for k, v := range tc.env {
				env[k] = v
			}
			cfg, err := AWS(func(k string) string { return env[k] })
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{
				"DynamoDB":    aws.ToString(dynamodb.NewFromConfig(cfg).Options().BaseEndpoint),
				"SQS":         aws.ToString(sqs.NewFromConfig(cfg).Options().BaseEndpoint),
				"SESv2":       aws.ToString(sesv2.NewFromConfig(cfg).Options().BaseEndpoint),
				"SNS":         aws.ToString(sns.NewFromConfig(cfg).Options().BaseEndpoint),
				"S3":          aws.ToString(s3.NewFromConfig(cfg).Options().BaseEndpoint),
				"API Gateway": aws.ToString(apigw.NewFromConfig(cfg).Options().BaseEndpoint),
			}
			for client, want := range tc.want {
				if got[client] != want {
					t.Errorf("%s endpoint %q, want %q", client, got[client], want)
				}
			}
			creds, err := cfg.Credentials.Retrieve(context.Background())
			if err != nil || creds.AccessKeyID != "local" || cfg.Region != "eu-south-1" {
				t.Errorf("credentials %v (%v), region %s: want the getenv's", creds.AccessKeyID, err, cfg.Region)
			}
		})
	}
}

// LogRequests writes what a call acts on, for the IAM check, and nothing
// of what it carries: a transaction's tables by item kind, an e-mail's
// sender and configuration set but not its recipient, a presigned link.
func TestLogRequests(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		_, _ = io.WriteString(w, "{}")
	}))
	defer srv.Close()
	var buf bytes.Buffer
	cfg, err := AWS(func(k string) string {
		return map[string]string{"AWS_REGION": "eu-south-1", "AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s", "AWS_ENDPOINT_URL": srv.URL}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg.APIOptions = append(cfg.APIOptions, LogRequests(&buf))
	ctx := context.Background()
	_, _ = dynamodb.NewFromConfig(cfg).TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []ddbtypes.TransactWriteItem{
		{Put: &ddbtypes.Put{TableName: aws.String("Profiles"), Item: map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: "PROFILE#SPNDNL80R13C555X"}}}},
		{Update: &ddbtypes.Update{TableName: aws.String("Prefs"), Key: map[string]ddbtypes.AttributeValue{}, UpdateExpression: aws.String("SET a = :a")}}}})
	_, _ = sesv2.NewFromConfig(cfg).SendEmail(ctx, &sesv2.SendEmailInput{FromEmailAddress: aws.String("noreply@io.example.it"),
		ConfigurationSetName: aws.String("set"), Destination: &sestypes.Destination{ToAddresses: []string{"citizen@example.com"}},
		Content: &sestypes.EmailContent{Simple: &sestypes.Message{Subject: &sestypes.Content{Data: aws.String("Avviso TARI")},
			Body: &sestypes.Body{Text: &sestypes.Content{Data: aws.String("Gentile cittadino")}}}}})
	c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := s3.NewPresignClient(c).PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("b"), Key: aws.String("exports/x.json")}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{`"aws_request":"DynamoDB.TransactWriteItems"`, `"TransactItems.Put.TableName":["Profiles"]`,
		`"TransactItems.Update.TableName":["Prefs"]`, `"FromEmailAddress":["noreply@io.example.it"]`, `"ConfigurationSetName":["set"]`,
		`"aws_request":"S3.GetObject"`, `"Key":["exports/x.json"]`, `"presigned":true`} {
		if !strings.Contains(out, want) {
			t.Errorf("no %s in:\n%s", want, out)
		}
	}
	for _, never := range []string{"SPNDNL80R13C555X", "citizen@example.com", "Avviso TARI"} {
		if strings.Contains(out, never) {
			t.Errorf("%q written:\n%s", never, out)
		}
	}
	if n := strings.Count(out, `"presigned":true`); n != 1 {
		t.Errorf("%d presigned lines, want the S3 link's only:\n%s", n, out)
	}
}
