package sam

import (
	"testing"
	"time"
)

func TestRate(t *testing.T) {
	for expr, want := range map[string]time.Duration{"rate(1 minute)": time.Minute, "rate(5 minutes)": 5 * time.Minute,
		"rate(2 hours)": 2 * time.Hour, "rate(1 day)": 24 * time.Hour, "cron(0 12 * * ? *)": 0, "rate(0 minutes)": 0,
		"rate(1 fortnight)": 0, "rate(minute)": 0} {
		got, ok := Rate(expr)
		if got != want || ok != (want != 0) {
			t.Errorf("Rate(%q) = %v %v, want %v", expr, got, ok, want)
		}
	}
}
