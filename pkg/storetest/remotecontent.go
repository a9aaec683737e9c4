package storetest

import (
	"context"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/digital-citizenship/functions/pkg/ids"
	"github.com/digital-citizenship/functions/pkg/messages"
	"github.com/digital-citizenship/functions/pkg/paging"
	"github.com/digital-citizenship/functions/pkg/problem"
	"github.com/digital-citizenship/functions/pkg/remotecontent"
)

// RemoteContents is an in-memory remotecontent.Store.
type RemoteContents struct {
	mu sync.Mutex
	c  map[string]remotecontent.Configuration // "<service>/<id>"
}

// Configuration implements remotecontent.Store.
func (s *RemoteContents) Configuration(_ context.Context, serviceID, id string) (remotecontent.Configuration, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.c[serviceID+"/"+id]
	if !ok {
		return remotecontent.Configuration{}, problem.ErrNotFound
	}
	return c, nil
}

// Has reports whether a service has a configuration (the check of a
// message's third_party_data).
func (s *RemoteContents) Has(serviceID, id string) bool {
	_, err := s.Configuration(context.Background(), serviceID, id)
	return err == nil
}

// Configurations implements remotecontent.Store.
func (s *RemoteContents) Configurations(_ context.Context, serviceID string, r paging.Request) (paging.Page[remotecontent.Configuration], error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	byKey := map[string]remotecontent.Configuration{}
	for _, c := range s.c {
		if c.ServiceID == serviceID {
			byKey["RC#"+c.ID] = c // the sort keys of DynamoDB's store
		}
	}
	keys, next, err := pageOf(slices.Sorted(maps.Keys(byKey)), r, "RC#")
	if err != nil {
		return paging.Page[remotecontent.Configuration]{}, err
	}
	page := paging.Page[remotecontent.Configuration]{Items: []remotecontent.Configuration{}, Next: next}
	for _, k := range keys {
		page.Items = append(page.Items, byKey[k])
	}
	return page, nil
}

// PutConfiguration implements remotecontent.Store.
func (s *RemoteContents) PutConfiguration(_ context.Context, c remotecontent.Configuration, create bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.c == nil {
		s.c = map[string]remotecontent.Configuration{}
	}
	k := c.ServiceID + "/" + c.ID
	_, exists := s.c[k]
	switch {
	case create && exists:
		return problem.ErrConflict
	case !create && !exists:
		return problem.ErrNotFound
	}
	s.c[k] = c
	return nil
}

// RemoteContentContract is what every remotecontent.Store does, and what a
// messages.Store does with a message's third_party_data: it must name one
// of its sender's configurations, checked as the message is created.
func RemoteContentContract(t *testing.T, st remotecontent.Store, msgs messages.Store) {
	const fc = "REMOTE00A00A000A"
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)
	c := remotecontent.Configuration{ID: ids.ULID(now), ServiceID: "svc-rc", UserID: "u", Name: "Avvisi", Description: "Gli avvisi",
		HasPrecondition: messages.PreconditionOnce, CreatedAt: now, UpdatedAt: now,
		Prod: remotecontent.Environment{BaseURL: "https://pa.example.it/io", Auth: remotecontent.Auth{HeaderKeyName: "X-Api-Key", Key: "k-prod", Type: "API_KEY"}},
		Test: &remotecontent.Environment{BaseURL: "https://test.pa.example.it/io", TestUsers: []string{fc},
			Auth: remotecontent.Auth{HeaderKeyName: "X-Api-Key", Key: "k-test", Type: "API_KEY"}}}
	ok(t, st.PutConfiguration(ctx, c, true))
	is(t, st.PutConfiguration(ctx, c, true), problem.ErrConflict)
	got, err := st.Configuration(ctx, "svc-rc", c.ID)
	ok(t, err)
	if got.Prod.Auth.Key != "k-prod" || got.Test == nil || got.Test.TestUsers[0] != fc || got.HasPrecondition != messages.PreconditionOnce ||
		!got.CreatedAt.Equal(now) || got.For(fc).Auth.Key != "k-test" || got.For("AAAAAA00A00A000A").Auth.Key != "k-prod" {
		t.Fatalf("read back %+v", got)
	}
	_, err = st.Configuration(ctx, "other", c.ID)
	is(t, err, problem.ErrNotFound)
	c.Name, c.Test = "Avvisi TARI", nil
	ok(t, st.PutConfiguration(ctx, c, false))
	missing := c
	missing.ID = ids.ULID(now.Add(time.Millisecond))
	is(t, st.PutConfiguration(ctx, missing, false), problem.ErrNotFound)
	second := c
	second.ID = ids.ULID(now.Add(2 * time.Millisecond))
	ok(t, st.PutConfiguration(ctx, second, true))
	page, err := st.Configurations(ctx, "svc-rc", paging.Request{Size: 1})
	ok(t, err)
	if len(page.Items) != 1 || page.Items[0].Name != "Avvisi TARI" || page.Items[0].Test != nil || page.Next == "" {
		t.Fatalf("first page %+v", page)
	}
	rest, err := st.Configurations(ctx, "svc-rc", paging.Request{Size: 10, Cursor: page.Next})
	ok(t, err)
	if len(rest.Items) != 1 || rest.Items[0].ID != second.ID {
		t.Fatalf("second page %+v", rest)
	}

	// A message names a configuration of its sender's, or is not created.
	msg := func(svc, configuration string) messages.Message {
		m := messages.Message{ID: ids.ULID(time.Now()), FiscalCode: fc, SenderServiceID: svc, CreatedAt: now, StatusAt: now,
			Status: messages.Accepted, Pending: true, Content: &messages.Content{Subject: "s", Markdown: "m",
				ThirdPartyData: &messages.ThirdPartyData{ID: "PN-1", ConfigurationID: configuration, HasRemoteContent: true}}}
		time.Sleep(time.Millisecond)
		return m
	}
	ok(t, msgs.Create(ctx, msg("svc-rc", c.ID), nil))
	is(t, msgs.Create(ctx, msg("svc-rc", missing.ID), nil), messages.ErrNoConfiguration)
	is(t, msgs.Create(ctx, msg("other", c.ID), nil), messages.ErrNoConfiguration)
	idem := func(m messages.Message) *messages.Idempotency {
		return &messages.Idempotency{ServiceID: m.SenderServiceID, KeyHash: m.ID, BodyHash: "b", FiscalCode: fc, MessageID: m.ID, ExpiresAt: now.Add(time.Hour)}
	}
	m := msg("svc-rc", missing.ID)
	is(t, msgs.Create(ctx, m, idem(m)), messages.ErrNoConfiguration)
	_, err = msgs.Get(ctx, fc, m.ID)
	is(t, err, problem.ErrNotFound)
	_, err = msgs.Idempotency(ctx, "svc-rc", m.ID)
	is(t, err, problem.ErrNotFound) // nothing written
	m = msg("svc-rc", c.ID)
	ok(t, msgs.Create(ctx, m, idem(m)))
	stored, err := msgs.Get(ctx, fc, m.ID)
	ok(t, err)
	if d := stored.Content.ThirdPartyData; d == nil || d.ID != "PN-1" || d.ConfigurationID != c.ID || !d.HasRemoteContent {
		t.Fatalf("stored third_party_data %+v", stored.Content)
	}
	if q, counted := msgs.(messages.Quotas); counted {
		quota := messages.QuotaFor("svc-rc", 100, now)
		m = msg("svc-rc", missing.ID)
		is(t, q.CreateCounted(ctx, m, idem(m), quota), messages.ErrNoConfiguration)
		m = msg("svc-rc", missing.ID)
		is(t, q.CreateCounted(ctx, m, nil, quota), messages.ErrNoConfiguration)
		ok(t, q.CreateCounted(ctx, msg("svc-rc", c.ID), nil, quota))
	}
}
