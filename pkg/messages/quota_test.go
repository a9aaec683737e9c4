package messages_test

import (
	"context"
	"errors"
	"testing"
	"time"
	_ "time/tzdata" // the reference for Europe/Rome, in the test only

	"github.com/digital-citizenship/functions/pkg/messages"
	"github.com/digital-citizenship/functions/pkg/storetest"
)

// TestRomeDay follows the time zone database's Europe/Rome through
// several years, around both changes of time and midnight.
func TestRomeDay(t *testing.T) {
	rome, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		t.Fatal(err)
	}
	for at := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC); at.Year() < 2031; at = at.Add(37 * time.Minute) {
		local := at.In(rome)
		if got, want := messages.RomeDay(at), local.Format("2006-01-02"); got != want {
			t.Fatalf("RomeDay(%v) = %s, want %s", at, got, want)
		}
		want := time.Date(local.Year(), local.Month(), local.Day()+1, 0, 0, 0, 0, rome)
		if got := messages.RomeMidnightAfter(at); !got.Equal(want) {
			t.Fatalf("RomeMidnightAfter(%v) = %v, want %v", at, got, want)
		}
	}
}

func TestQuota_Shards(t *testing.T) {
	for limit, want := range map[int]int{1: 1, 500: 1, 5000: 1, 5001: 2, 250000: 16, 100000000: 16} {
		q := messages.QuotaFor("s", limit, now)
		total := 0
		for i := range q.Shards {
			total += q.ShardLimit(i)
		}
		if q.Shards != want || total != limit {
			t.Errorf("limit %d: %d shards (want %d) sharing %d", limit, q.Shards, want, total)
		}
	}
}

// TestSubmit_DailyLimit: each submission is counted and says what remains
// (RateLimit headers); the one over the limit is ErrDailyLimit with
// Retry-After until midnight in Rome; a replay is not counted.
func TestSubmit_DailyLimit(t *testing.T) {
	st, q := &storetest.Messages{}, &storetest.Queue{}
	at := time.Date(2026, 12, 6, 22, 30, 0, 0, time.UTC) // 23:30 in Rome: half an hour left
	u := messages.CountedSubmitter{Quotas: st, Submitter: messages.Submitter{Store: st, Created: q, Now: func() time.Time { return at }}}
	s := submission(writer, messages.NewMessage{Content: content})
	s.Service.ServiceID, s.Service.DailyMessageLimit = "svc-limited", 3
	s.Caller.SubscriptionID = "svc-limited"
	for i := range 3 {
		s.IdempotencyKey = string(rune('a' + i))
		res, err := u.Submit(context.Background(), s)
		if err != nil {
			t.Fatal(err)
		}
		h := res.Quota.Headers(at)
		if h["RateLimit-Limit"] != "3" || h["RateLimit-Remaining"] != string(rune('2'-i)) || h["RateLimit-Reset"] != "1800" {
			t.Fatalf("submission %d: headers %v", i+1, h)
		}
		if _, ok := h["Retry-After"]; ok != (i == 2) {
			t.Fatalf("submission %d: Retry-After %v", i+1, h)
		}
	}
	s.IdempotencyKey = "a" // a replay: the first id, not counted, not refused
	if res, err := u.Submit(context.Background(), s); err != nil || res.ID == "" || res.Quota.Remaining != 0 {
		t.Fatalf("replay at the limit: %+v, %v", res, err)
	}
	s.IdempotencyKey = "d"
	res, err := u.Submit(context.Background(), s)
	if !errors.Is(err, messages.ErrDailyLimit) || res.Quota.Headers(at)["Retry-After"] != "1800" {
		t.Fatalf("the fourth: %+v, %v", res, err)
	}
	if n, _ := st.Used(context.Background(), messages.QuotaFor("svc-limited", 3, at)); n != 3 || len(q.Sent) != 4 {
		t.Fatalf("counted %d, queued %d (3 and the replay's)", n, len(q.Sent))
	}
	// The next day in Rome starts at 23:00 UTC.
	tomorrow := at.Add(31 * time.Minute)
	u.Now = func() time.Time { return tomorrow }
	if res, err := u.Submit(context.Background(), s); err != nil || res.Quota.Remaining != 2 {
		t.Fatalf("after midnight: %+v, %v", res, err)
	}
	// Without Quotas (the platform's own messages), nothing is counted.
	res, err = messages.Submitter{Store: st, Created: q, Now: clock}.Submit(context.Background(), submission(writer, messages.NewMessage{Content: content}))
	if err != nil || res.Quota.Headers(now) != nil {
		t.Fatalf("uncounted: %+v, %v", res, err)
	}
}
