package iam

import (
	"encoding/json"
	"testing"
)

func TestGlob(t *testing.T) {
	for _, tc := range []struct {
		pattern, s string
		want       bool
	}{
		{"*", "", true}, {"*", "anything", true}, {"a*", "a", true}, {"a*c", "abbbc", true}, {"a*c", "abbb", false},
		{"a?c", "abc", true}, {"a?c", "ac", false}, {"*/stages/*/cache", "/restapis/x/stages/prod/cache", true},
		{"*b*b", "abab", true}, {"exports/*", "exports/a/b.json", true}, {"exports/*", "export/a", false},
	} {
		if got := Glob(tc.pattern, tc.s); got != tc.want {
			t.Errorf("Glob(%q, %q) = %v", tc.pattern, tc.s, got)
		}
	}
}

func TestARNMatches(t *testing.T) {
	table := "arn:aws:dynamodb:eu-south-1:123456789012:table/t-Messages"
	for _, tc := range []struct {
		pattern, arn string
		want         bool
	}{
		{table, table, true},
		{table, table + "/index/AcceptedIndex", false}, // a table's ARN does not cover its indexes
		{table + "/index/*", table + "/index/AcceptedIndex", true},
		{"arn:aws:dynamodb:*:*:table/*", table, true},
		{"arn:aws:dynamodb:eu-west-1:*:table/*", table, false},
		{"*", table, true},
		{"arn:aws:s3:::bucket/exports/*", "arn:aws:s3:::bucket/exports/abc/1.json", true},
		{"arn:aws:s3:::bucket/exports/*", "arn:aws:s3:::bucket", false},
		{"arn:aws:apigateway:eu-south-1::/restapis/*/stages/*/cache/authorizers", "arn:aws:apigateway:eu-south-1::/restapis/local/stages/local/cache/authorizers", true},
		{"arn:aws:sns:eu-south-1:123456789012:endpoint/*", "arn:aws:sns:eu-south-1:123456789012:endpoint/GCM/app/1234", true},
		{"arn:aws:sns:eu-south-1:123456789012:endpoint/*", "arn:aws:sns:eu-south-1:123456789012:app/GCM/app", false},
		// A wildcard does not cross a colon before the last part.
		{"arn:aws:*:123456789012:table/x", "arn:aws:dynamodb:eu-south-1:123456789012:table/x", false},
	} {
		if got := ARNMatches(tc.pattern, tc.arn); got != tc.want {
			t.Errorf("ARNMatches(%q, %q) = %v", tc.pattern, tc.arn, got)
		}
	}
}

func policy(t *testing.T, doc string) Policy {
	t.Helper()
	p := Policy{Name: "p"}
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestEvaluate(t *testing.T) {
	p := policy(t, `{"Statement": [
		{"Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:Query"], "Resource": "arn:aws:dynamodb:r:a:table/T"},
		{"Effect": "Allow", "Action": "ses:SendEmail", "Resource": "arn:aws:ses:r:a:identity/*",
		 "Condition": {"StringEquals": {"ses:FromAddress": "noreply@io.example.it"}}},
		{"Effect": "Allow", "Action": "sqs:*", "Resource": "*"},
		{"Effect": "Deny", "Action": "sqs:DeleteQueue", "Resource": "*"},
		{"Effect": "Allow", "NotAction": "s3:*", "Resource": "arn:aws:sns:r:a:topic"},
		{"Effect": "Allow", "Action": "s3:GetObject", "NotResource": "arn:aws:s3:::b/private/*"}
	]}`)
	for _, tc := range []struct {
		name string
		req  Request
		want Decision
		stmt int
	}{
		{"listed action", Request{Action: "dynamodb:GetItem", Resource: "arn:aws:dynamodb:r:a:table/T"}, Allow, 0},
		{"case-insensitive action", Request{Action: "DynamoDB:query", Resource: "arn:aws:dynamodb:r:a:table/T"}, Allow, 0},
		{"other action", Request{Action: "dynamodb:PutItem", Resource: "arn:aws:dynamodb:r:a:table/T"}, ImplicitDeny, -1},
		{"other table", Request{Action: "dynamodb:GetItem", Resource: "arn:aws:dynamodb:r:a:table/U"}, ImplicitDeny, -1},
		{"condition met", Request{Action: "ses:SendEmail", Resource: "arn:aws:ses:r:a:identity/noreply@io.example.it",
			Context: map[string][]string{"ses:FromAddress": {"noreply@io.example.it"}}}, Allow, 1},
		{"condition not met", Request{Action: "ses:SendEmail", Resource: "arn:aws:ses:r:a:identity/x@example.com",
			Context: map[string][]string{"ses:FromAddress": {"x@example.com"}}}, ImplicitDeny, -1},
		{"condition key missing", Request{Action: "ses:SendEmail", Resource: "arn:aws:ses:r:a:identity/x"}, ImplicitDeny, -1},
		{"wildcard action", Request{Action: "sqs:SendMessage", Resource: "arn:aws:sqs:r:a:q"}, Allow, 2},
		{"deny wins", Request{Action: "sqs:DeleteQueue", Resource: "arn:aws:sqs:r:a:q"}, ExplicitDeny, -1},
		{"NotAction", Request{Action: "sns:Publish", Resource: "arn:aws:sns:r:a:topic"}, Allow, 4},
		{"NotResource", Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/private/x"}, ImplicitDeny, -1},
		{"outside NotResource", Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/public/x"}, Allow, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, matches, err := Evaluate([]Policy{p}, tc.req)
			if err != nil || got != tc.want {
				t.Fatalf("got %v (%v), want %v", got, err, tc.want)
			}
			if tc.stmt >= 0 && (len(matches) == 0 || matches[0].Statement != tc.stmt) {
				t.Fatalf("allowed by %v, want statement %d", matches, tc.stmt)
			}
		})
	}
}

func TestCondition(t *testing.T) {
	for _, tc := range []struct {
		op      string
		values  []string
		got     []string
		present bool
		want    bool
	}{
		{"StringEquals", []string{"a", "b"}, []string{"b"}, true, true},
		{"StringNotEquals", []string{"a", "b"}, []string{"b"}, true, false},
		{"StringNotEquals", []string{"a", "b"}, []string{"c"}, true, true},
		{"StringNotEquals", []string{"a"}, nil, false, true}, // a missing key passes a negated operator
		{"StringEqualsIfExists", []string{"a"}, nil, false, true},
		{"StringLike", []string{"exports/*"}, []string{"exports/x"}, true, true},
		{"StringEqualsIgnoreCase", []string{"ABC"}, []string{"abc"}, true, true},
		{"ArnEquals", []string{"arn:aws:sns:r:a:t"}, []string{"arn:aws:sns:r:a:t"}, true, true},
		{"ArnLike", []string{"arn:aws:sns:r:a:*"}, []string{"arn:aws:sns:r:a:t"}, true, true},
		{"Bool", []string{"true"}, []string{"True"}, true, true},
		{"NumericLessThan", []string{"10"}, []string{"9"}, true, true},
		{"NumericLessThan", []string{"10"}, []string{"10"}, true, false},
		{"ForAllValues:StringEquals", []string{"a", "b"}, []string{"a", "b"}, true, true},
		{"ForAllValues:StringEquals", []string{"a"}, []string{"a", "c"}, true, false},
		{"ForAnyValue:StringEquals", []string{"a"}, []string{"c", "a"}, true, true},
		{"Null", []string{"true"}, nil, false, true},
		{"Null", []string{"false"}, nil, false, false},
	} {
		got, err := condition(tc.op, tc.values, tc.got, tc.present)
		if err != nil || got != tc.want {
			t.Errorf("%s %v on %v (present %v) = %v, %v; want %v", tc.op, tc.values, tc.got, tc.present, got, err, tc.want)
		}
	}
	if _, err := condition("DateGreaterThan", []string{"x"}, []string{"y"}, true); err == nil {
		t.Error("an operator the package does not know must be an error, never a match")
	}
}

// TestWhere_Requests_S3Versions: naming a version is an action of its own,
// so that a policy that grants s3:GetObject does not cover a link to a
// version, nor s3:DeleteObject an erasure of every version.
func TestWhere_Requests_S3Versions(t *testing.T) {
	w := Where{Region: "eu-south-1", Account: "123456789012"}
	for _, c := range []struct {
		call   Call
		action string
	}{
		{Call{Operation: "S3.GetObject", Params: map[string][]string{"Bucket": {"b"}, "Key": {"documents/x"}}}, "s3:GetObject"},
		{Call{Operation: "S3.GetObject", Params: map[string][]string{"Bucket": {"b"}, "Key": {"documents/x"}, "VersionId": {"v1"}}}, "s3:GetObjectVersion"},
		{Call{Operation: "S3.DeleteObject", Params: map[string][]string{"Bucket": {"b"}, "Key": {"documents/x"}, "VersionId": {"v1"}}}, "s3:DeleteObjectVersion"},
		{Call{Operation: "S3.ListObjectVersions", Params: map[string][]string{"Bucket": {"b"}, "Prefix": {"documents/"}}}, "s3:ListBucketVersions"},
	} {
		reqs, err := w.Requests(c.call)
		if err != nil || len(reqs) != 1 || reqs[0].Action != c.action {
			t.Errorf("%s %v: %v (%v), want %s", c.call.Operation, c.call.Params, reqs, err, c.action)
		}
	}
}

// TestWhere_Requests_KMS: a key named by its id is authorized by its ARN.
func TestWhere_Requests_KMS(t *testing.T) {
	w := Where{Region: "eu-south-1", Account: "123456789012"}
	for _, key := range []string{"1234abcd-12ab", "arn:aws:kms:eu-south-1:123456789012:key/1234abcd-12ab"} {
		reqs, err := w.Requests(Call{Operation: "KMS.Sign", Params: map[string][]string{"KeyId": {key}}})
		if err != nil || len(reqs) != 1 || reqs[0].Action != "kms:Sign" || reqs[0].Resource != "arn:aws:kms:eu-south-1:123456789012:key/1234abcd-12ab" {
			t.Errorf("%s: %+v %v", key, reqs, err)
		}
	}
}
