package subscriptions_test

import (
	"context"
	"errors"
	"testing"

	"github.com/digital-citizenship/functions/pkg/auth"
	"github.com/digital-citizenship/functions/pkg/problem"
	"github.com/digital-citizenship/functions/pkg/storetest"
	"github.com/digital-citizenship/functions/pkg/subscriptions"
)

func TestNewKey(t *testing.T) {
	a, b := subscriptions.NewKey(), subscriptions.NewKey()
	if len(a) != 32 || a == b {
		t.Fatalf("keys %q %q: want 32 hex characters (128 bits), distinct", a, b)
	}
	if h := subscriptions.Hash(a); len(h) != 64 || h == a {
		t.Fatalf("hash %q", h)
	}
}

func TestLifecycle(t *testing.T) {
	ctx := context.Background()
	st := &storetest.Accounts{}
	_, _, err := subscriptions.Create(ctx, st, &storetest.UsagePlan{}, "dev@pa.it", "svc", "", "", nil)
	if p := problem.As(err); p.Kind != problem.NotFound {
		t.Fatalf("subscription for unknown user: %+v", p)
	}
	_, err = subscriptions.SetGroups(ctx, st, "dev@pa.it", []string{"ApiMessageWrite", "Nope"})
	if p := problem.As(err); p.Kind != problem.Invalid || p.Detail != `value.groups.1 is not a known group: "Nope"` {
		t.Fatalf("unknown group: %+v", p)
	}
	u, err := subscriptions.SetGroups(ctx, st, "dev@pa.it", []string{"ApiMessageWrite", "ApiInfoRead", "ApiInfoRead"})
	if err != nil || len(u.Groups) != 2 || u.ID == "" {
		t.Fatalf("set groups %+v %v", u, err)
	}
	s, keys, err := subscriptions.Create(ctx, st, &storetest.UsagePlan{}, "dev@pa.it", "svc", "IO", "", nil)
	if err != nil || keys.Primary == keys.Secondary || s.KeyHashes[subscriptions.Primary] != subscriptions.Hash(keys.Primary) {
		t.Fatalf("create %+v %v", s, err)
	}
	if _, _, err := subscriptions.Create(ctx, st, &storetest.UsagePlan{}, "dev@pa.it", "svc", "", "", nil); problem.KindOf(err) != problem.Conflict {
		t.Fatalf("duplicate subscription: %v", err)
	}
	for _, k := range []string{keys.Primary, keys.Secondary} {
		c, err := subscriptions.Authenticate(ctx, st, k)
		if err != nil || c.SubscriptionID != "svc" || c.UserID != u.ID || c.Email != "dev@pa.it" || !c.Has(auth.MessageWrite) {
			t.Fatalf("authenticate: %+v %v", c, err)
		}
	}
	for _, k := range []string{"", "wrong", keys.Primary + "x"} {
		if _, err := subscriptions.Authenticate(ctx, st, k); !errors.Is(err, subscriptions.ErrUnknownKey) {
			t.Fatalf("key %q: %v", k, err)
		}
	}
	fresh, err := subscriptions.Regenerate(ctx, st, "svc", subscriptions.Primary)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := subscriptions.Authenticate(ctx, st, keys.Primary); !errors.Is(err, subscriptions.ErrUnknownKey) {
		t.Fatal("the old primary key still works")
	}
	for _, k := range []string{fresh, keys.Secondary} {
		if _, err := subscriptions.Authenticate(ctx, st, k); err != nil {
			t.Fatalf("key stopped working: %v", err)
		}
	}
	if _, err := subscriptions.Regenerate(ctx, st, "svc", "TERTIARY"); problem.KindOf(err) != problem.Invalid {
		t.Fatalf("bad key type: %v", err)
	}
	if _, err := subscriptions.Regenerate(ctx, st, "none", subscriptions.Primary); problem.KindOf(err) != problem.NotFound {
		t.Fatalf("unknown subscription: %v", err)
	}
}
