package messages_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/digital-citizenship/functions/pkg/messages"
	"github.com/digital-citizenship/functions/pkg/profiles"
	"github.com/digital-citizenship/functions/pkg/push"
)

// publisher is a fake push.Publisher: endpoints in gone are disabled, in
// failing answer a transient error.
type publisher struct {
	mu      sync.Mutex
	sent    map[string][]string // endpoint -> payloads
	gone    map[string]bool
	failing map[string]bool
}

func (p *publisher) Publish(_ context.Context, arn, payload string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.gone[arn]:
		return push.ErrGone
	case p.failing[arn]:
		return errors.New("sns throttled")
	}
	if p.sent == nil {
		p.sent = map[string][]string{}
	}
	p.sent[arn] = append(p.sent[arn], payload)
	return nil
}

func register(t *testing.T, p *pipeline, ids ...string) {
	t.Helper()
	for _, id := range ids {
		if err := p.installations.Put(context.Background(), push.Installation{ID: id, FiscalCode: fc, Platform: push.APNS, EndpointARN: "arn:" + id}, nil); err != nil {
			t.Fatal(err)
		}
	}
}

// queued processes a message for the profile and returns the events queued
// on each channel.
func queued(t *testing.T, p *pipeline, prof profiles.Profile) (m messages.Message, email, pushes, hooks []messages.NotificationEvent) {
	t.Helper()
	prof.FiscalCode = fc
	if err := p.profiles.Create(context.Background(), prof, nil); err != nil {
		t.Fatal(err)
	}
	ev := p.submit(t, messages.NewMessage{TimeToLive: 3600, Content: content})
	if err := p.proc.Process(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	decode := func(q [][]byte) (out []messages.NotificationEvent) {
		for _, b := range q {
			var e messages.NotificationEvent
			if err := json.Unmarshal(b, &e); err != nil || !e.Valid() {
				t.Fatalf("event %s: %v", b, err)
			}
			out = append(out, e)
		}
		return out
	}
	return p.get(t, ev.Message.ID), decode(p.emails.Sent), decode(p.pushes.Sent), decode(p.webhooks.Sent)
}

func TestProcess_ChannelsChosen(t *testing.T) {
	tests := []struct {
		name              string
		prof              profiles.Profile
		devices           int
		webhookURL        bool
		email, push, hook int
		channels          string
	}{
		{"every channel", profiles.Profile{Email: "a@b.it", IsEmailValidated: true, IsInboxEnabled: true, IsWebhookEnabled: true}, 2, true, 1, 1, 1, "EMAIL PUSH WEBHOOK"},
		{"no devices, webhook off", profiles.Profile{Email: "a@b.it", IsEmailValidated: true, IsInboxEnabled: true}, 0, true, 1, 0, 0, "EMAIL"},
		{"webhook blocked for the sender", profiles.Profile{IsInboxEnabled: true, IsWebhookEnabled: true,
			BlockedInboxOrChannels: map[string][]string{"svc": {"WEBHOOK"}}}, 1, true, 0, 1, 0, "PUSH"},
		{"no webhook URL configured", profiles.Profile{IsInboxEnabled: true, IsWebhookEnabled: true}, 0, false, 0, 0, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPipeline()
			p.proc.Webhook = tt.webhookURL
			for i := range tt.devices {
				register(t, p, "dev"+string(rune('a'+i)))
			}
			m, e, ps, hs := queued(t, p, tt.prof)
			if len(e) != tt.email || len(ps) != tt.push || len(hs) != tt.hook {
				t.Fatalf("queued e-mail %d, push %d, webhook %d", len(e), len(ps), len(hs))
			}
			var chans []string
			for _, c := range []string{messages.Email, messages.Push, messages.Webhook} {
				if _, ok := m.Channels[c]; ok {
					chans = append(chans, c)
				}
			}
			if strings.Join(chans, " ") != tt.channels {
				t.Fatalf("channels %v, want %s", chans, tt.channels)
			}
			if len(ps) == 1 && len(ps[0].Devices) != tt.devices {
				t.Fatalf("push event devices %+v", ps[0].Devices)
			}
		})
	}
}

func TestProcess_UndeliverableAddressFailsAtOnce(t *testing.T) {
	p := newPipeline()
	_ = p.profiles.MarkUndeliverable(context.Background(), fc, "A@b.it", "hard bounce", now)
	m, e, _, _ := queued(t, p, profiles.Profile{Email: "a@b.it", IsEmailValidated: true, IsInboxEnabled: true})
	if len(e) != 0 || m.Channels[messages.Email].Status != messages.ChannelFailed || m.Channels[messages.Email].Reason != messages.ReasonUndeliverable("hard bounce") {
		t.Fatalf("e-mail queued %d, channel %+v", len(e), m.Channels[messages.Email])
	}
	// A new address is used again.
	m, e, _, _ = queued(t, p, profiles.Profile{Email: "new@b.it", IsEmailValidated: true, IsInboxEnabled: true, Version: 1})
	if len(e) != 1 || e[0].ToAddress != "new@b.it" || m.Channels[messages.Email].Status != "" {
		t.Fatalf("after the change: queued %+v, channel %+v", e, m.Channels[messages.Email])
	}
}

func pushDispatcher(p *pipeline, pub *publisher) messages.Dispatcher {
	return messages.Dispatcher{Channel: messages.Push, Store: p.store, Now: clock,
		Sender: messages.PushSender{Publisher: pub, Installations: p.installations}}
}

func TestPush_EveryDeviceOnceAndGoneDevicesRemoved(t *testing.T) {
	p := newPipeline()
	register(t, p, "d1", "d2", "d3")
	_, _, ps, _ := queued(t, p, profiles.Profile{IsInboxEnabled: true, PreferredLanguages: []string{"en_GB"}})
	pub := &publisher{gone: map[string]bool{"arn:d3": true}, failing: map[string]bool{"arn:d2": true}}
	d := pushDispatcher(p, pub)
	// d2 fails for now: d1 is recorded, the channel is THROTTLED.
	if err := d.Notify(context.Background(), ps[0]); err == nil {
		t.Fatal("a transient failure must ask for a retry")
	}
	m := p.get(t, ps[0].Message.ID)
	if m.Channels[messages.Push].Status != messages.ChannelThrottled {
		t.Fatalf("channel %+v", m.Channels[messages.Push])
	}
	if _, err := p.installations.Installation(context.Background(), "d3"); err == nil {
		t.Fatal("a disabled endpoint's installation must be removed")
	}
	// The retry sends to d2 only; the redelivery after SENT sends nothing.
	pub.failing = nil
	for range 2 {
		if err := d.Notify(context.Background(), ps[0]); err != nil {
			t.Fatal(err)
		}
	}
	if len(pub.sent["arn:d1"]) != 1 || len(pub.sent["arn:d2"]) != 1 || len(pub.sent["arn:d3"]) != 0 {
		t.Fatalf("sent %v", pub.sent)
	}
	if m := p.get(t, ps[0].Message.ID); m.View().Notification["push"] != "SENT" {
		t.Fatalf("view %+v", m.View())
	}
	var doc map[string]string
	if err := json.Unmarshal([]byte(pub.sent["arn:d1"][0]), &doc); err != nil {
		t.Fatal(err)
	}
	var apns struct {
		Aps struct {
			Alert struct{ Title, Body string } `json:"alert"`
		} `json:"aps"`
		MessageID string `json:"message_id"`
	}
	var fcm struct {
		FcmV1Message struct {
			Message struct {
				Notification struct{ Title, Body string } `json:"notification"`
				Data         map[string]string            `json:"data"`
			} `json:"message"`
		} `json:"fcmV1Message"`
	}
	if json.Unmarshal([]byte(doc["APNS"]), &apns) != nil || json.Unmarshal([]byte(doc["GCM"]), &fcm) != nil ||
		apns.Aps.Alert.Title != "TARI - Comune" || apns.Aps.Alert.Body != content.Subject || apns.MessageID != ps[0].Message.ID ||
		fcm.FcmV1Message.Message.Notification.Body != content.Subject || fcm.FcmV1Message.Message.Data["message_id"] != ps[0].Message.ID {
		t.Fatalf("payload %s", pub.sent["arn:d1"][0])
	}
}

func TestPush_AnonymousAndNoDeviceLeft(t *testing.T) {
	p := newPipeline()
	register(t, p, "d1")
	_, _, ps, _ := queued(t, p, profiles.Profile{IsInboxEnabled: true, PushContent: profiles.PushAnonymous, PreferredLanguages: []string{"en_GB"}})
	pub := &publisher{}
	if err := pushDispatcher(p, pub).Notify(context.Background(), ps[0]); err != nil {
		t.Fatal(err)
	}
	if s := pub.sent["arn:d1"][0]; strings.Contains(s, content.Subject) || !strings.Contains(s, "You have a new message.") {
		t.Fatalf("anonymous payload %s", s)
	}
	p2 := newPipeline()
	register(t, p2, "d1")
	_, _, ps, _ = queued(t, p2, profiles.Profile{IsInboxEnabled: true})
	if err := pushDispatcher(p2, &publisher{gone: map[string]bool{"arn:d1": true}}).Notify(context.Background(), ps[0]); err != nil {
		t.Fatal(err)
	}
	if c := p2.get(t, ps[0].Message.ID).Channels[messages.Push]; c.Status != messages.ChannelFailed || c.Reason == "" {
		t.Fatalf("no device left: %+v", c)
	}
}

func TestDispatcher_ConcurrentAttemptWaits(t *testing.T) {
	p := newPipeline()
	ee := processed(t, p)
	if _, err := p.store.ClaimChannel(context.Background(), fc, ee.Message.ID, messages.Email, now, messages.DefaultLease); err != nil {
		t.Fatal(err)
	}
	if err := p.notifier.Notify(context.Background(), ee); !errors.Is(err, messages.ErrClaimed) || len(p.mailer.Sent) != 0 {
		t.Fatalf("while claimed: %v, %d sent", err, len(p.mailer.Sent))
	}
	p.notifier.Now = func() time.Time { return now.Add(messages.DefaultLease + time.Second) }
	if err := p.notifier.Notify(context.Background(), ee); err != nil || len(p.mailer.Sent) != 1 {
		t.Fatalf("after the lease: %v, %d sent", err, len(p.mailer.Sent))
	}
}

func TestWebhook_Outcomes(t *testing.T) {
	var mu sync.Mutex
	var got []map[string]any
	answer := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		_ = json.NewDecoder(r.Body).Decode(&body)
		mu.Lock()
		got = append(got, body)
		a := answer
		mu.Unlock()
		if a == 0 {
			time.Sleep(300 * time.Millisecond) // hangs past the client's timeout
			return
		}
		w.WriteHeader(a)
	}))
	defer srv.Close()
	refused := func() string { // a port nobody listens on
		l, _ := net.Listen("tcp", "127.0.0.1:0")
		defer l.Close()
		return "http://" + l.Addr().String() + "/notify?token=secret"
	}()
	tests := []struct {
		name      string
		url       string
		answer    int
		wantRetry bool
		want      messages.ChannelStatus
	}{
		{"2xx", srv.URL + "/notify?token=secret", 200, false, messages.ChannelSent},
		{"5xx", srv.URL + "/notify?token=secret", 500, true, messages.ChannelThrottled},
		{"429", srv.URL + "/notify?token=secret", 429, true, messages.ChannelThrottled},
		{"4xx", srv.URL + "/notify?token=secret", 404, false, messages.ChannelFailed},
		{"timeout", srv.URL + "/notify?token=secret", 0, true, messages.ChannelThrottled},
		{"refused", refused, 200, true, messages.ChannelThrottled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			answer, got = tt.answer, nil
			mu.Unlock()
			p := newPipeline()
			_, _, _, hs := queued(t, p, profiles.Profile{IsInboxEnabled: true, IsWebhookEnabled: true})
			d := messages.Dispatcher{Channel: messages.Webhook, Store: p.store, Now: clock,
				Sender: messages.WebhookSender{URL: tt.url, Client: &http.Client{Timeout: 100 * time.Millisecond}}}
			err := d.Notify(context.Background(), hs[0])
			if (err != nil) != tt.wantRetry {
				t.Fatalf("err %v, want retry %v", err, tt.wantRetry)
			}
			if err != nil && strings.Contains(err.Error(), "secret") {
				t.Fatalf("the error carries the URL's secret: %v", err)
			}
			if c := p.get(t, hs[0].Message.ID).Channels[messages.Webhook]; c.Status != tt.want {
				t.Fatalf("channel %+v, want %s", c, tt.want)
			}
			mu.Lock()
			defer mu.Unlock()
			if tt.url == refused {
				return
			}
			msg, _ := got[0]["message"].(map[string]any)
			meta, _ := got[0]["sender_metadata"].(map[string]any)
			if len(got) != 1 || msg["id"] != hs[0].Message.ID || msg["fiscal_code"] != fc || msg["sender_service_id"] != "svc" ||
				msg["content"].(map[string]any)["subject"] != content.Subject || meta["service_name"] != "TARI" || msg["created_at"] == "" {
				t.Fatalf("webhook got %v", got)
			}
		})
	}
}

// flakyStore refuses the first fails status writes, as a throttled table.
type flakyStore struct {
	messages.Store
	mu    sync.Mutex
	fails int
}

func (s *flakyStore) SetChannelStatus(ctx context.Context, fc, id, ch string, st messages.ChannelStatus, reason string, at time.Time) error {
	s.mu.Lock()
	if s.fails > 0 {
		s.fails--
		s.mu.Unlock()
		return errors.New("ThrottlingException: rate exceeded")
	}
	s.mu.Unlock()
	return s.Store.SetChannelStatus(ctx, fc, id, ch, st, reason, at)
}

// A record refused after the send is tried again at once: the e-mail is
// not sent a second time by a redelivery.
func TestDispatch_RecordRetriedAfterSend(t *testing.T) {
	p := newPipeline()
	_, e, _, _ := queued(t, p, profiles.Profile{Email: "a@b.it", IsEmailValidated: true, IsInboxEnabled: true})
	flaky := &flakyStore{Store: p.store, fails: 2}
	d := p.notifier
	d.Store = flaky
	if err := d.Notify(context.Background(), e[0]); err != nil {
		t.Fatal(err)
	}
	if err := d.Notify(context.Background(), e[0]); err != nil { // a redelivery
		t.Fatal(err)
	}
	m, _ := p.store.Get(context.Background(), fc, e[0].Message.ID)
	if len(p.mailer.Sent) != 1 || m.Channels[messages.Email].Status != messages.ChannelSent {
		t.Fatalf("%d e-mails, channel %+v", len(p.mailer.Sent), m.Channels[messages.Email])
	}
}

type recordedMetric struct {
	name  string
	value float64
	dims  map[string]string
}

type recorder struct{ got []recordedMetric }

func (r *recorder) Emit(name, _ string, value float64, dims map[string]string) {
	r.got = append(r.got, recordedMetric{name, value, dims})
}

// TestMetrics: a message accepted, processed and its e-mail sent emit
// one metric each, and the delivery latency.
func TestMetrics(t *testing.T) {
	p := newPipeline()
	rec := &recorder{}
	p.proc.Metrics, p.notifier.Metrics = rec, rec
	_ = p.profiles.Create(context.Background(), profiles.Profile{FiscalCode: fc, IsInboxEnabled: true, Email: "a@b.it", IsEmailValidated: true}, nil)
	ev := p.submit(t, messages.NewMessage{Content: content})
	if err := p.proc.Process(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	var ne messages.NotificationEvent
	if err := json.Unmarshal(p.emails.Sent[0], &ne); err != nil {
		t.Fatal(err)
	}
	if err := p.notifier.Notify(context.Background(), ne); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range rec.got {
		names = append(names, m.name+" "+m.dims["Outcome"]+m.dims["Channel"])
	}
	if got := strings.Join(names, ", "); got != "Messages PROCESSED, Notifications SENTEMAIL, DeliveryLatency EMAIL" {
		t.Fatalf("metrics %s", got)
	}
}
