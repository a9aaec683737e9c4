package ids

import (
	"testing"
	"time"
)

func TestULID_SortsByTime(t *testing.T) {
	a := ULID(time.UnixMilli(1_700_000_000_000))
	b := ULID(time.UnixMilli(1_700_000_000_001))
	if len(a) != 26 || len(b) != 26 {
		t.Fatalf("lengths %d %d, want 26", len(a), len(b))
	}
	if !(a < b) {
		t.Fatalf("%s not before %s", a, b)
	}
}

func TestULID_EncodesTimestamp(t *testing.T) {
	// ulid/javascript pins encodeTime(1469918176385) = "01ARYZ6S41".
	got := ULID(time.UnixMilli(1469918176385))[:10]
	if got != "01ARYZ6S41" {
		t.Fatalf("time part %s, want 01ARYZ6S41", got)
	}
}

func TestULID_Time(t *testing.T) {
	at := time.Date(2026, 11, 30, 23, 59, 59, 123e6, time.UTC)
	if got := Time(ULID(at)); !got.Equal(at) {
		t.Fatalf("Time(ULID(%v)) = %v", at, got)
	}
	if !Time("not a ulid").IsZero() {
		t.Fatal("a string that is not a ULID has a time")
	}
}

func TestFloorCeil_BoundTheULIDsOfAMillisecond(t *testing.T) {
	at := time.Date(2026, 12, 6, 10, 0, 0, 5e6, time.UTC)
	for range 100 {
		id := ULID(at)
		if !(Floor(at) <= id && id <= Ceil(at)) {
			t.Fatalf("%s not within [%s, %s]", id, Floor(at), Ceil(at))
		}
	}
	if before := ULID(at.Add(-time.Millisecond)); before >= Floor(at) {
		t.Fatalf("%s of the millisecond before not below %s", before, Floor(at))
	}
	if after := ULID(at.Add(time.Millisecond)); after <= Ceil(at) {
		t.Fatalf("%s of the millisecond after not above %s", after, Ceil(at))
	}
	if !Valid(Floor(at)) || !Valid(Ceil(at)) || !Time(Ceil(at)).Equal(at) {
		t.Fatalf("bounds %s %s not ULIDs of %v", Floor(at), Ceil(at), at)
	}
}

func TestPred(t *testing.T) {
	for in, want := range map[string]string{
		"01ARYZ6S41000000000000000B": "01ARYZ6S41000000000000000A",
		"01ARYZ6S410000000000000010": "01ARYZ6S41000000000000000Z",
		"01ARYZ6S41000000000000000J": "01ARYZ6S41000000000000000H", // I is not a digit
		"00000000000000000000000000": "",
	} {
		if got := Pred(in); got != want {
			t.Errorf("Pred(%s) = %q, want %q", in, got, want)
		}
	}
	for _, bad := range []string{"", "01ARYZ6S41", "81ARYZ6S41000000000000000B", "01aryz6s41000000000000000b", "01ARYZ6S4100000000000000IL"} {
		if Valid(bad) {
			t.Errorf("Valid(%q) = true", bad)
		}
	}
}
