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
