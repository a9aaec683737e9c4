package ses

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/digital-citizenship/functions/pkg/awstest"
	"github.com/digital-citizenship/functions/pkg/emails"
)

func TestMain(m *testing.M) { awstest.Main(m) }

func TestMailer(t *testing.T) {
	endpoint := awstest.Endpoint(t)
	c := sesv2.NewFromConfig(awstest.Config(endpoint))
	ctx := context.Background()
	from := "sender-test@io.example.it"
	if _, err := c.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: &from}); err != nil {
		t.Fatal(err)
	}
	m := Mailer{API: c}
	e := emails.Email{From: from, To: "citizen-ses-test@example.com", Subject: "Subject of the test", HTML: "<p>hi</p>", Text: "hi",
		Headers: map[string]string{"X-Italia-Messages-MessageId": "01M"}}
	if err := m.Send(ctx, e); err != nil {
		t.Fatal(err)
	}
	res, err := http.Get(endpoint + "/moto-api/data.json")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var data struct {
		SES struct {
			Message []struct {
				Subject      string
				Body         string
				Source       string
				Destinations struct{ ToAddresses []string }
			}
		} `json:"ses"`
	}
	if err := json.NewDecoder(res.Body).Decode(&data); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, msg := range data.SES.Message {
		if msg.Subject == e.Subject && msg.Source == from && msg.Destinations.ToAddresses[0] == e.To && msg.Body == e.HTML {
			found = true
		}
	}
	if !found {
		t.Fatalf("the emulator recorded no such e-mail: %+v", data.SES.Message)
	}

	e.From = "unverified@nowhere.example.org"
	err = m.Send(ctx, e)
	if !errors.Is(err, emails.ErrRejected) {
		t.Fatalf("unverified sender: %v, want a permanent rejection", err)
	}
	if strings.Contains(err.Error(), "@") {
		t.Fatalf("the error names an address (it reaches logs): %v", err)
	}
}
