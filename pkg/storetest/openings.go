package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/digital-citizenship/functions/pkg/ids"
	"github.com/digital-citizenship/functions/pkg/messages"
	"github.com/digital-citizenship/functions/pkg/problem"
	"github.com/digital-citizenship/functions/pkg/receipts"
)

// RecordOpening implements receipts.Store.
func (s *Messages) RecordOpening(_ context.Context, fc, id string, at time.Time, o receipts.Opening, remote bool) (messages.Message, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.m[fc+"/"+id]
	switch {
	case !ok || m.Pending:
		return messages.Message{}, false, problem.ErrNotFound
	case m.Acts.Opened() || !remote && m.Content != nil && m.Content.ThirdPartyData != nil:
		return m, false, nil
	}
	m.Acts.OpenedAt, m.Acts.Due = at, false
	if o.Precondition != "" {
		m.Acts.Precondition = o.Precondition
	}
	if o.RemoteDigest != "" {
		m.Acts.RemoteDigest = o.RemoteDigest
	}
	if o.PreconditionDigest != "" {
		m.Acts.PreconditionDigest = o.PreconditionDigest
	}
	s.m[fc+"/"+id] = m
	return m, true, nil
}

// DueOpenings implements receipts.Store (one page: the fake keeps few
// messages).
func (s *Messages) DueOpenings(_ context.Context, shard int, due time.Time, _ int, _ string) ([]messages.MessageRef, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []messages.MessageRef
	for _, m := range s.m {
		if m.Acts.Due && !m.Acts.Deadline.After(due) && messages.OpeningShard(m.ID) == shard {
			out = append(out, messages.MessageRef{FiscalCode: m.FiscalCode, ID: m.ID})
		}
	}
	return out, "", nil
}

// RecordNotOpened implements receipts.Store.
func (s *Messages) RecordNotOpened(_ context.Context, fc, id string, at time.Time, precondition, head string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.m[fc+"/"+id]
	if !ok || m.Acts.Opened() || !m.Acts.NotOpenedAt.IsZero() {
		return problem.ErrConflict
	}
	m.Acts.NotOpenedAt, m.Acts.Precondition, m.Acts.LegalHead = at, precondition, head
	s.m[fc+"/"+id] = m
	return nil
}

// LeaveOpenings implements receipts.Store.
func (s *Messages) LeaveOpenings(_ context.Context, fc, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m, ok := s.m[fc+"/"+id]; ok {
		m.Acts.Due = false
		s.m[fc+"/"+id] = m
	}
	return nil
}

// OpeningsContract is what every receipts.Store does with a message's
// legal events: an opening is recorded once, and only for a message of the
// inbox (for one with third_party_data, only once its sender's answers
// are read); a message with an opening deadline is in the deadlines' index
// until it is opened or recorded not opened.
func OpeningsContract(t *testing.T, st interface {
	messages.Store
	receipts.Store
}) {
	const fc = "OPENED00A00A000A"
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)
	msg := func(remote bool) messages.Message {
		m := messages.Message{ID: ids.ULID(time.Now()), FiscalCode: fc, SenderServiceID: "svc", CreatedAt: now, StatusAt: now,
			Status: messages.Accepted, Pending: true, Content: &messages.Content{Subject: "s", Markdown: "m"}}
		if remote {
			m.Content.ThirdPartyData = &messages.ThirdPartyData{ID: "T-1", ConfigurationID: "01HZZZZZZZZZZZZZZZZZZZZZZZ"}
		}
		time.Sleep(time.Millisecond)
		ok(t, st.Create(ctx, withoutThirdParty(m), nil))
		return m
	}
	deliver := func(m messages.Message, deadline time.Time) {
		d := m
		d.Channels = map[string]messages.Channel{}
		if !deadline.IsZero() {
			d.Acts.Deadline, d.Acts.Due = deadline, true
		}
		ok(t, st.Deliver(ctx, d, messages.SenderService{FiscalCode: fc, ServiceID: "svc", LastNotificationAt: now}))
	}
	plain := msg(false)
	_, _, err := st.RecordOpening(ctx, fc, plain.ID, now, receipts.Opening{}, false)
	is(t, err, problem.ErrNotFound) // not in the inbox yet
	_, _, err = st.RecordOpening(ctx, fc, "01NOSUCHMESSAGE00000000000", now, receipts.Opening{}, false)
	is(t, err, problem.ErrNotFound)
	deliver(plain, time.Time{})
	m, recorded, err := st.RecordOpening(ctx, fc, plain.ID, now, receipts.Opening{}, false)
	ok(t, err)
	if !recorded || !m.Acts.OpenedAt.Equal(now) || m.Content.Subject != "s" {
		t.Fatalf("first opening: %v %+v", recorded, m.Acts)
	}
	m, recorded, err = st.RecordOpening(ctx, fc, plain.ID, now.Add(time.Minute), receipts.Opening{}, false)
	ok(t, err)
	if recorded || !m.Acts.OpenedAt.Equal(now) {
		t.Fatalf("second opening: %v %+v", recorded, m.Acts)
	}

	// Remote content, an opening condition, a deadline.
	remote := msg(true)
	deadline := now.Add(time.Hour).Truncate(time.Second)
	deliver(remote, deadline)
	due := func(at time.Time) bool {
		for shard := range messages.OpeningShards {
			refs, _, err := st.DueOpenings(ctx, shard, at, 100, "")
			ok(t, err)
			for _, r := range refs {
				if r.ID == remote.ID {
					return true
				}
			}
		}
		return false
	}
	if due(now) || !due(deadline) {
		t.Fatal("the deadline's index: due before its time, or not at it")
	}
	got, err := st.Get(ctx, fc, remote.ID)
	ok(t, err)
	if !got.Acts.Deadline.Equal(deadline) || !got.Acts.Due {
		t.Fatalf("stored acts %+v", got.Acts)
	}
	ok(t, st.RecordNotOpened(ctx, fc, remote.ID, deadline.Add(time.Second), messages.PreconditionOnce, "sha256:head"))
	is(t, st.RecordNotOpened(ctx, fc, remote.ID, deadline.Add(2*time.Second), messages.PreconditionOnce, "sha256:other"), problem.ErrConflict)
	ok(t, st.LeaveOpenings(ctx, fc, remote.ID))
	if due(deadline.Add(time.Hour)) {
		t.Fatal("still due after leaving the index")
	}
	m, recorded, err = st.RecordOpening(ctx, fc, remote.ID, deadline.Add(time.Minute), receipts.Opening{}, false)
	ok(t, err)
	if recorded || m.Acts.Opened() {
		t.Fatalf("remote content opened before its sender's answers were read: %+v", m.Acts)
	}
	o := receipts.Opening{Precondition: messages.PreconditionOnce, RemoteDigest: "sha256:remote", PreconditionDigest: "sha256:pre"}
	m, recorded, err = st.RecordOpening(ctx, fc, remote.ID, deadline.Add(time.Minute), o, true)
	ok(t, err)
	if !recorded || m.Acts.RemoteDigest != "sha256:remote" || m.Acts.PreconditionDigest != "sha256:pre" || m.Acts.LegalHead != "sha256:head" ||
		!m.Acts.NotOpenedAt.Equal(deadline.Add(time.Second)) {
		t.Fatalf("the opening after the deadline: %+v", m.Acts)
	}
	is(t, st.RecordNotOpened(ctx, fc, remote.ID, deadline.Add(time.Hour), messages.PreconditionOnce, "x"), problem.ErrConflict)
}

// withoutThirdParty returns m as created without a configuration to check
// (the contract checks openings, not configurations): the third-party data
// comes with the delivery.
func withoutThirdParty(m messages.Message) messages.Message {
	c := *m.Content
	c.ThirdPartyData = nil
	m.Content = &c
	return m
}
