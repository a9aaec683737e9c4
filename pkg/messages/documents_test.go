package messages_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/digital-citizenship/functions/pkg/auth"
	"github.com/digital-citizenship/functions/pkg/messages"
	"github.com/digital-citizenship/functions/pkg/profiles"
	"github.com/digital-citizenship/functions/pkg/storetest"
)

var pdf = []byte("%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")

func declared(name string, body []byte) messages.Attachment {
	h := sha256.Sum256(body)
	return messages.Attachment{Name: name, ContentType: messages.PDF, Size: int64(len(body)), SHA256: hex.EncodeToString(h[:])}
}

func TestParseNewMessage_Attachments(t *testing.T) {
	body := `{"feature_level_type":"ADVANCED","content":{"subject":"A subject line","markdown":"` + strings.Repeat("x", 80) + `"},
		"attachments":[{"name":"avviso.pdf","content_type":"application/pdf","size":100,"sha256":"` + strings.Repeat("a", 64) + `"},
		{"name":"","content_type":"text/plain","size":0,"sha256":"xyz"}]}`
	_, _, err := messages.ParseNewMessage([]byte(body))
	for _, field := range []string{"attachments.1.name", "attachments.1.content_type", "attachments.1.size", "attachments.1.sha256"} {
		if err == nil || !strings.Contains(err.Error()+detail(err), field) {
			t.Fatalf("%s not named: %v", field, err)
		}
	}
	if strings.Contains(detail(err), "attachments.0") {
		t.Fatalf("a good document refused: %s", detail(err))
	}
	six := strings.Repeat(`{"name":"a.pdf","content_type":"application/pdf","size":1,"sha256":"`+strings.Repeat("a", 64)+`"},`, 6)
	if _, _, err := messages.ParseNewMessage([]byte(`{"content":{"subject":"A subject line","markdown":"` + strings.Repeat("x", 80) + `"},"attachments":[` + six[:len(six)-1] + `]}`)); !strings.Contains(detail(err), "at most 5") {
		t.Fatalf("six documents: %v", err)
	}
}

func detail(err error) string {
	if err == nil {
		return ""
	}
	b, _ := json.Marshal(err)
	return string(b) + err.Error()
}

// documenting is a pipeline whose documents are kept in memory.
type documenting struct {
	*pipeline
	files   *storetest.Files
	created *storetest.Queue
	at      time.Time
}

func newDocumenting(t *testing.T) *documenting {
	d := &documenting{pipeline: newPipeline(), files: &storetest.Files{}, created: &storetest.Queue{}, at: now}
	if err := d.profiles.Create(context.Background(), profiles.Profile{FiscalCode: fc, IsInboxEnabled: true, Email: "citizen@example.com",
		IsEmailValidated: true}, nil); err != nil {
		t.Fatal(err)
	}
	d.proc.Documents, d.proc.Created, d.proc.Now = d.files, d.created, func() time.Time { return d.at }
	return d
}

func (d *documenting) submit(t *testing.T, as ...messages.Attachment) messages.CreatedEvent {
	t.Helper()
	q := &storetest.Queue{}
	c := writer
	c.Groups = []auth.Group{auth.MessageWrite, auth.MessageWriteAdvanced}
	_, err := (messages.Submitter{Store: d.store, Created: q, Now: clock, Documents: d.files}).Submit(context.Background(),
		messages.Submission{Caller: c, Service: svc, FiscalCode: fc, Body: []byte(as[0].Name),
			Message: messages.NewMessage{Content: content, FeatureLevel: messages.Advanced, Attachments: as}})
	if err != nil {
		t.Fatal(err)
	}
	var ev messages.CreatedEvent
	if err := json.Unmarshal(q.Sent[0], &ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

func (d *documenting) upload(t *testing.T, ev messages.CreatedEvent, id string, body []byte) {
	t.Helper()
	if err := d.files.Put(context.Background(), messages.DocumentKey(fc, ev.Message.ID, id), body); err != nil {
		t.Fatal(err)
	}
}

func TestDocuments_ProcessedOnceUploaded(t *testing.T) {
	d := newDocumenting(t)
	a := declared("avviso.pdf", pdf)
	a.ID = "1"
	ev := d.submit(t, a)
	if len(ev.Attachments) != 1 || ev.Attachments[0].ID != "1" {
		t.Fatalf("created event's attachments %+v", ev.Attachments)
	}
	// Not uploaded yet: looked for again, a second later, and still ACCEPTED.
	if err := d.proc.Process(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	if len(d.created.Delays) != 1 || d.created.Delays[0] != time.Second || d.get(t, ev.Message.ID).Status != messages.Accepted {
		t.Fatalf("delays %v, status %s", d.created.Delays, d.get(t, ev.Message.ID).Status)
	}
	var again messages.CreatedEvent
	if err := json.Unmarshal(d.created.Sent[0], &again); err != nil || again.DocumentChecks != 1 {
		t.Fatalf("the event again %+v %v", again, err)
	}
	// requeue-messages leaves it to its checks for the upload window.
	if stale, _ := d.store.Stale(context.Background(), now.Add(59*time.Minute), 10); len(stale) != 0 {
		t.Fatalf("a message waiting for its documents is stale: %+v", stale)
	}
	d.upload(t, ev, "1", pdf)
	if err := d.proc.Process(context.Background(), again); err != nil {
		t.Fatal(err)
	}
	m := d.get(t, ev.Message.ID)
	if m.Status != messages.Processed || len(m.View().Attachments) != 1 {
		t.Fatalf("processed %+v", m.View())
	}
	var mail messages.NotificationEvent
	if err := json.Unmarshal(d.emails.Sent[0], &mail); err != nil || mail.Documents != 1 {
		t.Fatalf("e-mail event %+v %v", mail, err)
	}
	if err := d.notifier.Notify(context.Background(), mail); err != nil {
		t.Fatal(err)
	}
	sent := d.mailer.Sent[0]
	if !strings.Contains(sent.Text, "Un documento di questo messaggio ti aspetta nell'app IO") || len(sent.Attachments) != 0 ||
		strings.Contains(sent.Text, "documents/") || strings.Contains(sent.HTML, "documents/") {
		t.Fatalf("e-mail %q, %d attachments", sent.Text, len(sent.Attachments))
	}
	// The app backend's link; none to a document the message lacks.
	link, err := messages.LinkAttachment(context.Background(), d.files, m, "1", now)
	if err != nil || !strings.Contains(link.DownloadURL, messages.DocumentKey(fc, m.ID, "1")) {
		t.Fatalf("link %+v %v", link, err)
	}
	if _, err := messages.LinkAttachment(context.Background(), d.files, m, "2", now); !errors.Is(err, messages.ErrNoAttachment) {
		t.Fatalf("a missing document: %v", err)
	}
}

func TestDocuments_Refused(t *testing.T) {
	for _, tt := range []struct {
		name, reason string
		body         []byte
	}{
		{"another file", "SHA-256", append([]byte("%PDF-1.7 other"), pdf[14:]...)},
		{"a longer file", "size", append(append([]byte{}, pdf...), 'x')},
		{"not a PDF", "not a PDF", []byte("GIF89a" + string(pdf[6:]))},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := newDocumenting(t)
			a := declared("avviso.pdf", pdf)
			if tt.reason == "not a PDF" {
				a = declared("avviso.pdf", tt.body)
			}
			a.ID = "1"
			ev := d.submit(t, a)
			d.upload(t, ev, "1", tt.body)
			if err := d.proc.Process(context.Background(), ev); err != nil {
				t.Fatal(err)
			}
			v := d.get(t, ev.Message.ID).View()
			if v.Status != messages.Failed || !strings.Contains(v.FailureReason, tt.reason) || len(d.emails.Sent) != 0 {
				t.Fatalf("status %s, reason %q", v.Status, v.FailureReason)
			}
		})
	}
	t.Run("not uploaded within the hour", func(t *testing.T) {
		d := newDocumenting(t)
		a := declared("avviso.pdf", pdf)
		a.ID = "1"
		ev := d.submit(t, a)
		d.at = now.Add(time.Hour)
		if err := d.proc.Process(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
		if v := d.get(t, ev.Message.ID).View(); v.Status != messages.Failed || !strings.Contains(v.FailureReason, "within an hour") {
			t.Fatalf("status %s, reason %q", v.Status, v.FailureReason)
		}
	})
	t.Run("a STANDARD message with documents", func(t *testing.T) {
		s := submission(writer, messages.NewMessage{Content: content, Attachments: []messages.Attachment{declared("a.pdf", pdf)}})
		if err := s.Authorize(); !errors.Is(err, auth.ErrAttachmentsForbidden) {
			t.Fatalf("got %v", err)
		}
	})
}
