package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/digital-citizenship/functions/pkg/auth"
	"github.com/digital-citizenship/functions/pkg/messages"
	"github.com/digital-citizenship/functions/pkg/problem"
	"github.com/digital-citizenship/functions/pkg/profiles"
	"github.com/digital-citizenship/functions/pkg/services"
	"github.com/digital-citizenship/functions/pkg/subscriptions"
)

func is(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("got error %v, want %v", err, want)
	}
}

func ok(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// ServicesContract checks a services.Store.
func ServicesContract(t *testing.T, st services.Store) {
	ctx := context.Background()
	_, err := st.Latest(ctx, "svc-none")
	is(t, err, problem.ErrNotFound)
	v0 := services.Service{ServiceID: "svc-1", ServiceName: "TARI", OrganizationName: "Comune", DepartmentName: "Tributi",
		OrganizationFiscalCode: "00000000001", AuthorizedCIDRs: []string{"10.0.0.0/8"}, AuthorizedRecipients: []string{},
		MaxAllowedPaymentAmount: 100}
	ok(t, st.Create(ctx, v0))
	is(t, st.Create(ctx, v0), problem.ErrConflict)
	v1 := v0
	v1.Version, v1.ServiceName, v1.IsVisible = 1, "TARI 2", true
	ok(t, st.Create(ctx, v1))
	got, err := st.Latest(ctx, "svc-1")
	ok(t, err)
	if got.Version != 1 || got.ServiceName != "TARI 2" || !got.IsVisible || got.AuthorizedCIDRs[0] != "10.0.0.0/8" ||
		got.AuthorizedRecipients == nil || got.MaxAllowedPaymentAmount != 100 {
		t.Fatalf("latest = %+v", got)
	}
}

// ProfilesContract checks a profiles.Store.
func ProfilesContract(t *testing.T, st profiles.Store) {
	ctx := context.Background()
	_, err := st.Latest(ctx, "AAAAAA00A00A000A")
	is(t, err, problem.ErrNotFound)
	tos := 2.0
	p := profiles.Profile{FiscalCode: "AAAAAA00A00A000A", Email: "a@b.it", IsInboxEnabled: true,
		BlockedInboxOrChannels: map[string][]string{"svc": {"EMAIL"}}, PreferredLanguages: []string{"it_IT"}, AcceptedTosVersion: &tos}
	ok(t, st.Create(ctx, p))
	is(t, st.Create(ctx, p), problem.ErrConflict)
	p.Version, p.Email = 1, ""
	ok(t, st.Create(ctx, p))
	got, err := st.Latest(ctx, p.FiscalCode)
	ok(t, err)
	if got.Version != 1 || got.Email != "" || !got.IsInboxEnabled || !got.Blocked("svc", "EMAIL") ||
		got.PreferredLanguages[0] != "it_IT" || *got.AcceptedTosVersion != 2 {
		t.Fatalf("latest = %+v", got)
	}
}

// MessagesContract checks a messages.Store.
func MessagesContract(t *testing.T, st messages.Store) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)
	m := messages.Message{ID: "01M", FiscalCode: "AAAAAA00A00A000A", SenderServiceID: "svc", SenderUserID: "u",
		TimeToLive: 3600, CreatedAt: now, Pending: true, Status: messages.Accepted, StatusAt: now}
	_, err := st.Get(ctx, m.FiscalCode, m.ID)
	is(t, err, problem.ErrNotFound)
	ok(t, st.Create(ctx, m, nil))
	is(t, st.Create(ctx, m, nil), problem.ErrConflict)

	t.Run("idempotency", func(t *testing.T) {
		idem := &messages.Idempotency{ServiceID: "svc", KeyHash: "k", BodyHash: "b", FiscalCode: m.FiscalCode,
			MessageID: "01N", ExpiresAt: now.Add(time.Hour)}
		m2 := m
		m2.ID = "01N"
		ok(t, st.Create(ctx, m2, idem))
		m3 := m
		m3.ID = "01O"
		is(t, st.Create(ctx, m3, idem), problem.ErrConflict)
		_, err := st.Get(ctx, m3.FiscalCode, m3.ID)
		is(t, err, problem.ErrNotFound)
		got, err := st.Idempotency(ctx, "svc", "k")
		ok(t, err)
		if got.MessageID != "01N" || got.BodyHash != "b" {
			t.Fatalf("idempotency = %+v", got)
		}
		_, err = st.Idempotency(ctx, "svc", "other")
		is(t, err, problem.ErrNotFound)
	})

	t.Run("deliver", func(t *testing.T) {
		ok(t, st.SetStatus(ctx, m.FiscalCode, m.ID, messages.Throttled, "", now))
		d := m
		d.Content = &messages.Content{Subject: "subject here", Markdown: "body",
			PaymentData: &messages.PaymentData{Amount: 5, NoticeNumber: "012345678901234567"}}
		d.Channels = map[string]messages.Channel{messages.Email: {AddressSource: messages.ProfileAddress}}
		sender := messages.SenderService{FiscalCode: m.FiscalCode, ServiceID: "svc", ServiceVersion: 2, LastNotificationAt: now}
		ok(t, st.Deliver(ctx, d, sender))
		is(t, st.ClaimChannel(ctx, m.FiscalCode, m.ID, messages.Webhook, now), problem.ErrConflict)
		ok(t, st.ClaimChannel(ctx, m.FiscalCode, m.ID, messages.Email, now))
		ok(t, st.SetChannelStatus(ctx, m.FiscalCode, m.ID, messages.Email, messages.ChannelThrottled, now))
		ok(t, st.SetChannelStatus(ctx, m.FiscalCode, m.ID, messages.Email, messages.ChannelSent, now))
		is(t, st.ClaimChannel(ctx, m.FiscalCode, m.ID, messages.Email, now), problem.ErrConflict)
		is(t, st.SetChannelStatus(ctx, m.FiscalCode, m.ID, messages.Email, messages.ChannelFailed, now), problem.ErrConflict)
		// A redelivered event delivers again without resetting the channel.
		ok(t, st.Deliver(ctx, d, sender))
		got, err := st.Get(ctx, m.FiscalCode, m.ID)
		ok(t, err)
		if got.Status != messages.Processed || got.Pending || got.Content == nil || got.Content.PaymentData.Amount != 5 ||
			got.Channels[messages.Email].Status != messages.ChannelSent || !got.CreatedAt.Equal(now) {
			t.Fatalf("delivered = %+v", got)
		}
		is(t, st.SetStatus(ctx, m.FiscalCode, m.ID, messages.Rejected, "x", now), problem.ErrConflict)
	})

	t.Run("final statuses stick", func(t *testing.T) {
		r := m
		r.ID = "01R"
		ok(t, st.Create(ctx, r, nil))
		ok(t, st.SetStatus(ctx, r.FiscalCode, r.ID, messages.Rejected, messages.ReasonNoProfile, now))
		is(t, st.SetStatus(ctx, r.FiscalCode, r.ID, messages.Throttled, "", now), problem.ErrConflict)
		is(t, st.Deliver(ctx, r, messages.SenderService{FiscalCode: r.FiscalCode, ServiceID: "svc", LastNotificationAt: now}), problem.ErrConflict)
		got, err := st.Get(ctx, r.FiscalCode, r.ID)
		ok(t, err)
		if got.Status != messages.Rejected || got.RejectionReason != messages.ReasonNoProfile || !got.Pending {
			t.Fatalf("rejected = %+v", got)
		}
		is(t, st.SetStatus(ctx, r.FiscalCode, "missing", messages.Failed, "", now), problem.ErrConflict)
	})
}

// AccountsContract checks a subscriptions.Store.
func AccountsContract(t *testing.T, st subscriptions.Store) {
	ctx := context.Background()
	_, err := st.User(ctx, "a@b.it")
	is(t, err, problem.ErrNotFound)
	ok(t, st.PutUser(ctx, subscriptions.User{ID: "u1", Email: "a@b.it", Groups: []auth.Group{auth.InfoRead}}))
	ok(t, st.PutUser(ctx, subscriptions.User{ID: "u1", Email: "a@b.it", Groups: []auth.Group{auth.InfoRead, auth.MessageWrite}}))
	u, err := st.User(ctx, "a@b.it")
	ok(t, err)
	if u.ID != "u1" || len(u.Groups) != 2 {
		t.Fatalf("user = %+v", u)
	}
	s := subscriptions.Subscription{ID: "svc", OwnerEmail: "a@b.it", CreatedAt: time.Now().UTC(),
		KeyHashes: map[subscriptions.KeyType]string{subscriptions.Primary: "h1", subscriptions.Secondary: "h2"}}
	ok(t, st.CreateSubscription(ctx, s))
	is(t, st.CreateSubscription(ctx, s), problem.ErrConflict)
	k, err := st.Key(ctx, "h2")
	ok(t, err)
	if k.SubscriptionID != "svc" || k.Type != subscriptions.Secondary || k.OwnerEmail != "a@b.it" || k.Hash != "h2" {
		t.Fatalf("key = %+v", k)
	}
	is(t, st.ReplaceKey(ctx, "svc", subscriptions.Primary, "wrong", "h3"), problem.ErrConflict)
	ok(t, st.ReplaceKey(ctx, "svc", subscriptions.Primary, "h1", "h3"))
	_, err = st.Key(ctx, "h1")
	is(t, err, problem.ErrNotFound)
	_, err = st.Key(ctx, "h3")
	ok(t, err)
	got, err := st.Subscription(ctx, "svc")
	ok(t, err)
	if got.KeyHashes[subscriptions.Primary] != "h3" || got.KeyHashes[subscriptions.Secondary] != "h2" {
		t.Fatalf("subscription = %+v", got)
	}
}
