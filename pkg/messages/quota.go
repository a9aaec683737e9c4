package messages

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/digital-citizenship/functions/pkg/problem"
)

// Quota is the day's count a submission joins: a service's messages of one
// calendar day in Europe/Rome, bounded by the service's daily limit.
type Quota struct {
	ServiceID string
	// Day is the calendar day in Europe/Rome (2006-01-02) and Reset the
	// midnight that ends it.
	Day   string
	Reset time.Time
	Limit int
	// Shards is how many counters share the day's count.
	Shards int
}

// QuotaFor returns the quota of a service's submission at now.
func QuotaFor(serviceID string, limit int, now time.Time) Quota {
	return Quota{ServiceID: serviceID, Day: RomeDay(now), Reset: RomeMidnightAfter(now), Limit: limit, Shards: ShardsFor(limit)}
}

// quotaShardSize is how much of a limit one counter shard holds: a
// service allowed up to 5,000 a day counts on one item, one allowed more
// on up to MaxQuotaShards, so that a service submitting 1,000 messages a
// second spreads them (a transaction writes each item it touches twice:
// one item takes 500 transactions a second).
const quotaShardSize = 5000

// MaxQuotaShards bounds the counter's shards.
const MaxQuotaShards = 16

// ShardsFor returns how many counters share a daily limit.
func ShardsFor(limit int) int {
	return min(MaxQuotaShards, max(1, (limit+quotaShardSize-1)/quotaShardSize))
}

// ShardLimit returns how many messages counter i of the quota may count:
// the limit split evenly, the first ones taking the remainder, so that the
// shards add up to the limit exactly.
func (q Quota) ShardLimit(i int) int {
	n := max(q.Shards, 1)
	c := q.Limit / n
	if i < q.Limit%n {
		c++
	}
	return c
}

// ErrDailyLimit is the answer to a submission over its service's daily
// limit; the caller adds Retry-After and the RateLimit headers.
var ErrDailyLimit = problem.New(problem.TooManyRequests, "Daily limit reached",
	"This service reached its daily message limit; retry after the time in Retry-After (midnight, Europe/Rome).")

// ErrCountersBusy is the answer when every counter of a day stayed in other
// submissions' transactions: nothing was written, and a retry will do.
var ErrCountersBusy = problem.New(problem.Unavailable, "Service unavailable",
	"Too many submissions for this service at this moment; nothing was written. Retry in a second.")

// Quotas counts each service's messages of the day.
type Quotas interface {
	// CreateCounted is Store.Create that also counts the message in q's
	// day, in the same write; ErrDailyLimit when the day's count reached
	// q.Limit (nothing is written), problem.ErrConflict when idem's key is
	// taken (nothing is counted).
	CreateCounted(ctx context.Context, m Message, idem *Idempotency, q Quota) error
	// Used returns how many messages q's service counted on q's day.
	Used(ctx context.Context, q Quota) (int, error)
}

// QuotaState is what a submission's answer says of its service's quota:
// the IETF RateLimit header fields.
type QuotaState struct {
	Limit, Remaining int
	Reset            time.Time
}

// Headers returns the RateLimit-Limit, RateLimit-Remaining and
// RateLimit-Reset (seconds) fields at now, with Retry-After when nothing
// remains; none for a submission that was not counted.
func (s QuotaState) Headers(now time.Time) map[string]string {
	if s.Limit == 0 {
		return nil
	}
	reset := strconv.Itoa(max(0, int(s.Reset.Sub(now).Round(time.Second)/time.Second)))
	h := map[string]string{"RateLimit-Limit": strconv.Itoa(s.Limit), "RateLimit-Remaining": strconv.Itoa(s.Remaining),
		"RateLimit-Reset": reset, "RateLimit-Policy": fmt.Sprintf("%d;w=86400", s.Limit)}
	if s.Remaining == 0 {
		h["Retry-After"] = reset
	}
	return h
}

// usageRefresh is how old this environment's knowledge of a day's count
// may be before a submission reads the counters again (one request, at
// most this often, by each environment that submits).
const usageRefresh = time.Second

// usage is what this execution environment knows of each quota's count:
// the count read at readAt, plus the messages it counted since.
type usage struct {
	mu    sync.Mutex
	byDay map[string]*usageEntry
}

type usageEntry struct {
	read   int
	readAt time.Time
	added  int
	// reads are the earlier reads of the day's count, oldest first, back
	// to the last one at least bulkWindow old: what recent needs.
	reads []usageRead
}

type usageRead struct {
	n  int
	at time.Time
}

var seen = &usage{byDay: map[string]*usageEntry{}}

func quotaKey(q Quota) string { return q.ServiceID + "#" + q.Day }

// stale reports whether the count of q needs a new read at now.
func (u *usage) stale(q Quota, now time.Time) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	e := u.byDay[quotaKey(q)]
	return e == nil || now.Sub(e.readAt) >= usageRefresh
}

// record notes a read of the count of q.
func (u *usage) record(q Quota, n int, at time.Time) {
	u.mu.Lock()
	defer u.mu.Unlock()
	e := &usageEntry{read: n, readAt: at}
	if prev := u.byDay[quotaKey(q)]; prev != nil {
		e.reads = append(prev.reads, usageRead{prev.read, prev.readAt})
		for len(e.reads) > 1 && at.Sub(e.reads[1].at) >= bulkWindow {
			e.reads = e.reads[1:]
		}
	}
	u.byDay[quotaKey(q)] = e
	for k, e := range u.byDay { // yesterday's are no use
		if at.Sub(e.readAt) > 48*time.Hour {
			delete(u.byDay, k)
		}
	}
}

// count notes one message counted in q, and returns what remains of it as
// far as this environment knows.
func (u *usage) count(q Quota, counted bool) int {
	u.mu.Lock()
	defer u.mu.Unlock()
	e := u.byDay[quotaKey(q)]
	if e == nil {
		e = &usageEntry{}
		u.byDay[quotaKey(q)] = e
	}
	if counted {
		e.added++
	}
	return max(0, q.Limit-e.read-e.added)
}

// recent returns the service's submissions in about the last minute, as
// far as this environment knows: the count now less the count read a
// minute ago or, in an environment younger than that, at its first read
// (fewer, never more, than the truth over a shorter window). It costs no
// request: the reads are those of the day's counters for RateLimit-Remaining.
func (u *usage) recent(q Quota, now time.Time) int {
	u.mu.Lock()
	defer u.mu.Unlock()
	e := u.byDay[quotaKey(q)]
	if e == nil {
		return 0
	}
	// The base is the newest read at least a minute old (the last read
	// itself, when reads failed since), else the oldest.
	base := e.read
	if now.Sub(e.readAt) < bulkWindow && len(e.reads) > 0 {
		base = e.reads[0].n
		for _, r := range e.reads {
			if now.Sub(r.at) < bulkWindow {
				break
			}
			base = r.n
		}
	}
	return e.read + e.added - base
}

// RomeDay returns the calendar day of t in Europe/Rome (2006-01-02).
func RomeDay(t time.Time) string { return romeWall(t).Format("2006-01-02") }

// RomeMidnightAfter returns the first midnight in Europe/Rome after t.
func RomeMidnightAfter(t time.Time) time.Time {
	w := romeWall(t)
	next := time.Date(w.Year(), w.Month(), w.Day()+1, 0, 0, 0, 0, time.UTC) // Rome's wall clock
	for _, off := range []time.Duration{time.Hour, 2 * time.Hour} {
		if at := next.Add(-off); romeWall(at).Equal(next) {
			return at
		}
	}
	return next.Add(-time.Hour) // not reached: midnight is never in a change of time
}

// romeWall returns Rome's wall clock at t, as a time in UTC: Central
// European Time (UTC+1), and summer time (UTC+2) from 01:00 UTC on the last
// Sunday of March to 01:00 UTC on the last Sunday of October, as the EU's
// rules have it since 1996. (Written out rather than read from the time
// zone database, which would add 450 KB to every function that submits.)
func romeWall(t time.Time) time.Time {
	u := t.UTC()
	if !u.Before(lastSunday(u.Year(), time.March)) && u.Before(lastSunday(u.Year(), time.October)) {
		return u.Add(2 * time.Hour)
	}
	return u.Add(time.Hour)
}

// lastSunday returns 01:00 UTC of the last Sunday of month.
func lastSunday(year int, month time.Month) time.Time {
	last := time.Date(year, month+1, 0, 1, 0, 0, 0, time.UTC)
	return last.AddDate(0, 0, -int(last.Weekday()))
}
