package campaign

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/digital-citizenship/functions/pkg/ids"
	"github.com/digital-citizenship/functions/pkg/messages"
)

// PollStats says how a poll read the statuses.
type PollStats struct {
	// Pages are the requests to the list of what the service sent;
	// Singles those to getMessage, for messages the list did not show.
	Pages, Singles int
}

// Requests is the number of API requests the poll made.
func (s PollStats) Requests() int { return s.Pages + s.Singles }

// Poll reads the status of every record that has a message id and fills
// its status columns; p hears of each one. It pages through the list of
// what the service sent (GET /api/v1/messages, 100 a request) between the
// creation times of the first and last message, which the message ids
// carry; messages the list does not show (a key without ApiMessageRead,
// erased messages) are read one by one, concurrency at a time.
func Poll(ctx context.Context, c Client, records []Record, concurrency int, p Progress) (PollStats, error) {
	var st PollStats
	byID := map[string]*Record{}
	var first, last time.Time
	for i := range records {
		r := &records[i]
		if r.MessageID == "" {
			continue
		}
		byID[r.MessageID] = r
		if at := ids.Time(r.MessageID); !at.IsZero() {
			if first.IsZero() || at.Before(first) {
				first = at
			}
			if at.After(last) {
				last = at
			}
		}
	}
	done := func(r *Record) {
		delete(byID, r.MessageID)
		if p != nil {
			p.Done(r.Result)
		}
	}
	if !first.IsZero() {
		q := url.Values{"page_size": {"100"}, "since": {messages.FormatTime(first)}, "until": {messages.FormatTime(last.Add(time.Millisecond))}}
		path := "/api/v1/messages?" + q.Encode()
		for path != "" && len(byID) > 0 {
			res, err := c.Do(ctx, "GET", path, nil, nil)
			if err != nil {
				return st, err
			}
			st.Pages++
			if res.Status != http.StatusOK {
				break // not allowed to list: read each message
			}
			items, _ := res.Body["items"].([]any)
			for _, it := range items {
				item, _ := it.(map[string]any)
				id, _ := item["id"].(string)
				if r, ok := byID[id]; ok {
					r.fill(item)
					done(r)
				}
			}
			path, _ = res.Body["next"].(string)
		}
	}
	rest := make([]*Record, 0, len(byID))
	for _, r := range byID {
		rest = append(rest, r)
	}
	sort.Slice(rest, func(i, j int) bool { return rest[i].Line < rest[j].Line })
	st.Singles = len(rest)
	work := make(chan *Record)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for range max(concurrency, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range work {
				res, err := c.Do(ctx, "GET", "/api/v1/messages/"+r.FiscalCode+"/"+r.MessageID, nil, nil)
				switch {
				case err != nil:
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				case res.Status == http.StatusOK:
					r.fill(res.Body)
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
	for _, r := range rest {
		select {
		case work <- r:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(work)
	wg.Wait()
	if ctx.Err() != nil {
		return st, ctx.Err()
	}
	return st, firstErr
}

// fill sets the status columns from a message as getMessage or the list
// shows it.
func (r *Record) fill(m map[string]any) {
	r.Status, _ = m["status"].(string)
	r.RejectionReason, _ = m["rejection_reason"].(string)
	n, _ := m["notification"].(map[string]any)
	r.Email, _ = n["email"].(string)
	r.Push, _ = n["push"].(string)
	r.Webhook, _ = n["webhook"].(string)
	r.Error = ""
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
	final := map[string]bool{"PROCESSED": true, "REJECTED": true, "FAILED": true, "CANCELLED": true}
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
