package bounces_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/digital-citizenship/functions/pkg/bounces"
	"github.com/digital-citizenship/functions/pkg/profiles"
	"github.com/digital-citizenship/functions/pkg/storetest"
)

const fc = "SPNDNL80R13C555X"

// BounceEvent is an SES configuration-set event as SES publishes it to SNS
// (the fields used here and a few around them), wrapped in SNS's envelope.
func BounceEvent(kind, bounceType, address, fiscalCode string) bounces.Notification {
	ev := map[string]any{
		"eventType": kind,
		"mail": map[string]any{
			"timestamp": "2026-11-24T08:00:00.000Z", "source": "noreply@io.example.it", "messageId": "0100018f-abc",
			"destination": []string{address},
			"tags":        map[string][]string{"fiscal_code": {fiscalCode}, "message_id": {"01M"}, "ses:configuration-set": {"cs"}},
		},
	}
	switch kind {
	case "Bounce":
		ev["bounce"] = map[string]any{"bounceType": bounceType, "bounceSubType": "General", "timestamp": "2026-11-24T08:00:01.000Z",
			"feedbackId": "f", "bouncedRecipients": []map[string]string{{"emailAddress": address, "action": "failed", "status": "5.1.1"}}}
	case "Complaint":
		ev["complaint"] = map[string]any{"complainedRecipients": []map[string]string{{"emailAddress": address}},
			"timestamp": "2026-11-24T08:00:01.000Z", "feedbackId": "f", "complaintFeedbackType": "abuse"}
	}
	b, _ := json.Marshal(ev)
	return bounces.Notification{Type: "Notification", Message: string(b)}
}

func TestHandle(t *testing.T) {
	tests := []struct {
		name, kind, bounceType, address string
		want                            string
	}{
		{"hard bounce", "Bounce", "Permanent", "A@b.it", bounces.ReasonHardBounce},
		{"complaint", "Complaint", "", "a@b.it", bounces.ReasonComplaint},
		{"soft bounce", "Bounce", "Transient", "a@b.it", ""},
		{"another address (the sender's default)", "Bounce", "Permanent", "d@b.it", ""},
		{"delivery", "Delivery", "", "a@b.it", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			profs := &storetest.Profiles{}
			_ = profs.Create(context.Background(), profiles.Profile{FiscalCode: fc, Email: "a@b.it", IsInboxEnabled: true}, nil)
			h := bounces.Handler{Profiles: profs, Now: time.Now}
			if err := h.Handle(context.Background(), BounceEvent(tt.kind, tt.bounceType, tt.address, fc)); err != nil {
				t.Fatal(err)
			}
			r, _ := profs.Recipient(context.Background(), fc)
			switch {
			case tt.want == "" && r.Undeliverable != nil:
				t.Fatalf("marked %+v", r.Undeliverable)
			case tt.want != "" && (r.Undeliverable == nil || r.Undeliverable.Reason != tt.want || r.Undeliverable.Address != "a@b.it"):
				t.Fatalf("undeliverable %+v, want %s", r.Undeliverable, tt.want)
			}
		})
	}
	// Unknown citizen or no tag: nothing to do, no retry.
	h := bounces.Handler{Profiles: &storetest.Profiles{}, Now: time.Now}
	for _, n := range []bounces.Notification{BounceEvent("Bounce", "Permanent", "a@b.it", "RSSMRA80A01H501U"), BounceEvent("Bounce", "Permanent", "a@b.it", ""), {Message: "not json"}} {
		if err := h.Handle(context.Background(), n); err != nil {
			t.Fatal(err)
		}
	}
}
