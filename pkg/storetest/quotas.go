package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/digital-citizenship/functions/pkg/ids"
	"github.com/digital-citizenship/functions/pkg/messages"
	"github.com/digital-citizenship/functions/pkg/problem"
)

// QuotaStore is what QuotasContract needs: the messages store and its
// daily counters.
type QuotaStore interface {
	messages.Store
	messages.Quotas
}

// QuotasContract checks the daily counters: a day ends at its limit
// exactly, also when its count is shared by counters and submissions race;
// a refused message is not written; a replay of an Idempotency-Key is a
// conflict, never counted and never refused for the limit; another day
// counts anew.
func QuotasContract(t *testing.T, st QuotaStore) {
	ctx := context.Background()
	now := time.Now().UTC()
	fc := "DDDDDD00D00D000D"
	msg := func(svc string) messages.Message {
		at := time.Now().UTC().Truncate(time.Millisecond)
		return messages.Message{ID: ids.ULID(at), FiscalCode: fc, SenderServiceID: svc, TimeToLive: 3600, CreatedAt: at,
			Pending: true, Status: messages.Accepted, StatusAt: at}
	}
	used := func(q messages.Quota, want int) {
		t.Helper()
		n, err := st.Used(ctx, q)
		ok(t, err)
		if n != want {
			t.Fatalf("used %d of %s's day %s, want %d", n, q.ServiceID, q.Day, want)
		}
	}

	q := messages.QuotaFor("svc-q", 3, now)
	if q.Shards != 1 {
		t.Fatalf("a limit of 3 on %d counters", q.Shards)
	}
	used(q, 0)
	for range 3 {
		ok(t, st.CreateCounted(ctx, msg("svc-q"), nil, q))
	}
	over := msg("svc-q")
	is(t, st.CreateCounted(ctx, over, nil, q), messages.ErrDailyLimit)
	_, err := st.Get(ctx, fc, over.ID)
	is(t, err, problem.ErrNotFound)
	used(q, 3)
	tomorrow := q
	tomorrow.Day = messages.RomeDay(now.Add(24 * time.Hour))
	ok(t, st.CreateCounted(ctx, msg("svc-q"), nil, tomorrow))
	used(tomorrow, 1)
	used(q, 3)
	// The days read together: each its own, a day without counters 0.
	if ur, isReader := st.(messages.UsageReader); isReader {
		byDay, err := ur.UsedDays(ctx, "svc-q", []string{"2020-01-01", q.Day, tomorrow.Day})
		ok(t, err)
		if byDay["2020-01-01"] != 0 || byDay[q.Day] != 3 || byDay[tomorrow.Day] != 1 {
			t.Fatalf("usage by day %v", byDay)
		}
	} else {
		t.Fatal("the store reads no usage by day (messages.UsageReader)")
	}

	// A replay is a conflict, not counted, and not refused at the limit.
	r := messages.QuotaFor("svc-r", 2, now)
	first := msg("svc-r")
	idem := &messages.Idempotency{ServiceID: "svc-r", KeyHash: "k1", BodyHash: "b", FiscalCode: fc, MessageID: first.ID, ExpiresAt: now.Add(time.Hour)}
	ok(t, st.CreateCounted(ctx, first, idem, r))
	again := *idem
	again.MessageID = msg("svc-r").ID
	is(t, st.CreateCounted(ctx, msg("svc-r"), &again, r), problem.ErrConflict)
	used(r, 1)
	ok(t, st.CreateCounted(ctx, msg("svc-r"), nil, r))
	is(t, st.CreateCounted(ctx, msg("svc-r"), &again, r), problem.ErrConflict)
	used(r, 2)

	// Four counters share a limit of 10: 16 racing submissions, 10 written.
	s := messages.Quota{ServiceID: "svc-s", Day: q.Day, Reset: q.Reset, Limit: 10, Shards: 4}
	if total := s.ShardLimit(0) + s.ShardLimit(1) + s.ShardLimit(2) + s.ShardLimit(3); total != 10 {
		t.Fatalf("the counters' shares add up to %d", total)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	counts := map[string]int{}
	for range 16 {
		wg.Go(func() {
			err := st.CreateCounted(ctx, msg("svc-s"), nil, s)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				counts["created"]++
			case errors.Is(err, messages.ErrDailyLimit):
				counts["refused"]++
			default:
				counts[fmt.Sprint(err)]++
			}
		})
	}
	wg.Wait()
	if counts["created"] != 10 || counts["refused"] != 6 {
		t.Fatalf("16 racing submissions for 10: %v", counts)
	}
	used(s, 10)
}
