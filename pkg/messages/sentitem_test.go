package messages

import "testing"

// The list shows every channel of a message, PENDING until it has a
// status; reminders' channels are not the message's notifications.
func TestSentItem_PendingChannels(t *testing.T) {
	m := Message{ID: "01M", Status: Processed, Channels: map[string]Channel{
		Email: {}, Webhook: {Status: ChannelSent}, ReminderChannel(86400, Email): {}}}
	n := m.SentItem().Notification
	if len(n) != 2 || n["email"] != ChannelPendingInList || n["webhook"] != "SENT" {
		t.Fatalf("notification %v", n)
	}
	if v := m.View().Notification; len(v) != 1 || v["webhook"] != "SENT" {
		t.Fatalf("getMessage's view changed: %v", v)
	}
}
