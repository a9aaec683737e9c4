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
