package messages

import (
	"context"
	"testing"
	"time"
)

type usageDays map[string]int

func (u usageDays) UsedDays(_ context.Context, _ string, days []string) (map[string]int, error) {
	out := map[string]int{}
	for _, d := range days {
		out[d] = u[d]
	}
	return out, nil
}

// Thirty calendar days in Europe/Rome end today, across a change of the
// clocks, oldest first; today's remaining and reset follow the limit.
func TestUsageOf(t *testing.T) {
	now := time.Date(2026, 3, 29, 22, 30, 0, 0, time.UTC) // 00:30 on March 30th in Rome, the day after the change
	u, err := UsageOf(context.Background(), usageDays{"2026-03-30": 7, "2026-03-29": 2, "2026-03-01": 1}, "svc", 10, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(u.Days) != UsageDays || u.Days[0].Day != "2026-03-01" || u.Days[29].Day != "2026-03-30" || u.Days[28].Day != "2026-03-29" {
		t.Fatalf("days %v", u.Days)
	}
	if u.Days[0].Used != 1 || u.Days[28].Used != 2 || u.Today.Used != 7 || u.Today.Remaining != 3 ||
		u.Today.Reset != "2026-03-30T22:00:00.000Z" || u.DailyLimit != 10 {
		t.Fatalf("usage %+v", u)
	}
	over, _ := UsageOf(context.Background(), usageDays{"2026-03-30": 12}, "svc", 10, now)
	if over.Today.Remaining != 0 {
		t.Fatalf("over the limit: %+v", over.Today)
	}
}
