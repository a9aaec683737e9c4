package messages_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/digital-citizenship/functions/pkg/auth"
	"github.com/digital-citizenship/functions/pkg/messages"
	"github.com/digital-citizenship/functions/pkg/profiles"
	"github.com/digital-citizenship/functions/pkg/push"
	"github.com/digital-citizenship/functions/pkg/services"
	"github.com/digital-citizenship/functions/pkg/storetest"
)

func TestPlan(t *testing.T) {
	due := now.Add(10 * 24 * time.Hour)
	plan, at := messages.Plan([]int{86400, 7 * 86400, 86400, 30 * 86400}, messages.FormatTime(due), now, 1)
	if !slices.Equal(plan, []int{7 * 86400, 86400}) || !at.Equal(due.Add(-7*24*time.Hour)) {
		t.Fatalf("plan %v at %v: the 30-day reminder is past, duplicates go, the earliest reminder comes first", plan, at)
	}
	plan, at = messages.Plan([]int{7 * 86400}, messages.FormatTime(now.Add(time.Hour)), now, 3600)
	if !slices.Equal(plan, []int{7 * 86400}) || !at.Equal(now.Add(time.Hour-168*time.Second)) {
		t.Fatalf("scaled plan %v at %v", plan, at)
	}
	if plan, _ := messages.Plan([]int{3600}, messages.FormatTime(now.Add(-time.Minute)), now, 1); plan != nil {
		t.Fatalf("a past due date has reminders %v", plan)
	}
}

// reminding is a pipeline with a citizen (validated address, a device) and
// the reminders' use cases.
type reminding struct {
	*pipeline
	svcs     *storetest.Services
	at       time.Time
	reminder messages.Reminders
	jobs     []messages.ReminderJob
	sweeper  messages.Sweeper
	// undelivered leaves the reminders' channels open (no dispatcher).
	undelivered bool
}

func newReminding(t *testing.T, prof profiles.Profile) *reminding {
	r := &reminding{pipeline: newPipeline(), svcs: &storetest.Services{}, at: now}
	ctx := context.Background()
	prof.FiscalCode, prof.IsInboxEnabled, prof.Email, prof.IsEmailValidated = fc, true, "citizen@example.com", true
	if err := r.profiles.Create(ctx, prof, nil); err != nil {
		t.Fatal(err)
	}
	if err := r.installations.Put(ctx, push.Installation{ID: "inst-1", FiscalCode: fc, Platform: "apns", EndpointARN: "arn:endpoint"}, nil); err != nil {
		t.Fatal(err)
	}
	for v := range svc.Version + 1 {
		s := svc
		s.Version = v
		if err := r.svcs.Create(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	clockAt := func() time.Time { return r.at }
	r.proc.Now = clockAt
	r.reminder = messages.Reminders{Store: r.store, Reminders: r.store, Payments: r.store, Profiles: r.profiles, Services: r.svcs,
		Emails: r.emails, Pushes: r.pushes, Now: clockAt}
	r.sweeper = messages.Sweeper{Reminders: r.store, Now: clockAt, Parallel: 4,
		Jobs: func(_ context.Context, jobs []messages.ReminderJob) error {
			r.jobs = append(r.jobs, jobs...)
			return nil
		}}
	return r
}

// advanced submits and processes an ADVANCED message due in 10 days, with
// the default reminders (7 days and 1 day before).
func (r *reminding) advanced(t *testing.T, pd *messages.PaymentData) string {
	t.Helper()
	c := content
	c.PaymentData = pd
	return r.advancedWith(t, c)
}

// advancedWith is advanced with content c (its due date in 10 days).
func (r *reminding) advancedWith(t *testing.T, c messages.Content) string {
	t.Helper()
	r.at = now
	pd := c.PaymentData
	c.DueDate = messages.FormatTime(now.Add(10 * 24 * time.Hour))
	q := &storetest.Queue{}
	adv := writer
	adv.Groups = []auth.Group{auth.MessageWrite, auth.MessageWriteAdvanced}
	res, err := (messages.Submitter{Store: r.store, Created: q, Now: clock, Payments: r.store}).Submit(context.Background(),
		messages.Submission{Caller: adv, Service: svc, FiscalCode: fc, Message: messages.NewMessage{Content: c, FeatureLevel: messages.Advanced}, Body: []byte(id(pd))})
	if err != nil {
		t.Fatal(err)
	}
	var ev messages.CreatedEvent
	if err := json.Unmarshal(q.Sent[0], &ev); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ev.ReminderOffsets, services.DefaultReminderOffsets) {
		t.Fatalf("created event's offsets %v", ev.ReminderOffsets)
	}
	if err := r.proc.Process(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	r.emails.Sent, r.pushes.Sent = nil, nil
	return res.ID
}

func id(pd *messages.PaymentData) string {
	if pd == nil {
		return "plain"
	}
	return pd.NoticeNumber
}

// sweep runs a sweep at the time given and handles its jobs; it returns the
// reminder events queued.
func (r *reminding) sweep(t *testing.T, at time.Time) []messages.NotificationEvent {
	t.Helper()
	r.at, r.jobs = at, nil
	r.emails.Sent, r.pushes.Sent = nil, nil
	if _, err := r.sweeper.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, j := range r.jobs {
		if err := r.reminder.Handle(context.Background(), j); err != nil {
			t.Fatal(err)
		}
	}
	var out []messages.NotificationEvent
	for _, raw := range append(r.emails.Sent, r.pushes.Sent...) {
		var ev messages.NotificationEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			t.Fatal(err)
		}
		out = append(out, ev)
		// The channel's dispatcher sends it.
		if r.undelivered {
			continue
		}
		if err := r.store.SetChannelStatus(context.Background(), fc, ev.Message.ID, ev.ChannelKey, messages.ChannelSent, "", at); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func TestReminders_UnreadMessage(t *testing.T) {
	r := newReminding(t, profiles.Profile{PreferredLanguages: []string{"en_GB"}})
	id := r.advanced(t, nil)
	if evs := r.sweep(t, now.Add(24*time.Hour)); len(evs) != 0 {
		t.Fatalf("reminded 9 days before: %+v", evs)
	}
	evs := r.sweep(t, now.Add(3*24*time.Hour+time.Minute))
	if len(evs) != 2 || evs[0].ChannelKey != messages.ReminderChannel(7*86400, messages.Email) || evs[0].ToAddress != "citizen@example.com" ||
		evs[1].ChannelKey != messages.ReminderChannel(7*86400, messages.Push) || evs[0].Reminder == nil || evs[0].Reminder.Payment {
		t.Fatalf("7-day reminder %+v", evs)
	}
	subject, md := messages.ReminderEmail(evs[0])
	if subject != "Reminder: A subject line" || !strings.Contains(md, "TARI (Comune)") || !strings.Contains(md, "3 December 2026 at 10:00 (UTC)") ||
		!strings.Contains(md, messages.AppMessageLink(id)) {
		t.Fatalf("reminder e-mail %q\n%s", subject, md)
	}
	// The same sweep again, a minute later: nothing twice.
	if evs := r.sweep(t, now.Add(3*24*time.Hour+2*time.Minute)); len(evs) != 0 {
		t.Fatalf("reminded twice: %+v", evs)
	}
	m := r.get(t, id)
	v := m.View()
	if len(v.Reminders) != 1 || v.Reminders[0].OffsetSeconds != 7*86400 || v.Reminders[0].Channels["email"] != "SENT" || v.Notification["r604800_email"] != "" {
		t.Fatalf("view %+v", v)
	}
	// Read: the 1-day reminder never comes.
	if _, err := r.store.ChangeStatus(context.Background(), fc, id, messages.StatusChange{IsRead: ptr(true)}, now); err != nil {
		t.Fatal(err)
	}
	if evs := r.sweep(t, now.Add(9*24*time.Hour+time.Minute)); len(evs) != 0 {
		t.Fatalf("a read message reminded: %+v", evs)
	}
	if m := r.get(t, id); !m.RemindAt.IsZero() {
		t.Fatalf("a read message stays in the index: %v", m.RemindAt)
	}
}

func ptr[T any](v T) *T { return &v }

// TestReminders_SecureChannels: the reminder of a message that requires
// secure channels goes by push only, without the subject.
func TestReminders_SecureChannels(t *testing.T) {
	r := newReminding(t, profiles.Profile{PreferredLanguages: []string{"en_GB"}})
	c := content
	c.RequireSecureChannels = true
	r.advancedWith(t, c)
	evs := r.sweep(t, now.Add(3*24*time.Hour+time.Minute))
	if len(evs) != 1 || evs[0].Channel != messages.Push || !evs[0].Anonymous {
		t.Fatalf("the reminder of a secure message: %+v", evs)
	}
	if body := messages.ReminderPush(evs[0]); strings.Contains(body, content.Subject) {
		t.Fatalf("its push shows the subject: %q", body)
	}
}

func TestReminders_PaymentNotice(t *testing.T) {
	r := newReminding(t, profiles.Profile{})
	id := r.advanced(t, &messages.PaymentData{Amount: 100, NoticeNumber: "012345678901234567"})
	// A late sweep finds both reminders due: only the last one goes.
	evs := r.sweep(t, now.Add(9*24*time.Hour+time.Minute))
	if len(evs) != 2 || evs[0].Reminder.OffsetSeconds != 86400 || !evs[0].Reminder.Payment {
		t.Fatalf("late sweep %+v", evs)
	}
	if subject, md := messages.ReminderEmail(evs[0]); subject != "Promemoria: A subject line" || !strings.Contains(md, "ancora da pagare") {
		t.Fatalf("Italian reminder %q %s", subject, md)
	}
	// Read does not stop a payment notice's reminders; a receipt does.
	id2 := r.advanced(t, &messages.PaymentData{Amount: 100, NoticeNumber: "112345678901234567"})
	if _, err := r.store.ChangeStatus(context.Background(), fc, id2, messages.StatusChange{IsRead: ptr(true)}, now); err != nil {
		t.Fatal(err)
	}
	if evs := r.sweep(t, now.Add(3*24*time.Hour+time.Minute)); len(evs) != 2 || evs[0].Message.ID != id2 {
		t.Fatalf("a read, unpaid notice: %+v", evs)
	}
	// The receipt came, and its run never reached the message: the
	// reminder finds it and the message is PAID, not reminded.
	if _, err := r.store.RecordReceipt(context.Background(), messages.Receipt{NoticeNumber: "112345678901234567", PayeeFiscalCode: "00000000001",
		PaidAt: now}, now.Add(messages.ReceiptWindow)); err != nil {
		t.Fatal(err)
	}
	if evs := r.sweep(t, now.Add(9*24*time.Hour+time.Minute)); len(evs) != 0 {
		t.Fatalf("a paid notice reminded: %+v", evs)
	}
	if m := r.get(t, id2); m.PaymentStatus != messages.Paid || !m.RemindAt.IsZero() {
		t.Fatalf("paid notice %+v", m)
	}
	if m := r.get(t, id); len(m.Reminders) != 1 {
		t.Fatalf("first notice reminders %+v", m.Reminders)
	}
}

func TestReminders_Never(t *testing.T) {
	r := newReminding(t, profiles.Profile{ReminderStatus: profiles.RemindersDisabled})
	id := r.advanced(t, nil)
	if evs := r.sweep(t, now.Add(3*24*time.Hour+time.Minute)); len(evs) != 0 {
		t.Fatalf("reminders off, reminded: %+v", evs)
	}
	if m := r.get(t, id); len(m.ReminderPlan) != 1 {
		t.Fatalf("the next reminder is dropped too: %v", m.ReminderPlan)
	}
	// Past the due date: nothing, and out of the index.
	if evs := r.sweep(t, now.Add(11*24*time.Hour)); len(evs) != 0 {
		t.Fatalf("reminded after the due date: %+v", evs)
	}
	if m := r.get(t, id); !m.RemindAt.IsZero() {
		t.Fatalf("past due, still planned at %v", m.RemindAt)
	}
	// A STANDARD message with a due date has no reminders.
	p := newPipeline()
	c := content
	c.DueDate = messages.FormatTime(now.Add(3 * time.Hour))
	ev := p.submit(t, messages.NewMessage{Content: c, FeatureLevel: messages.Standard})
	if err := p.proc.Process(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	if m := p.get(t, ev.Message.ID); len(m.ReminderPlan) != 0 {
		t.Fatalf("STANDARD message planned %v", m.ReminderPlan)
	}
}

func TestReminders_ExpireAtTheDueDate(t *testing.T) {
	r := newReminding(t, profiles.Profile{})
	r.undelivered = true
	r.advanced(t, nil)
	evs := r.sweep(t, now.Add(3*24*time.Hour+time.Minute))
	d := r.notifier
	d.Now = func() time.Time { return now.Add(10*24*time.Hour + time.Second) }
	if err := d.Notify(context.Background(), evs[0]); err != nil {
		t.Fatal(err)
	}
	m := r.get(t, evs[0].Message.ID)
	if m.Channels[evs[0].ChannelKey].Status != messages.ChannelExpired || m.Channels[messages.Email].Status != "" {
		t.Fatalf("channels %+v", m.Channels)
	}
	if len(r.mailer.Sent) != 0 {
		t.Fatalf("sent after the due date")
	}
	// Before the due date, it is sent with the reminder's words.
	ev := evs[0]
	ev.ChannelKey = messages.ReminderChannel(86400, messages.Email)
	r.sweep(t, now.Add(9*24*time.Hour+time.Minute))
	d.Now = func() time.Time { return now.Add(9*24*time.Hour + 2*time.Minute) }
	if err := d.Notify(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	if len(r.mailer.Sent) != 1 || !strings.HasPrefix(r.mailer.Sent[0].Subject, "Promemoria: ") || !strings.Contains(r.mailer.Sent[0].Text, "scadenza il 03/12/2026 alle 10:00 (UTC)") {
		t.Fatalf("reminder e-mail %+v", r.mailer.Sent)
	}
}

// A run that records a reminder and then fails to queue it: its job comes
// back, finds the reminder recorded, and queues it then.
func TestReminders_QueueFailsAfterTheRecord(t *testing.T) {
	r := newReminding(t, profiles.Profile{})
	r.undelivered = true
	id := r.advanced(t, nil)
	r.at = now.Add(3*24*time.Hour + time.Minute)
	r.pushes.Err = errors.New("queue unreachable")
	job := messages.ReminderJob{FiscalCode: fc, ID: id}
	if err := r.reminder.Handle(context.Background(), job); err == nil {
		t.Fatal("a failed queueing reported success")
	}
	r.pushes.Err = nil
	r.emails.Sent, r.pushes.Sent = nil, nil
	if err := r.reminder.Handle(context.Background(), job); err != nil {
		t.Fatal(err)
	}
	if len(r.emails.Sent) != 1 || len(r.pushes.Sent) != 1 {
		t.Fatalf("the job's retry queued %d e-mails and %d pushes, want 1 and 1", len(r.emails.Sent), len(r.pushes.Sent))
	}
	if m := r.get(t, id); len(m.Reminders) != 1 {
		t.Fatalf("%d reminders recorded", len(m.Reminders))
	}
}
