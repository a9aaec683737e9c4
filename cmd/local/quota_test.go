package main

import (
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestLocalStack_DailyLimit: a service whose daily_message_limit is 500 gets
// RateLimit headers on each of its 500 201s and a 429 "Daily limit
// reached" with Retry-After until midnight on the 501st, through API
// Gateway's per-second throttle, whose 429s carry Retry-After too; exactly
// 500 messages exist, and the metrics line shows the service at 100 %.
func TestLocalStack_DailyLimit(t *testing.T) {
	admin := "quota-admin-key-0123456789abcdef"
	s := startStack(t, admin, "-param", "ThrottleRateLimit=60", "-param", "ThrottleBurstLimit=5")
	s.must(t, 200, admin, "POST", "/adm/services", `{"service_id":"small-town","service_name":"Anagrafe","organization_name":"Comune di Bard",
		"department_name":"Anagrafe","organization_fiscal_code":"00100700072","authorized_cidrs":[],"authorized_recipients":[],
		"daily_message_limit":500}`)
	if r := s.must(t, 200, admin, "GET", "/adm/services/small-town", ""); r.body["daily_message_limit"] != float64(500) {
		t.Fatalf("the service: %s", r.raw)
	}
	s.must(t, 200, admin, "PUT", "/adm/users/anagrafe@bard.it/groups", `{"groups":["ApiMessageWrite","ApiMessageRead"]}`)
	key := s.must(t, 200, admin, "PUT", "/adm/users/anagrafe@bard.it/subscriptions/small-town", `{"product_name":"IO"}`).body["primary_key"].(string)
	body := `{"content":{"subject":"Carta d'identità in scadenza","markdown":"` + strings.Repeat("La sua carta d'identità scade tra trenta giorni. ", 3) + `"}}`

	var mu sync.Mutex
	throttled, remaining := 0, map[int]bool{}
	submit := func() reply {
		for {
			r := s.call(t, key, "POST", "/api/v1/messages/QUOTAS80A01Y501X", body)
			if r.status != 429 || r.body["title"] != "Too many requests" {
				return r
			}
			if r.header.Get("Retry-After") != "1" {
				t.Errorf("the throttle's 429 without Retry-After: %v", r.header)
			}
			mu.Lock()
			throttled++
			mu.Unlock()
			time.Sleep(time.Second)
		}
	}
	var wg sync.WaitGroup
	work := make(chan int)
	for range 12 {
		wg.Go(func() {
			for range work {
				r := submit()
				left, err := strconv.Atoi(r.header.Get("RateLimit-Remaining"))
				reset, _ := strconv.Atoi(r.header.Get("RateLimit-Reset"))
				if r.status != 201 || r.header.Get("RateLimit-Limit") != "500" || err != nil || left < 0 || left > 499 ||
					reset < 1 || reset > 90000 {
					t.Errorf("a submission: %d %v %s", r.status, r.header, r.raw)
					continue
				}
				mu.Lock()
				remaining[left] = true
				mu.Unlock()
			}
		})
	}
	for i := range 500 {
		work <- i
	}
	close(work)
	wg.Wait()
	if t.Failed() {
		return
	}
	over := submit()
	if over.status != 429 || over.body["title"] != "Daily limit reached" || over.header.Get("RateLimit-Remaining") != "0" {
		t.Fatalf("the 501st: %d %v %s", over.status, over.header, over.raw)
	}
	if ra, _ := strconv.Atoi(over.header.Get("Retry-After")); ra < 1 || ra > 90000 || over.header.Get("Retry-After") != over.header.Get("RateLimit-Reset") {
		t.Fatalf("the 501st's Retry-After: %v", over.header)
	}
	// Each environment reads the day's counters at most once a second: the
	// last 201s lag the truth (0) by a second of the others' submissions at
	// most, never by the whole run.
	least := 500
	for left := range remaining {
		least = min(least, left)
	}
	if least > 120 {
		t.Errorf("the least RateLimit-Remaining of 500 201s was %d: the environments did not read the counters", least)
	}
	listed := 0
	for next := "/api/v1/messages?page_size=100"; next != ""; {
		page := s.must(t, 200, key, "GET", next, "")
		listed += len(page.body["items"].([]any))
		next, _ = page.body["next"].(string)
	}
	if listed != 500 {
		t.Fatalf("%d messages written, want 500", listed)
	}
	// API Gateway's throttle: 30 requests at once against a burst of 5
	// (whatever the submissions' pace above was), each 429 with Retry-After.
	var burst sync.WaitGroup
	refused := 0
	for range 30 {
		burst.Go(func() {
			r := s.call(t, key, "GET", "/api/v1/messages?page_size=1", "")
			if r.status == 429 {
				mu.Lock()
				defer mu.Unlock()
				refused++
				if r.body["title"] != "Too many requests" || r.header.Get("Retry-After") != "1" {
					t.Errorf("the throttle's 429: %v %s", r.header, r.raw)
				}
			}
		})
	}
	burst.Wait()
	if refused == 0 {
		t.Errorf("30 requests at once against a burst limit of 5: none throttled")
	}
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(s.logs.String(), "small-town daily limit used 100 %") {
		if time.Now().After(deadline) {
			t.Fatalf("the metrics line never showed the service at its limit")
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("500 accepted (the least RateLimit-Remaining said: %d), the 501st refused; %d submissions throttled and retried after "+
		"Retry-After; %d of a burst of 30 throttled", least, throttled, refused)
}
