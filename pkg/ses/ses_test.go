package ses

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
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
	awstest.MotoData(t, endpoint, &data)
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
	err := m.Send(ctx, e)
	if !errors.Is(err, emails.ErrRejected) {
		t.Fatalf("unverified sender: %v, want a permanent rejection", err)
	}
	if strings.Contains(err.Error(), "@") {
		t.Fatalf("the error names an address (it reaches logs): %v", err)
	}
}

// An e-mail with an attachment goes raw: SES receives a MIME message whose
// parts read back as sent (Go's own MIME reader).
func TestMailer_Attachment(t *testing.T) {
	endpoint := awstest.Endpoint(t)
	c := sesv2.NewFromConfig(awstest.Config(endpoint))
	ctx := context.Background()
	from := "sender-raw-test@io.example.it"
	if _, err := c.CreateEmailIdentity(ctx, &sesv2.CreateEmailIdentityInput{EmailIdentity: &from}); err != nil {
		t.Fatal(err)
	}
	ics := []byte("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n")
	e := emails.Email{From: from, To: "citizen-raw-test@example.com", Subject: "Scadenza: città di Roma", HTML: "<p>È disponibile</p>",
		Text: "È disponibile", Headers: map[string]string{"X-Italia-Messages-MessageId": "01R"},
		Attachments: []emails.Attachment{{Filename: "scadenza.ics", ContentType: "text/calendar; method=PUBLISH", Data: ics}}}
	if err := (Mailer{API: c}).Send(ctx, e); err != nil {
		t.Fatal(err)
	}
	var data struct {
		SES struct {
			RawMessage []struct {
				RawData string `json:"raw_data"`
			}
		} `json:"ses"`
	}
	awstest.MotoData(t, endpoint, &data)
	var got *mail.Message
	for _, r := range data.SES.RawMessage {
		if m, err := mail.ReadMessage(strings.NewReader(r.RawData)); err == nil && m.Header.Get("To") == e.To {
			got = m
		}
	}
	if got == nil {
		t.Fatalf("no raw e-mail recorded: %+v", data.SES.RawMessage)
	}
	if subj, _ := new(mime.WordDecoder).DecodeHeader(got.Header.Get("Subject")); subj != e.Subject || got.Header.Get("X-Italia-Messages-MessageId") != "01R" {
		t.Fatalf("headers %v", got.Header)
	}
	_, params, _ := mime.ParseMediaType(got.Header.Get("Content-Type"))
	parts := multipart.NewReader(got.Body, params["boundary"])
	alt, err := parts.NextPart()
	if err != nil {
		t.Fatal(err)
	}
	_, altParams, _ := mime.ParseMediaType(alt.Header.Get("Content-Type"))
	inner := multipart.NewReader(alt, altParams["boundary"])
	for _, want := range []string{e.Text, e.HTML} {
		p, err := inner.NextPart()
		if err != nil {
			t.Fatal(err)
		}
		if body, _ := io.ReadAll(p); string(body) != want {
			t.Fatalf("part %q, want %q", body, want)
		}
	}
	att, err := parts.NextPart()
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(att)
	body, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(string(raw)), ""))
	if err != nil || string(body) != string(ics) || att.FileName() != "scadenza.ics" {
		t.Fatalf("attachment %q %q %v", att.FileName(), body, err)
	}
}
