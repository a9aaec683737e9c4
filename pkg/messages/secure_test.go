package messages_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/digital-citizenship/functions/pkg/messages"
	"github.com/digital-citizenship/functions/pkg/profiles"
	"github.com/digital-citizenship/functions/pkg/storetest"
)

// TestProcess_SecureChannels: a message that requires secure channels, by
// its own content or by its service's default, sends no e-mail (its
// e-mail channel SKIPPED, with why, not FAILED), its push shows a generic
// text in the citizen's language without the subject, and its webhook is
// as any message's.
func TestProcess_SecureChannels(t *testing.T) {
	prof := profiles.Profile{FiscalCode: fc, Email: "a@b.it", IsEmailValidated: true, IsInboxEnabled: true,
		IsWebhookEnabled: true, PreferredLanguages: []string{"en_GB"}}
	secure := content
	secure.RequireSecureChannels = true
	for name, submit := range map[string]func(p *pipeline) messages.CreatedEvent{
		"the message's": func(p *pipeline) messages.CreatedEvent {
			return p.submit(t, messages.NewMessage{TimeToLive: 3600, Content: secure})
		},
		"the service's default": func(p *pipeline) messages.CreatedEvent {
			q := &storetest.Queue{}
			s := submission(writer, messages.NewMessage{TimeToLive: 3600, Content: content})
			s.Service.RequireSecureChannels = true
			if _, err := (messages.Submitter{Store: p.store, Created: q, Now: clock}).Submit(context.Background(), s); err != nil {
				t.Fatal(err)
			}
			var ev messages.CreatedEvent
			if err := json.Unmarshal(q.Sent[0], &ev); err != nil {
				t.Fatal(err)
			}
			return ev
		},
	} {
		t.Run(name, func(t *testing.T) {
			p := newPipeline()
			register(t, p, "d1")
			if err := p.profiles.Create(context.Background(), prof, nil); err != nil {
				t.Fatal(err)
			}
			ev := submit(p)
			if !ev.Content.RequireSecureChannels {
				t.Fatalf("the created event does not require secure channels: %+v", ev.Content)
			}
			if err := p.proc.Process(context.Background(), ev); err != nil {
				t.Fatal(err)
			}
			if len(p.emails.Sent) != 0 || len(p.pushes.Sent) != 1 || len(p.webhooks.Sent) != 1 {
				t.Fatalf("queued %d e-mails, %d pushes, %d webhooks", len(p.emails.Sent), len(p.pushes.Sent), len(p.webhooks.Sent))
			}
			v := p.get(t, ev.Message.ID).View()
			if v.Notification["email"] != string(messages.ChannelSkipped) || v.Skipped["email"] != messages.ReasonSecureChannels || v.Failures["email"] != "" {
				t.Fatalf("e-mail channel %v, skipped %v, failures %v", v.Notification, v.Skipped, v.Failures)
			}
			var push messages.NotificationEvent
			if err := json.Unmarshal(p.pushes.Sent[0], &push); err != nil {
				t.Fatal(err)
			}
			pub := &publisher{}
			if err := pushDispatcher(p, pub).Notify(context.Background(), push); err != nil {
				t.Fatal(err)
			}
			if s := pub.sent["arn:d1"][0]; strings.Contains(s, content.Subject) || !strings.Contains(s, "You have a new message.") {
				t.Fatalf("the push of a secure message: %s", s)
			}
		})
	}
}

// TestParseNewMessage_RequireSecureChannels: a boolean, false when absent.
func TestParseNewMessage_RequireSecureChannels(t *testing.T) {
	body := func(v string) []byte {
		return []byte(`{"content":{"subject":"A subject line","markdown":"` + strings.Repeat("x", 80) + `"` + v + `}}`)
	}
	for v, want := range map[string]bool{"": false, `,"require_secure_channels":false`: false, `,"require_secure_channels":true`: true} {
		nm, _, err := messages.ParseNewMessage(body(v))
		if err != nil || nm.Content.RequireSecureChannels != want {
			t.Errorf("%q: %v (%v), want %v", v, nm.Content.RequireSecureChannels, err, want)
		}
	}
	if _, _, err := messages.ParseNewMessage(body(`,"require_secure_channels":"yes"`)); err == nil {
		t.Error("a string is taken for a boolean")
	}
}
