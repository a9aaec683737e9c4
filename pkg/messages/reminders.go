package messages

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/digital-citizenship/functions/pkg/problem"
	"github.com/digital-citizenship/functions/pkg/profiles"
	"github.com/digital-citizenship/functions/pkg/services"
)

// Reminder is a reminder of a message's due date that was sent (or passed
// over: no channel could take it), on its channels.
type Reminder struct {
	OffsetSeconds int
	SentAt        time.Time
	Channels      []string
}

// ReminderChannel is the key, among a message's channels, of a reminder's
// channel: its claims, retries and final status are a channel's.
func ReminderChannel(offset int, channel string) string {
	return "R" + strconv.Itoa(offset) + "_" + channel
}

// IsReminderChannel reports whether a key of a message's channels is a
// reminder's.
func IsReminderChannel(key string) bool {
	return strings.HasPrefix(key, "R") && strings.Contains(key, "_")
}

// metricChannel is the Channel dimension of a channel's metrics: a
// reminder's is REMINDER_<channel>, whatever its offset.
func metricChannel(key string) string {
	if IsReminderChannel(key) {
		return "REMINDER_" + key[strings.IndexByte(key, '_')+1:]
	}
	return key
}

// ReminderShards spread the reminders' index over partitions: every
// reminder enters it and leaves it, one partition takes 1,000 writes a
// second, and a million reminders due in one minute leave it at 16,700 a
// second.
const ReminderShards = 32

// ReminderShard is the index shard of a message, from the random end of its
// ULID.
func ReminderShard(id string) int {
	if id == "" {
		return 0
	}
	return int(id[len(id)-1]) % ReminderShards
}

// ReminderJob asks send-reminder to look at a message whose reminder is
// due.
type ReminderJob struct {
	FiscalCode string `json:"fiscalCode"`
	ID         string `json:"id"`
}

// Valid reports whether a decoded job names a message.
func (j ReminderJob) Valid() bool { return j.FiscalCode != "" && j.ID != "" }

// ReminderStore keeps the reminders of messages: an index of the next
// reminder of each message, by shard and time.
type ReminderStore interface {
	// DueReminders lists up to limit messages of shard whose next reminder
	// is due at or before due, resuming after cursor ("" first); it
	// returns the next cursor, "" at the end.
	DueReminders(ctx context.Context, shard int, due time.Time, limit int, cursor string) ([]MessageRef, string, error)
	// ClaimReminder records r (its channels opened) and moves the message
	// to the reminders in rest, the next at next (out of the index when
	// rest is empty), on condition that r was not recorded yet, the
	// message is PROCESSED and not PAID and, when unlessRead, not read. It
	// returns true, without writing, when r was recorded already;
	// problem.ErrConflict when the message no longer wants reminders.
	ClaimReminder(ctx context.Context, fiscalCode, id string, r Reminder, rest []int, next time.Time, unlessRead bool) (bool, error)
	// Replan moves the message to the reminders in rest, the next at next
	// (out of the index when rest is empty).
	Replan(ctx context.Context, fiscalCode, id string, rest []int, next time.Time) error
}

// Plan returns the reminders of an ADVANCED message with a due date still
// to come after now: the offsets, earliest reminder first, and the time of
// the first. scale divides the offsets (a local stack reminds in seconds
// what AWS reminds in days).
func Plan(offsets []int, dueDate string, now time.Time, scale float64) ([]int, time.Time) {
	due := ParseTime(dueDate)
	if due.IsZero() || !now.Before(due) {
		return nil, time.Time{}
	}
	plan := slices.Clone(offsets)
	slices.SortFunc(plan, func(a, b int) int { return b - a })
	plan = slices.Compact(plan)
	var out []int
	for _, o := range plan {
		if remindAt(due, o, scale).After(now) {
			out = append(out, o)
		}
	}
	if len(out) == 0 {
		return nil, time.Time{}
	}
	return out, remindAt(due, out[0], scale)
}

func remindAt(due time.Time, offset int, scale float64) time.Time {
	if scale <= 0 {
		scale = 1
	}
	return due.Add(-time.Duration(float64(offset) / scale * float64(time.Second)))
}

// Reminders sends the reminders of due dates (send-reminder, one job per
// message whose reminder is due, from the sweep).
type Reminders struct {
	Store     Store
	Reminders ReminderStore
	Payments  Payments
	Profiles  profiles.Recipients
	Services  services.Store
	// One queue per channel: the reminder goes through the channel's own
	// dispatcher (claims, retries, expiry at the due date).
	Emails, Pushes Queue
	Scale          float64
	Now            func() time.Time
}

// Handle looks at one message whose reminder is due: it sends the reminder
// on the channels the citizen allows the sender, or stops the message's
// reminders when it is paid, read (a notice without payment), no longer
// PROCESSED, past its due date, or the citizen left. A reminder is recorded
// before it is queued, on condition that it was not recorded yet: each
// reminder is sent once, whatever the redeliveries and concurrent runs.
func (u Reminders) Handle(ctx context.Context, job ReminderJob) error {
	m, err := u.Store.Get(ctx, job.FiscalCode, job.ID)
	if errors.Is(err, problem.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read the message: %w", err)
	}
	now := u.Now()
	// A reminder recorded whose channels never got their event (the run
	// that recorded it stopped before queueing): queued again, harmless
	// when it was (each channel claims its send).
	if err := u.requeueOpen(ctx, m); err != nil {
		return err
	}
	if len(m.ReminderPlan) == 0 || m.RemindAt.IsZero() || now.Before(m.RemindAt) {
		return nil // nothing due: stopped, sent, or moved since the sweep read it
	}
	due := ParseTime(m.Content.DueDate)
	stop := func() error { return u.Reminders.Replan(ctx, m.FiscalCode, m.ID, nil, time.Time{}) }
	if m.Status != Processed || m.Level() != Advanced || due.IsZero() || !now.Before(due) || m.PaymentStatus == Paid ||
		m.PaymentStatus == "" && m.IsRead {
		return stop()
	}
	if m.PaymentStatus == NotPaid && u.Payments != nil {
		r, err := u.Payments.Receipt(ctx, m.Payee, m.Content.PaymentData.NoticeNumber)
		switch {
		case err == nil: // paid, and the receipt's run has not reached this message
			_, err := u.Payments.MarkPaid(ctx, m.FiscalCode, m.ID, r.PaidAt)
			return err
		case !errors.Is(err, problem.ErrNotFound):
			return fmt.Errorf("read the notice's receipt: %w", err)
		}
	}
	// The reminder due now is the last of those due: earlier ones that a
	// late sweep finds due too are passed over, never sent at once.
	i := 0
	for i+1 < len(m.ReminderPlan) && !now.Before(remindAt(due, m.ReminderPlan[i+1], u.Scale)) {
		i++
	}
	offset, rest := m.ReminderPlan[i], m.ReminderPlan[i+1:]
	next := time.Time{}
	if len(rest) > 0 {
		next = remindAt(due, rest[0], u.Scale)
	}
	rec, err := u.Profiles.Recipient(ctx, m.FiscalCode)
	switch {
	case errors.Is(err, problem.ErrNotFound):
		return stop()
	case err != nil:
		return fmt.Errorf("read the recipient: %w", err)
	}
	pref := rec.PreferenceFor(m.SenderServiceID)
	if !pref.IsInboxEnabled {
		return stop()
	}
	if !rec.Profile.WantsReminders() {
		return u.Reminders.Replan(ctx, m.FiscalCode, m.ID, rest, next)
	}
	svc, err := u.Services.Latest(ctx, m.SenderServiceID)
	if err != nil && !errors.Is(err, problem.ErrNotFound) {
		return fmt.Errorf("read the service: %w", err)
	}
	events := u.events(m, rec, pref, svc, offset)
	r := Reminder{OffsetSeconds: offset, SentAt: now}
	for _, ev := range events {
		r.Channels = append(r.Channels, ev.Channel)
	}
	already, err := u.Reminders.ClaimReminder(ctx, m.FiscalCode, m.ID, r, rest, next, m.PaymentStatus == "")
	switch {
	case errors.Is(err, problem.ErrConflict): // paid or read meanwhile
		return stop()
	case err != nil:
		return fmt.Errorf("record the reminder: %w", err)
	case already:
		return nil // another run's, which queues it
	}
	return u.queue(ctx, events)
}

// events are the reminder's notifications: e-mail to the validated address
// that did not bounce and push to the devices, as the citizen's preferences
// allow the sender.
func (u Reminders) events(m Message, rec profiles.Recipient, pref profiles.Preference, svc services.Service, offset int) []NotificationEvent {
	prof, created := rec.Profile, createdEvent(m, svc)
	base := NotificationEvent{Content: *m.Content, Message: created.Message, SenderMetadata: created.SenderMetadata,
		Reminder: &ReminderNotice{OffsetSeconds: offset, DueDate: m.Content.DueDate, Payment: m.PaymentStatus == NotPaid}}
	base.Message.Lane = LanePriority // due today: a citizen waits for it
	base.Message.Simulated = m.Test  // a test key's reminders reach no one either
	if len(prof.PreferredLanguages) > 0 {
		base.Language = prof.PreferredLanguages[0]
	}
	var out []NotificationEvent
	// The citizen's own validated address only: a sender's default address
	// is for the message, not for its reminders.
	secure := m.Content.RequireSecureChannels // no e-mail, a push without the subject
	if to, source := emailAddress(prof, pref, CreatedEvent{}); u.Emails != nil && to != "" && !bounced(rec, to) && !secure {
		e := base
		e.Channel, e.ChannelKey, e.ToAddress, e.AddressSource = Email, ReminderChannel(offset, Email), to, source
		out = append(out, e)
	}
	if u.Pushes != nil && len(rec.Devices) > 0 {
		e := base
		e.Channel, e.ChannelKey, e.Devices, e.Anonymous = Push, ReminderChannel(offset, Push), rec.Devices, prof.PushContent == profiles.PushAnonymous || secure
		out = append(out, e)
	}
	return out
}

func (u Reminders) queue(ctx context.Context, events []NotificationEvent) error {
	for _, ev := range events {
		q := u.Emails
		if ev.Channel == Push {
			q = u.Pushes
		}
		if err := q.Send(ctx, ev); err != nil {
			return fmt.Errorf("queue the reminder's %s: %w", ev.Channel, err)
		}
	}
	return nil
}

// requeueOpen queues again the channels of recorded reminders that have no
// final status yet: the run that recorded one may have stopped, or failed
// to queue, between its record and its queue messages (its job comes back
// and finds the reminder recorded). An event queued twice is sent once:
// each channel claims its send.
func (u Reminders) requeueOpen(ctx context.Context, m Message) error {
	for _, r := range m.Reminders {
		if len(r.Channels) == 0 {
			continue
		}
		open := false
		for _, ch := range r.Channels {
			if c, ok := m.Channels[ReminderChannel(r.OffsetSeconds, ch)]; ok && (c.Status == "" || c.Status == ChannelThrottled) {
				open = true
			}
		}
		if !open || !u.Now().Before(ParseTime(m.Content.DueDate)) {
			continue
		}
		rec, err := u.Profiles.Recipient(ctx, m.FiscalCode)
		if err != nil {
			return nil // the citizen left, or a retry will tell
		}
		svc, _ := u.Services.Latest(ctx, m.SenderServiceID)
		var evs []NotificationEvent
		for _, ev := range u.events(m, rec, rec.PreferenceFor(m.SenderServiceID), svc, r.OffsetSeconds) {
			if slices.Contains(r.Channels, ev.Channel) {
				evs = append(evs, ev)
			}
		}
		if err := u.queue(ctx, evs); err != nil {
			return err
		}
	}
	return nil
}

// Sweeper finds the messages whose reminder is due and queues a job for
// each (the scheduled sweep-reminders): one query per shard of the
// reminders' index, shards in parallel, jobs sent ten at a time.
type Sweeper struct {
	Reminders ReminderStore
	// Jobs sends jobs to the reminders queue, at most ten per call.
	Jobs func(ctx context.Context, jobs []ReminderJob) error
	// Backlog returns the reminders queue's visible messages: while it is
	// over MaxReminderBacklog, jobs queued by an earlier sweep still wait,
	// and the sweep does nothing rather than queue them again.
	Backlog  func(ctx context.Context) (int, error)
	Parallel int
	Now      func() time.Time
}

// MaxReminderBacklog is the reminders queue's backlog above which a sweep
// waits.
const MaxReminderBacklog = 10000

// sweepPage is how many keys one query of a shard reads.
const sweepPage = 1000

// Run queues a job for every message whose reminder is due and returns how
// many.
func (s Sweeper) Run(ctx context.Context) (int, error) {
	if s.Backlog != nil {
		n, err := s.Backlog(ctx)
		if err != nil {
			return 0, fmt.Errorf("read the reminders backlog: %w", err)
		}
		if n > MaxReminderBacklog {
			return 0, nil
		}
	}
	now := s.Now()
	shards := make(chan int, ReminderShards)
	for i := range ReminderShards {
		shards <- i
	}
	close(shards)
	type result struct {
		n   int
		err error
	}
	results := make(chan result, max(s.Parallel, 1))
	for range max(s.Parallel, 1) {
		go func() {
			r := result{}
			for shard := range shards {
				n, err := s.shard(ctx, shard, now)
				r.n += n
				r.err = errors.Join(r.err, err)
			}
			results <- r
		}()
	}
	total, errs := 0, []error{}
	for range max(s.Parallel, 1) {
		r := <-results
		total += r.n
		errs = append(errs, r.err)
	}
	return total, errors.Join(errs...)
}

func (s Sweeper) shard(ctx context.Context, shard int, now time.Time) (int, error) {
	n, cursor := 0, ""
	for {
		refs, next, err := s.Reminders.DueReminders(ctx, shard, now, sweepPage, cursor)
		if err != nil {
			return n, fmt.Errorf("shard %d: %w", shard, err)
		}
		for i := 0; i < len(refs); i += 10 {
			batch := make([]ReminderJob, 0, 10)
			for _, r := range refs[i:min(i+10, len(refs))] {
				batch = append(batch, ReminderJob{FiscalCode: r.FiscalCode, ID: r.ID})
			}
			if err := s.Jobs(ctx, batch); err != nil {
				return n, fmt.Errorf("shard %d: queue jobs: %w", shard, err)
			}
			n += len(batch)
		}
		if next == "" {
			return n, nil
		}
		cursor = next
	}
}
