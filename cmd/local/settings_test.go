package main

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/digital-citizenship/functions/pkg/awstest"
)

// TestLocalStack_Settings starts the stack the way `make run` does (the
// process environment as the developer's shell leaves it) under each
// combination of AWS_* variables a shell may export, and drives a message
// from key provisioning to e-mail SENT in the emulator the stack says it
// uses. The stack's own clients (tables, the administrator) and its
// functions must agree on every endpoint, and nothing may reach AWS.
func TestLocalStack_Settings(t *testing.T) {
	eps := awstest.LocalEndpoints(t)
	// Another moto_server of the developer's own, as a LocalStack or moto
	// user exports AWS_ENDPOINT_URL for.
	own, err := awstest.StartMoto(0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(own.Stop)
	for _, tc := range []struct {
		name string
		env  map[string]string
		moto string // the emulator the e-mail must be in ("": one the stack started)
	}{
		{"AWS_ENDPOINT_URL alone", map[string]string{"AWS_ENDPOINT_URL": own.Endpoint}, own.Endpoint},
		{"both endpoints", map[string]string{"AWS_ENDPOINT_URL": eps.AWS, "AWS_ENDPOINT_URL_DYNAMODB": eps.DynamoDB}, eps.AWS},
		{"AWS_PROFILE", map[string]string{"AWS_PROFILE": "production-admin", "AWS_CONFIG_FILE": "/no/such/config",
			"AWS_SHARED_CREDENTIALS_FILE": "/no/such/credentials"}, ""},
		{"AWS_REGION", map[string]string{"AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-west-2"}, ""},
		{"real-looking keys", map[string]string{"AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
			"AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "AWS_SESSION_TOKEN": "FwoGZXIvYXdzEXAMPLE"}, ""},
		{"AWS_CA_BUNDLE and another service's endpoint", map[string]string{"AWS_CA_BUNDLE": "/no/such/ca.pem",
			"AWS_ENDPOINT_URL_SQS": "http://127.0.0.1:9"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			awstest.ClearEnv(t)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			admin := "settings-admin-key-0123456789abcdef"
			t.Setenv("ADMIN_KEY", admin)
			t.Setenv("LOCAL_API_ADDR", "127.0.0.1:0")
			t.Setenv("LOCAL_WEBHOOK_ADDR", "127.0.0.1:0")
			t.Setenv("LOCAL_CALLBACKS_ADDR", "127.0.0.1:0")
			t.Setenv("LOCAL_REMOTE_CONTENT_ADDR", "127.0.0.1:0")
			s := launchStack(t, os.Getenv, "-moto-port", "0", "-dynamodb-port", "0")
			if tc.moto != "" && s.endpoint != tc.moto {
				t.Fatalf("the stack uses %s, want the given %s", s.endpoint, tc.moto)
			}
			s.deliverOne(t, admin, strings.NewReplacer(" ", "-", "_", "-").Replace(strings.ToLower(tc.name)))
		})
	}
	t.Run("an AWS endpoint is refused", func(t *testing.T) {
		for _, env := range []map[string]string{{"AWS_ENDPOINT_URL": "https://sqs.eu-south-1.amazonaws.com"},
			{"AWS_ENDPOINT_URL": eps.AWS, "AWS_ENDPOINT_URL_DYNAMODB": "https://dynamodb.eu-south-1.amazonaws.com"}} {
			err := run(t.Context(), []string{"-bin", t.TempDir()}, func(k string) string { return env[k] }, &syncBuffer{})
			if err == nil || !strings.Contains(err.Error(), "AWS itself") {
				t.Errorf("%v: %v, want a refusal", env, err)
			}
		}
	})
}

// deliverOne provisions a service and its key, a test citizen (its address
// counts as validated), sends one message and waits for its e-mail SENT and
// recorded by the stack's SES. A wrong key is a 401, not a 500.
func (s *stack) deliverOne(t *testing.T, admin, tag string) {
	t.Helper()
	s.must(t, 401, "not-a-key-0123456789abcdef", "GET", "/api/v1/info", "")
	svc := "settings-" + tag
	s.must(t, 200, admin, "POST", "/adm/services", fmt.Sprintf(`{"service_id":%q,"service_name":"TARI","organization_name":"Comune di Roma",
		"department_name":"Tributi","organization_fiscal_code":"02438750586","authorized_cidrs":[],"authorized_recipients":[]}`, svc))
	s.must(t, 200, admin, "PUT", "/adm/users/"+svc+"@comune.roma.it/groups", `{"groups":["ApiMessageWrite","ApiMessageRead"]}`)
	key := s.must(t, 200, admin, "PUT", "/adm/users/"+svc+"@comune.roma.it/subscriptions/"+svc, `{"product_name":"IO"}`).body["primary_key"].(string)
	citizen, address := "SETTNG80A01Y000X", tag+"@example.com"
	s.must(t, 200, admin, "POST", "/adm/development-profiles/"+citizen, fmt.Sprintf(`{"email":%q}`, address))
	subject := "Avviso " + tag
	created := s.must(t, 201, key, "POST", "/api/v1/messages/"+citizen, fmt.Sprintf(`{"content":{"subject":%q,"markdown":%q}}`, subject, markdown))
	s.waitFor(t, key, created.header.Get("Location"), func(r reply) bool {
		n, _ := r.body["notification"].(map[string]any)
		return n["email"] == "SENT"
	})
	for _, e := range s.recordedEmails(t) {
		to, _ := e["destinations"].(map[string]any)["ToAddresses"].([]any)
		if e["subject"] == subject && len(to) == 1 && to[0] == address {
			return
		}
	}
	t.Fatalf("e-mail SENT, but %s recorded none to %s", s.endpoint, address)
}
