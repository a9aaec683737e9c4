package dynamodb

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/digital-citizenship/functions/pkg/awstest"
	"github.com/digital-citizenship/functions/pkg/messages"
	"github.com/digital-citizenship/functions/pkg/profiles"
	"github.com/digital-citizenship/functions/pkg/services"
)

// lossyProxy passes requests to DynamoDB and loses the answer of the first
// conditional write of each kind (operation and conditions) after the
// write has landed, as a cut connection does: the SDK retries it.
type lossyProxy struct {
	proxy *httputil.ReverseProxy
	mu    sync.Mutex
	seen  map[string]int // requests by kind
}

func (p *lossyProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	kind := awstest.ConditionalWrite(r, body)
	p.mu.Lock()
	p.seen[kind]++
	first := kind != "" && p.seen[kind] == 1
	p.mu.Unlock()
	if !first {
		p.proxy.ServeHTTP(w, r)
		return
	}
	p.proxy.ServeHTTP(httptest.NewRecorder(), r) // landed; the answer is lost
	panic(http.ErrAbortHandler)
}

// TestStores_RetriedWritesAreTheirOwn loses the answer of each conditional
// write after it landed: the SDK retries it, and the retry must see its own
// earlier success as a success, not as someone else's conflict (a create
// would answer 409 or 500, a claim would wait out its lease, a change would
// count twice).
func TestStores_RetriedWritesAreTheirOwn(t *testing.T) {
	_, st := awstest.Stack(t)
	upstream, err := url.Parse(awstest.DynamoDBEndpoint(t))
	if err != nil {
		t.Fatal(err)
	}
	lp := &lossyProxy{proxy: httputil.NewSingleHostReverseProxy(upstream), seen: map[string]int{}}
	lp.proxy.ErrorLog = nil
	srv := httptest.NewServer(lp)
	defer srv.Close()
	db := dynamodb.NewFromConfig(awstest.Endpoints{AWS: awstest.Endpoint(t), DynamoDB: srv.URL}.Config())
	msgs, profs, svcs := NewMessages(db, st.Refs["MessagesTable"]), NewProfiles(db, st.Refs["ProfilesTable"]), NewServices(db, st.Refs["ServicesTable"])
	ctx := context.Background()
	now := time.Now().UTC()
	m := messages.Message{ID: "01RETRY", FiscalCode: "AAAAAA00A00A000A", SenderServiceID: "svc", CreatedAt: now, Pending: true,
		Status: messages.Accepted, StatusAt: now, Content: &messages.Content{Subject: "a retried subject", Markdown: "body"}}
	keyed, rejected := m, m
	keyed.ID, rejected.ID = "01RETRYKEYED", "01RETRYREJECTED"
	steps := []struct {
		name string
		do   func() error
	}{
		{"create a message (PutItem)", func() error { return msgs.Create(ctx, m, nil) }},
		{"create a message with its key (TransactWriteItems)", func() error {
			return msgs.Create(ctx, keyed, &messages.Idempotency{ServiceID: "svc", KeyHash: "k", BodyHash: "b", FiscalCode: m.FiscalCode,
				MessageID: keyed.ID, ExpiresAt: now.Add(time.Hour)})
		}},
		{"reject a message", func() error {
			if err := msgs.Create(ctx, rejected, nil); err != nil {
				return err
			}
			return msgs.SetStatus(ctx, rejected.FiscalCode, rejected.ID, messages.Rejected, messages.ReasonNoProfile, now)
		}},
		{"deliver a message", func() error {
			d := m
			d.Channels = map[string]messages.Channel{messages.Email: {AddressSource: messages.ProfileAddress}}
			return msgs.Deliver(ctx, d, messages.SenderService{FiscalCode: m.FiscalCode, ServiceID: "svc", LastNotificationAt: now})
		}},
		{"claim a channel", func() error {
			_, err := msgs.ClaimChannel(ctx, m.FiscalCode, m.ID, messages.Email, now, time.Minute)
			return err
		}},
		{"record a channel SENT", func() error {
			return msgs.SetChannelStatus(ctx, m.FiscalCode, m.ID, messages.Email, messages.ChannelSent, "", now)
		}},
		{"read a message", func() error {
			read := true
			got, err := msgs.ChangeStatus(ctx, m.FiscalCode, m.ID, messages.StatusChange{IsRead: &read}, now)
			if err == nil && (got.StatusVersion != 1 || !got.IsRead) {
				t.Errorf("read once, retried: version %d, read %v; want 1, true", got.StatusVersion, got.IsRead)
			}
			return err
		}},
		{"create a profile version", func() error {
			return profs.Create(ctx, profiles.Profile{FiscalCode: m.FiscalCode, Email: "a@example.com", IsInboxEnabled: true}, nil)
		}},
		{"create a service", func() error {
			return svcs.Create(ctx, services.Service{ServiceID: "retried", ServiceName: "S", OrganizationName: "O", DepartmentName: "D",
				OrganizationFiscalCode: "00000000001"})
		}},
	}
	for _, s := range steps {
		lp.mu.Lock()
		before := len(lp.seen)
		lp.mu.Unlock()
		if err := s.do(); err != nil {
			t.Errorf("%s, its answer lost once: %v", s.name, err)
		}
		lp.mu.Lock()
		if len(lp.seen) == before {
			t.Errorf("%s: no conditional write went through the proxy", s.name)
		}
		lp.mu.Unlock()
	}
	lp.mu.Lock()
	for kind, n := range lp.seen {
		if kind != "" && n < 2 {
			t.Errorf("%s: %d request, want the SDK's retry too", kind, n)
		}
	}
	lp.mu.Unlock()
	if got, err := msgs.Get(ctx, m.FiscalCode, m.ID); err != nil || got.Channels[messages.Email].Status != messages.ChannelSent {
		t.Errorf("the message after the retries: %+v %v", got, err)
	}
}
