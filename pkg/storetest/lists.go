package storetest

import (
	"context"
	"maps"
	"sort"
	"strings"

	"github.com/digital-citizenship/functions/pkg/ids"
	"github.com/digital-citizenship/functions/pkg/messages"
	"github.com/digital-citizenship/functions/pkg/paging"
	"github.com/digital-citizenship/functions/pkg/problem"
	"github.com/digital-citizenship/functions/pkg/services"
)

// pageOf returns up to r.Size of keys (sorted as listed) after the cursor.
func pageOf(keys []string, r paging.Request, prefix string) ([]string, string, error) {
	after, err := paging.Decode(r.Cursor, prefix)
	if err != nil {
		return nil, "", err
	}
	start := 0
	if after != "" {
		start = len(keys)
		for i, k := range keys {
			if k == after {
				start = i + 1
				break
			}
		}
	}
	end := min(start+r.Size, len(keys))
	next := ""
	if end-start == r.Size && end > start {
		next = paging.Encode(keys[end-1]) // like DynamoDB: a full page has a next cursor
	}
	return keys[start:end], next, nil
}

// Visible implements services.Store.
func (s *Services) Visible(_ context.Context, r paging.Request) (paging.Page[services.Tuple], error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var keys []string
	latest := map[string]services.Service{}
	for id, vs := range s.v {
		if last := vs[len(vs)-1]; last.IsVisible {
			keys = append(keys, "SERVICE#"+id)
			latest["SERVICE#"+id] = last
		}
	}
	sort.Strings(keys)
	ks, next, err := pageOf(keys, r, "SERVICE#")
	if err != nil {
		return paging.Page[services.Tuple]{}, err
	}
	p := paging.Page[services.Tuple]{Items: []services.Tuple{}, Next: next}
	for _, k := range ks {
		p.Items = append(p.Items, services.Tuple{ServiceID: latest[k].ServiceID, Version: latest[k].Version})
	}
	return p, nil
}

// Inbox implements messages.Store.
func (s *Messages) Inbox(_ context.Context, fc string, r paging.Request, f messages.InboxFilter) (paging.Page[messages.Message], error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	byKey := map[string]messages.Message{}
	var keys []string
	for _, m := range s.m {
		if m.FiscalCode == fc {
			keys = append(keys, "MSG#"+m.ID)
			byKey["MSG#"+m.ID] = m
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(keys)))
	ks, next, err := pageOf(keys, r, "MSG#")
	if err != nil {
		return paging.Page[messages.Message]{}, err
	}
	p := paging.Page[messages.Message]{Items: []messages.Message{}, Next: next}
	for _, k := range ks {
		if m := byKey[k]; !m.Pending && (f.Archived == nil || *f.Archived == m.IsArchived) {
			m.Content = nil
			p.Items = append(p.Items, m)
		}
	}
	return p, nil
}

// Senders implements messages.Store.
func (s *Messages) Senders(_ context.Context, fc string, r paging.Request) (paging.Page[messages.SenderService], error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	byKey := map[string]messages.SenderService{}
	var keys []string
	for _, v := range s.senders {
		if v.FiscalCode == fc {
			keys = append(keys, "SENDER#"+v.ServiceID)
			byKey["SENDER#"+v.ServiceID] = v
		}
	}
	sort.Strings(keys)
	ks, next, err := pageOf(keys, r, "SENDER#")
	if err != nil {
		return paging.Page[messages.SenderService]{}, err
	}
	p := paging.Page[messages.SenderService]{Items: []messages.SenderService{}, Next: next}
	for _, k := range ks {
		p.Items = append(p.Items, byKey[k])
	}
	return p, nil
}

// Sent implements messages.SentStore (full pages: the fake reads
// everything).
func (s *Messages) Sent(_ context.Context, serviceID string, r paging.Request, f messages.SentFilter) (paging.Page[messages.Message], error) {
	after, err := paging.Decode(r.Cursor, "MSG#")
	if err != nil || after != "" && !ids.Valid(strings.TrimPrefix(after, "MSG#")) {
		return paging.Page[messages.Message]{}, paging.ErrCursor
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var list []messages.Message
	for _, m := range s.m {
		if m.SenderServiceID == serviceID && f.Matches(m) && (after == "" || "MSG#"+m.ID < after) {
			m.Channels = maps.Clone(m.Channels)
			list = append(list, m)
		}
	}
	sort.Slice(list, func(i, j int) bool { return list[i].ID > list[j].ID })
	p := paging.Page[messages.Message]{Items: []messages.Message{}}
	if len(list) > r.Size {
		list = list[:r.Size]
		p.Next = paging.Encode("MSG#" + list[len(list)-1].ID)
	}
	p.Items = append(p.Items, list...)
	return p, nil
}

// CreateCounted implements messages.Quotas (one counter: the fake has no
// hot items). The count is taken first and given back when the create
// fails, so that concurrent submissions end at the limit exactly.
func (s *Messages) CreateCounted(ctx context.Context, m messages.Message, idem *messages.Idempotency, q messages.Quota) error {
	k := q.ServiceID + "#" + q.Day
	s.mu.Lock()
	s.init()
	full := s.used[k] >= q.Limit
	if !full {
		s.used[k]++
	}
	replay := false
	if idem != nil {
		old, ok := s.idem[idem.ServiceID+"/"+idem.KeyHash]
		replay = ok && !old.ExpiresAt.Before(m.CreatedAt)
	}
	s.mu.Unlock()
	switch {
	case replay && !full:
		s.uncount(k)
		return problem.ErrConflict
	case replay:
		return problem.ErrConflict
	case full:
		return messages.ErrDailyLimit
	}
	if err := s.Create(ctx, m, idem); err != nil {
		s.uncount(k)
		return err
	}
	return nil
}

func (s *Messages) uncount(k string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.used[k]--
}

// Used implements messages.Quotas.
func (s *Messages) Used(_ context.Context, q messages.Quota) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.used[q.ServiceID+"#"+q.Day], nil
}

// UsedDays implements messages.UsageReader.
func (s *Messages) UsedDays(_ context.Context, serviceID string, days []string) (map[string]int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for _, d := range days {
		if n := s.used[serviceID+"#"+d]; n > 0 {
			out[d] = n
		}
	}
	return out, nil
}
