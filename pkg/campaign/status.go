package campaign

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
)

// Poll reads the status of every record that has a message id, concurrency
// at a time, and fills its status columns; p hears of each one.
func Poll(ctx context.Context, c Client, records []Record, concurrency int, p Progress) error {
	work := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for range max(concurrency, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				r := &records[i]
				res, err := c.Do(ctx, "GET", "/api/v1/messages/"+r.FiscalCode+"/"+r.MessageID, nil, nil)
				switch {
				case err != nil:
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				case res.Status == http.StatusOK:
					r.Status, _ = res.Body["status"].(string)
					r.RejectionReason, _ = res.Body["rejection_reason"].(string)
					n, _ := res.Body["notification"].(map[string]any)
					r.Email, _ = n["email"].(string)
					r.Push, _ = n["push"].(string)
					r.Webhook, _ = n["webhook"].(string)
				default:
					r.Status = "UNKNOWN"
					r.Error = describe(res)
				}
				if p != nil {
					p.Done(r.Result)
				}
			}
		}()
	}
	for i := range records {
		if records[i].MessageID == "" {
			continue
		}
		select {
		case work <- i:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(work)
	wg.Wait()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return firstErr
}

// Summary counts what the records say.
type Summary struct {
	Rows, NotSent int
	// ByStatus counts messages by status; Rejected by reason; Channels by
	// "channel status" (email SENT, push FAILED, ...).
	ByStatus, Rejected, Channels map[string]int
	// Pending counts messages whose status or a channel is not final yet.
	Pending int
}

// Summarize counts records.
func Summarize(records []Record) Summary {
	s := Summary{Rows: len(records), ByStatus: map[string]int{}, Rejected: map[string]int{}, Channels: map[string]int{}}
	final := map[string]bool{"PROCESSED": true, "REJECTED": true, "FAILED": true}
	for _, r := range records {
		if r.MessageID == "" {
			s.NotSent++
			continue
		}
		s.ByStatus[r.Status]++
		if r.Status == "REJECTED" {
			s.Rejected[r.RejectionReason]++
		}
		pending := !final[r.Status]
		for ch, st := range map[string]string{"email": r.Email, "push": r.Push, "webhook": r.Webhook} {
			if st == "" {
				continue
			}
			s.Channels[ch+" "+st]++
			if st != "SENT" && st != "FAILED" && st != "EXPIRED" {
				pending = true
			}
		}
		if pending {
			s.Pending++
		}
	}
	return s
}

// String prints the summary, one count per line.
func (s Summary) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "rows: %d (not sent: %d)\n", s.Rows, s.NotSent)
	line := func(title string, m map[string]int) {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, "%s %-28s %d\n", title, k, m[k])
		}
	}
	line("status", s.ByStatus)
	line("rejected", s.Rejected)
	line("channel", s.Channels)
	fmt.Fprintf(&b, "not final yet: %d\n", s.Pending)
	return b.String()
}
