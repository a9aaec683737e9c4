// Package auth holds the caller's identity as the authorizer established it
// and the original's authorization rules: the group (scope) vocabulary and the
// check order and texts of the original's request pipeline.
package auth

import (
	"slices"
	"strings"
)

// Group is a scope a subscription owner belongs to.
type Group string

// The groups of the original (spec section 2.2) plus the administrative ones.
const (
	LimitedProfileRead         Group = "ApiLimitedProfileRead"
	FullProfileRead            Group = "ApiFullProfileRead"
	ProfileWrite               Group = "ApiProfileWrite"
	ServiceRead                Group = "ApiServiceRead"
	ServiceWrite               Group = "ApiServiceWrite"
	PublicServiceRead          Group = "ApiPublicServiceRead"
	PublicServiceList          Group = "ApiPublicServiceList"
	ServiceByRecipientQuery    Group = "ApiServiceByRecipientQuery"
	MessageRead                Group = "ApiMessageRead"
	MessageWrite               Group = "ApiMessageWrite"
	LimitedMessageWrite        Group = "ApiLimitedMessageWrite"
	MessageWriteDefaultAddress Group = "ApiMessageWriteDefaultAddress"
	MessageList                Group = "ApiMessageList"
	InfoRead                   Group = "ApiInfoRead"
	DebugRead                  Group = "ApiDebugRead"
	UserAdmin                  Group = "ApiUserAdmin"
	DevelopmentProfileWrite    Group = "ApiDevelopmentProfileWrite"
	// InstallationWrite registers citizens' devices for push (the app backend).
	InstallationWrite Group = "ApiInstallationWrite"
	// MessageWriteAdvanced sends ADVANCED messages: payment status,
	// reminders, documents.
	MessageWriteAdvanced Group = "ApiMessageWriteAdvanced"
	// PaymentWrite reports payments (the payment system's receipts).
	PaymentWrite Group = "ApiPaymentWrite"
	// CallbackWrite configures the calling service's delivery callbacks.
	CallbackWrite Group = "ApiCallbackWrite"
	// RemoteContentWrite configures how the platform reaches the calling
	// service's system (remote content).
	RemoteContentWrite Group = "ApiRemoteContentWrite"
	// SubscriptionFeedRead reads the calling service's subscriptions feed.
	SubscriptionFeedRead Group = "ApiSubscriptionFeedRead"
)

// AllGroups lists every group the platform knows, in a stable order.
var AllGroups = []Group{
	LimitedProfileRead, FullProfileRead, ProfileWrite, ServiceRead, ServiceWrite,
	PublicServiceRead, PublicServiceList, ServiceByRecipientQuery, MessageRead,
	MessageWrite, LimitedMessageWrite, MessageWriteDefaultAddress, MessageList,
	InfoRead, DebugRead, UserAdmin, DevelopmentProfileWrite, InstallationWrite,
	MessageWriteAdvanced, PaymentWrite, CallbackWrite, RemoteContentWrite,
	SubscriptionFeedRead,
}

// Known reports whether g is one of AllGroups (exact, case-sensitive match).
func Known(g Group) bool { return slices.Contains(AllGroups, g) }

// ParseGroups splits a comma-separated list as the original did, keeping only
// known groups; unlike the original it trims spaces around each name.
func ParseGroups(s string) []Group {
	var out []Group
	for _, tok := range strings.Split(s, ",") {
		g := Group(strings.TrimSpace(tok))
		if Known(g) && !slices.Contains(out, g) {
			out = append(out, g)
		}
	}
	return out
}

// JoinGroups is the inverse of ParseGroups.
func JoinGroups(gs []Group) string {
	s := make([]string, len(gs))
	for i, g := range gs {
		s[i] = string(g)
	}
	return strings.Join(s, ",")
}
