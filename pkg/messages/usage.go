package messages

import (
	"context"
	"time"
)

// UsageReader reads a service's daily counters over several days.
type UsageReader interface {
	// UsedDays returns how many messages the service counted on each day
	// (Europe/Rome, 2006-01-02) of days; a day without a count is 0.
	UsedDays(ctx context.Context, serviceID string, days []string) (map[string]int, error)
}

// UsageDays is how many days of counts are kept and shown: today and the
// 29 before it.
const UsageDays = 30

// Usage is a service's use of its daily limit: today, and each day of the
// last UsageDays, oldest first (today last).
type Usage struct {
	DailyLimit int        `json:"daily_message_limit"`
	Today      UsageToday `json:"today"`
	Days       []UsageDay `json:"days"`
}

// UsageDay is one day's count.
type UsageDay struct {
	Day  string `json:"day"`
	Used int    `json:"used"`
}

// UsageToday is today's count against the limit, and when it resets.
type UsageToday struct {
	UsageDay
	Remaining int    `json:"remaining"`
	Reset     string `json:"reset"`
}

// UsageOf reads a service's usage at now, with its daily limit.
func UsageOf(ctx context.Context, r UsageReader, serviceID string, limit int, now time.Time) (Usage, error) {
	today := RomeDay(now)
	start, _ := time.Parse("2006-01-02", today)
	days := make([]string, UsageDays)
	for i := range days {
		days[i] = start.AddDate(0, 0, i-(UsageDays-1)).Format("2006-01-02")
	}
	used, err := r.UsedDays(ctx, serviceID, days)
	if err != nil {
		return Usage{}, err
	}
	u := Usage{DailyLimit: limit, Days: make([]UsageDay, len(days))}
	for i, d := range days {
		u.Days[i] = UsageDay{Day: d, Used: used[d]}
	}
	u.Today = UsageToday{UsageDay: u.Days[len(days)-1], Remaining: max(0, limit-used[today]), Reset: FormatTime(RomeMidnightAfter(now))}
	return u, nil
}
