package storetest

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/digital-citizenship/functions/pkg/ids"
	"github.com/digital-citizenship/functions/pkg/messages"
	"github.com/digital-citizenship/functions/pkg/problem"
)

// DueScheduled implements messages.ScheduledStore (one page).
func (s *Messages) DueScheduled(_ context.Context, shard int, due time.Time, _ int, _ string) ([]messages.MessageRef, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []messages.MessageRef
	for _, k := range slices.Sorted(maps.Keys(s.m)) {
		m := s.m[k]
		if _, released := s.requeueAt[k]; m.Status == messages.Scheduled && !released && !m.ScheduledAt.After(due) &&
			messages.ScheduledShard(m.ID) == shard {
			out = append(out, messages.MessageRef{FiscalCode: m.FiscalCode, ID: m.ID})
		}
	}
	return out, "", nil
}

// ReleaseScheduled implements messages.ScheduledStore.
func (s *Messages) ReleaseScheduled(_ context.Context, fc, id string) (messages.Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := fc + "/" + id
	m, ok := s.m[k]
	if _, released := s.requeueAt[k]; !ok || released || m.Status != messages.Scheduled {
		return messages.Message{}, problem.ErrConflict
	}
	s.requeueAt[k] = m.ScheduledAt
	m.Channels = maps.Clone(m.Channels)
	return m, nil
}

// Cancel implements messages.ScheduledStore.
func (s *Messages) Cancel(_ context.Context, fc, id string, at time.Time) (messages.Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := fc + "/" + id
	m, ok := s.m[k]
	switch {
	case !ok:
		return messages.Message{}, problem.ErrNotFound
	case m.Status != messages.Scheduled:
		return messages.Message{}, problem.ErrConflict
	}
	m.Status, m.StatusAt = messages.Cancelled, at
	s.m[k] = m
	delete(s.requeueAt, k)
	return m, nil
}

// ScheduledContract checks scheduled messages in a store: due only at their
// time, released once (then stale for requeue-messages, not before), not
// processed once cancelled, cancelled only while SCHEDULED, a processing
// retry of a released one allowed.
func ScheduledContract(t *testing.T, st interface {
	messages.Store
	messages.ScheduledStore
}) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	fc := "EEEEEE00E00E000E"
	schedule := func(at time.Time) messages.Message {
		m := messages.Message{ID: ids.ULID(now), FiscalCode: fc, SenderServiceID: "svc", TimeToLive: 3600, CreatedAt: now,
			Pending: true, Status: messages.Scheduled, StatusAt: now, ScheduledAt: at,
			Content: &messages.Content{Subject: "subject", Markdown: "body"}}
		ok(t, st.Create(ctx, m, nil))
		return m
	}
	due := func(at time.Time) map[string]bool {
		out := map[string]bool{}
		for shard := range messages.ScheduledShards {
			refs, _, err := st.DueScheduled(ctx, shard, at, 100, "")
			ok(t, err)
			for _, r := range refs {
				out[r.ID] = true
			}
		}
		return out
	}
	soon, later := schedule(now.Add(2*time.Minute)), schedule(now.Add(time.Hour))
	got, err := st.Get(ctx, fc, soon.ID)
	ok(t, err)
	if got.Status != messages.Scheduled || !got.ScheduledAt.Equal(soon.ScheduledAt) {
		t.Fatalf("stored %+v", got)
	}
	if d := due(now.Add(time.Minute)); len(d) != 0 {
		t.Fatalf("due before their time: %v", d)
	}
	if stale, err := st.Stale(ctx, now.Add(2*time.Hour), 10); err != nil || len(stale) != 0 {
		t.Fatalf("scheduled messages stale for requeue-messages before their release: %v %v", stale, err)
	}
	if d := due(now.Add(2 * time.Minute)); len(d) != 1 || !d[soon.ID] {
		t.Fatalf("due at its time: %v", d)
	}
	m, err := st.ReleaseScheduled(ctx, fc, soon.ID)
	ok(t, err)
	if m.ID != soon.ID || m.Content == nil || m.Status != messages.Scheduled || !m.ScheduledAt.Equal(soon.ScheduledAt) {
		t.Fatalf("released %+v", m)
	}
	_, err = st.ReleaseScheduled(ctx, fc, soon.ID)
	is(t, err, problem.ErrConflict)
	if d := due(now.Add(2 * time.Hour)); len(d) != 1 || !d[later.ID] {
		t.Fatalf("due after a release: %v", d)
	}
	stale, err := st.Stale(ctx, now.Add(3*time.Minute), 10)
	ok(t, err)
	if len(stale) != 1 || stale[0].ID != soon.ID {
		t.Fatalf("a released message lost in the queue is stale from its time: %v", stale)
	}
	ok(t, st.MarkRequeued(ctx, fc, soon.ID, 1, now.Add(time.Hour)))
	// Processed from SCHEDULED; then no longer cancellable.
	ok(t, st.Deliver(ctx, m, messages.SenderService{FiscalCode: fc, ServiceID: "svc", LastNotificationAt: now}))
	_, err = st.Cancel(ctx, fc, soon.ID, now)
	is(t, err, problem.ErrConflict)

	c, err := st.Cancel(ctx, fc, later.ID, now)
	ok(t, err)
	if c.Status != messages.Cancelled {
		t.Fatalf("cancelled %+v", c)
	}
	if d := due(now.Add(2 * time.Hour)); len(d) != 0 {
		t.Fatalf("due after a cancel: %v", d)
	}
	_, err = st.ReleaseScheduled(ctx, fc, later.ID)
	is(t, err, problem.ErrConflict)
	is(t, st.Deliver(ctx, later, messages.SenderService{FiscalCode: fc, ServiceID: "svc", LastNotificationAt: now}), problem.ErrConflict)
	is(t, st.SetStatus(ctx, fc, later.ID, messages.Rejected, messages.ReasonNoProfile, now), problem.ErrConflict)
	_, err = st.Cancel(ctx, fc, later.ID, now)
	is(t, err, problem.ErrConflict)
	_, err = st.Cancel(ctx, fc, ids.ULID(now), now)
	is(t, err, problem.ErrNotFound)
}
