package messages_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/digital-citizenship/functions/pkg/auth"
	"github.com/digital-citizenship/functions/pkg/emails"
	"github.com/digital-citizenship/functions/pkg/emails/markdown"
	"github.com/digital-citizenship/functions/pkg/messages"
	"github.com/digital-citizenship/functions/pkg/problem"
	"github.com/digital-citizenship/functions/pkg/profiles"
	"github.com/digital-citizenship/functions/pkg/services"
	"github.com/digital-citizenship/functions/pkg/storetest"
)

const fc = "SPNDNL80R13C555X"

var (
	now     = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	clock   = func() time.Time { return now }
	svc     = services.Service{ServiceID: "svc", ServiceName: "TARI", OrganizationName: "Comune", DepartmentName: "Tributi", OrganizationFiscalCode: "00000000001", MaxAllowedPaymentAmount: 100, Version: 3}
	writer  = auth.Caller{SubscriptionID: "svc", UserID: "u", Groups: []auth.Group{auth.MessageWrite}}
	content = messages.Content{Subject: "A subject line", Markdown: strings.Repeat("# Title\n\nbody ", 10)}
)

func submission(c auth.Caller, nm messages.NewMessage) messages.Submission {
	return messages.Submission{Caller: c, Service: svc, FiscalCode: fc, Message: nm, Body: []byte("b")}
}

func TestSubmission_Authorize(t *testing.T) {
	limited := auth.Caller{SubscriptionID: "svc", UserID: "u", Groups: []auth.Group{auth.LimitedMessageWrite, auth.MessageWrite}}
	reader := auth.Caller{SubscriptionID: "svc", UserID: "u", Groups: []auth.Group{auth.MessageRead}}
	withDefault := messages.NewMessage{Content: content, HasDefaultAddresses: true, DefaultEmail: "a@b.it"}
	pay := func(n int64) messages.NewMessage {
		return messages.NewMessage{Content: messages.Content{PaymentData: &messages.PaymentData{Amount: n}}}
	}
	tests := []struct {
		name string
		s    messages.Submission
		want error
		kind problem.Kind
	}{
		{"limited caller, unauthorised recipient", submission(limited, messages.NewMessage{}), auth.ErrRecipientForbidden, problem.Forbidden},
		{"no write group", submission(reader, messages.NewMessage{}), auth.ErrProductionForbidden, problem.Forbidden},
		{"default addresses without group", submission(writer, withDefault), auth.ErrDefaultAddressesForbidden, problem.Forbidden},
		{"amount at maximum", submission(writer, pay(100)), nil, 0},
		{"amount above maximum", submission(writer, pay(101)), nil, problem.Invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.s.Authorize()
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if tt.kind == 0 && tt.want == nil && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if tt.kind == problem.Invalid {
				p := problem.As(err)
				if p.Title != "Error while sending payment metadata" ||
					p.Detail != "The requested amount (101 cents) exceeds the maximum allowed for this service (100 cents)" {
					t.Fatalf("got %+v", p)
				}
			}
		})
	}
	ok := limited
	s := submission(ok, messages.NewMessage{})
	s.Service.AuthorizedRecipients = []string{fc}
	if err := s.Authorize(); err != nil {
		t.Fatalf("authorised recipient refused: %v", err)
	}
}

func TestSubmit_StoresAndQueues(t *testing.T) {
	st, q := &storetest.Messages{}, &storetest.Queue{}
	u := messages.Submitter{Store: st, Created: q, Now: clock}
	nm := messages.NewMessage{TimeToLive: 7200, Content: content, DefaultEmail: "d@b.it"}
	res, err := u.Submit(context.Background(), submission(writer, nm))
	id := res.ID
	if err != nil {
		t.Fatal(err)
	}
	m, err := st.Get(context.Background(), fc, id)
	if err != nil || m.Status != messages.Accepted || !m.Pending || m.Content.Subject != content.Subject || m.SenderServiceID != "svc" {
		t.Fatalf("stored %+v %v", m, err)
	}
	var ev messages.CreatedEvent
	if len(q.Sent) != 1 || json.Unmarshal(q.Sent[0], &ev) != nil {
		t.Fatalf("queued %s", q.Sent)
	}
	if ev.Message.ID != id || ev.ServiceVersion != 3 || ev.Content.Subject != content.Subject ||
		ev.DefaultAddresses.Email != "d@b.it" || ev.SenderMetadata.ServiceName != "TARI" || ev.Message.TimeToLiveSeconds != 7200 {
		t.Fatalf("event %+v", ev)
	}
}

func TestSubmit_Idempotency(t *testing.T) {
	st, q := &storetest.Messages{}, &storetest.Queue{}
	u := messages.Submitter{Store: st, Created: q, Now: clock}
	s := submission(writer, messages.NewMessage{Content: content})
	s.IdempotencyKey = "retry-1"
	res, err := u.Submit(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	first := res.ID
	// A replay while the message is still ACCEPTED queues its event again:
	// the first attempt may have failed to queue it and to undo the key.
	res, err = u.Submit(context.Background(), s)
	if again := res.ID; err != nil || again != first || len(q.Sent) != 2 || !bytes.Equal(q.Sent[0], q.Sent[1]) {
		t.Fatalf("replay: id %s (first %s), err %v, %d events", res.ID, first, err, len(q.Sent))
	}
	// Once processed, a replay only answers the id.
	if err := st.SetStatus(context.Background(), fc, first, messages.Rejected, messages.ReasonNoProfile, clock()); err != nil {
		t.Fatal(err)
	}
	if res, err = u.Submit(context.Background(), s); err != nil || res.ID != first || len(q.Sent) != 2 {
		t.Fatalf("replay after processing: id %s, err %v, %d events", res.ID, err, len(q.Sent))
	}
	s.Body = []byte("another body")
	_, err = u.Submit(context.Background(), s)
	if p := problem.As(err); p.Kind != problem.Unprocessable || problem.Status(p.Kind) != 422 {
		t.Fatalf("other body: %+v", p)
	}
}

func TestSubmit_QueueDownFailsTheMessage(t *testing.T) {
	st := &storetest.Messages{}
	q := &storetest.Queue{Err: errors.New("sqs down")}
	u := messages.Submitter{Store: st, Created: q, Now: clock}
	s := submission(writer, messages.NewMessage{Content: content})
	s.IdempotencyKey = "k"
	_, err := u.Submit(context.Background(), s)
	if problem.KindOf(err) != problem.Unavailable {
		t.Fatalf("got %v", err)
	}
	// The retry with the same key creates and queues a new message.
	q.Err = nil
	res, err := u.Submit(context.Background(), s)
	id := res.ID
	if err != nil || len(q.Sent) != 1 {
		t.Fatalf("retry: %v, %d queued", err, len(q.Sent))
	}
	if m, _ := st.Get(context.Background(), fc, id); m.Status != messages.Accepted {
		t.Fatalf("retried message %s", m.Status)
	}
}

type pipeline struct {
	profiles                 *storetest.Profiles
	installations            *storetest.Installations
	store                    *storetest.Messages
	emails, pushes, webhooks *storetest.Queue
	mailer                   *storetest.Mailer
	proc                     messages.Processor
	notifier                 messages.Dispatcher
}

func newPipeline() *pipeline {
	inst := &storetest.Installations{}
	p := &pipeline{profiles: &storetest.Profiles{Installations: inst}, installations: inst, store: &storetest.Messages{},
		emails: &storetest.Queue{}, pushes: &storetest.Queue{}, webhooks: &storetest.Queue{}, mailer: &storetest.Mailer{}}
	p.proc = messages.Processor{Profiles: p.profiles, Store: p.store, Emails: p.emails, Pushes: p.pushes, Webhooks: p.webhooks,
		Webhook: true, Now: clock}
	p.notifier = messages.Dispatcher{Channel: messages.Email, Store: p.store, Now: clock,
		Sender: messages.EmailSender{Mailer: p.mailer, Render: markdown.Render, From: "noreply@io.it"}}
	return p
}

// submit stores a message and returns its created event.
func (p *pipeline) submit(t *testing.T, nm messages.NewMessage) messages.CreatedEvent {
	t.Helper()
	q := &storetest.Queue{}
	if _, err := (messages.Submitter{Store: p.store, Created: q, Now: clock}).Submit(context.Background(), submission(writer, nm)); err != nil {
		t.Fatal(err)
	}
	var ev messages.CreatedEvent
	if err := json.Unmarshal(q.Sent[0], &ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

func (p *pipeline) get(t *testing.T, id string) messages.Message {
	t.Helper()
	m, err := p.store.Get(context.Background(), fc, id)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestProcess_Rejections(t *testing.T) {
	tests := []struct {
		name    string
		profile *profiles.Profile
		prefs   profiles.Preferences
		reason  string
	}{
		{"no profile", nil, nil, messages.ReasonNoProfile},
		{"inbox disabled", &profiles.Profile{FiscalCode: fc, Email: "a@b.it", IsEmailValidated: true}, nil, messages.ReasonInboxDisabled},
		{"sender blocked", &profiles.Profile{FiscalCode: fc, IsInboxEnabled: true, BlockedInboxOrChannels: map[string][]string{"svc": {"INBOX"}}}, nil, messages.ReasonSenderBlocked},
		{"MANUAL without a preference", &profiles.Profile{FiscalCode: fc, IsInboxEnabled: true, Settings: profiles.Settings{Mode: profiles.Manual}},
			profiles.Preferences{"other": {IsInboxEnabled: true}}, messages.ReasonSenderBlocked},
		{"AUTO with the inbox switched off", &profiles.Profile{FiscalCode: fc, IsInboxEnabled: true, Settings: profiles.Settings{Mode: profiles.Auto, Version: 3}},
			profiles.Preferences{"svc": {IsInboxEnabled: false}}, messages.ReasonSenderBlocked},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPipeline()
			if tt.profile != nil {
				_ = p.profiles.Create(context.Background(), *tt.profile, tt.prefs)
			}
			ev := p.submit(t, messages.NewMessage{Content: content})
			if err := p.proc.Process(context.Background(), ev); err != nil {
				t.Fatal(err)
			}
			m := p.get(t, ev.Message.ID)
			if m.Status != messages.Rejected || m.RejectionReason != tt.reason || !m.Pending || len(p.emails.Sent) != 0 {
				t.Fatalf("message %+v", m)
			}
			if v := m.View(); v.RejectionReason != messages.RejectionCode(tt.reason) || v.RejectionDetail != tt.reason {
				t.Fatalf("view %+v", v)
			}
		})
	}
}

// The platform's own messages (welcome, data downloads) reach a citizen
// whose preferences would stop any other service.
func TestProcess_PlatformIgnoresPreferences(t *testing.T) {
	p := newPipeline()
	p.proc.Platform = "svc" // the submitting service stands for the platform
	_ = p.profiles.Create(context.Background(), profiles.Profile{FiscalCode: fc, IsInboxEnabled: true, Email: "a@b.it", IsEmailValidated: true,
		Settings: profiles.Settings{Mode: profiles.Manual}}, profiles.Preferences{})
	ev := p.submit(t, messages.NewMessage{Content: content})
	if err := p.proc.Process(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	if m := p.get(t, ev.Message.ID); m.Status != messages.Processed || len(p.emails.Sent) != 1 {
		t.Fatalf("platform message %+v, %d e-mails", m, len(p.emails.Sent))
	}
}

func TestProcess_EmailChannel(t *testing.T) {
	tests := []struct {
		name       string
		email      string
		blocked    []string
		defaultTo  string
		wantTo     string
		wantSource string
	}{
		{"profile address", "p@b.it", nil, "d@b.it", "p@b.it", messages.ProfileAddress},
		{"profile address not validated, no default", "n@b.it", nil, "", "", ""},
		{"profile address not validated, default", "n@b.it", nil, "d@b.it", "d@b.it", messages.DefaultAddress},
		{"default address", "", nil, "d@b.it", "d@b.it", messages.DefaultAddress},
		{"e-mail blocked", "p@b.it", []string{"EMAIL"}, "", "", ""},
		{"no address", "", nil, "", "", ""},
		{"e-mail switched off in the preference", "p@b.it", nil, "d@b.it", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPipeline()
			prof := profiles.Profile{FiscalCode: fc, Email: tt.email, IsInboxEnabled: true,
				IsEmailValidated: !strings.Contains(tt.name, "not validated"), BlockedInboxOrChannels: map[string][]string{"svc": tt.blocked}}
			var prefs profiles.Preferences
			if strings.Contains(tt.name, "preference") {
				prof.Settings = profiles.Settings{Mode: profiles.Manual}
				prefs = profiles.Preferences{"svc": {IsInboxEnabled: true}}
			}
			_ = p.profiles.Create(context.Background(), prof, prefs)
			ev := p.submit(t, messages.NewMessage{Content: content, DefaultEmail: tt.defaultTo})
			if err := p.proc.Process(context.Background(), ev); err != nil {
				t.Fatal(err)
			}
			m := p.get(t, ev.Message.ID)
			if m.Status != messages.Processed || m.Pending || m.Content.Subject != content.Subject {
				t.Fatalf("message %+v", m)
			}
			if sender, ok := p.store.Sender(fc, "svc"); !ok || sender.ServiceVersion != 3 {
				t.Fatalf("sender service %+v %v", sender, ok)
			}
			if tt.wantTo == "" {
				if len(p.emails.Sent) != 0 || len(m.Channels) != 0 {
					t.Fatalf("e-mail queued: %s", p.emails.Sent)
				}
				return
			}
			var ee messages.NotificationEvent
			if len(p.emails.Sent) != 1 || json.Unmarshal(p.emails.Sent[0], &ee) != nil || ee.ToAddress != tt.wantTo || ee.AddressSource != tt.wantSource {
				t.Fatalf("e-mail event %s", p.emails.Sent)
			}
		})
	}
}

func TestProcess_TransientFailureThrottles(t *testing.T) {
	p := newPipeline()
	ev := p.submit(t, messages.NewMessage{Content: content})
	p.profiles.Err = errors.New("dynamodb down")
	if err := p.proc.Process(context.Background(), ev); err == nil {
		t.Fatal("a failing dependency must ask for a retry")
	}
	if m := p.get(t, ev.Message.ID); m.Status != messages.Throttled {
		t.Fatalf("status %s", m.Status)
	}
	p.profiles.Err = nil
	_ = p.profiles.Create(context.Background(), profiles.Profile{FiscalCode: fc, IsInboxEnabled: true, Email: "a@b.it", IsEmailValidated: true}, nil)
	if err := p.proc.Process(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	if m := p.get(t, ev.Message.ID); m.Status != messages.Processed {
		t.Fatalf("retry: status %s", m.Status)
	}
	if err := p.proc.Fail(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	if m := p.get(t, ev.Message.ID); m.Status != messages.Processed {
		t.Fatalf("a dead letter must not undo a final status: %s", m.Status)
	}
}

func TestProcess_DeadLetterFails(t *testing.T) {
	p := newPipeline()
	ev := p.submit(t, messages.NewMessage{Content: content})
	if err := p.proc.Fail(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	if m := p.get(t, ev.Message.ID); m.Status != messages.Failed {
		t.Fatalf("status %s", m.Status)
	}
}

func processed(t *testing.T, p *pipeline) messages.NotificationEvent {
	t.Helper()
	_ = p.profiles.Create(context.Background(), profiles.Profile{FiscalCode: fc, IsInboxEnabled: true, Email: "a@b.it", IsEmailValidated: true}, nil)
	ev := p.submit(t, messages.NewMessage{TimeToLive: 3600, Content: content})
	if err := p.proc.Process(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	var ee messages.NotificationEvent
	if err := json.Unmarshal(p.emails.Sent[0], &ee); err != nil {
		t.Fatal(err)
	}
	return ee
}

func TestNotify_SendsOnce(t *testing.T) {
	p := newPipeline()
	ee := processed(t, p)
	for range 2 { // the second is a redelivery
		if err := p.notifier.Notify(context.Background(), ee); err != nil {
			t.Fatal(err)
		}
	}
	if len(p.mailer.Sent) != 1 {
		t.Fatalf("%d e-mails sent, want 1", len(p.mailer.Sent))
	}
	e := p.mailer.Sent[0]
	if e.To != "a@b.it" || e.From != "noreply@io.it" || e.Subject != content.Subject || !strings.Contains(e.HTML, "<h1>Title</h1>") ||
		e.Headers["X-Italia-Messages-MessageId"] != ee.Message.ID {
		t.Fatalf("e-mail %+v", e)
	}
	if m := p.get(t, ee.Message.ID); m.View().Notification["email"] != "SENT" {
		t.Fatalf("view %+v", m.View())
	}
}

func TestNotify_Outcomes(t *testing.T) {
	tests := []struct {
		name      string
		mailErr   error
		late      time.Duration
		wantRetry bool
		want      messages.ChannelStatus
	}{
		{"transient failure", errors.New("throttling"), 0, true, messages.ChannelThrottled},
		{"rejected by provider", emails.ErrRejected, 0, false, messages.ChannelFailed},
		{"expired", nil, 2 * time.Hour, false, messages.ChannelExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPipeline()
			ee := processed(t, p)
			p.mailer.Err = tt.mailErr
			p.notifier.Now = func() time.Time { return now.Add(tt.late) }
			err := p.notifier.Notify(context.Background(), ee)
			if (err != nil) != tt.wantRetry {
				t.Fatalf("err %v, want retry %v", err, tt.wantRetry)
			}
			if got := p.get(t, ee.Message.ID).Channels[messages.Email].Status; got != tt.want {
				t.Fatalf("channel %s, want %s", got, tt.want)
			}
		})
	}
}
