package emailvalidation_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/digital-citizenship/functions/pkg/emails"
	"github.com/digital-citizenship/functions/pkg/emailvalidation"
	"github.com/digital-citizenship/functions/pkg/problem"
	"github.com/digital-citizenship/functions/pkg/profiles"
	"github.com/digital-citizenship/functions/pkg/storetest"
)

const fc = "AAAAAA00A00A000A"

func TestToken_StoresOnlyTheHash(t *testing.T) {
	tok, secret := emailvalidation.NewToken(fc, "a@b.it", time.Now())
	id, validator, ok := strings.Cut(secret, ":")
	if !ok || id != tok.ID || len(validator) != 43 || tok.ValidatorHash == validator || strings.Contains(tok.ValidatorHash, validator) ||
		len(tok.ValidatorHash) != 64 {
		t.Fatalf("token %+v, secret %q", tok, secret)
	}
	if d := time.Until(tok.ExpiresAt); d < 29*24*time.Hour || d > emailvalidation.Validity {
		t.Fatalf("expires in %v", d)
	}
	other, secret2 := emailvalidation.NewToken(fc, "a@b.it", time.Now())
	if other.ID == tok.ID || secret2 == secret {
		t.Fatal("two tokens alike")
	}
}

func TestEmail_LanguageFirst(t *testing.T) {
	for _, tt := range []struct {
		langs []string
		first string
	}{{nil, "Conferma"}, {[]string{"en_GB"}, "Confirm"}, {[]string{"de_DE"}, "Conferma"}} {
		e := emailvalidation.Email(tt.langs, "https://x/api/v1/validate-email?token=a%3Ab")
		if !strings.HasPrefix(e.Subject, tt.first) || !strings.Contains(e.HTML, `href="https://x/api/v1/validate-email?token=a%3Ab"`) ||
			!strings.Contains(e.Text, "30 giorni") || !strings.Contains(e.Text, "30 days") {
			t.Fatalf("%v: %+v", tt.langs, e)
		}
	}
}

type flaky struct {
	storetest.Mailer
	fail error
}

func (f *flaky) Send(ctx context.Context, e emails.Email) error {
	if f.fail != nil {
		return f.fail
	}
	return f.Mailer.Send(ctx, e)
}

func TestStarter(t *testing.T) {
	ctx := context.Background()
	st := &storetest.Profiles{}
	m := &flaky{}
	s := emailvalidation.Starter{Store: st, Profiles: st, Mailer: m, From: "noreply@x.it", PublicURL: "https://x", Wait: time.Minute, Now: time.Now}
	q := &storetest.Queue{}
	if _, err := profiles.Upsert(ctx, st, q, profiles.Profile{FiscalCode: fc, Email: "a@b.it", IsInboxEnabled: true}, time.Now()); err != nil {
		t.Fatal(err)
	}
	var ev profiles.Event
	if err := json.Unmarshal(q.Sent[0], &ev); err != nil || !ev.EmailChanged {
		t.Fatalf("event %s: %v", q.Sent[0], err)
	}
	// A send that fails is retried; one the provider refuses is not.
	m.fail = errors.New("SES down")
	if err := s.Handle(ctx, ev); err == nil {
		t.Fatal("a failed send must be retried")
	}
	m.fail = nil
	if err := s.Handle(ctx, ev); err != nil || len(m.Sent) != 1 {
		t.Fatalf("retry: %v, sent %d", err, len(m.Sent))
	}
	ev2 := profiles.Event{Kind: profiles.EmailValidationRequested, FiscalCode: fc, Request: "r1", At: time.Now()}
	m.fail = emails.ErrRejected
	if err := s.Handle(ctx, ev2); err != nil {
		t.Fatalf("a refused e-mail is not retried: %v", err)
	}
	m.fail = nil
	if err := s.Handle(ctx, ev2); err != nil || len(m.Sent) != 1 {
		t.Fatalf("a refused request sent again: %v, sent %d", err, len(m.Sent))
	}
	// An address that bounced gets no link.
	if err := st.MarkUndeliverable(ctx, fc, "A@b.it", "hard bounce", time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := s.Handle(ctx, profiles.Event{Kind: profiles.EmailValidationRequested, FiscalCode: fc, Request: "r2", At: time.Now()}); err != nil || len(m.Sent) != 1 {
		t.Fatalf("a bounced address: %v, sent %d", err, len(m.Sent))
	}
	// An event whose write is not readable yet waits, then is dropped.
	late := profiles.Event{Kind: profiles.Updated, FiscalCode: fc, Version: 9, EmailChanged: true, At: time.Now()}
	if err := s.Handle(ctx, late); !errors.Is(err, profiles.ErrNotYetWritten) {
		t.Fatalf("unwritten version: %v", err)
	}
	late.At = time.Now().Add(-2 * time.Minute)
	if err := s.Handle(ctx, late); err != nil {
		t.Fatalf("a write that never happened: %v", err)
	}
}

func TestValidate_StoreFailureIsNotAClientError(t *testing.T) {
	st := &storetest.Profiles{Err: errors.New("dynamodb down")}
	_, secret := emailvalidation.NewToken(fc, "a@b.it", time.Now())
	err := emailvalidation.Validate(context.Background(), st, st, secret, time.Now())
	if problem.KindOf(err) != problem.Internal || !strings.Contains(emailvalidation.Page(err), "try again later") {
		t.Fatalf("%v", err)
	}
}
