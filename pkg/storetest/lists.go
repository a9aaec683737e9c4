package storetest

import (
	"context"
	"sort"

	"github.com/digital-citizenship/functions/pkg/messages"
	"github.com/digital-citizenship/functions/pkg/paging"
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
