// Package feed is the subscriptions feed (IO's getSubscriptionsFeed): for a
// service and a UTC day, the SHA-256 of the fiscal codes of the citizens who
// subscribed to it that day, and of those who unsubscribed.
//
// A citizen subscribes to a service when their inbox may receive its
// messages: the inbox is enabled and the service allowed (not blocked in
// LEGACY and AUTO, allowed by a preference in MANUAL). A profile write or a
// preference compares who may reach the citizen before and after (Diff)
// and carries the changes in its profile event; handle-profile-event records
// them. A change that concerns every service (an inbox turned on or off, a
// new profile, a change of mode) is recorded once, for the profile; one
// that concerns a service, for that service. A service's day is its own
// entries and the profile's: for each citizen the latest entry of the two
// tells, and the service's own wins a tie (written with the profile's, it
// is the exception to it). Subscribing and unsubscribing on the same day,
// at the same level, cancel out: the second removes the first.
//
// Entries are kept 90 days. The erasure removes a citizen's entries (the
// hash is personal data) and records the unsubscription, unless the citizen
// subscribed that same day (then nothing remains).
package feed

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/digital-citizenship/functions/pkg/problem"
)

// Retention is how long a day's entries are kept.
const Retention = 90 * 24 * time.Hour

// DateLayout is a feed's day, as in its path.
const DateLayout = "2006-01-02"

// Change is one change of a citizen's subscriptions: to every service
// (Service empty: the profile's) or to one.
type Change struct {
	Service    string `json:"service,omitempty"`
	Subscribed bool   `json:"subscribed"`
}

// State is who may reach a citizen's inbox: every service but Services
// (All), or only Services; nobody when Inbox is false.
type State struct {
	Inbox    bool
	All      bool
	Services []string
}

// norm is s with no inbox as nobody: only the empty set.
func (s State) norm() State {
	if !s.Inbox {
		return State{}
	}
	return s
}

// Diff returns the changes from before to after: what a reader of the feed
// needs to know who may reach the citizen after, knowing before.
func Diff(before, after State) []Change {
	b, a := before.norm(), after.norm()
	var out []Change
	sub := func(svcs []string, on bool) {
		for _, s := range svcs {
			out = append(out, Change{Service: s, Subscribed: on})
		}
	}
	minus := func(x, y []string) []string {
		var d []string
		for _, s := range x {
			if !slices.Contains(y, s) {
				d = append(d, s)
			}
		}
		slices.Sort(d)
		return d
	}
	switch {
	case !b.All && !a.All: // only some, before and after
		sub(minus(a.Services, b.Services), true)
		sub(minus(b.Services, a.Services), false)
	case !b.All && a.All: // every service now, but its exceptions
		out = append(out, Change{Subscribed: true})
		sub(minus(a.Services, nil), false)
	case b.All && !a.All: // no longer every service: only some
		out = append(out, Change{Subscribed: false})
		sub(minus(a.Services, nil), true)
	default: // every service but exceptions, before and after
		sub(minus(b.Services, a.Services), true)
		sub(minus(a.Services, b.Services), false)
	}
	return out
}

// Hash is a fiscal code's entry in the feed: the lowercase hexadecimal
// SHA-256 of the upper-case fiscal code, as IO's.
func Hash(fiscalCode string) string {
	h := sha256.Sum256([]byte(strings.ToUpper(fiscalCode)))
	return hex.EncodeToString(h[:])
}

// Entry is a recorded change of a citizen, as a reader finds it.
type Entry struct {
	Hash       string
	Subscribed bool
	At         time.Time
}

// Store keeps the feed's entries.
type Store interface {
	// Record records the changes of a citizen at at (their day is at's,
	// in UTC): each cancels the opposite entry of its level that day, or
	// is stored.
	Record(ctx context.Context, fiscalCode string, at time.Time, changes []Change) error
	// Day reads a page of a service's day: its entries and the profile's
	// merged by hash, after cursor ("" for the first page), at most size
	// citizens; next is "" on the last page.
	Day(ctx context.Context, serviceID string, day time.Time, cursor string, size int) (page []Entry, next string, err error)
	// Erase removes every entry of the citizen and then records the
	// unsubscription at at, unless the citizen's entry that day was a
	// subscription of the profile's (created and erased the same day:
	// nothing remains), or the citizen had no entry (never subscribed, or
	// erased already).
	Erase(ctx context.Context, fiscalCode string, at time.Time) error
}

// Merge decides a citizen's entry of a service's day from the profile's
// (p) and the service's (s), either of which may be missing: the later
// one, the service's on a tie.
func Merge(p, s *Entry) Entry {
	switch {
	case s == nil:
		return *p
	case p == nil || !p.At.After(s.At):
		return *s
	}
	return *p
}

// Page is the body of getSubscriptionsFeed.
type Page struct {
	DateUTC         string   `json:"dateUTC"`
	Subscriptions   []string `json:"subscriptions"`
	Unsubscriptions []string `json:"unsubscriptions"`
	// Next is the next page's URL (our extension: a large day comes in
	// pages).
	Next string `json:"next,omitempty"`
}

// Size limits of a page of the feed (citizens).
const (
	MaxPageSize     = 10000
	DefaultPageSize = 10000
)

// Title is the title of every 400 about the feed.
const Title = "Invalid subscriptions feed request"

// ErrNotAvailable answers a day the feed does not hold: in the future, or
// older than Retention.
var ErrNotAvailable = problem.New(problem.NotFound, "Subscriptions feed not available",
	"The feed covers the last 90 days (UTC), today included.")

// ParseDay reads the path's day: a YYYY-MM-DD date (UTC) within the last 90
// days, today included.
func ParseDay(s string, now time.Time) (time.Time, error) {
	d, err := time.Parse(DateLayout, s)
	if err != nil {
		return time.Time{}, problem.Invalidf(Title, "value.date is not a date (YYYY-MM-DD)")
	}
	today := now.UTC().Truncate(24 * time.Hour)
	if d.After(today) || d.Before(today.Add(-Retention)) {
		return time.Time{}, ErrNotAvailable
	}
	return d, nil
}

// ParsePageSize reads page_size: 1 to MaxPageSize, DefaultPageSize when
// empty.
func ParsePageSize(s string) (int, error) {
	if s == "" {
		return DefaultPageSize, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > MaxPageSize {
		return 0, problem.Invalidf(Title, "value.page_size is not an integer between 1 and %d", MaxPageSize)
	}
	return n, nil
}

// Read returns a page of a service's day.
func Read(ctx context.Context, st Store, serviceID string, day time.Time, cursor string, size int) (Page, string, error) {
	entries, next, err := st.Day(ctx, serviceID, day, cursor, size)
	if err != nil {
		return Page{}, "", err
	}
	p := Page{DateUTC: day.Format(DateLayout), Subscriptions: []string{}, Unsubscriptions: []string{}}
	for _, e := range entries {
		if e.Subscribed {
			p.Subscriptions = append(p.Subscriptions, e.Hash)
		} else {
			p.Unsubscriptions = append(p.Unsubscriptions, e.Hash)
		}
	}
	return p, next, nil
}
