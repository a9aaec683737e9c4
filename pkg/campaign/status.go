package campaign

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/digital-citizenship/functions/pkg/apiclient"
	"github.com/digital-citizenship/functions/pkg/ids"
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
func Poll(ctx context.Context, c *apiclient.ClientWithResponses, records []Record, concurrency int, p Progress) (PollStats, error) {
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
		since, until := first, last.Add(time.Millisecond)
		size := 100
		params := &apiclient.GetSentMessagesParams{PageSize: &size, Since: &since, Until: &until}
		for len(byID) > 0 {
			res, err := c.GetSentMessagesWithResponse(ctx, params)
			if err != nil {
				return st, err
			}
			st.Pages++
			if res.JSON200 == nil {
				break // not allowed to list: read each message
			}
			for _, item := range res.JSON200.Items {
				if r, ok := byID[item.Id]; ok {
					r.fillSent(item)
					done(r)
				}
			}
			cursor := nextCursor(res.JSON200.Next)
			if cursor == "" {
				break
			}
			params.Cursor = &cursor // the filters stay
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
				res, err := c.GetMessageWithResponse(ctx, r.FiscalCode, r.MessageID)
				switch {
				case err != nil:
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				case res.JSON200 != nil:
					r.fillMessage(res.JSON200)
				default:
					r.Status = "UNKNOWN"
					r.Error = res.Err().Error()
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

// nextCursor is the cursor of a page's next link, "" on the last page.
func nextCursor(next *string) string {
	if next == nil {
		return ""
	}
	u, err := url.Parse(*next)
	if err != nil {
		return ""
	}
	return u.Query().Get("cursor")
}

// fillSent sets the status columns from a message as the list shows it.
func (r *Record) fillSent(m apiclient.SentMessage) {
	r.Status, r.RejectionReason = string(m.Status), value(m.RejectionReason)
	r.Email, r.Push, r.Webhook = "", "", ""
	if n := m.Notification; n != nil {
		r.Email, r.Push, r.Webhook = value(n.Email), value(n.Push), value(n.Webhook)
	}
	r.Error = ""
}

// fillMessage sets the status columns from a message as getMessage shows it.
func (r *Record) fillMessage(m *apiclient.MessageResponseWithContent) {
	r.Status, r.RejectionReason = value(m.Status), value(m.RejectionReason)
	r.Email, r.Push, r.Webhook = "", "", ""
	if n := m.Notification; n != nil {
		r.Email, r.Push, r.Webhook = value(n.Email), value(n.Push), value(n.Webhook)
	}
	r.Error = ""
}

// value is what p points at, as a string; "" for nil.
func value[T ~string](p *T) string {
	if p == nil {
		return ""
	}
	return string(*p)
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
			if st != "SENT" && st != "FAILED" && st != "EXPIRED" && st != "SKIPPED" {
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
