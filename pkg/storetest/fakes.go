// Package storetest holds in-memory fakes of the domain stores, for unit
// tests of domain logic and handlers, and the contract suites that every
// store implementation (fake and DynamoDB) must pass, so the fakes cannot lie.
package storetest

import (
	"context"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/digital-citizenship/functions/pkg/callbacks"
	"github.com/digital-citizenship/functions/pkg/emailvalidation"
	"github.com/digital-citizenship/functions/pkg/messages"
	"github.com/digital-citizenship/functions/pkg/problem"
	"github.com/digital-citizenship/functions/pkg/profiles"
	"github.com/digital-citizenship/functions/pkg/push"
	"github.com/digital-citizenship/functions/pkg/services"
	"github.com/digital-citizenship/functions/pkg/subscriptions"
)

// Services is an in-memory services.Store.
type Services struct {
	mu sync.Mutex
	v  map[string][]services.Service
	// callbacks are the services' callback configurations, and windows
	// their failure windows (start, count).
	callbacks map[string]callbacks.Config
	windows   map[string]failureWindow
}

type failureWindow struct {
	start time.Time
	count int
}

// Latest implements services.Store.
func (s *Services) Latest(_ context.Context, id string) (services.Service, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	vs := s.v[id]
	if len(vs) == 0 {
		return services.Service{}, problem.ErrNotFound
	}
	latest := vs[len(vs)-1]
	latest.CallbackEvents = s.callbacks[id].Events
	return latest, nil
}

// Create implements services.Store.
func (s *Services) Create(_ context.Context, v services.Service) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.v == nil {
		s.v = map[string][]services.Service{}
	}
	if len(s.v[v.ServiceID]) != v.Version {
		return problem.ErrConflict
	}
	s.v[v.ServiceID] = append(s.v[v.ServiceID], v)
	return nil
}

// Profiles is an in-memory profiles.Store and profiles.Recipients; its
// devices come from Installations, when set.
type Profiles struct {
	mu sync.Mutex
	v  map[string][]profiles.Profile
	// Err, when set, is returned by every call (a failing dependency).
	Err           error
	undeliverable map[string]profiles.Undeliverable
	prefs         map[string]fakePrefs
	welcomed      map[string]bool
	validated     map[string]string // fiscal code -> validated address
	started       map[string]string
	tokens        map[string]emailvalidation.Token
	Installations *Installations
	// MarkErr, when set, is returned by MarkWelcomed.
	MarkErr error
}

// Welcomed implements welcome.Marks.
func (s *Profiles) Welcomed(_ context.Context, fc string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.welcomed[fc], s.Err
}

// MarkWelcomed implements welcome.Marks.
func (s *Profiles) MarkWelcomed(_ context.Context, fc string, _ time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.MarkErr != nil {
		return s.MarkErr
	}
	if s.welcomed == nil {
		s.welcomed = map[string]bool{}
	}
	s.welcomed[fc] = true
	return nil
}

type fakePrefs struct {
	version int
	by      profiles.Preferences
}

// Recipient implements profiles.Recipients.
func (s *Profiles) Recipient(ctx context.Context, fc string) (profiles.Recipient, error) {
	p, err := s.Latest(ctx, fc)
	if err != nil {
		return profiles.Recipient{}, err
	}
	r := profiles.Recipient{Profile: p}
	s.mu.Lock()
	if u, ok := s.undeliverable[fc]; ok {
		r.Undeliverable = &u
	}
	if fp, ok := s.prefs[fc]; ok {
		r.Preferences = maps.Clone(fp.by)
	}
	s.mu.Unlock()
	if s.Installations != nil {
		r.Devices = s.Installations.devices(fc)
	}
	return r, nil
}

// MarkUndeliverable records an address that bounced.
func (s *Profiles) MarkUndeliverable(_ context.Context, fc, address, reason string, _ time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return s.Err
	}
	if s.undeliverable == nil {
		s.undeliverable = map[string]profiles.Undeliverable{}
	}
	s.undeliverable[fc] = profiles.Undeliverable{Address: address, Reason: reason}
	return nil
}

// Installations is an in-memory push.Store.
type Installations struct {
	mu sync.Mutex
	by map[string]push.Installation // by id
}

// Installation implements push.Store.
func (s *Installations) Installation(_ context.Context, id string) (push.Installation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := s.by[id]
	if !ok {
		return push.Installation{}, problem.ErrNotFound
	}
	return i, nil
}

// ByEndpoint implements push.Store.
func (s *Installations) ByEndpoint(_ context.Context, arn string) (push.Installation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, i := range s.by {
		if i.EndpointARN == arn {
			return i, nil
		}
	}
	return push.Installation{}, problem.ErrNotFound
}

// Put implements push.Store.
func (s *Installations) Put(_ context.Context, inst push.Installation, replaces []push.Installation) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.by == nil {
		s.by = map[string]push.Installation{}
	}
	for _, r := range replaces {
		delete(s.by, r.ID)
	}
	s.by[inst.ID] = inst
	return nil
}

// Remove implements push.Store.
func (s *Installations) Remove(_ context.Context, inst push.Installation) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur, ok := s.by[inst.ID]; ok && cur.EndpointARN == inst.EndpointARN {
		delete(s.by, inst.ID)
	}
	return nil
}

func (s *Installations) devices(fc string) []profiles.Device {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []profiles.Device
	for _, i := range s.by {
		if i.FiscalCode == fc {
			out = append(out, i.Device())
		}
	}
	slices.SortFunc(out, func(a, b profiles.Device) int { return strings.Compare(a.InstallationID, b.InstallationID) })
	return out
}

// Latest implements profiles.Store.
func (s *Profiles) Latest(_ context.Context, fc string) (profiles.Profile, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return profiles.Profile{}, s.Err
	}
	vs := s.v[fc]
	if len(vs) == 0 {
		return profiles.Profile{}, problem.ErrNotFound
	}
	p := vs[len(vs)-1]
	p.IsEmailValidated = p.Email != "" && strings.EqualFold(s.validated[fc], p.Email)
	return p, nil
}

// SetPreference implements profiles.PreferenceStore.
func (s *Profiles) SetPreference(_ context.Context, fc, serviceID string, pref profiles.Preference) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return s.Err
	}
	fp, ok := s.prefs[fc]
	if !ok || fp.version != pref.SettingsVersion {
		return problem.ErrConflict
	}
	fp.by[serviceID] = pref
	return nil
}

// CreateSetting implements profiles.Store.
func (s *Profiles) CreateSetting(ctx context.Context, p profiles.Profile, set profiles.Preferences) error {
	s.mu.Lock()
	fp, ok := s.prefs[p.FiscalCode]
	s.mu.Unlock()
	if !ok || fp.version != p.Settings.Version {
		return problem.ErrConflict
	}
	if err := s.Create(ctx, p, nil); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for svc, pref := range set {
		pref.SettingsVersion = p.Settings.Version
		s.prefs[p.FiscalCode].by[svc] = pref
	}
	return nil
}

// Create implements profiles.Store.
func (s *Profiles) Create(_ context.Context, p profiles.Profile, prefs profiles.Preferences) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return s.Err
	}
	if s.v == nil {
		s.v = map[string][]profiles.Profile{}
	}
	if len(s.v[p.FiscalCode]) != p.Version {
		return problem.ErrConflict
	}
	if p.IsEmailValidated && p.Email != "" {
		s.setValidated(p.FiscalCode, p.Email)
	}
	p.IsEmailValidated = false
	s.v[p.FiscalCode] = append(s.v[p.FiscalCode], p)
	if prefs != nil {
		if s.prefs == nil {
			s.prefs = map[string]fakePrefs{}
		}
		by := profiles.Preferences{}
		for svc, pref := range prefs {
			pref.SettingsVersion = p.Settings.Version
			by[svc] = pref
		}
		s.prefs[p.FiscalCode] = fakePrefs{p.Settings.Version, by}
	}
	return nil
}

// Messages is an in-memory messages.Store.
type Messages struct {
	mu      sync.Mutex
	m       map[string]messages.Message
	senders map[string]messages.SenderService
	idem    map[string]messages.Idempotency
	// claims and delivered are the channels' attempts.
	claims    map[claimKey]time.Time
	delivered map[claimKey][]string
	// requeueAt is when each message was created or last queued again.
	requeueAt map[string]time.Time
	// receipts by payee#notice.
	receipts map[string]messages.Receipt
	// used counts the messages of each service's day (<service>#<day>).
	used map[string]int
	// Configurations are the remote-content configurations a message's
	// third_party_data must name one of.
	Configurations *RemoteContents
}

func (s *Messages) init() {
	if s.m == nil {
		s.m, s.senders, s.idem = map[string]messages.Message{}, map[string]messages.SenderService{}, map[string]messages.Idempotency{}
		s.requeueAt, s.receipts, s.used = map[string]time.Time{}, map[string]messages.Receipt{}, map[string]int{}
	}
}

// RecordReceipt implements messages.Payments.
func (s *Messages) RecordReceipt(_ context.Context, r messages.Receipt, _ time.Time) (messages.Receipt, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.init()
	k := r.PayeeFiscalCode + "#" + r.NoticeNumber
	if kept, ok := s.receipts[k]; ok {
		return kept, nil
	}
	s.receipts[k] = r
	return r, nil
}

// Receipt implements messages.Payments.
func (s *Messages) Receipt(_ context.Context, payee, notice string) (messages.Receipt, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.receipts[payee+"#"+notice]
	if !ok {
		return messages.Receipt{}, problem.ErrNotFound
	}
	return r, nil
}

// ByNotice implements messages.Payments.
func (s *Messages) ByNotice(_ context.Context, payee, notice string) ([]messages.MessageRef, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []messages.MessageRef
	for _, m := range s.m {
		if m.PaymentStatus != "" && m.Payee == payee && m.Content.PaymentData.NoticeNumber == notice {
			out = append(out, messages.MessageRef{FiscalCode: m.FiscalCode, ID: m.ID})
		}
	}
	return out, nil
}

// DueReminders implements messages.ReminderStore (one page: the fake keeps
// few messages).
func (s *Messages) DueReminders(_ context.Context, shard int, due time.Time, _ int, _ string) ([]messages.MessageRef, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []messages.MessageRef
	for _, m := range s.m {
		if !m.RemindAt.IsZero() && !m.RemindAt.After(due) && messages.ReminderShard(m.ID) == shard {
			out = append(out, messages.MessageRef{FiscalCode: m.FiscalCode, ID: m.ID})
		}
	}
	return out, "", nil
}

// ClaimReminder implements messages.ReminderStore.
func (s *Messages) ClaimReminder(_ context.Context, fc, id string, r messages.Reminder, rest []int, next time.Time, unlessRead bool) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.m[fc+"/"+id]
	if !ok {
		return false, problem.ErrConflict
	}
	for _, done := range m.Reminders {
		if done.OffsetSeconds == r.OffsetSeconds {
			return true, nil
		}
	}
	if m.Status != messages.Processed || m.PaymentStatus == messages.Paid || unlessRead && m.IsRead {
		return false, problem.ErrConflict
	}
	m.Reminders = append(slices.Clone(m.Reminders), r)
	m.Channels = maps.Clone(m.Channels)
	for _, ch := range r.Channels {
		m.Channels[messages.ReminderChannel(r.OffsetSeconds, ch)] = messages.Channel{}
	}
	m.ReminderPlan, m.RemindAt = rest, next
	if len(rest) == 0 {
		m.RemindAt = time.Time{}
	}
	s.m[fc+"/"+id] = m
	return false, nil
}

// Replan implements messages.ReminderStore.
func (s *Messages) Replan(_ context.Context, fc, id string, rest []int, next time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.m[fc+"/"+id]
	if !ok {
		return nil
	}
	m.ReminderPlan, m.RemindAt = rest, next
	if len(rest) == 0 {
		m.ReminderPlan, m.RemindAt = nil, time.Time{}
	}
	s.m[fc+"/"+id] = m
	return nil
}

// MarkPaid implements messages.Payments.
func (s *Messages) MarkPaid(_ context.Context, fc, id string, paidAt time.Time) (messages.Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.m[fc+"/"+id]
	switch {
	case !ok:
		return messages.Message{}, problem.ErrNotFound
	case m.PaymentStatus == "":
		return messages.Message{}, problem.ErrConflict
	case m.PaymentStatus != messages.Paid:
		m.PaymentStatus, m.PaidAt = messages.Paid, paidAt.UTC()
		m.RemindAt = time.Time{}
		s.m[fc+"/"+id] = m
	}
	return m, nil
}

// Create implements messages.Store.
func (s *Messages) Create(_ context.Context, m messages.Message, idem *messages.Idempotency) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.init()
	k := m.FiscalCode + "/" + m.ID
	if _, ok := s.m[k]; ok {
		return problem.ErrConflict
	}
	if d := m.Content; d != nil && d.ThirdPartyData != nil &&
		(s.Configurations == nil || !s.Configurations.Has(m.SenderServiceID, d.ThirdPartyData.ConfigurationID)) {
		return messages.ErrNoConfiguration
	}
	if idem != nil {
		ik := idem.ServiceID + "/" + idem.KeyHash
		if old, ok := s.idem[ik]; ok && !old.ExpiresAt.Before(m.CreatedAt) {
			return problem.ErrConflict
		}
		s.idem[ik] = *idem
	}
	m.Channels = map[string]messages.Channel{}
	s.m[k] = m
	if m.Status != messages.Scheduled { // a scheduled one enters AcceptedIndex when released
		s.requeueAt[k] = m.CreatedAt
	}
	return nil
}

// Stale implements messages.Store.
func (s *Messages) Stale(_ context.Context, due time.Time, limit int) ([]messages.Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []messages.Message
	for _, k := range slices.Sorted(maps.Keys(s.m)) {
		rq, inAccepted := s.requeueAt[k] // a scheduled message once released
		if m := s.m[k]; (m.Status == messages.Accepted || m.Status == messages.Scheduled) && inAccepted && !rq.After(due) && len(out) < limit {
			m.Channels = maps.Clone(m.Channels)
			out = append(out, m)
		}
	}
	return out, nil
}

// MarkRequeued implements messages.Store.
func (s *Messages) MarkRequeued(_ context.Context, fc, id string, requeues int, next time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.m[fc+"/"+id]
	if _, inAccepted := s.requeueAt[fc+"/"+id]; !ok || !inAccepted || m.Status != messages.Accepted && m.Status != messages.Scheduled {
		return problem.ErrConflict
	}
	m.Requeues = requeues
	s.m[fc+"/"+id], s.requeueAt[fc+"/"+id] = m, next
	return nil
}

// Get implements messages.Store.
func (s *Messages) Get(_ context.Context, fc, id string) (messages.Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.m[fc+"/"+id]
	if !ok {
		return messages.Message{}, problem.ErrNotFound
	}
	m.Channels = maps.Clone(m.Channels)
	return m, nil
}

// ChangeStatus implements messages.Store.
func (s *Messages) ChangeStatus(_ context.Context, fc, id string, ch messages.StatusChange, at time.Time) (messages.Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.m[fc+"/"+id]
	if !ok || m.Pending {
		return messages.Message{}, problem.ErrNotFound
	}
	if ch.IsRead != nil {
		m.IsRead = *ch.IsRead
	}
	if ch.IsArchived != nil {
		m.IsArchived = *ch.IsArchived
	}
	m.StatusVersion++
	m.StatusUpdatedAt = at
	s.m[fc+"/"+id] = m
	m.Channels = maps.Clone(m.Channels)
	return m, nil
}

// ReleaseIdempotency implements messages.Store.
func (s *Messages) ReleaseIdempotency(_ context.Context, svc, keyHash string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.idem, svc+"/"+keyHash)
	return nil
}

// Idempotency implements messages.Store.
func (s *Messages) Idempotency(_ context.Context, svc, keyHash string) (messages.Idempotency, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.idem[svc+"/"+keyHash]
	if !ok {
		return messages.Idempotency{}, problem.ErrNotFound
	}
	return r, nil
}

func (s *Messages) open(fc, id string, extra ...messages.Status) (messages.Message, bool) {
	m, ok := s.m[fc+"/"+id]
	ok = ok && slices.Contains(append([]messages.Status{messages.Accepted, messages.Throttled, messages.Scheduled}, extra...), m.Status)
	return m, ok
}

// SetStatus implements messages.Store.
func (s *Messages) SetStatus(_ context.Context, fc, id string, st messages.Status, reason string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.open(fc, id)
	if !ok {
		return problem.ErrConflict
	}
	m.Status, m.StatusAt = st, at
	if reason != "" {
		m.RejectionReason = reason
	}
	s.m[fc+"/"+id] = m
	return nil
}

// Deliver implements messages.Store.
func (s *Messages) Deliver(_ context.Context, d messages.Message, sender messages.SenderService) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.open(d.FiscalCode, d.ID, messages.Processed)
	if !ok {
		return problem.ErrConflict
	}
	m.Content, m.Pending, m.Status, m.StatusAt = d.Content, false, messages.Processed, sender.LastNotificationAt
	if len(m.Channels) == 0 {
		m.Channels = map[string]messages.Channel{}
		for n, c := range d.Channels {
			m.Channels[n] = c
		}
	}
	if len(d.ReminderPlan) > 0 && m.RemindAt.IsZero() && m.PaymentStatus != messages.Paid {
		m.ReminderPlan, m.RemindAt = d.ReminderPlan, d.RemindAt.Truncate(time.Second)
	}
	if len(d.Attachments) > 0 {
		m.Attachments = d.Attachments
	}
	if d.Acts.Due && m.Acts.Deadline.IsZero() {
		m.Acts.Deadline, m.Acts.Due = d.Acts.Deadline, true
	}
	s.m[d.FiscalCode+"/"+d.ID] = m
	s.senders[sender.FiscalCode+"/"+sender.ServiceID] = sender
	return nil
}

func (s *Messages) channelOpen(fc, id, ch string) (messages.Message, bool) {
	m, ok := s.m[fc+"/"+id]
	c, has := m.Channels[ch]
	return m, ok && has && (c.Status == "" || c.Status == messages.ChannelThrottled)
}

type claimKey struct{ fc, id, ch string }

// ClaimChannel implements messages.Store.
func (s *Messages) ClaimChannel(_ context.Context, fc, id, ch string, at time.Time, lease time.Duration) (messages.Claim, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.channelOpen(fc, id, ch); !ok {
		return messages.Claim{}, problem.ErrConflict
	}
	k := claimKey{fc, id, ch}
	if t, ok := s.claims[k]; ok && !t.Before(at.Add(-lease)) {
		return messages.Claim{}, messages.ErrClaimed
	}
	if s.claims == nil {
		s.claims = map[claimKey]time.Time{}
	}
	s.claims[k] = at
	return messages.Claim{Delivered: slices.Clone(s.delivered[k])}, nil
}

// SetChannelStatus implements messages.Store.
func (s *Messages) SetChannelStatus(_ context.Context, fc, id, ch string, st messages.ChannelStatus, reason string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.channelOpen(fc, id, ch)
	if !ok {
		return problem.ErrConflict
	}
	c := m.Channels[ch]
	c.Status, c.UpdatedAt = st, at
	if reason != "" {
		c.Reason = reason
	}
	m.Channels[ch] = c
	delete(s.claims, claimKey{fc, id, ch})
	return nil
}

// RecordDelivered implements messages.Store.
func (s *Messages) RecordDelivered(_ context.Context, fc, id, ch string, targets []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.channelOpen(fc, id, ch); !ok {
		return problem.ErrConflict
	}
	if s.delivered == nil {
		s.delivered = map[claimKey][]string{}
	}
	k := claimKey{fc, id, ch}
	for _, t := range targets {
		if !slices.Contains(s.delivered[k], t) {
			s.delivered[k] = append(s.delivered[k], t)
		}
	}
	return nil
}

// Sender returns a recorded sender service (for assertions).
func (s *Messages) Sender(fc, svc string) (messages.SenderService, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.senders[fc+"/"+svc]
	return v, ok
}

// Accounts is an in-memory subscriptions.Store.
type Accounts struct {
	mu    sync.Mutex
	users map[string]subscriptions.User
	subs  map[string]subscriptions.Subscription
	keys  map[string]subscriptions.Key
}

func (a *Accounts) init() {
	if a.users == nil {
		a.users, a.subs, a.keys = map[string]subscriptions.User{}, map[string]subscriptions.Subscription{}, map[string]subscriptions.Key{}
	}
}

// User implements subscriptions.Store.
func (a *Accounts) User(_ context.Context, email string) (subscriptions.User, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	u, ok := a.users[email]
	if !ok {
		return subscriptions.User{}, problem.ErrNotFound
	}
	return u, nil
}

// PutUser implements subscriptions.Store.
func (a *Accounts) PutUser(_ context.Context, u subscriptions.User) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.init()
	a.users[u.Email] = u
	return nil
}

// CreateSubscription implements subscriptions.Store.
func (a *Accounts) CreateSubscription(_ context.Context, s subscriptions.Subscription) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.init()
	if _, ok := a.subs[s.ID]; ok {
		return problem.ErrConflict
	}
	for _, h := range s.KeyHashes {
		if _, ok := a.keys[h]; ok {
			return problem.ErrConflict
		}
	}
	s.KeyHashes = maps.Clone(s.KeyHashes)
	a.subs[s.ID] = s
	for t, h := range s.KeyHashes {
		a.keys[h] = subscriptions.Key{Hash: h, SubscriptionID: s.ID, OwnerEmail: s.OwnerEmail, Type: t}
	}
	return nil
}

// Subscription implements subscriptions.Store.
func (a *Accounts) Subscription(_ context.Context, id string) (subscriptions.Subscription, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	s, ok := a.subs[id]
	if !ok {
		return subscriptions.Subscription{}, problem.ErrNotFound
	}
	s.KeyHashes = maps.Clone(s.KeyHashes)
	return s, nil
}

// ReplaceKey implements subscriptions.Store.
func (a *Accounts) ReplaceKey(_ context.Context, id string, t subscriptions.KeyType, oldHash, newHash string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	s, ok := a.subs[id]
	if !ok || s.KeyHashes[t] != oldHash {
		return problem.ErrConflict
	}
	if _, taken := a.keys[newHash]; taken {
		return problem.ErrConflict
	}
	s.KeyHashes[t] = newHash
	delete(a.keys, oldHash)
	a.keys[newHash] = subscriptions.Key{Hash: newHash, SubscriptionID: id, OwnerEmail: s.OwnerEmail, Type: t}
	return nil
}

// Key implements subscriptions.Store.
func (a *Accounts) Key(_ context.Context, hash string) (subscriptions.Key, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	k, ok := a.keys[hash]
	if !ok {
		return subscriptions.Key{}, problem.ErrNotFound
	}
	return k, nil
}

func (s *Profiles) setValidated(fc, address string) {
	if s.validated == nil {
		s.validated = map[string]string{}
	}
	s.validated[fc] = address
}

// PutToken implements emailvalidation.Store.
func (s *Profiles) PutToken(_ context.Context, t emailvalidation.Token) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return s.Err
	}
	if s.tokens == nil {
		s.tokens = map[string]emailvalidation.Token{}
	}
	s.tokens[t.ID] = t
	return nil
}

// Token implements emailvalidation.Store.
func (s *Profiles) Token(_ context.Context, id string) (emailvalidation.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return emailvalidation.Token{}, s.Err
	}
	t, ok := s.tokens[id]
	if !ok {
		return t, problem.ErrNotFound
	}
	return t, nil
}

// Validate implements emailvalidation.Store.
func (s *Profiles) Validate(_ context.Context, t emailvalidation.Token, _ time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return s.Err
	}
	if _, ok := s.tokens[t.ID]; !ok {
		return problem.ErrNotFound
	}
	delete(s.tokens, t.ID)
	s.setValidated(t.FiscalCode, t.Email)
	return nil
}

// Started implements emailvalidation.Store.
func (s *Profiles) Started(_ context.Context, fc string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.started[fc], s.Err
}

// MarkStarted implements emailvalidation.Store.
func (s *Profiles) MarkStarted(_ context.Context, fc, key, _ string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Err != nil {
		return s.Err
	}
	if s.started == nil {
		s.started = map[string]string{}
	}
	s.started[fc] = key
	return nil
}
