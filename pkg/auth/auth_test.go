package auth

import (
	"errors"
	"testing"
)

func TestParseGroups(t *testing.T) {
	got := ParseGroups("Developers,ApiInfoRead, ApiMessageRead,apimessagewrite,ApiInfoRead")
	if JoinGroups(got) != "ApiInfoRead,ApiMessageRead" {
		t.Fatalf("got %v", got)
	}
}

func TestAuthorize_Order(t *testing.T) {
	full := Caller{SubscriptionID: "s", UserID: "u", Groups: []Group{InfoRead}}
	tests := []struct {
		name string
		c    Caller
		ok   bool
		want error
	}{
		{"no caller", Caller{}, false, ErrAnonymous},
		{"no user id", Caller{SubscriptionID: "s", Groups: []Group{InfoRead}}, true, ErrAnonymous},
		{"no groups", Caller{SubscriptionID: "s", UserID: "u"}, true, ErrNoScopes},
		{"wrong group", full, true, ErrNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := Authorize(tt.c, tt.ok, MessageRead, MessageList); !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
	if err := Authorize(full, true, InfoRead); err != nil {
		t.Fatalf("allowed caller refused: %v", err)
	}
}

func TestSourceAllowed(t *testing.T) {
	tests := []struct {
		ip    string
		cidrs []string
		want  bool
	}{
		{"1.2.3.4", nil, true},
		{"1.2.3.4", []string{"1.2.3.4"}, true},
		{"1.2.3.5", []string{"1.2.3.4"}, false},
		{"10.0.7.9", []string{"1.2.3.4", "10.0.0.0/16"}, true},
		{"10.1.0.1", []string{"10.0.0.0/16"}, false},
		{"not-an-ip", []string{"10.0.0.0/16"}, false},
		{"::ffff:10.0.0.1", []string{"10.0.0.0/8"}, true},
	}
	for _, tt := range tests {
		if got := SourceAllowed(tt.ip, tt.cidrs); got != tt.want {
			t.Errorf("SourceAllowed(%q, %v) = %v, want %v", tt.ip, tt.cidrs, got, tt.want)
		}
	}
}
