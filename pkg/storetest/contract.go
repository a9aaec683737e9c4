package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/digital-citizenship/functions/pkg/auth"
	"github.com/digital-citizenship/functions/pkg/emailvalidation"
	"github.com/digital-citizenship/functions/pkg/messages"
	"github.com/digital-citizenship/functions/pkg/paging"
	"github.com/digital-citizenship/functions/pkg/problem"
	"github.com/digital-citizenship/functions/pkg/profiles"
	"github.com/digital-citizenship/functions/pkg/push"
	"github.com/digital-citizenship/functions/pkg/services"
	"github.com/digital-citizenship/functions/pkg/subscriptions"
)

func is(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("got error %v, want %v", err, want)
	}
}

// race runs f n times at once and returns how many calls succeeded; a
// call that fails otherwise than with lost fails the test.
func race(t *testing.T, n int, lost error, f func() error) int {
	t.Helper()
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range errs {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = f() }()
	}
	wg.Wait()
	wins := 0
	for _, err := range errs {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, lost):
			t.Fatalf("a racing call got %v, want success or %v", err, lost)
		}
	}
	return wins
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

// ProfileStore is what ProfilesContract checks.
type ProfileStore interface {
	profiles.Store
	profiles.PreferenceStore
	Welcomed(ctx context.Context, fiscalCode string) (bool, error)
	MarkWelcomed(ctx context.Context, fiscalCode string, at time.Time) error
	emailvalidation.Store
}

// ProfilesContract checks a profiles.Store and its preferences.
func ProfilesContract(t *testing.T, st ProfileStore) {
	ctx := context.Background()
	_, err := st.Latest(ctx, "AAAAAA00A00A000A")
	is(t, err, problem.ErrNotFound)
	tos := 2.0
	p := profiles.Profile{FiscalCode: "AAAAAA00A00A000A", Email: "a@b.it", IsInboxEnabled: true,
		BlockedInboxOrChannels: map[string][]string{"svc": {"EMAIL"}}, PreferredLanguages: []string{"it_IT"}, AcceptedTosVersion: &tos}
	ok(t, st.Create(ctx, p, nil))
	is(t, st.Create(ctx, p, nil), problem.ErrConflict)
	p.Version, p.Email = 1, ""
	ok(t, st.Create(ctx, p, nil))
	got, err := st.Latest(ctx, p.FiscalCode)
	ok(t, err)
	if got.Version != 1 || got.Email != "" || !got.IsInboxEnabled || !got.Blocked("svc", "EMAIL") ||
		got.PreferredLanguages[0] != "it_IT" || *got.AcceptedTosVersion != 2 {
		t.Fatalf("latest = %+v", got)
	}
	if got.Settings.Mode != "" {
		t.Fatalf("a profile stored without settings has mode %q, want none (LEGACY)", got.Settings.Mode)
	}

	// Preferences: replaced with a version, then one service at a time on
	// condition of the settings version; service ids may hold dots.
	p.Version, p.Settings = 2, profiles.Settings{Mode: profiles.Auto, Version: 0}
	ok(t, st.Create(ctx, p, profiles.Preferences{"svc": {IsInboxEnabled: true, SettingsVersion: 0}}))
	ok(t, st.SetPreference(ctx, p.FiscalCode, "a.b[0]", profiles.Preference{IsInboxEnabled: true, CanAccessMessageReadStatus: true}))
	is(t, st.SetPreference(ctx, p.FiscalCode, "x", profiles.Preference{SettingsVersion: 1}), problem.ErrConflict)
	r, err := st.Recipient(ctx, p.FiscalCode)
	ok(t, err)
	if want := (profiles.Preference{IsInboxEnabled: true, CanAccessMessageReadStatus: true}); r.Preferences["a.b[0]"] != want ||
		!r.Preferences["svc"].IsInboxEnabled || len(r.Preferences) != 2 || r.Profile.Settings.Mode != profiles.Auto {
		t.Fatalf("recipient %+v", r)
	}
	p.Version, p.Settings = 3, profiles.Settings{Mode: profiles.Manual, Version: 1}
	ok(t, st.Create(ctx, p, profiles.Preferences{}))
	is(t, st.SetPreference(ctx, p.FiscalCode, "svc", profiles.Preference{SettingsVersion: 0}), problem.ErrConflict)
	ok(t, st.SetPreference(ctx, p.FiscalCode, "svc", profiles.Preference{SettingsVersion: 1}))
	r, err = st.Recipient(ctx, p.FiscalCode)
	ok(t, err)
	if len(r.Preferences) != 1 || r.Preferences["svc"] != (profiles.Preference{SettingsVersion: 1}) || r.Profile.Version != 3 {
		t.Fatalf("recipient after a change of mode %+v", r)
	}

	// A version that sets some services' preferences keeps the others, on
	// condition of the settings version.
	p.Version = 4
	ok(t, st.CreateSetting(ctx, p, profiles.Preferences{"other.svc": {IsEmailEnabled: true}}))
	r, err = st.Recipient(ctx, p.FiscalCode)
	ok(t, err)
	if len(r.Preferences) != 2 || r.Preferences["other.svc"] != (profiles.Preference{IsEmailEnabled: true, SettingsVersion: 1}) ||
		r.Preferences["svc"] != (profiles.Preference{SettingsVersion: 1}) || r.Profile.Version != 4 {
		t.Fatalf("recipient after setting one service %+v", r)
	}
	p.Version, p.Settings.Version = 5, 0
	is(t, st.CreateSetting(ctx, p, profiles.Preferences{"svc": {}}), problem.ErrConflict)
	p.Settings.Version = 1
	is(t, st.CreateSetting(ctx, profiles.Profile{FiscalCode: p.FiscalCode, Version: 4, Settings: p.Settings}, profiles.Preferences{"svc": {}}), problem.ErrConflict)
	if latest, _ := st.Latest(ctx, p.FiscalCode); latest.Version != 4 {
		t.Fatalf("a refused write left version %d", latest.Version)
	}

	// The welcome mark.
	if w, err := st.Welcomed(ctx, p.FiscalCode); err != nil || w {
		t.Fatalf("welcomed before the mark: %v %v", w, err)
	}
	ok(t, st.MarkWelcomed(ctx, p.FiscalCode, time.Now()))
	if w, err := st.Welcomed(ctx, p.FiscalCode); err != nil || !w {
		t.Fatalf("not welcomed after the mark: %v %v", w, err)
	}
	if r, err := st.Recipient(ctx, p.FiscalCode); err != nil || r.Profile.Version != 4 {
		t.Fatalf("the mark disturbs the recipient: %+v %v", r, err)
	}
	preferencesRace(t, st)
	emailValidation(t, st)
}

// emailValidation checks tokens, the validated address (read with the
// profile, kept across versions while the address stays) and that a token
// validates once when two followers race.
func emailValidation(t *testing.T, st ProfileStore) {
	ctx, fc := context.Background(), "EEEEEE00E00E000E"
	ok(t, st.Create(ctx, profiles.Profile{FiscalCode: fc, Email: "Someone@Example.com", IsInboxEnabled: true}, nil))
	if p, err := st.Latest(ctx, fc); err != nil || p.IsEmailValidated {
		t.Fatalf("validated before any link: %+v %v", p, err)
	}
	if k, err := st.Started(ctx, fc); err != nil || k != "" {
		t.Fatalf("started %q %v", k, err)
	}
	ok(t, st.MarkStarted(ctx, fc, "v0", "01TOKEN"))
	if k, err := st.Started(ctx, fc); err != nil || k != "v0" {
		t.Fatalf("started %q %v", k, err)
	}
	_, err := st.Token(ctx, "01NOPE")
	is(t, err, problem.ErrNotFound)
	tok, _ := emailvalidation.NewToken(fc, "someone@example.com", time.Now())
	ok(t, st.PutToken(ctx, tok))
	got, err := st.Token(ctx, tok.ID)
	ok(t, err)
	if got.FiscalCode != fc || got.Email != tok.Email || got.ValidatorHash != tok.ValidatorHash || got.ExpiresAt.Unix() != tok.ExpiresAt.Unix() {
		t.Fatalf("token %+v, want %+v", got, tok)
	}
	if wins := race(t, 4, problem.ErrNotFound, func() error { return st.Validate(ctx, tok, time.Now()) }); wins != 1 {
		t.Fatalf("%d followers validated with one token", wins)
	}
	_, err = st.Token(ctx, tok.ID)
	is(t, err, problem.ErrNotFound)
	r, err := st.Recipient(ctx, fc)
	ok(t, err)
	if !r.Profile.IsEmailValidated {
		t.Fatalf("not validated: %+v", r.Profile)
	}
	if k, err := st.Started(ctx, fc); err != nil || k != "v0" {
		t.Fatalf("validation lost the started mark: %q %v", k, err)
	}
	ok(t, st.Create(ctx, profiles.Profile{FiscalCode: fc, Email: "someone@example.com", Version: 1}, nil))
	if p, _ := st.Latest(ctx, fc); !p.IsEmailValidated {
		t.Fatalf("the same address lost its validation: %+v", p)
	}
	ok(t, st.Create(ctx, profiles.Profile{FiscalCode: fc, Email: "new@example.com", Version: 2}, nil))
	if p, _ := st.Latest(ctx, fc); p.IsEmailValidated {
		t.Fatalf("a new address is validated: %+v", p)
	}
	// A profile created with its address validated (development profiles).
	dev := "EEEEEE00E00Y000X"
	ok(t, st.Create(ctx, profiles.Profile{FiscalCode: dev, Email: "dev@example.com", IsEmailValidated: true}, profiles.Preferences{}))
	if p, _ := st.Latest(ctx, dev); !p.IsEmailValidated {
		t.Fatalf("development profile not validated: %+v", p)
	}
}

// preferencesRace writes preferences of settings version 0 while the mode
// changes: each write succeeds or is a 409, and none of version 0 survives
// the change (the new version starts with no preferences).
func preferencesRace(t *testing.T, st ProfileStore) {
	ctx, fc, q := context.Background(), "DDDDDD00D00D000D", &Queue{}
	if _, err := profiles.Upsert(ctx, st, q, profiles.Profile{FiscalCode: fc, IsInboxEnabled: true}, time.Now()); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = profiles.SetPreference(ctx, st, q, fc, fmt.Sprintf("svc-%d", i), profiles.Preference{IsInboxEnabled: true}, time.Now())
		}()
	}
	var modeErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, modeErr = profiles.Upsert(ctx, st, q, profiles.Profile{FiscalCode: fc, IsInboxEnabled: true,
			Settings: profiles.Settings{Mode: profiles.Manual}}, time.Now())
	}()
	wg.Wait()
	ok(t, modeErr)
	for _, err := range errs {
		if err != nil && problem.KindOf(err) != problem.Conflict {
			t.Fatalf("a preference write racing a change of mode got %v, want success or 409", err)
		}
	}
	r, err := st.Recipient(ctx, fc)
	ok(t, err)
	if r.Profile.Settings != (profiles.Settings{Mode: profiles.Manual, Version: 1}) || len(r.Preferences) != 0 {
		t.Fatalf("after the race: settings %+v, preferences %+v", r.Profile.Settings, r.Preferences)
	}
}

// MessagesContract checks a messages.Store.
func MessagesContract(t *testing.T, st messages.Store) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)
	m := messages.Message{ID: "01M", FiscalCode: "AAAAAA00A00A000A", SenderServiceID: "svc", SenderUserID: "u",
		TimeToLive: 3600, CreatedAt: now, Pending: true, Status: messages.Accepted, StatusAt: now,
		Content: &messages.Content{Subject: "submitted subject", Markdown: "body"}, Reference: "TARI-2026-000123"}
	_, err := st.Get(ctx, m.FiscalCode, m.ID)
	is(t, err, problem.ErrNotFound)
	ok(t, st.Create(ctx, m, nil))
	if got, err := st.Get(ctx, m.FiscalCode, m.ID); err != nil || got.Content == nil || got.Content.Subject != "submitted subject" ||
		got.Reference != "TARI-2026-000123" {
		t.Fatalf("created %+v %v", got, err)
	}
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
		ok(t, st.ReleaseIdempotency(ctx, "svc", "k"))
		_, err = st.Idempotency(ctx, "svc", "k")
		is(t, err, problem.ErrNotFound)
		ok(t, st.Create(ctx, m3, idem))
	})

	t.Run("deliver", func(t *testing.T) {
		ok(t, st.SetStatus(ctx, m.FiscalCode, m.ID, messages.Throttled, "", now))
		d := m
		d.Content = &messages.Content{Subject: "subject here", Markdown: "body",
			PaymentData: &messages.PaymentData{Amount: 5, NoticeNumber: "012345678901234567"}}
		d.Channels = map[string]messages.Channel{messages.Email: {AddressSource: messages.ProfileAddress}}
		sender := messages.SenderService{FiscalCode: m.FiscalCode, ServiceID: "svc", ServiceVersion: 2, LastNotificationAt: now}
		d.Channels[messages.Push] = messages.Channel{}
		d.Channels[messages.Webhook] = messages.Channel{Status: messages.ChannelFailed, Reason: "pre-failed", UpdatedAt: now}
		ok(t, st.Deliver(ctx, d, sender))
		claim := func(ch string, at time.Time) (messages.Claim, error) {
			return st.ClaimChannel(ctx, m.FiscalCode, m.ID, ch, at, time.Minute)
		}
		_, err := claim("NOPE", now)
		is(t, err, problem.ErrConflict)
		_, err = claim(messages.Webhook, now) // final from the start
		is(t, err, problem.ErrConflict)
		_, err = claim(messages.Email, now)
		ok(t, err)
		// A concurrent attempt waits while the claim is fresh, and takes over
		// once its lease has passed (the first attempt crashed).
		_, err = claim(messages.Email, now.Add(30*time.Second))
		is(t, err, messages.ErrClaimed)
		_, err = claim(messages.Email, now.Add(61*time.Second))
		ok(t, err)
		// THROTTLED releases the claim: the retry claims at once.
		ok(t, st.SetChannelStatus(ctx, m.FiscalCode, m.ID, messages.Email, messages.ChannelThrottled, "", now))
		_, err = claim(messages.Email, now.Add(62*time.Second))
		ok(t, err)
		ok(t, st.SetChannelStatus(ctx, m.FiscalCode, m.ID, messages.Email, messages.ChannelSent, "", now))
		_, err = claim(messages.Email, now.Add(time.Hour))
		is(t, err, problem.ErrConflict)
		is(t, st.SetChannelStatus(ctx, m.FiscalCode, m.ID, messages.Email, messages.ChannelFailed, "", now), problem.ErrConflict)
		// Push: what earlier attempts delivered comes back with the claim.
		c, err := claim(messages.Push, now)
		ok(t, err)
		if len(c.Delivered) != 0 {
			t.Fatalf("fresh claim delivered %v", c.Delivered)
		}
		ok(t, st.RecordDelivered(ctx, m.FiscalCode, m.ID, messages.Push, []string{"i1"}))
		ok(t, st.RecordDelivered(ctx, m.FiscalCode, m.ID, messages.Push, []string{"i1", "i2"}))
		ok(t, st.SetChannelStatus(ctx, m.FiscalCode, m.ID, messages.Push, messages.ChannelThrottled, "", now))
		c, err = claim(messages.Push, now)
		ok(t, err)
		slices.Sort(c.Delivered)
		if !slices.Equal(c.Delivered, []string{"i1", "i2"}) {
			t.Fatalf("claim delivered %v, want [i1 i2]", c.Delivered)
		}
		ok(t, st.SetChannelStatus(ctx, m.FiscalCode, m.ID, messages.Push, messages.ChannelFailed, "No device.", now))
		is(t, st.RecordDelivered(ctx, m.FiscalCode, m.ID, messages.Push, []string{"i3"}), problem.ErrConflict)
		// A redelivered event delivers again without resetting the channel.
		ok(t, st.Deliver(ctx, d, sender))
		got, err := st.Get(ctx, m.FiscalCode, m.ID)
		ok(t, err)
		if got.Status != messages.Processed || got.Pending || got.Content == nil || got.Content.PaymentData.Amount != 5 ||
			got.Channels[messages.Email].Status != messages.ChannelSent || !got.CreatedAt.Equal(now) ||
			got.Channels[messages.Push].Reason != "No device." || got.Channels[messages.Webhook].Reason != "pre-failed" {
			t.Fatalf("delivered = %+v", got)
		}
		is(t, st.SetStatus(ctx, m.FiscalCode, m.ID, messages.Rejected, "x", now), problem.ErrConflict)
	})

	t.Run("requeue", func(t *testing.T) {
		old := m
		old.ID, old.FiscalCode, old.CreatedAt, old.DefaultEmail = "01Q", "BBBBBB00B00B000B", now.Add(-time.Hour), "default@example.com"
		fresh, done := old, old
		fresh.ID, fresh.CreatedAt = "01S", now
		done.ID = "01T"
		for _, x := range []messages.Message{old, fresh, done} {
			ok(t, st.Create(ctx, x, nil))
		}
		ok(t, st.SetStatus(ctx, done.FiscalCode, done.ID, messages.Throttled, "", now)) // received: never stale
		stale := func(due time.Time) map[string]messages.Message {
			t.Helper()
			got, err := st.Stale(ctx, due, 100)
			ok(t, err)
			out := map[string]messages.Message{}
			for _, x := range got {
				if x.FiscalCode == old.FiscalCode {
					out[x.ID] = x
				}
			}
			return out
		}
		got := stale(now.Add(-time.Minute))
		if len(got) != 1 || got["01Q"].Content == nil || got["01Q"].Content.Subject != "submitted subject" ||
			got["01Q"].DefaultEmail != "default@example.com" || got["01Q"].Requeues != 0 {
			t.Fatalf("stale a minute ago: %+v", got)
		}
		ok(t, st.MarkRequeued(ctx, old.FiscalCode, old.ID, 1, now.Add(10*time.Minute)))
		if got := stale(now.Add(-time.Second)); len(got) != 0 {
			t.Fatalf("stale after a requeue: %+v", got)
		}
		if got := stale(now.Add(11 * time.Minute)); len(got) != 2 || got["01Q"].Requeues != 1 || got["01S"].ID == "" {
			t.Fatalf("stale in 11 minutes: %+v", got)
		}
		ok(t, st.SetStatus(ctx, old.FiscalCode, old.ID, messages.Rejected, messages.ReasonNoProfile, now))
		is(t, st.MarkRequeued(ctx, old.FiscalCode, old.ID, 2, now), problem.ErrConflict)
		if got := stale(now.Add(11 * time.Minute)); len(got) != 1 || got["01S"].ID == "" {
			t.Fatalf("stale after processing: %+v", got)
		}
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

// collect pages through a listing with page size 1 and returns every item.
func collect[T any](t *testing.T, list func(paging.Request) (paging.Page[T], error)) []T {
	t.Helper()
	var all []T
	r := paging.Request{Size: 1}
	for range 50 {
		p, err := list(r)
		ok(t, err)
		all = append(all, p.Items...)
		if p.Next == "" {
			return all
		}
		r.Cursor = p.Next
	}
	t.Fatal("listing never ended")
	return nil
}

// ListsContract checks the paginated listings of a services and a messages
// store: order, completeness across pages, filtering, bad cursors.
func ListsContract(t *testing.T, svcs services.Store, msgs messages.Store) {
	ctx := context.Background()
	for i, id := range []string{"vis-b", "vis-a", "hidden", "vis-c"} {
		s := services.Service{ServiceID: id, ServiceName: "S", OrganizationName: "O", DepartmentName: "D",
			OrganizationFiscalCode: "00000000001", AuthorizedCIDRs: []string{}, AuthorizedRecipients: []string{}, IsVisible: id != "hidden"}
		ok(t, svcs.Create(ctx, s))
		if i == 3 { // vis-c becomes invisible, vis-b gets a new visible version
			s.Version, s.IsVisible = 1, false
			ok(t, svcs.Create(ctx, s))
			b := s
			b.ServiceID, b.IsVisible = "vis-b", true
			ok(t, svcs.Create(ctx, b))
		}
	}
	vis := collect(t, func(r paging.Request) (paging.Page[services.Tuple], error) { return svcs.Visible(ctx, r) })
	if len(vis) != 2 || vis[0] != (services.Tuple{ServiceID: "vis-a"}) || vis[1] != (services.Tuple{ServiceID: "vis-b", Version: 1}) {
		t.Fatalf("visible services %+v", vis)
	}

	fc := "BBBBBB00B00B000B"
	now := time.Now().UTC().Truncate(time.Millisecond)
	for i, id := range []string{"01A", "01B", "01C", "01D"} {
		m := messages.Message{ID: id, FiscalCode: fc, SenderServiceID: "svc-" + id, TimeToLive: 3600, CreatedAt: now,
			Pending: true, Status: messages.Accepted, StatusAt: now}
		ok(t, msgs.Create(ctx, m, nil))
		if i != 2 { // 01C stays pending
			m.Content = &messages.Content{Subject: "subject", Markdown: "body"}
			ok(t, msgs.Deliver(ctx, m, messages.SenderService{FiscalCode: fc, ServiceID: "svc-" + id, ServiceVersion: i, LastNotificationAt: now}))
		}
	}
	inbox := collect(t, func(r paging.Request) (paging.Page[messages.Message], error) {
		return msgs.Inbox(ctx, fc, r, messages.InboxFilter{})
	})
	if len(inbox) != 3 || inbox[0].ID != "01D" || inbox[1].ID != "01B" || inbox[2].ID != "01A" || inbox[0].Content != nil ||
		!inbox[0].CreatedAt.Equal(now) || inbox[0].SenderServiceID != "svc-01D" {
		t.Fatalf("inbox %+v", inbox)
	}
	first, err := msgs.Inbox(ctx, fc, paging.Request{Size: 100}, messages.InboxFilter{})
	ok(t, err)
	if len(first.Items) != 3 || first.Next != "" {
		t.Fatalf("one page of 100: %d items, next %q", len(first.Items), first.Next)
	}
	senders := collect(t, func(r paging.Request) (paging.Page[messages.SenderService], error) { return msgs.Senders(ctx, fc, r) })
	if len(senders) != 3 || senders[0].ServiceID != "svc-01A" || senders[2].ServiceID != "svc-01D" || senders[2].ServiceVersion != 3 {
		t.Fatalf("senders %+v", senders)
	}
	_, err = msgs.Inbox(ctx, fc, paging.Request{Size: 1, Cursor: paging.Encode("SENDER#x")}, messages.InboxFilter{})
	is(t, err, paging.ErrCursor)

	// The citizen's status: read, then archived; versioned; not for a
	// pending or unknown message; the listing filters on archived.
	yes, no := true, false
	m, err := msgs.ChangeStatus(ctx, fc, "01B", messages.StatusChange{IsRead: &yes}, now)
	ok(t, err)
	if !m.IsRead || m.IsArchived || m.StatusVersion != 1 || !m.StatusUpdatedAt.Equal(now) || m.Status != messages.Processed {
		t.Fatalf("after reading %+v", m)
	}
	m, err = msgs.ChangeStatus(ctx, fc, "01B", messages.StatusChange{IsArchived: &yes}, now)
	ok(t, err)
	if !m.IsRead || !m.IsArchived || m.StatusVersion != 2 {
		t.Fatalf("after archiving %+v", m)
	}
	_, err = msgs.ChangeStatus(ctx, fc, "01C", messages.StatusChange{IsRead: &yes}, now)
	is(t, err, problem.ErrNotFound)
	_, err = msgs.ChangeStatus(ctx, fc, "01Z", messages.StatusChange{IsRead: &yes}, now)
	is(t, err, problem.ErrNotFound)
	archived, err := msgs.Inbox(ctx, fc, paging.Request{Size: 10}, messages.InboxFilter{Archived: &yes})
	ok(t, err)
	current, err := msgs.Inbox(ctx, fc, paging.Request{Size: 10}, messages.InboxFilter{Archived: &no})
	ok(t, err)
	if len(archived.Items) != 1 || archived.Items[0].ID != "01B" || !archived.Items[0].IsRead || len(current.Items) != 2 {
		t.Fatalf("archived %+v, not archived %+v", archived.Items, current.Items)
	}
	_, err = svcs.Visible(ctx, paging.Request{Size: 1, Cursor: "%%%"})
	is(t, err, paging.ErrCursor)
}

// RecipientStore is what InstallationsContract needs of the profiles store.
type RecipientStore interface {
	profiles.Store
	profiles.Recipients
	MarkUndeliverable(ctx context.Context, fiscalCode, address, reason string, at time.Time) error
}

// InstallationsContract checks a push.Store and what profiles.Recipients
// reads with the profile: the devices and the address that bounced.
func InstallationsContract(t *testing.T, st push.Store, profs RecipientStore) {
	ctx := context.Background()
	fc1, fc2 := "BBBBBB00B00B000B", "CCCCCC00C00C000C"
	_, err := profs.Recipient(ctx, fc1)
	is(t, err, problem.ErrNotFound)
	ok(t, profs.Create(ctx, profiles.Profile{FiscalCode: fc1, Version: 0}, nil))
	ok(t, profs.Create(ctx, profiles.Profile{FiscalCode: fc1, Email: "a@b.it", IsInboxEnabled: true, Version: 1}, nil))
	ok(t, profs.Create(ctx, profiles.Profile{FiscalCode: fc2, Version: 0}, nil))
	devices := func(fc string) []string {
		t.Helper()
		r, err := profs.Recipient(ctx, fc)
		ok(t, err)
		var out []string
		for _, d := range r.Devices {
			out = append(out, d.InstallationID+"="+d.EndpointARN)
		}
		return out
	}
	want := func(fc string, w ...string) {
		t.Helper()
		if got := devices(fc); !slices.Equal(got, w) {
			t.Fatalf("devices of %s = %v, want %v", fc, got, w)
		}
	}
	i1 := push.Installation{ID: "i1", FiscalCode: fc1, Platform: push.APNS, EndpointARN: "arn:e1"}
	i2 := push.Installation{ID: "i2", FiscalCode: fc1, Platform: push.FCM, EndpointARN: "arn:e2"}
	ok(t, st.Put(ctx, i1, nil))
	ok(t, st.Put(ctx, i2, nil))
	want(fc1, "i1=arn:e1", "i2=arn:e2")
	if r, _ := profs.Recipient(ctx, fc1); r.Profile.Version != 1 || r.Profile.Email != "a@b.it" || r.Undeliverable != nil {
		t.Fatalf("recipient %+v", r)
	}

	// The same installation with a new token (a new endpoint).
	i1b := i1
	i1b.EndpointARN = "arn:e3"
	ok(t, st.Put(ctx, i1b, []push.Installation{i1}))
	want(fc1, "i1=arn:e3", "i2=arn:e2")
	_, err = st.ByEndpoint(ctx, "arn:e1")
	is(t, err, problem.ErrNotFound)
	// The device moves to another citizen.
	i1c := i1b
	i1c.FiscalCode = fc2
	ok(t, st.Put(ctx, i1c, []push.Installation{i1b}))
	want(fc1, "i2=arn:e2")
	want(fc2, "i1=arn:e3")
	if got, err := st.ByEndpoint(ctx, "arn:e3"); err != nil || got != i1c {
		t.Fatalf("by endpoint %+v %v", got, err)
	}
	// Another installation takes i2's token: i2 leaves fc1.
	i9 := push.Installation{ID: "i9", FiscalCode: fc2, Platform: push.FCM, EndpointARN: "arn:e2"}
	ok(t, st.Put(ctx, i9, []push.Installation{i2}))
	want(fc1)
	want(fc2, "i1=arn:e3", "i9=arn:e2")
	_, err = st.Installation(ctx, "i2")
	is(t, err, problem.ErrNotFound)
	// Removing with a stale endpoint keeps the installation; with its own,
	// it goes; twice is fine.
	stale := i9
	stale.EndpointARN = "arn:old"
	ok(t, st.Remove(ctx, stale))
	want(fc2, "i1=arn:e3", "i9=arn:e2")
	ok(t, st.Remove(ctx, i9))
	ok(t, st.Remove(ctx, i9))
	want(fc2, "i1=arn:e3")

	// The address that bounced is read with the latest version.
	ok(t, profs.MarkUndeliverable(ctx, fc1, "a@b.it", "hard bounce", time.Now()))
	// ... and so are the preferences, written with a version that changes
	// the mode.
	ok(t, profs.Create(ctx, profiles.Profile{FiscalCode: fc1, Email: "a@b.it", IsInboxEnabled: true, Version: 2,
		Settings: profiles.Settings{Mode: profiles.Manual, Version: 0}}, profiles.Preferences{"svc.1": {IsInboxEnabled: true}}))
	ok(t, st.Put(ctx, push.Installation{ID: "i5", FiscalCode: fc1, Platform: push.APNS, EndpointARN: "arn:e5"}, nil))
	r, err := profs.Recipient(ctx, fc1)
	ok(t, err)
	if r.Profile.Version != 2 || r.Undeliverable == nil || r.Undeliverable.Address != "a@b.it" || len(r.Devices) != 1 ||
		r.Profile.Settings.Mode != profiles.Manual || !r.PreferenceFor("svc.1").IsInboxEnabled || r.PreferenceFor("svc").IsInboxEnabled {
		t.Fatalf("recipient %+v", r)
	}
	if p, err := profs.Latest(ctx, fc1); err != nil || p.Version != 2 {
		t.Fatalf("latest %+v %v", p, err)
	}
}
