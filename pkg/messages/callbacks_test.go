package messages_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/digital-citizenship/functions/pkg/callbacks"
	"github.com/digital-citizenship/functions/pkg/messages"
	"github.com/digital-citizenship/functions/pkg/profiles"
	"github.com/digital-citizenship/functions/pkg/storetest"
)

func callbackEvents(t *testing.T, q *storetest.Queue) []callbacks.Event {
	t.Helper()
	var out []callbacks.Event
	for _, b := range q.Sent {
		var e callbacks.Event
		if err := json.Unmarshal(b, &e); err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

// TestCallbacks_Emitted: a sender that asked for callbacks gets one per
// fact (processed, each channel's final status; rejected with its code),
// carrying its reference and no fiscal code; the same fact keeps its id on
// a retry; a sender that asked for none, or for other events, gets none.
func TestCallbacks_Emitted(t *testing.T) {
	p := newPipeline()
	cbs := &storetest.Queue{}
	p.proc.Callbacks, p.notifier.Callbacks = cbs, cbs
	if err := p.profiles.Create(context.Background(), profiles.Profile{FiscalCode: fc, IsInboxEnabled: true, Email: "a@b.it",
		IsEmailValidated: true}, nil); err != nil {
		t.Fatal(err)
	}
	ev := p.submit(t, messages.NewMessage{Content: content, Reference: "campaign-7 row 12"})
	if len(ev.Message.Callbacks) != 0 {
		t.Fatalf("callbacks asked for by a service without a configuration: %v", ev.Message.Callbacks)
	}
	ev.Message.Callbacks = callbacks.AllEvents // as a service with a configuration
	if ev.Message.Reference != "campaign-7 row 12" {
		t.Fatalf("the created event's reference %q", ev.Message.Reference)
	}
	if err := p.proc.Process(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	var email messages.NotificationEvent
	if err := json.Unmarshal(p.emails.Sent[0], &email); err != nil {
		t.Fatal(err)
	}
	if err := p.notifier.Notify(context.Background(), email); err != nil {
		t.Fatal(err)
	}
	got := callbackEvents(t, cbs)
	if len(got) != 2 || got[0].Event != callbacks.MessageProcessed || got[0].Status != "PROCESSED" ||
		got[1].Event != callbacks.NotificationSent || got[1].Channel != "email" || got[1].Status != "SENT" ||
		got[0].MessageID != ev.Message.ID || got[1].Reference != "campaign-7 row 12" || got[0].ServiceID != "svc" || got[0].ID == got[1].ID {
		t.Fatalf("callbacks %+v", got)
	}
	for _, e := range got {
		if b := string(e.Body()); !json.Valid([]byte(b)) || strings.Contains(b, fc) || strings.Contains(b, "service_id") {
			t.Fatalf("a callback body with the fiscal code or the service: %s", b)
		}
	}
	// A retried processing emits the same fact under the same id.
	if err := p.proc.Process(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	if again := callbackEvents(t, cbs); len(again) != 3 || again[2].ID != got[0].ID {
		t.Fatalf("after a retry %+v", again)
	}

	// Rejected, with its code; only the events asked for.
	cbs.Sent = nil
	other := p.submit(t, messages.NewMessage{Content: content})
	other.Message.FiscalCode = "AAAAAA00A00A000A" // no profile
	other.Message.Callbacks = []string{callbacks.MessageRejected}
	if err := p.store.Create(context.Background(), messages.Message{ID: other.Message.ID, FiscalCode: other.Message.FiscalCode,
		SenderServiceID: "svc", Status: messages.Accepted, Pending: true}, nil); err != nil {
		t.Fatal(err)
	}
	if err := p.proc.Process(context.Background(), other); err != nil {
		t.Fatal(err)
	}
	if got := callbackEvents(t, cbs); len(got) != 1 || got[0].Event != callbacks.MessageRejected || got[0].Reason != "USER_NOT_FOUND" {
		t.Fatalf("rejected: %+v", got)
	}
}

// TestCallbacks_ReadAndPaid: a message remembers the callbacks its sender
// asked for; its read is message.read only when the citizen lets the sender
// know, and its payment (by a receipt or by the sender) message.paid.
func TestCallbacks_ReadAndPaid(t *testing.T) {
	p := newPipeline()
	cbs := &storetest.Queue{}
	withCallbacks := svc
	withCallbacks.CallbackEvents = []string{callbacks.MessageRead, callbacks.MessagePaid}
	submit := func(nm messages.NewMessage) messages.CreatedEvent {
		q := &storetest.Queue{}
		s := submission(writer, nm)
		s.Service = withCallbacks
		if _, err := (messages.Submitter{Store: p.store, Created: q, Now: clock}).Submit(context.Background(), s); err != nil {
			t.Fatal(err)
		}
		var ev messages.CreatedEvent
		_ = json.Unmarshal(q.Sent[0], &ev)
		if err := p.proc.Process(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
		return ev
	}
	if err := p.profiles.Create(context.Background(), profiles.Profile{FiscalCode: fc, IsInboxEnabled: true,
		Settings: profiles.Settings{Mode: profiles.Auto}}, nil); err != nil {
		t.Fatal(err)
	}
	ev := submit(messages.NewMessage{Content: content, Reference: "r-1"})
	yes := true
	m, err := messages.ChangeStatus(context.Background(), p.store, fc, ev.Message.ID, messages.StatusChange{IsRead: &yes}, now)
	if err != nil || !slices.Equal(m.Callbacks, withCallbacks.CallbackEvents) {
		t.Fatalf("read: %+v, %v", m, err)
	}
	if err := messages.ReadCallback(context.Background(), cbs, p.profiles, m, now); err != nil {
		t.Fatal(err)
	}
	if got := callbackEvents(t, cbs); len(got) != 1 || got[0].Event != callbacks.MessageRead || got[0].Reference != "r-1" {
		t.Fatalf("read callbacks %+v", got)
	}
	// Not read: no callback (the consent follows getMessage's read_status,
	// tested with it).
	cbs.Sent = nil
	unread := m
	unread.IsRead = false
	if err := messages.ReadCallback(context.Background(), cbs, p.profiles, unread, now); err != nil || len(cbs.Sent) != 0 {
		t.Fatalf("unread: %v, %d callbacks", err, len(cbs.Sent))
	}
	// Paid by a receipt, and by the sender.
	pd := content
	pd.PaymentData = &messages.PaymentData{Amount: 100, NoticeNumber: "302000000000000001"}
	byReceipt := submit(messages.NewMessage{Content: pd})
	pd2 := content
	pd2.PaymentData = &messages.PaymentData{Amount: 100, NoticeNumber: "302000000000000002"}
	bySender := submit(messages.NewMessage{Content: pd2})
	c := messages.Cashier{Payments: p.store, Now: clock, Callbacks: cbs}
	if _, err := c.Record(context.Background(), messages.Receipt{NoticeNumber: "302000000000000001", PayeeFiscalCode: "00000000001",
		FiscalCode: fc, Amount: 100, PaidAt: now}); err != nil {
		t.Fatal(err)
	}
	if _, err := messages.MarkPaidBySender(context.Background(), p.store, p.store, cbs, writer, fc, bySender.Message.ID, now); err != nil {
		t.Fatal(err)
	}
	got := callbackEvents(t, cbs)
	if len(got) != 2 || got[0].Event != callbacks.MessagePaid || got[0].MessageID != byReceipt.Message.ID ||
		got[1].MessageID != bySender.Message.ID || got[1].Status != "PAID" {
		t.Fatalf("paid callbacks %+v", got)
	}
}
