package receipts_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/digital-citizenship/functions/pkg/auth"
	"github.com/digital-citizenship/functions/pkg/callbacks"
	"github.com/digital-citizenship/functions/pkg/ids"
	"github.com/digital-citizenship/functions/pkg/messages"
	"github.com/digital-citizenship/functions/pkg/receipts"
	"github.com/digital-citizenship/functions/pkg/remotecontent"
	"github.com/digital-citizenship/functions/pkg/storetest"
)

const fc = "SPNDNL80R13C555X"

// notary is a Notary on fakes, a sender's system on loopback and a clock.
type notary struct {
	receipts.Notary
	msgs    *storetest.Messages
	configs *storetest.RemoteContents
	archive *storetest.Receipts
	signer  *storetest.Signer
	queue   *storetest.Queue
	now     time.Time
	sender  string // what the sender's system answers about T-1
}

func newNotary(t *testing.T) *notary {
	n := &notary{configs: &storetest.RemoteContents{}, archive: &storetest.Receipts{}, signer: storetest.NewSigner("key-1"),
		queue: &storetest.Queue{}, now: time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)}
	n.msgs = &storetest.Messages{Configurations: n.configs}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/messages/T-1":
			_, _ = io.WriteString(w, n.sender)
		case "/messages/T-1/precondition":
			_, _ = io.WriteString(w, `{"title":"Valore legale","markdown":"Aprendo il messaggio ne ricevi la notifica."}`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	n.sender = `{"details":{"subject":"Avviso di accertamento"}}`
	n.Notary = receipts.Notary{Store: n.msgs, Signer: n.signer, Hasher: storetest.Hasher{}, Archive: n.archive,
		Configurations: n.configs, Sender: remotecontent.NewCaller(callbacks.NewClient(true)), Callbacks: n.queue,
		Now: func() time.Time { return n.now }}
	err := n.configs.PutConfiguration(context.Background(), remotecontent.Configuration{ID: "01HCONFIGURATION0000000000", ServiceID: "svc",
		HasPrecondition: messages.PreconditionOnce, Prod: remotecontent.Environment{BaseURL: srv.URL, Auth: remotecontent.Auth{HeaderKeyName: "K", Key: "k"}}}, true)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// deliver stores a processed message with content c (and a deadline
// 10 days after now when it may have an opening condition).
func (n *notary) deliver(t *testing.T, c messages.Content, docs ...messages.Attachment) messages.Message {
	t.Helper()
	ctx := context.Background()
	m := messages.Message{ID: ids.ULID(n.now), FiscalCode: fc, SenderServiceID: "svc", CreatedAt: n.now, StatusAt: n.now,
		Status: messages.Accepted, Pending: true, Content: &c, Attachments: docs,
		Callbacks: []string{callbacks.MessageOpened, callbacks.MessageNotOpened}}
	if err := n.msgs.Create(ctx, m, nil); err != nil {
		t.Fatal(err)
	}
	d := m
	d.Channels = map[string]messages.Channel{}
	if c.ThirdPartyData != nil && c.ThirdPartyData.MaybePrecondition() {
		d.Acts.Deadline, d.Acts.Due = messages.OpeningDeadline(n.now, 10, 1), true
	}
	if err := n.msgs.Deliver(ctx, d, messages.SenderService{FiscalCode: fc, ServiceID: "svc", LastNotificationAt: n.now.Add(time.Second)}); err != nil {
		t.Fatal(err)
	}
	n.now = n.now.Add(time.Minute)
	return m
}

// open opens the message and verifies its receipt with the published
// keys: the receipt and its payload.
func (n *notary) open(t *testing.T, id string) (receipts.Receipt, receipts.Payload) {
	t.Helper()
	r, err := n.Open(context.Background(), fc, id)
	if err != nil {
		t.Fatal(err)
	}
	p, err := receipts.Verify(r.Receipt, n.signer.JWKS())
	if err != nil {
		t.Fatal(err)
	}
	return r, p
}

func (n *notary) callbacks(t *testing.T) []callbacks.Event {
	var out []callbacks.Event
	for _, b := range n.queue.Sent {
		var ev callbacks.Event
		if err := json.Unmarshal(b, &ev); err != nil {
			t.Fatal(err)
		}
		out = append(out, ev)
	}
	return out
}

var content = messages.Content{Subject: "Avviso di pagamento TARI", Markdown: strings.Repeat("Il testo dell'avviso. ", 5),
	PaymentData: &messages.PaymentData{Amount: 12000, NoticeNumber: "302000100000009401"}}

// TestOpen: the first opening of a message gives a receipt that the
// published key verifies, whose content digest is the delivered content's
// and which lists each document's SHA-256; a second opening answers the
// same receipt, queues nothing and changes nothing; the sender's callback
// carries the receipt.
func TestOpen(t *testing.T) {
	n := newNotary(t)
	ctx := context.Background()
	m := n.deliver(t, content, messages.Attachment{ID: "1", Name: "avviso.pdf", SHA256: strings.Repeat("ab", 32)})
	r, p := n.open(t, m.ID)
	hash, _ := storetest.Hasher{}.Recipient(ctx, fc)
	if p.Event != receipts.Opened || p.MessageID != m.ID || p.SenderServiceID != "svc" || p.Recipient != hash ||
		p.Content.Digest != receipts.ContentDigest(content) || len(p.Content.Documents) != 1 || p.Content.Documents[0].SHA256 != strings.Repeat("ab", 32) ||
		p.OpenedAt != "2026-12-07T10:01:00.000Z" || p.DeliveredAt != "2026-12-07T10:00:01.000Z" || p.Prev != "" || strings.Contains(r.Receipt, fc) {
		t.Fatalf("payload %+v", p)
	}
	n.now = n.now.Add(time.Hour)
	again, err := n.Open(ctx, fc, m.ID)
	if err != nil || again.Receipt != r.Receipt || again.At != r.At {
		t.Fatalf("a second opening: %+v %v", again, err)
	}
	evs := n.callbacks(t)
	if len(evs) != 1 || evs[0].Event != callbacks.MessageOpened || evs[0].Receipt != r.Receipt || evs[0].Status != "OPENED" {
		t.Fatalf("callbacks %+v", evs)
	}
	if _, err := n.Open(ctx, fc, "01NOSUCHMESSAGE00000000000"); err == nil {
		t.Fatal("a message not in the inbox opened")
	}
	list, err := n.Receipts(ctx, writer("svc"), fc, m.ID)
	if err != nil || len(list) != 1 || list[0].Receipt != r.Receipt {
		t.Fatalf("the sender's receipts: %+v %v", list, err)
	}
	if _, err := n.Receipts(ctx, writer("other"), fc, m.ID); err == nil {
		t.Fatal("another service read the receipt")
	}
}

// TestOpen_RemoteContent: the opening of a message whose content is at its
// sender's reads the sender's system first: its answers' digests are in
// the receipt, with the opening condition's.
func TestOpen_RemoteContent(t *testing.T) {
	n := newNotary(t)
	ctx := context.Background()
	c := content
	c.ThirdPartyData = &messages.ThirdPartyData{ID: "T-1", ConfigurationID: "01HCONFIGURATION0000000000", HasRemoteContent: true}
	m := n.deliver(t, c)
	r, p := n.open(t, m.ID)
	if p.Content.Remote == nil || p.Content.Remote.ID != "T-1" || p.Content.Remote.Digest != remotecontent.Digest([]byte(n.sender)) ||
		p.Precondition == nil || p.Precondition.Kind != messages.PreconditionOnce ||
		p.Precondition.Digest != remotecontent.Digest([]byte(`{"title":"Valore legale","markdown":"Aprendo il messaggio ne ricevi la notifica."}`)) {
		t.Fatalf("payload %+v %+v", p.Content, p.Precondition)
	}
	// The sender's system changing later changes no receipt.
	n.sender = `{"details":{"subject":"Un altro testo"}}`
	if again, err := n.Open(ctx, fc, m.ID); err != nil || again.Receipt != r.Receipt {
		t.Fatalf("again: %v", err)
	}
}

// TestSweep: a message with an opening condition not opened by its deadline
// gets a signed receipt of non-opening and message.not_opened; an opening
// after it names it (the chain); a message whose condition is NONE leaves
// the index with no receipt; a run that stopped before keeping a receipt is
// finished by the next.
func TestSweep(t *testing.T) {
	n := newNotary(t)
	ctx := context.Background()
	c := content
	c.ThirdPartyData = &messages.ThirdPartyData{ID: "T-1", ConfigurationID: "01HCONFIGURATION0000000000"}
	m := n.deliver(t, c)
	none := c
	none.ThirdPartyData = &messages.ThirdPartyData{ID: "T-2", ConfigurationID: "01HCONFIGURATION0000000000", HasPrecondition: messages.PreconditionNone}
	n.deliver(t, none) // never in the index
	// A message that leaves its condition to a configuration that has none.
	if err := n.configs.PutConfiguration(ctx, remotecontent.Configuration{ID: "01HCONFIGURATIONNONE000000", ServiceID: "svc",
		HasPrecondition: messages.PreconditionNone}, true); err != nil {
		t.Fatal(err)
	}
	never := c
	never.ThirdPartyData = &messages.ThirdPartyData{ID: "T-3", ConfigurationID: "01HCONFIGURATIONNONE000000"}
	gone := n.deliver(t, never)
	log := slog.New(slog.DiscardHandler)
	if issued, err := n.Sweep(ctx, log); err != nil || issued != 0 {
		t.Fatalf("before the deadline: %d %v", issued, err)
	}
	n.now = n.now.Add(10*24*time.Hour + time.Minute)
	n.archive.FailCreates = 1
	if issued, err := n.Sweep(ctx, log); err != nil || issued != 0 || n.archive.Len() != 0 {
		t.Fatalf("a run whose receipt could not be kept: %d %v", issued, err)
	}
	if issued, err := n.Sweep(ctx, log); err != nil || issued != 1 {
		t.Fatalf("the next run: %d %v", issued, err)
	}
	if issued, err := n.Sweep(ctx, log); err != nil || issued != 0 {
		t.Fatalf("once done: %d %v", issued, err)
	}
	if g, _ := n.msgs.Get(ctx, fc, gone.ID); g.Acts.Due || !g.Acts.NotOpenedAt.IsZero() {
		t.Fatalf("a message without condition: %+v", g.Acts)
	}
	list, err := n.Receipts(ctx, writer("svc"), fc, m.ID)
	if err != nil || len(list) != 1 || list[0].Event != receipts.NotOpened {
		t.Fatalf("receipts %+v %v", list, err)
	}
	not, err := receipts.Verify(list[0].Receipt, n.signer.JWKS())
	if err != nil || not.DeadlineAt != "2026-12-17T10:00:00.000Z" || not.Precondition.Kind != messages.PreconditionOnce || not.Prev != "" {
		t.Fatalf("non-opening %+v %v", not, err)
	}
	evs := n.callbacks(t)
	if len(evs) != 1 || evs[0].Event != callbacks.MessageNotOpened || evs[0].Receipt != list[0].Receipt {
		t.Fatalf("callbacks %+v", evs)
	}
	// Opened after the deadline: its receipt follows the non-opening's.
	r, err := n.Open(ctx, fc, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	opened, _ := receipts.Verify(r.Receipt, n.signer.JWKS())
	if opened.Prev != not.Digest() {
		t.Fatalf("the chain: prev %q, the non-opening's digest %q", opened.Prev, not.Digest())
	}
	if list, _ := n.Receipts(ctx, writer("svc"), fc, m.ID); len(list) != 2 || list[0].Event != receipts.NotOpened || list[1].Event != receipts.Opened {
		t.Fatalf("the sender's receipts %+v", list)
	}
}

func writer(svc string) auth.Caller {
	return auth.Caller{SubscriptionID: svc, UserID: "u", Groups: []auth.Group{auth.MessageRead}}
}
