package simulator

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/digital-citizenship/functions/pkg/messages"
	"github.com/digital-citizenship/functions/pkg/problem"
	"github.com/digital-citizenship/functions/pkg/profiles"
	"github.com/digital-citizenship/functions/pkg/sandbox"
	"github.com/digital-citizenship/functions/pkg/sqs"
)

type realSender struct{ calls int }

func (r *realSender) Send(context.Context, messages.NotificationEvent, []string) ([]string, error) {
	r.calls++
	return nil, nil
}

type marks struct{ fiscalCode, address string }

func (m *marks) MarkUndeliverable(_ context.Context, fc, address, _ string, _ time.Time) error {
	m.fiscalCode, m.address = fc, address
	return nil
}

func TestCitizensAreSandbox(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range sandbox.Citizens {
		if !profiles.IsSandbox(c.FiscalCode) || seen[c.Outcome] {
			t.Errorf("%s: not a sandbox fiscal code, or its outcome %s twice", c.FiscalCode, c.Outcome)
		}
		seen[c.Outcome] = true
	}
}

func TestSimulation(t *testing.T) {
	dlv := sandbox.Citizens[0].FiscalCode
	for _, c := range []struct {
		s    Simulation
		em   messages.EventMessage
		want bool
	}{
		{Simulation{}, messages.EventMessage{FiscalCode: dlv, Test: true}, true},
		{Simulation{}, messages.EventMessage{FiscalCode: "AAAAAA00A00Y000X", Test: true}, true},
		{Simulation{}, messages.EventMessage{FiscalCode: dlv}, false},
		{Simulation{AnyKey: true}, messages.EventMessage{FiscalCode: dlv}, true},
		{Simulation{AnyKey: true}, messages.EventMessage{FiscalCode: "SPNDNL80R13C555X"}, false},
	} {
		if got := c.s.Simulated(c.em); got != c.want {
			t.Errorf("%+v %+v: %v", c.s, c.em, got)
		}
	}
	if _, ok, err := (Simulation{}).Recipient("SIMNFD00A00Y002X"); !ok || !errors.Is(err, problem.ErrNotFound) {
		t.Fatal("the citizen without a profile has one")
	}
	r, ok, err := (Simulation{}).Recipient("SIMOFF00A00Y003X")
	if !ok || err != nil || r.PreferenceFor("any-service").IsInboxEnabled {
		t.Fatal("the citizen who turned the service off allows it")
	}
	if _, ok, _ := (Simulation{}).Recipient("AAAAAA00A00Y000X"); ok {
		t.Fatal("an integrator's own development profile is simulated")
	}
}

// send runs the simulated sender on receive count n at now.
func send(t *testing.T, s Sender, ev messages.NotificationEvent, n int) ([]string, error) {
	t.Helper()
	ctx := context.Background()
	var got []string
	var err error
	c := sqs.Consumer[messages.NotificationEvent]{Handle: func(ctx context.Context, ev messages.NotificationEvent) error {
		got, err = s.Send(ctx, ev, nil)
		return nil
	}}
	body := `{"channel":"` + ev.Channel + `","toAddress":"` + ev.ToAddress + `","message":{"id":"m","fiscalCode":"` +
		ev.Message.FiscalCode + `","simulated":true,"createdAt":"` + ev.Message.CreatedAt.Format(time.RFC3339) + `"},"devices":[{"installationId":"d1"}]}`
	_, _ = c.HandleBatch(ctx, events.SQSEvent{Records: []events.SQSMessage{{Body: body, Attributes: map[string]string{"ApproximateReceiveCount": itoa(n)}}}})
	return got, err
}

func itoa(n int) string { return string(rune('0' + n)) }

func TestSender(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	real, mk := &realSender{}, &marks{}
	s := Sender{Real: real, Marks: mk, Now: func() time.Time { return now }}
	ev := func(channel, fc, to string) messages.NotificationEvent {
		return messages.NotificationEvent{Channel: channel, ToAddress: to, Message: messages.EventMessage{FiscalCode: fc, CreatedAt: now}}
	}
	if _, err := send(t, s, ev(messages.Email, "SIMDLV00A00Y001X", "delivered@"+sandbox.Domain), 1); err != nil {
		t.Fatalf("delivered: %v", err)
	}
	var perm *messages.PermanentError
	if _, err := send(t, s, ev(messages.Email, "SIMBNC00A00Y004X", "bounce@"+sandbox.Domain), 1); !errors.As(err, &perm) || mk.address != "" {
		t.Fatalf("bounce: %v; a documented citizen's address marked: %q", err, mk.address)
	}
	if _, err := send(t, s, ev(messages.Email, "AAAAAA00A00Y000X", "bounce@"+sandbox.Domain), 1); !errors.As(err, &perm) ||
		mk.fiscalCode != "AAAAAA00A00Y000X" || mk.address != "bounce@"+sandbox.Domain {
		t.Fatalf("a development profile's bounce: %v, marked %+v", err, mk)
	}
	for n, fails := range map[int]bool{1: true, 2: true, 3: false} {
		if _, err := send(t, s, ev(messages.Email, "SIMTMP00A00Y005X", "temp-fail@"+sandbox.Domain), n); (err != nil) != fails || errors.As(err, &perm) {
			t.Errorf("temporary failure, attempt %d: %v", n, err)
		}
	}
	if _, err := send(t, s, ev(messages.Push, "SIMPSH00A00Y006X", ""), 1); !errors.As(err, &perm) {
		t.Fatalf("push failure: %v", err)
	}
	if got, err := send(t, s, ev(messages.Push, "SIMDLV00A00Y001X", ""), 1); err != nil || len(got) != 1 {
		t.Fatalf("push delivered: %v %v", got, err)
	}
	if _, err := send(t, s, ev(messages.Webhook, "SIMLAT00A00Y007X", ""), 1); err == nil {
		t.Fatal("late: delivered at once")
	}
	s.Now = func() time.Time { return now.Add(sandbox.LateBySeconds * time.Second) }
	if _, err := send(t, s, ev(messages.Webhook, "SIMLAT00A00Y007X", ""), 2); err != nil {
		t.Fatalf("late, a minute on: %v", err)
	}
	if real.calls != 0 {
		t.Fatalf("the real sender was called %d times", real.calls)
	}
	if _, err := s.Send(context.Background(), messages.NotificationEvent{Message: messages.EventMessage{FiscalCode: "SIMDLV00A00Y001X"}}, nil); err != nil || real.calls != 1 {
		t.Fatal("a message that is not simulated does not reach the real sender")
	}
}
