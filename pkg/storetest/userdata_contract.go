package storetest

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/digital-citizenship/functions/pkg/emailvalidation"
	"github.com/digital-citizenship/functions/pkg/messages"
	"github.com/digital-citizenship/functions/pkg/problem"
	"github.com/digital-citizenship/functions/pkg/profiles"
	"github.com/digital-citizenship/functions/pkg/push"
	"github.com/digital-citizenship/functions/pkg/userdata"
)

// UserDataContract checks a userdata.Store: one open request per choice,
// the index of due requests, conditional updates, and one winner when
// processors race for a request.
func UserDataContract(t *testing.T, st userdata.Store) {
	ctx, fc := context.Background(), "UUUUUU00U00U000U"
	now := time.Date(2026, 11, 24, 10, 0, 0, 123456789, time.UTC)
	_, err := st.Request(ctx, fc, userdata.Download)
	is(t, err, problem.ErrNotFound)
	dl := userdata.Request{ID: "01DL", FiscalCode: fc, Choice: userdata.Download, Status: userdata.Pending, CreatedAt: now, UpdatedAt: now, DueAt: now}
	del := userdata.Request{ID: "01DE", FiscalCode: fc, Choice: userdata.Delete, Status: userdata.Pending, CreatedAt: now, UpdatedAt: now,
		DueAt: now.Add(time.Hour)}
	ok(t, st.Open(ctx, dl))
	is(t, st.Open(ctx, dl), problem.ErrConflict)
	ok(t, st.Open(ctx, del))
	got, err := st.Request(ctx, fc, userdata.Delete)
	ok(t, err)
	if got != del {
		t.Fatalf("request %+v, want %+v", got, del)
	}
	ids := func(at time.Time) string {
		t.Helper()
		var out []string
		for _, choice := range []string{userdata.Download, userdata.Delete} {
			due, err := st.Due(ctx, choice, at, 10)
			ok(t, err)
			for _, r := range due {
				if r.FiscalCode == fc && r.Choice == choice {
					out = append(out, r.ID)
				}
			}
		}
		return strings.Join(out, ",")
	}
	if d := ids(now); d != "01DL" {
		t.Fatalf("due now: %s", d)
	}
	if d := ids(now.Add(2 * time.Hour)); d != "01DL,01DE" {
		t.Fatalf("due later: %s", d)
	}
	// Processors race for the download: one takes it.
	claim := dl
	claim.Status, claim.Attempts = userdata.WIP, 1
	if wins := race(t, 4, problem.ErrConflict, func() error { return st.Update(ctx, claim, userdata.Pending) }); wins != 1 {
		t.Fatalf("%d processors took one request", wins)
	}
	dl.Status, dl.Attempts, dl.Archive = userdata.Closed, 1, "exports/x/01DL.json"
	ok(t, st.Update(ctx, dl, userdata.WIP))
	is(t, st.Update(ctx, dl, userdata.WIP), problem.ErrConflict)
	if got, _ := st.Request(ctx, fc, userdata.Download); got.Status != userdata.Closed || got.Archive != dl.Archive {
		t.Fatalf("closed download %+v", got)
	}
	if d := ids(now.Add(2 * time.Hour)); d != "01DE" {
		t.Fatalf("due after the download closed: %s", d)
	}
	dl.Archive = "" // an erasure took the archive
	ok(t, st.Update(ctx, dl, userdata.Closed))
	if got, _ := st.Request(ctx, fc, userdata.Download); got.Status != userdata.Closed || got.Archive != "" {
		t.Fatalf("download after its archive went %+v", got)
	}
	// A closed choice can be asked for again.
	ok(t, st.Open(ctx, userdata.Request{ID: "01DL2", FiscalCode: fc, Choice: userdata.Download, Status: userdata.Pending,
		CreatedAt: now, UpdatedAt: now, DueAt: now}))
	del.Status = userdata.Aborted
	ok(t, st.Update(ctx, del, userdata.Pending))
	if d := ids(now.Add(2 * time.Hour)); d != "01DL2" {
		t.Fatalf("due after the deletion was aborted: %s", d)
	}
}

// HoldingsStores are the stores whose items a citizen's holdings span.
type HoldingsStores struct {
	Profiles      ProfileStore
	Messages      messages.Store
	Payments      messages.Payments
	Installations push.Store
	UserData      userdata.Store
}

// HoldingsContract checks that userdata.Holdings exports everything the
// stores hold about a citizen and erases it, leaving other citizens and the
// requests alone.
func HoldingsContract(t *testing.T, h userdata.Holdings, s HoldingsStores) {
	ctx, fc, other := context.Background(), "HHHHHH00H00H000H", "IIIIII00I00I000I"
	now := time.Now().UTC().Truncate(time.Millisecond)
	for _, c := range []string{fc, other} {
		ok(t, s.Profiles.Create(ctx, profiles.Profile{FiscalCode: c, Email: "h@example.com", IsEmailValidated: true, IsInboxEnabled: true,
			Settings: profiles.Settings{Mode: profiles.Auto}}, profiles.Preferences{"svc": {IsInboxEnabled: true}}))
		ok(t, s.Profiles.Create(ctx, profiles.Profile{FiscalCode: c, Email: "h@example.com", IsInboxEnabled: true, Version: 1,
			Settings: profiles.Settings{Mode: profiles.Auto}}, nil))
		tok, _ := emailvalidation.NewToken(c, "h@example.com", now)
		ok(t, s.Profiles.PutToken(ctx, tok))
		ok(t, s.Profiles.MarkStarted(ctx, c, "v1", tok.ID))
		ok(t, s.Profiles.MarkWelcomed(ctx, c, now))
		ok(t, s.Installations.Put(ctx, push.Installation{ID: "dev-" + c, FiscalCode: c, Platform: push.FCM, EndpointARN: "arn:" + c}, nil))
		m := messages.Message{ID: "01H" + c, FiscalCode: c, SenderServiceID: "svc", SenderUserID: "u", TimeToLive: 3600,
			CreatedAt: now, Pending: true, Status: messages.Accepted, StatusAt: now,
			Content: &messages.Content{Subject: "holdings subject", Markdown: "holdings body"}}
		ok(t, s.Messages.Create(ctx, m, nil))
		m.Channels = map[string]messages.Channel{}
		ok(t, s.Messages.Deliver(ctx, m, messages.SenderService{FiscalCode: c, ServiceID: "svc", LastNotificationAt: now}))
		// A payment notice, paid: its receipt keeps no fiscal code, and
		// goes with the citizen.
		notice := "0" + strings.Repeat("1", 16) + c[:1]
		pm := messages.Message{ID: "01P" + c, FiscalCode: c, SenderServiceID: "svc", SenderUserID: "u", TimeToLive: 3600,
			CreatedAt: now, Pending: true, Status: messages.Accepted, StatusAt: now, Payee: "00514490010", PaymentStatus: messages.NotPaid,
			Content: &messages.Content{Subject: "holdings notice", Markdown: "holdings notice body",
				PaymentData: &messages.PaymentData{Amount: 100, NoticeNumber: notice}}}
		ok(t, s.Messages.Create(ctx, pm, nil))
		if s.Payments != nil {
			_, err := s.Payments.RecordReceipt(ctx, messages.Receipt{NoticeNumber: notice, PayeeFiscalCode: "00514490010", FiscalCode: c,
				Amount: 100, PaidAt: now}, now.Add(messages.ReceiptWindow))
			ok(t, err)
		}
	}
	ok(t, s.UserData.Open(ctx, userdata.Request{ID: "01HR", FiscalCode: fc, Choice: userdata.Delete, Status: userdata.Pending,
		CreatedAt: now, UpdatedAt: now, DueAt: now}))

	data, err := h.Export(ctx, fc)
	ok(t, err)
	raw, _ := json.Marshal(data)
	want := map[string]int{"profile_versions": 2, "service_preferences": 1, "email_validation": 1, "devices": 1,
		"installations": 1, "welcome": 1, "messages": 2, "senders": 1}
	if s.Payments != nil {
		want["payment_receipts"] = 1
	}
	for kind, n := range want {
		if len(data[kind]) != n {
			t.Fatalf("export has %d %s, want %d: %s", len(data[kind]), kind, n, raw)
		}
	}
	if !strings.Contains(string(raw), "holdings body") || !strings.Contains(string(raw), "h@example.com") ||
		strings.Contains(string(raw), other) || strings.Contains(string(raw), "validator") || strings.Contains(string(raw), `"tokens"`) {
		t.Fatalf("export %s", raw)
	}
	if rs, _ := json.Marshal(data["payment_receipts"]); strings.Contains(string(rs), fc) {
		t.Fatalf("a receipt keeps the payer's fiscal code: %s", rs)
	}

	ok(t, h.Erase(ctx, fc))
	ok(t, h.Erase(ctx, fc)) // idempotent
	if data, err := h.Export(ctx, fc); err != nil || len(data) != 0 {
		t.Fatalf("after the erasure: %v %v", data, err)
	}
	_, err = s.Profiles.Recipient(ctx, fc)
	is(t, err, problem.ErrNotFound)
	_, err = s.Messages.Get(ctx, fc, "01H"+fc)
	is(t, err, problem.ErrNotFound)
	_, err = s.Installations.Installation(ctx, "dev-"+fc)
	is(t, err, problem.ErrNotFound)
	if w, err := s.Profiles.Welcomed(ctx, fc); err != nil || w {
		t.Fatalf("welcome mark after the erasure: %v %v", w, err)
	}
	if r, err := s.UserData.Request(ctx, fc, userdata.Delete); err != nil || r.ID != "01HR" {
		t.Fatalf("the request went with the data: %+v %v", r, err)
	}
	// The other citizen keeps everything.
	if r, err := s.Profiles.Recipient(ctx, other); err != nil || r.Profile.Version != 1 || len(r.Devices) != 1 {
		t.Fatalf("the other citizen %+v %v", r, err)
	}
	if _, err := s.Messages.Get(ctx, other, "01H"+other); err != nil {
		t.Fatalf("the other citizen's message: %v", err)
	}
	if s.Payments != nil {
		_, err := s.Payments.Receipt(ctx, "00514490010", "0"+strings.Repeat("1", 16)+fc[:1])
		is(t, err, problem.ErrNotFound)
		if _, err := s.Payments.Receipt(ctx, "00514490010", "0"+strings.Repeat("1", 16)+other[:1]); err != nil {
			t.Fatalf("the other citizen's receipt: %v", err)
		}
	}
}
