package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/digital-citizenship/functions/pkg/callbacks"
	"github.com/digital-citizenship/functions/pkg/problem"
	"github.com/digital-citizenship/functions/pkg/services"
)

// Callback implements callbacks.Store.
func (s *Services) Callback(_ context.Context, serviceID string) (callbacks.Config, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.callbacks[serviceID]
	if !ok {
		return callbacks.Config{}, problem.ErrNotFound
	}
	c.Failures = slices.Clone(c.Failures)
	return c, nil
}

// PutCallback implements callbacks.Store.
func (s *Services) PutCallback(_ context.Context, c callbacks.Config) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.callbacks == nil {
		s.callbacks, s.windows = map[string]callbacks.Config{}, map[string]failureWindow{}
	}
	c.Status, c.Failures, c.SuspendedAt = callbacks.Active, nil, time.Time{}
	s.callbacks[c.ServiceID] = c
	delete(s.windows, c.ServiceID)
	return nil
}

// DeleteCallback implements callbacks.Store.
func (s *Services) DeleteCallback(_ context.Context, serviceID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.callbacks, serviceID)
	delete(s.windows, serviceID)
	return nil
}

// RecordFailure implements callbacks.Store.
func (s *Services) RecordFailure(_ context.Context, serviceID string, f callbacks.Failure) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.callbacks[serviceID]
	if !ok {
		return false, nil
	}
	w := s.windows[serviceID]
	if !w.start.After(f.At.Add(-callbacks.SuspendWindow)) {
		w = failureWindow{start: f.At}
	}
	w.count++
	s.windows[serviceID] = w
	c.Failures = append([]callbacks.Failure{f}, c.Failures...)[:min(len(c.Failures)+1, 10)]
	suspended := w.count >= callbacks.SuspendAfter && c.Status == callbacks.Active
	if suspended {
		c.Status, c.SuspendedAt = callbacks.Suspended, f.At
	}
	s.callbacks[serviceID] = c
	return suspended, nil
}

// CallbackStore is what CallbacksContract needs: the services and their
// callback configurations.
type CallbackStore interface {
	services.Store
	callbacks.Store
}

// CallbacksContract checks the callback configurations: put, read, the
// events the service's latest version carries, failures counted in a
// window of SuspendWindow, the SuspendAfter-th suspending (reported once),
// a put that resumes and starts over, delete.
func CallbacksContract(t *testing.T, st CallbackStore) {
	ctx := context.Background()
	_, err := st.Callback(ctx, "cb-svc")
	is(t, err, problem.ErrNotFound)
	ok(t, st.Create(ctx, services.Service{ServiceID: "cb-svc", ServiceName: "S", OrganizationName: "O", DepartmentName: "D",
		OrganizationFiscalCode: "00000000001", AuthorizedCIDRs: []string{}, AuthorizedRecipients: []string{}}))
	svc, err := st.Latest(ctx, "cb-svc")
	ok(t, err)
	if len(svc.CallbackEvents) != 0 {
		t.Fatalf("callback events without a configuration: %v", svc.CallbackEvents)
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	c := callbacks.Config{ServiceID: "cb-svc", URL: "https://pa.example.it/callbacks", BearerToken: "tok-0123456789",
		Events: []string{callbacks.MessageProcessed, callbacks.NotificationSent}, SigningSecret: "whsec_x", UpdatedAt: now}
	ok(t, st.PutCallback(ctx, c))
	got, err := st.Callback(ctx, "cb-svc")
	ok(t, err)
	if got.URL != c.URL || got.BearerToken != c.BearerToken || !slices.Equal(got.Events, c.Events) || got.SigningSecret != "whsec_x" ||
		got.Status != callbacks.Active || !got.UpdatedAt.Equal(now) || len(got.Failures) != 0 {
		t.Fatalf("configuration %+v", got)
	}
	// A new version of the service keeps its callbacks.
	v1 := svc
	v1.Version, v1.ServiceName, v1.CallbackEvents = 1, "S2", nil
	ok(t, st.Create(ctx, v1))
	svc, err = st.Latest(ctx, "cb-svc")
	ok(t, err)
	if svc.Version != 1 || svc.ServiceName != "S2" || !slices.Equal(svc.CallbackEvents, c.Events) {
		t.Fatalf("latest version with callbacks: %+v", svc)
	}

	// Failures: 24 in the window do not suspend, an old one opened another
	// window, the 25th within 5 minutes does, once.
	old := now.Add(-10 * time.Minute)
	suspended, err := st.RecordFailure(ctx, "cb-svc", callbacks.Failure{At: old, Event: callbacks.NotificationSent, Reason: "HTTP 500"})
	ok(t, err)
	for i := range callbacks.SuspendAfter - 1 {
		s, err := st.RecordFailure(ctx, "cb-svc", callbacks.Failure{At: now.Add(time.Duration(i) * time.Second), Event: callbacks.MessageProcessed, Reason: "HTTP 500"})
		ok(t, err)
		suspended = suspended || s
	}
	if got, _ := st.Callback(ctx, "cb-svc"); suspended || got.Status != callbacks.Active || len(got.Failures) == 0 ||
		got.Failures[0].Reason != "HTTP 500" || !got.Failures[0].At.After(now) {
		t.Fatalf("24 failures in the window: suspended %v, %+v", suspended, got)
	}
	last := now.Add(30 * time.Second)
	s, err := st.RecordFailure(ctx, "cb-svc", callbacks.Failure{At: last, Event: callbacks.MessageProcessed, Reason: "no answer within 5s"})
	ok(t, err)
	again, err := st.RecordFailure(ctx, "cb-svc", callbacks.Failure{At: last.Add(time.Second), Event: callbacks.MessageProcessed, Reason: "HTTP 500"})
	ok(t, err)
	got, _ = st.Callback(ctx, "cb-svc")
	if !s || again || got.Status != callbacks.Suspended || !got.SuspendedAt.Equal(last) || len(got.Failures) > 10 {
		t.Fatalf("the 25th: suspended %v then %v, %+v", s, again, got)
	}
	// A put resumes, and counts anew.
	ok(t, st.PutCallback(ctx, c))
	got, _ = st.Callback(ctx, "cb-svc")
	if got.Status != callbacks.Active || len(got.Failures) != 0 {
		t.Fatalf("after a put: %+v", got)
	}
	if s, _ := st.RecordFailure(ctx, "cb-svc", callbacks.Failure{At: last.Add(2 * time.Second), Event: callbacks.MessageProcessed, Reason: "HTTP 500"}); s {
		t.Fatal("the first failure after a put suspended")
	}
	ok(t, st.DeleteCallback(ctx, "cb-svc"))
	_, err = st.Callback(ctx, "cb-svc")
	is(t, err, problem.ErrNotFound)
	if s, err := st.RecordFailure(ctx, "cb-svc", callbacks.Failure{At: last, Reason: "HTTP 500"}); s || err != nil {
		t.Fatalf("a failure without a configuration: %v %v", s, err)
	}
	if svc, _ := st.Latest(ctx, "cb-svc"); len(svc.CallbackEvents) != 0 {
		t.Fatalf("events after delete: %v", svc.CallbackEvents)
	}
}
