package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/digital-citizenship/functions/pkg/auth"
	"github.com/digital-citizenship/functions/pkg/messages"
	"github.com/digital-citizenship/functions/pkg/problem"
	"github.com/digital-citizenship/functions/pkg/profiles"
	"github.com/digital-citizenship/functions/pkg/push"
	"github.com/digital-citizenship/functions/pkg/services"
)

// ReminderStore is what the reminders contract needs of a store.
type ReminderStore interface {
	PaymentStore
	messages.ReminderStore
}

// remindingWorld submits and processes ADVANCED payment notices due in ten
// days on st, with a citizen who has an address and a device.
type remindingWorld struct {
	st        ReminderStore
	profiles  *Profiles
	svcs      *Services
	emails    *Queue
	pushes    *Queue
	now       time.Time
	at        func() time.Time
	reminders messages.Reminders
}

func newRemindingWorld(t *testing.T, st ReminderStore, fc string) *remindingWorld {
	ctx := context.Background()
	inst := &Installations{}
	w := &remindingWorld{st: st, profiles: &Profiles{Installations: inst}, svcs: &Services{}, emails: &Queue{}, pushes: &Queue{},
		now: time.Now().UTC().Truncate(time.Second)}
	ok(t, w.profiles.Create(ctx, profiles.Profile{FiscalCode: fc, IsInboxEnabled: true, Email: "citizen@example.com", IsEmailValidated: true}, nil))
	ok(t, inst.Put(ctx, pushInstallation(fc), nil))
	ok(t, w.svcs.Create(ctx, services.Service{ServiceID: "svc", ServiceName: "TARI", OrganizationName: "Comune",
		OrganizationFiscalCode: "00000000001", MaxAllowedPaymentAmount: 1000}))
	w.at = func() time.Time { return w.now.Add(3*24*time.Hour + time.Minute) } // the 7-day reminder is due
	w.reminders = messages.Reminders{Store: st, Reminders: st, Payments: st, Profiles: w.profiles, Services: w.svcs,
		Emails: w.emails, Pushes: w.pushes, Now: func() time.Time { return w.at() }}
	return w
}

func (w *remindingWorld) notice(t *testing.T, fc string, n int) string {
	t.Helper()
	ctx := context.Background()
	svc, _ := w.svcs.Latest(ctx, "svc")
	q := &Queue{}
	c := messages.Content{Subject: "Avviso TARI", Markdown: "body", DueDate: messages.FormatTime(w.now.Add(10 * 24 * time.Hour)),
		PaymentData: &messages.PaymentData{Amount: 100, NoticeNumber: fmt.Sprintf("3%017d", n)}}
	caller := auth.Caller{SubscriptionID: "svc", UserID: "u", Groups: []auth.Group{auth.MessageWrite, auth.MessageWriteAdvanced}}
	id, err := (messages.Submitter{Store: w.st, Created: q, Now: func() time.Time { return w.now }}).Submit(ctx, messages.Submission{
		Caller: caller, Service: svc, FiscalCode: fc, Message: messages.NewMessage{Content: c, FeatureLevel: messages.Advanced}, Body: []byte(c.PaymentData.NoticeNumber)})
	ok(t, err)
	var ev messages.CreatedEvent
	ok(t, json.Unmarshal(q.Sent[0], &ev))
	proc := messages.Processor{Profiles: w.profiles, Store: w.st, Emails: &Queue{}, Pushes: &Queue{}, Now: func() time.Time { return w.now }}
	ok(t, proc.Process(ctx, ev))
	return id.ID
}

// queued counts the reminder events queued, by message id.
func (w *remindingWorld) queued(t *testing.T) map[string]int {
	out := map[string]int{}
	for _, raw := range append(w.emails.Sent, w.pushes.Sent...) {
		var ev messages.NotificationEvent
		ok(t, json.Unmarshal(raw, &ev))
		out[ev.Message.ID]++
	}
	return out
}

// RemindersContract checks messages.ReminderStore: the index of due
// reminders, a reminder recorded once, PAID that stops them, and two races:
// two sweeps at once, and receipts during a reminder run.
func RemindersContract(t *testing.T, st ReminderStore) {
	ctx := context.Background()
	const fc = "REMIND00A00A000A"
	w := newRemindingWorld(t, st, fc)
	id := w.notice(t, fc, 1)
	m, err := st.Get(ctx, fc, id)
	ok(t, err)
	if len(m.ReminderPlan) != 2 || !m.RemindAt.Equal(w.now.Add(3*24*time.Hour)) {
		t.Fatalf("planned %v at %v", m.ReminderPlan, m.RemindAt)
	}
	shard := messages.ReminderShard(id)
	due := func(at time.Time) []messages.MessageRef {
		t.Helper()
		var refs []messages.MessageRef
		cursor := ""
		for {
			page, next, err := st.DueReminders(ctx, shard, at, 1, cursor)
			ok(t, err)
			refs = append(refs, page...)
			if next == "" {
				return refs
			}
			cursor = next
		}
	}
	if refs := due(w.now.Add(24 * time.Hour)); len(refs) != 0 {
		t.Fatalf("due a day later: %v", refs)
	}
	var refs []messages.MessageRef
	for deadline := time.Now().Add(10 * time.Second); len(refs) == 0 && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		refs = due(w.at()) // the index is eventually consistent
	}
	if len(refs) != 1 || refs[0].ID != id || refs[0].FiscalCode != fc {
		t.Fatalf("due: %v", refs)
	}
	r := messages.Reminder{OffsetSeconds: 7 * 86400, SentAt: w.at(), Channels: []string{messages.Email}}
	already, err := st.ClaimReminder(ctx, fc, id, r, []int{86400}, w.now.Add(9*24*time.Hour), false)
	if err != nil || already {
		t.Fatalf("claim: %v %v", already, err)
	}
	already, err = st.ClaimReminder(ctx, fc, id, r, []int{86400}, w.now.Add(9*24*time.Hour), false)
	if err != nil || !already {
		t.Fatalf("second claim: %v %v", already, err)
	}
	m, _ = st.Get(ctx, fc, id)
	if len(m.Reminders) != 1 || m.Reminders[0].OffsetSeconds != 7*86400 || !m.RemindAt.Equal(w.now.Add(9*24*time.Hour)) ||
		m.Channels[messages.ReminderChannel(7*86400, messages.Email)].Status != "" {
		t.Fatalf("after the claim %+v", m)
	}
	_, err = st.MarkPaid(ctx, fc, id, w.now)
	ok(t, err)
	m, _ = st.Get(ctx, fc, id)
	if !m.RemindAt.IsZero() {
		t.Fatalf("paid, still planned at %v", m.RemindAt)
	}
	_, err = st.ClaimReminder(ctx, fc, id, messages.Reminder{OffsetSeconds: 86400, SentAt: w.at()}, nil, time.Time{}, false)
	is(t, err, errConflict)

	t.Run("two sweeps at once", func(t *testing.T) {
		const fc = "REMIND00A00A001A"
		w := newRemindingWorld(t, st, fc)
		ids := map[string]bool{}
		for n := range 12 {
			ids[w.notice(t, fc, 100+n)] = true
		}
		var mu sync.Mutex
		var jobs []messages.ReminderJob
		sweeper := messages.Sweeper{Reminders: st, Parallel: 4, Now: w.at, Jobs: func(_ context.Context, b []messages.ReminderJob) error {
			mu.Lock()
			defer mu.Unlock()
			jobs = append(jobs, b...)
			return nil
		}}
		// Wait for the index, then two sweeps race, and each job is handled
		// at once by its own handler.
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			jobs = nil
			n, err := sweeper.Run(ctx)
			ok(t, err)
			if n >= len(ids) {
				break
			}
		}
		jobs = nil
		race(t, 2, nil, func() error { _, err := sweeper.Run(ctx); return err })
		if len(jobs) < 2*len(ids) {
			t.Fatalf("two sweeps queued %d jobs, want %d", len(jobs), 2*len(ids))
		}
		var wg sync.WaitGroup
		errs := make(chan error, len(jobs))
		for _, j := range jobs {
			wg.Go(func() { errs <- w.reminders.Handle(ctx, j) })
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			ok(t, err)
		}
		// A run that finds the reminder recorded queues it again (harmless:
		// the channels' dispatchers claim each send), so the events are
		// sent, all at once, through the dispatchers: each reminder goes
		// once on each channel.
		sender := &countingSender{sent: map[string]int{}}
		var events []messages.NotificationEvent
		for _, raw := range append(w.emails.Sent, w.pushes.Sent...) {
			var ev messages.NotificationEvent
			ok(t, json.Unmarshal(raw, &ev))
			events = append(events, ev)
		}
		errs = make(chan error, len(events))
		for _, ev := range events {
			d := messages.Dispatcher{Channel: ev.Channel, Store: st, Sender: sender, Now: w.at}
			wg.Go(func() {
				if err := d.Notify(ctx, ev); err != nil && !errors.Is(err, messages.ErrClaimed) {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			ok(t, err)
		}
		for id := range ids {
			m, err := st.Get(ctx, fc, id)
			ok(t, err)
			if len(m.Reminders) != 1 || sender.sent[id] != 2 {
				t.Fatalf("message %s: %d reminders recorded, %d sends; want 1 and 2 (e-mail, push)", id, len(m.Reminders), sender.sent[id])
			}
		}
	})

	t.Run("receipts during a reminder run", func(t *testing.T) {
		const fc = "REMIND00A00A002A"
		w := newRemindingWorld(t, st, fc)
		var ids []string
		for n := range 16 {
			ids = append(ids, w.notice(t, fc, 200+n))
		}
		paidHad := make([]bool, len(ids))
		var wg sync.WaitGroup
		for i, id := range ids {
			wg.Go(func() {
				if err := w.reminders.Handle(ctx, messages.ReminderJob{FiscalCode: fc, ID: id}); err != nil {
					t.Error(err)
				}
			})
			wg.Go(func() {
				// Staggered, so that some payments come after the reminder's
				// reads and land before, during or after its claim.
				time.Sleep(time.Duration(i) * 2 * time.Millisecond)
				m, err := st.MarkPaid(ctx, fc, id, w.at())
				if err != nil {
					t.Error(err)
				}
				paidHad[i] = len(m.Reminders) > 0
			})
		}
		wg.Wait()
		queued := w.queued(t)
		reminded := 0
		for i, id := range ids {
			m, err := st.Get(ctx, fc, id)
			ok(t, err)
			// A reminder went only if it was recorded before the payment
			// (the payment's write saw it), and then on both channels.
			if queued[id] > 0 && (!paidHad[i] || queued[id] != 2 || len(m.Reminders) != 1) {
				t.Fatalf("message %s: %d events queued, recorded before the payment %v, %d reminders", id, queued[id], paidHad[i], len(m.Reminders))
			}
			if m.PaymentStatus != messages.Paid || !m.RemindAt.IsZero() {
				t.Fatalf("message %s: %s, next reminder %v", id, m.PaymentStatus, m.RemindAt)
			}
			if queued[id] > 0 {
				reminded++
			}
		}
		t.Logf("%d of %d notices reminded before their receipt", reminded, len(ids))
	})
}

var errConflict = problem.ErrConflict

func pushInstallation(fc string) push.Installation {
	return push.Installation{ID: "inst-" + fc, FiscalCode: fc, Platform: "apns", EndpointARN: "arn:aws:sns:eu-south-1:123456789012:endpoint/APNS/app/" + fc}
}

// countingSender counts the notifications sent, by message.
type countingSender struct {
	mu   sync.Mutex
	sent map[string]int
}

func (c *countingSender) Send(_ context.Context, ev messages.NotificationEvent, _ []string) ([]string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sent[ev.Message.ID]++
	return nil, nil
}
