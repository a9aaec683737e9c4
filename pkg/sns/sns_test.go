package sns

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/digital-citizenship/functions/pkg/awstest"
	"github.com/digital-citizenship/functions/pkg/push"
)

func TestMain(m *testing.M) { awstest.Main(m) }

// TestPush runs the adapter against the emulator's SNS, through the SDK: an
// endpoint per token, the same for the same token, re-enabled when its
// device registers again; publishing to a disabled or deleted endpoint is
// ErrGone.
func TestPush(t *testing.T) {
	ctx := context.Background()
	c := sns.NewFromConfig(awstest.Config(awstest.Endpoint(t)))
	app, err := c.CreatePlatformApplication(ctx, &sns.CreatePlatformApplicationInput{Name: aws.String("sns-test-apns"), Platform: aws.String("APNS"),
		Attributes: map[string]string{"PlatformCredential": "k", "PlatformPrincipal": "c"}})
	if err != nil {
		t.Fatal(err)
	}
	p := Push{API: c, Applications: map[string]string{push.APNS: aws.ToString(app.PlatformApplicationArn)}}
	token := strings.Repeat("0f", 32)
	arn, err := p.Create(ctx, push.APNS, token)
	if err != nil {
		t.Fatal(err)
	}
	again, err := p.Create(ctx, push.APNS, token)
	if err != nil || again != arn {
		t.Fatalf("same token: %q %v, want %q", again, err, arn)
	}
	payload := `{"default":"x","APNS":"{\"aps\":{\"alert\":\"x\"}}"}`
	if err := p.Publish(ctx, arn, payload); err != nil {
		t.Fatal(err)
	}
	// APNs refused the token: SNS disabled the endpoint.
	if _, err := c.SetEndpointAttributes(ctx, &sns.SetEndpointAttributesInput{EndpointArn: &arn, Attributes: map[string]string{"Enabled": "false"}}); err != nil {
		t.Fatal(err)
	}
	if err := p.Publish(ctx, arn, payload); !errors.Is(err, push.ErrGone) {
		t.Fatalf("publish to a disabled endpoint: %v, want ErrGone", err)
	}
	// The device registers again: its endpoint is enabled again.
	if again, err = p.Create(ctx, push.APNS, token); err != nil || again != arn {
		t.Fatalf("registered again: %q %v", again, err)
	}
	if err := p.Publish(ctx, arn, payload); err != nil {
		t.Fatalf("publish after registering again: %v", err)
	}
	if err := p.Delete(ctx, arn); err != nil {
		t.Fatal(err)
	}
	if err := p.Delete(ctx, arn); err != nil {
		t.Fatalf("deleting twice: %v", err)
	}
	if err := p.Publish(ctx, arn, payload); !errors.Is(err, push.ErrGone) {
		t.Fatalf("publish to a deleted endpoint: %v, want ErrGone", err)
	}
	// A platform without an application is the client's mistake.
	if _, err := p.Create(ctx, push.FCM, "t"); !errors.Is(err, push.ErrRefused) {
		t.Fatalf("platform without application: %v, want ErrRefused", err)
	}
}
