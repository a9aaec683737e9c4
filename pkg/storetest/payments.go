package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/digital-citizenship/functions/pkg/messages"
	"github.com/digital-citizenship/functions/pkg/problem"
)

// PaymentStore is what the payments contract needs of a store.
type PaymentStore interface {
	messages.Store
	messages.Payments
}

// PaymentsContract checks messages.Payments: receipts (the first of a
// notice wins), the messages of a notice by payee, and PAID that sticks.
func PaymentsContract(t *testing.T, st PaymentStore) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)
	notice := func(id, payee, number string) messages.Message {
		return messages.Message{ID: id, FiscalCode: "PAYPAY00A00A000A", SenderServiceID: "svc", SenderUserID: "u",
			TimeToLive: 3600, CreatedAt: now, Pending: true, Status: messages.Accepted, StatusAt: now,
			FeatureLevel: messages.Advanced, Payee: payee, PaymentStatus: messages.NotPaid,
			Content: &messages.Content{Subject: "a payment notice", Markdown: "body",
				PaymentData: &messages.PaymentData{Amount: 100, NoticeNumber: number}}}
	}
	a, b := notice("01PA", "00000000001", "012345678901234567"), notice("01PB", "00000000001", "012345678901234567")
	other := notice("01PC", "99999999999", "012345678901234567")
	plain := messages.Message{ID: "01PD", FiscalCode: a.FiscalCode, SenderServiceID: "svc", CreatedAt: now,
		Pending: true, Status: messages.Accepted, StatusAt: now, Content: &messages.Content{Subject: "plain", Markdown: "body"}}
	for _, m := range []messages.Message{a, b, other, plain} {
		ok(t, st.Create(ctx, m, nil))
	}
	if got, err := st.Get(ctx, a.FiscalCode, a.ID); err != nil || got.PaymentStatus != messages.NotPaid ||
		got.Payee != "00000000001" || got.Level() != messages.Advanced {
		t.Fatalf("created notice %+v %v", got, err)
	}

	_, err := st.Receipt(ctx, "00000000001", "012345678901234567")
	is(t, err, problem.ErrNotFound)
	r := messages.Receipt{NoticeNumber: "012345678901234567", PayeeFiscalCode: "00000000001", FiscalCode: a.FiscalCode,
		Amount: 100, PaidAt: now.Add(-time.Hour)}
	kept, err := st.RecordReceipt(ctx, r, now.Add(messages.ReceiptWindow))
	ok(t, err)
	later := r
	later.PaidAt = now
	again, err := st.RecordReceipt(ctx, later, now.Add(messages.ReceiptWindow))
	ok(t, err)
	if !kept.PaidAt.Equal(r.PaidAt) || !again.PaidAt.Equal(r.PaidAt) {
		t.Fatalf("receipts kept %+v then %+v, want the first", kept, again)
	}
	if got, err := st.Receipt(ctx, "00000000001", "012345678901234567"); err != nil || !got.PaidAt.Equal(r.PaidAt) || got.Amount != 100 {
		t.Fatalf("receipt %+v %v", got, err)
	}

	// The index is eventually consistent: wait for both notices.
	var refs []messages.MessageRef
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if refs, err = st.ByNotice(ctx, "00000000001", "012345678901234567"); err == nil && len(refs) == 2 {
			break
		}
	}
	ok(t, err)
	ids := []string{}
	for _, ref := range refs {
		ids = append(ids, ref.ID)
	}
	slices.Sort(ids)
	if !slices.Equal(ids, []string{"01PA", "01PB"}) || refs[0].FiscalCode != a.FiscalCode {
		t.Fatalf("messages of the notice %+v", refs)
	}

	paid, err := st.MarkPaid(ctx, a.FiscalCode, a.ID, r.PaidAt)
	ok(t, err)
	if paid.PaymentStatus != messages.Paid || !paid.PaidAt.Equal(r.PaidAt) {
		t.Fatalf("paid %+v", paid)
	}
	// PAID sticks, with its first time.
	paid, err = st.MarkPaid(ctx, a.FiscalCode, a.ID, now)
	ok(t, err)
	if !paid.PaidAt.Equal(r.PaidAt) {
		t.Fatalf("paid again at %v, want %v", paid.PaidAt, r.PaidAt)
	}
	_, err = st.MarkPaid(ctx, a.FiscalCode, "01NONE", now)
	is(t, err, problem.ErrNotFound)
	_, err = st.MarkPaid(ctx, plain.FiscalCode, plain.ID, now)
	is(t, err, problem.ErrConflict)
	if got, _ := st.Get(ctx, b.FiscalCode, b.ID); got.PaymentStatus != messages.NotPaid {
		t.Fatalf("the other message of the notice is %s", got.PaymentStatus)
	}
	// Concurrent payments of one notice: each gets the message PAID, with
	// the time of the one that won.
	times := make(chan time.Time, 8)
	race(t, 8, nil, func() error {
		m, err := st.MarkPaid(ctx, b.FiscalCode, b.ID, time.Now())
		times <- m.PaidAt
		return err
	})
	close(times)
	first := time.Time{}
	for at := range times {
		if first.IsZero() {
			first = at
		}
		if !at.Equal(first) {
			t.Fatalf("racing payments saw paid_at %v and %v", first, at)
		}
	}
}
