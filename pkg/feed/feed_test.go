package feed

import (
	"reflect"
	"testing"
	"time"
)

func TestDiff(t *testing.T) {
	none := State{}
	all := State{Inbox: true, All: true}
	allBut := func(s ...string) State { return State{Inbox: true, All: true, Services: s} }
	only := func(s ...string) State { return State{Inbox: true, Services: s} }
	for _, c := range []struct {
		name          string
		before, after State
		want          []Change
	}{
		{"created, AUTO", none, all, []Change{{Subscribed: true}}},
		{"created, a service blocked", none, allBut("x"), []Change{{Subscribed: true}, {Service: "x"}}},
		{"a service turned off", all, allBut("x"), []Change{{Service: "x"}}},
		{"a service turned back on", allBut("x", "y"), allBut("y"), []Change{{Service: "x", Subscribed: true}}},
		{"inbox disabled", allBut("x"), State{All: true}, []Change{{}}},
		{"inbox enabled again", State{All: true, Services: []string{"x"}}, allBut("x"), []Change{{Subscribed: true}, {Service: "x"}}},
		{"to MANUAL", all, only(), []Change{{}}},
		{"MANUAL: a service allowed", only("a"), only("a", "b"), []Change{{Service: "b", Subscribed: true}}},
		{"MANUAL: inbox disabled", only("a"), State{Services: []string{"a"}}, []Change{{Service: "a"}}},
		{"MANUAL to AUTO", only("a"), all, []Change{{Subscribed: true}}},
		{"AUTO to MANUAL with one allowed", allBut("x"), only("a"), []Change{{}, {Service: "a", Subscribed: true}}},
		{"nothing changed", allBut("x"), allBut("x"), nil},
	} {
		if got := Diff(c.before, c.after); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
	}
}

func TestMerge(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	p := &Entry{Hash: "h", Subscribed: true, At: t0}
	later := &Entry{Hash: "h", Subscribed: false, At: t0.Add(time.Minute)}
	same := &Entry{Hash: "h", Subscribed: false, At: t0}
	if Merge(p, nil) != *p || Merge(nil, same) != *same {
		t.Fatal("one entry is the answer")
	}
	if Merge(p, later).Subscribed || Merge(p, same).Subscribed {
		t.Fatal("the service's later or simultaneous entry loses")
	}
	if !Merge(&Entry{Subscribed: true, At: t0.Add(time.Hour)}, same).Subscribed {
		t.Fatal("the profile's later entry loses")
	}
}

func TestParseDay(t *testing.T) {
	now := time.Date(2026, 12, 7, 23, 59, 0, 0, time.UTC)
	for s, ok := range map[string]bool{"2026-12-07": true, "2026-09-08": true, "2026-09-07": false, "2026-12-08": false,
		"2026-12-7": false, "yesterday": false} {
		if _, err := ParseDay(s, now); (err == nil) != ok {
			t.Errorf("%s: %v", s, err)
		}
	}
	if Hash("spndnl80r13c555x") != Hash("SPNDNL80R13C555X") || len(Hash("SPNDNL80R13C555X")) != 64 {
		t.Fatal("the hash is of the upper-case fiscal code, in hex")
	}
}
