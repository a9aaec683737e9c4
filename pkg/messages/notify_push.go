package messages

import (
	"context"
	"errors"
	"slices"

	"github.com/digital-citizenship/functions/pkg/push"
)

// PushSender publishes a message's notification to every device of the
// citizen. The channel is SENT when every device that still exists
// accepted, FAILED when none could; a device SNS reports disabled or
// deleted loses its installation.
type PushSender struct {
	Publisher push.Publisher
	// Installations forgets the devices that are gone.
	Installations interface {
		Remove(ctx context.Context, inst push.Installation) error
	}
}

// Send implements Sender.
func (s PushSender) Send(ctx context.Context, ev NotificationEvent, delivered []string) ([]string, error) {
	sm := ev.SenderMetadata
	body := ev.Content.Subject
	switch {
	case ev.Reminder != nil:
		body = ReminderPush(ev)
	case ev.Anonymous:
		body = push.GenericText(ev.Language)
	}
	payload := push.Payload(push.Title(sm.ServiceName, sm.OrganizationName), body, ev.Message.ID)
	done := slices.Clone(delivered)
	var transient error
	for _, d := range ev.Devices {
		if slices.Contains(done, d.InstallationID) {
			continue
		}
		err := s.Publisher.Publish(ctx, d.EndpointARN, payload)
		switch {
		case err == nil:
			done = append(done, d.InstallationID)
		case errors.Is(err, push.ErrGone):
			inst := push.Installation{ID: d.InstallationID, FiscalCode: ev.Message.FiscalCode, Platform: d.Platform, EndpointARN: d.EndpointARN}
			if rerr := s.Installations.Remove(ctx, inst); rerr != nil {
				transient = errors.Join(transient, rerr) // retried: SNS says gone again
			}
		default:
			transient = errors.Join(transient, err)
		}
	}
	switch {
	case transient != nil:
		return done, transient
	case len(done) == 0:
		return nil, Permanent("No device of the citizen accepted the notification.", nil)
	}
	return done, nil
}
