package storetest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/digital-citizenship/functions/pkg/ids"
	"github.com/digital-citizenship/functions/pkg/messages"
	"github.com/digital-citizenship/functions/pkg/paging"
)

// SentStore is what SentContract needs: the messages store and its list of
// what each service sent.
type SentStore interface {
	messages.Store
	messages.SentStore
}

// SentContract checks the list of what a service sent: only the service's
// own messages, newest first, each once across pages of any size; the
// filters (status, reference, creation time, channel outcome) and their
// combinations; bad cursors.
func SentContract(t *testing.T, st SentStore) {
	ctx := context.Background()
	base := time.Now().UTC().Truncate(time.Millisecond).Add(-time.Hour)
	fc := "CCCCCC00C00C000C"
	type sent struct {
		m       messages.Message
		emailSt messages.ChannelStatus
	}
	var mine []sent
	for i := range 150 {
		at := base.Add(time.Duration(i/3) * time.Second) // three a second: ties in time, ordered by id
		m := messages.Message{ID: ids.ULID(at), FiscalCode: fc, SenderServiceID: "svc-a", TimeToLive: 3600, CreatedAt: at,
			Pending: true, Status: messages.Accepted, StatusAt: at}
		if i%10 == 0 {
			m.Reference = "batch-7"
		} else if i%25 == 1 {
			m.Reference = fmt.Sprintf("row %d, città", i)
		}
		ok(t, st.Create(ctx, m, nil))
		s := sent{m: m}
		switch i % 3 {
		case 0: // processed, with an e-mail that failed or was sent
			m.Content = &messages.Content{Subject: "subject", Markdown: "body"}
			m.Channels = map[string]messages.Channel{messages.Email: {AddressSource: messages.ProfileAddress}}
			ok(t, st.Deliver(ctx, m, messages.SenderService{FiscalCode: fc, ServiceID: "svc-a", LastNotificationAt: at}))
			s.emailSt = messages.ChannelSent
			if i%2 == 0 {
				s.emailSt = messages.ChannelFailed
			}
			ok(t, st.SetChannelStatus(ctx, fc, m.ID, messages.Email, s.emailSt, "", at))
			s.m.Status = messages.Processed
		case 1:
			ok(t, st.SetStatus(ctx, fc, m.ID, messages.Rejected, messages.ReasonNoProfile, at))
			s.m.Status = messages.Rejected
		}
		mine = append(mine, s)
		other := m
		other.ID, other.SenderServiceID, other.Reference = ids.ULID(at), "svc-b", "batch-7"
		if i%5 == 0 {
			other.Channels = nil
			ok(t, st.Create(ctx, other, nil))
		}
	}
	// Newest first: by id (the ULIDs of one millisecond by their random part).
	slices.SortFunc(mine, func(a, b sent) int { return strings.Compare(b.m.ID, a.m.ID) })

	list := func(size int, f messages.SentFilter) []messages.Message {
		t.Helper()
		var all []messages.Message
		r := paging.Request{Size: size}
		for range 400 {
			p, err := st.Sent(ctx, "svc-a", r, f)
			ok(t, err)
			if len(p.Items) > size {
				t.Fatalf("a page of %d items for a size of %d", len(p.Items), size)
			}
			all = append(all, p.Items...)
			if p.Next == "" {
				return all
			}
			r.Cursor = p.Next
		}
		t.Fatal("listing never ended")
		return nil
	}
	want := func(keep func(s sent) bool) []string {
		var out []string
		for _, s := range mine {
			if keep(s) {
				out = append(out, s.m.ID)
			}
		}
		return out
	}
	idsOf := func(ms []messages.Message) []string {
		out := make([]string, len(ms))
		for i, m := range ms {
			out[i] = m.ID
		}
		return out
	}
	check := func(name string, size int, f messages.SentFilter, keep func(s sent) bool) []messages.Message {
		t.Helper()
		got := list(size, f)
		if w, g := want(keep), idsOf(got); !slices.Equal(g, w) {
			i := 0
			for i < min(len(g), len(w)) && g[i] == w[i] {
				i++
			}
			t.Fatalf("%s (pages of %d): got %d messages, want %d; they differ from the %d-th", name, size, len(g), len(w), i+1)
		}
		return got
	}

	all := check("everything", 100, messages.SentFilter{}, func(sent) bool { return true })
	check("everything", 7, messages.SentFilter{}, func(sent) bool { return true })
	var first messages.Message // the first one sent (i = 0)
	for _, m := range all {
		if m.CreatedAt.Equal(base) && m.Reference == "batch-7" {
			first = m
		}
	}
	if first.FiscalCode != fc || !first.CreatedAt.Equal(base) || first.Status != messages.Processed ||
		first.Reference != "batch-7" || first.Channels[messages.Email].Status != messages.ChannelFailed {
		t.Fatalf("the first message as listed: %+v", first)
	}
	check("status", 10, messages.SentFilter{Status: messages.Rejected}, func(s sent) bool { return s.m.Status == messages.Rejected })
	check("reference", 4, messages.SentFilter{Reference: "batch-7"}, func(s sent) bool { return s.m.Reference == "batch-7" })
	check("reference with a comma", 4, messages.SentFilter{Reference: "row 26, città"}, func(s sent) bool { return s.m.Reference == "row 26, città" })
	check("unknown reference", 4, messages.SentFilter{Reference: "batch-8"}, func(sent) bool { return false })
	since, until := base.Add(10*time.Second), base.Add(20*time.Second)
	check("since and until", 8, messages.SentFilter{Since: since, Until: until}, func(s sent) bool {
		return !s.m.CreatedAt.Before(since) && s.m.CreatedAt.Before(until)
	})
	check("since", 100, messages.SentFilter{Since: base.Add(45 * time.Second)}, func(s sent) bool {
		return !s.m.CreatedAt.Before(base.Add(45 * time.Second))
	})
	failed := map[string]messages.ChannelStatus{messages.Email: messages.ChannelFailed}
	check("email=FAILED", 6, messages.SentFilter{Channels: failed}, func(s sent) bool { return s.emailSt == messages.ChannelFailed })
	check("email=FAILED with reference and until", 3, messages.SentFilter{Channels: failed, Reference: "batch-7", Until: until},
		func(s sent) bool {
			return s.emailSt == messages.ChannelFailed && s.m.Reference == "batch-7" && s.m.CreatedAt.Before(until)
		})
	if p, err := st.Sent(ctx, "svc-none", paging.Request{Size: 10}, messages.SentFilter{}); err != nil || len(p.Items) != 0 || p.Next != "" {
		t.Fatalf("a service that sent nothing: %+v, %v", p, err)
	}
	for _, bad := range []string{"%%%", paging.Encode("SENDER#x"), paging.Encode("MSG#not-a-ulid")} {
		_, err := st.Sent(ctx, "svc-a", paging.Request{Size: 1, Cursor: bad}, messages.SentFilter{})
		is(t, err, paging.ErrCursor)
	}
}
