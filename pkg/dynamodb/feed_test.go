package dynamodb

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/digital-citizenship/functions/pkg/awstest"
	"github.com/digital-citizenship/functions/pkg/feed"
)

// dayOf reads a service's whole day, page after page of size, as
// subscribed and unsubscribed hashes.
func dayOf(t *testing.T, f *Feed, svc string, day time.Time, size int) (subs, unsubs []string, pages int) {
	t.Helper()
	cursor := ""
	for {
		page, next, err := f.Day(context.Background(), svc, day, cursor, size)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, e := range page {
			if e.Subscribed {
				subs = append(subs, e.Hash)
			} else {
				unsubs = append(unsubs, e.Hash)
			}
		}
		if next == "" {
			return subs, unsubs, pages
		}
		cursor = next
	}
}

func TestFeed(t *testing.T) {
	cfg, st := awstest.Stack(t)
	f := NewFeed(dynamodb.NewFromConfig(cfg), st.Refs["ProfilesTable"])
	ctx := context.Background()
	day := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	at := func(h int) time.Time { return day.Add(time.Duration(h) * time.Hour) }
	a, b, c := "AAAAAA00A00Y001X", "BBBBBB00A00Y002X", "CCCCCC00A00Y003X"

	// a: created (every service), then turns svc-x off: subscribed to
	// svc-y, unsubscribed from svc-x.
	must(t, f.Record(ctx, a, at(1), []feed.Change{{Subscribed: true}}))
	must(t, f.Record(ctx, a, at(2), []feed.Change{{Service: "svc-x", Subscribed: false}}))
	// b: turns svc-x on and off the same day: nothing.
	must(t, f.Record(ctx, b, at(1), []feed.Change{{Service: "svc-x", Subscribed: true}}))
	must(t, f.Record(ctx, b, at(3), []feed.Change{{Service: "svc-x", Subscribed: false}}))
	// c: created with svc-x blocked (one write: the service's wins the tie).
	must(t, f.Record(ctx, c, at(4), []feed.Change{{Subscribed: true}, {Service: "svc-x", Subscribed: false}}))

	ha, hc := feed.Hash(a), feed.Hash(c)
	subs, unsubs, _ := dayOf(t, f, "svc-x", day, 100)
	if len(subs) != 0 || !sameSet(unsubs, []string{ha, hc}) {
		t.Fatalf("svc-x: subscriptions %v, unsubscriptions %v; want none and a, c", subs, unsubs)
	}
	subs, unsubs, _ = dayOf(t, f, "svc-y", day, 100)
	if !sameSet(subs, []string{ha, hc}) || len(unsubs) != 0 {
		t.Fatalf("svc-y: subscriptions %v, unsubscriptions %v; want a, c and none", subs, unsubs)
	}
	if s, u, _ := dayOf(t, f, "svc-y", day.Add(24*time.Hour), 100); len(s)+len(u) != 0 {
		t.Fatalf("the next day has %v %v", s, u)
	}

	// Pages: 40 citizens across the shards, read 7 at a time, each once.
	for i := range 40 {
		fc := string(rune('A'+i%26)) + "ZZZZZ00A00Y" + string(rune('0'+i/10)) + string(rune('0'+i%10)) + "0X"
		must(t, f.Record(ctx, fc, at(5), []feed.Change{{Service: "svc-z", Subscribed: true}}))
	}
	all, _, _ := dayOf(t, f, "svc-z", day, 1000)
	paged, _, pages := dayOf(t, f, "svc-z", day, 7)
	if len(all) != 42 || !sameSet(paged, all) || pages != 6 {
		t.Fatalf("paged %d citizens in %d pages, whole %d; want 42 (40 + a + c, every service), the same, in 6 pages", len(paged), pages, len(all))
	}
	if _, _, err := f.Day(ctx, "svc-z", day, "bm90LWEtY3Vyc29y", 7); err == nil {
		t.Fatal("a cursor no listing returned was read")
	}

	// Erasure: a's entries go; created the same day, nothing remains.
	must(t, f.Erase(ctx, a, at(6)))
	if s, u, _ := dayOf(t, f, "svc-x", day, 100); slices.Contains(s, ha) || slices.Contains(u, ha) {
		t.Fatalf("a erased, and still in svc-x's day: %v %v", s, u)
	}
	// Created the day before, erased today: the unsubscription is told.
	d := "DDDDDD00A00Y004X"
	must(t, f.Record(ctx, d, at(-3), []feed.Change{{Subscribed: true}}))
	must(t, f.Erase(ctx, d, at(7)))
	if s, _, _ := dayOf(t, f, "svc-y", day.Add(-24*time.Hour), 100); slices.Contains(s, feed.Hash(d)) {
		t.Fatal("d's subscription of the day before survived the erasure")
	}
	if _, u, _ := dayOf(t, f, "svc-y", day, 100); !slices.Contains(u, feed.Hash(d)) {
		t.Fatal("d erased, and not unsubscribed from svc-y")
	}
	// Erasing again (a retried run) tells nothing more.
	must(t, f.Erase(ctx, a, at(8)))
	if _, u, _ := dayOf(t, f, "svc-y", day, 100); slices.Contains(u, ha) {
		t.Fatal("a second erasure of a wrote an unsubscription")
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func sameSet(a, b []string) bool {
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(x, y)
}
