// Package push provides push notifications to the citizen's app: the
// installations the app backend registers (one SNS platform endpoint per
// device), and the notification payload in the APNs and FCM shapes.
package push

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/digital-citizenship/functions/pkg/problem"
	"github.com/digital-citizenship/functions/pkg/profiles"
	"github.com/digital-citizenship/functions/pkg/validate"
)

// Platforms an installation can be on.
const (
	APNS = "apns"
	FCM  = "fcm"
)

// ErrGone is a Publisher's answer for a disabled or deleted endpoint: the
// device will never receive again and its installation is removed.
var ErrGone = errors.New("push endpoint disabled or deleted")

// ErrRefused is an Endpoints' answer when a device cannot be registered
// as asked: the platform has no application on this deployment, or the
// push service refuses the token. Retrying cannot help.
var ErrRefused = errors.New("push registration refused")

// Publisher publishes to SNS platform endpoints.
type Publisher interface {
	// Publish sends payload (a MessageStructure json document) to the
	// endpoint; ErrGone when SNS says it is disabled or does not exist.
	Publish(ctx context.Context, endpointARN, payload string) error
}

// Endpoints creates and deletes SNS platform endpoints.
type Endpoints interface {
	// Create returns the endpoint of token on platform's application (the
	// same endpoint for the same token), enabled; ErrRefused when it cannot
	// be.
	Create(ctx context.Context, platform, token string) (string, error)
	// Delete deletes an endpoint; a missing one is not an error.
	Delete(ctx context.Context, endpointARN string) error
}

// Installation is one device of a citizen.
type Installation struct {
	ID          string
	FiscalCode  string
	Platform    string
	EndpointARN string
}

// Device is the installation as the pipeline carries it.
func (i Installation) Device() profiles.Device {
	return profiles.Device{InstallationID: i.ID, Platform: i.Platform, EndpointARN: i.EndpointARN}
}

// Store keeps installations, indexed by id, by endpoint and by citizen.
type Store interface {
	// Installation returns an installation, or problem.ErrNotFound.
	Installation(ctx context.Context, id string) (Installation, error)
	// ByEndpoint returns the installation that holds an endpoint, or
	// problem.ErrNotFound.
	ByEndpoint(ctx context.Context, endpointARN string) (Installation, error)
	// Put stores inst in one write, removing the installations it replaces
	// (the same id under another citizen or endpoint, another id holding
	// the same endpoint).
	Put(ctx context.Context, inst Installation, replaces []Installation) error
	// Remove forgets an installation; a missing one is not an error.
	Remove(ctx context.Context, inst Installation) error
}

// InvalidTitle is the title of every 400 about an installation.
const InvalidTitle = "Invalid Installation"

// Input is the body of PUT /installations/{installation_id}.
type Input struct {
	FiscalCode  string `json:"fiscal_code"`
	Platform    string `json:"platform"`
	PushChannel string `json:"push_channel"`
}

// ValidID reports whether s can be an installation id (the app's own id:
// 1 to 128 of A-Z a-z 0-9 - _ . :).
func ValidID(s string) bool {
	if len(s) < 1 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.IndexByte("-_.:", c) >= 0) {
			return false
		}
	}
	return true
}

// Parse decodes and validates an installation body.
func Parse(body []byte, normalize func(string) (string, bool)) (Input, error) {
	var in struct {
		FiscalCode  *string `json:"fiscal_code"`
		Platform    *string `json:"platform"`
		PushChannel *string `json:"push_channel"`
	}
	if err := validate.DecodeJSON(body, &in, InvalidTitle); err != nil {
		return Input{}, err
	}
	r := validate.NewReport(InvalidTitle)
	var out Input
	if in.FiscalCode == nil {
		r.Addf("fiscal_code", "a fiscal code")
	} else if fc, ok := normalize(*in.FiscalCode); !ok {
		r.Addf("fiscal_code", "a fiscal code")
	} else {
		out.FiscalCode = fc
	}
	if in.Platform == nil || (*in.Platform != APNS && *in.Platform != FCM) {
		r.Addf("platform", "one of apns, fcm")
	} else {
		out.Platform = *in.Platform
	}
	if in.PushChannel == nil || *in.PushChannel == "" || len(*in.PushChannel) > 4096 || !validate.SingleLine(*in.PushChannel) {
		r.Addf("push_channel", "a device token (1 to 4096 characters on one line)")
	} else {
		out.PushChannel = *in.PushChannel
	}
	return out, r.Err()
}

// Registrar registers and unregisters installations.
type Registrar struct {
	Store     Store
	Endpoints Endpoints
}

// Register creates or updates installation id: its endpoint is created
// (SNS returns the same one for the same token), a previous endpoint of the
// id is deleted, and whoever held the endpoint or the id before loses it.
func (r Registrar) Register(ctx context.Context, id string, in Input) (Installation, error) {
	arn, err := r.Endpoints.Create(ctx, in.Platform, in.PushChannel)
	if errors.Is(err, ErrRefused) {
		return Installation{}, problem.Invalidf(InvalidTitle, "%s", strings.TrimPrefix(err.Error(), ErrRefused.Error()+": "))
	}
	if err != nil {
		return Installation{}, problem.Wrap(problem.Unavailable, err, "Push service error", "The device could not be registered; retry later.")
	}
	inst := Installation{ID: id, FiscalCode: in.FiscalCode, Platform: in.Platform, EndpointARN: arn}
	var replaces []Installation
	old, err := r.Store.Installation(ctx, id)
	switch {
	case err == nil:
		if old != inst {
			replaces = append(replaces, old)
		}
	case !errors.Is(err, problem.ErrNotFound):
		return Installation{}, storeError(err)
	}
	holder, err := r.Store.ByEndpoint(ctx, arn)
	switch {
	case err == nil:
		if holder.ID != id {
			replaces = append(replaces, holder)
		}
	case !errors.Is(err, problem.ErrNotFound):
		return Installation{}, storeError(err)
	}
	if err := r.Store.Put(ctx, inst, replaces); err != nil {
		if errors.Is(err, problem.ErrConflict) {
			return Installation{}, problem.New(problem.Conflict, "Conflict", "The installation changed meanwhile; retry.")
		}
		return Installation{}, storeError(err)
	}
	if len(replaces) > 0 && replaces[0].ID == id && replaces[0].EndpointARN != arn {
		// The device got a new token: its old endpoint goes. A failure leaves
		// an endpoint nobody publishes to; SNS disables it in time.
		_ = r.Endpoints.Delete(ctx, replaces[0].EndpointARN)
	}
	return inst, nil
}

// Unregister deletes installation id and its endpoint; an unknown id is
// not an error (a retried DELETE gets the same answer).
func (r Registrar) Unregister(ctx context.Context, id string) error {
	inst, err := r.Store.Installation(ctx, id)
	if errors.Is(err, problem.ErrNotFound) {
		return nil
	}
	if err != nil {
		return storeError(err)
	}
	if err := r.Store.Remove(ctx, inst); err != nil {
		return storeError(err)
	}
	if err := r.Endpoints.Delete(ctx, inst.EndpointARN); err != nil {
		return problem.Wrap(problem.Unavailable, err, "Push service error", "The device was unregistered, but its endpoint could not be deleted; retry.")
	}
	return nil
}

func storeError(err error) error {
	return problem.Wrap(problem.Internal, err, "Query error", "Error while reading or writing installations")
}

// Payload is the MessageStructure json document of a notification: the
// title, the body and the message id, for APNs (production and sandbox)
// and FCM (HTTP v1 through SNS's GCM key).
func Payload(title, body, messageID string) string {
	apns, _ := json.Marshal(map[string]any{
		"aps":        map[string]any{"alert": map[string]string{"title": title, "body": body}, "sound": "default"},
		"message_id": messageID,
	})
	fcm, _ := json.Marshal(map[string]any{"fcmV1Message": map[string]any{"message": map[string]any{
		"notification": map[string]string{"title": title, "body": body},
		"data":         map[string]string{"message_id": messageID},
	}}})
	doc, _ := json.Marshal(map[string]string{"default": body, "APNS": string(apns), "APNS_SANDBOX": string(apns), "GCM": string(fcm)})
	return string(doc)
}

// GenericText is the body of a notification whose citizen chose not to
// show previews, in the first preferred language (Italian otherwise).
func GenericText(language string) string {
	switch {
	case strings.HasPrefix(language, "en"):
		return "You have a new message."
	case strings.HasPrefix(language, "de"):
		return "Sie haben eine neue Nachricht."
	case strings.HasPrefix(language, "es"):
		return "Tienes un mensaje nuevo."
	case strings.HasPrefix(language, "fr"):
		return "Vous avez un nouveau message."
	}
	return "Hai un nuovo messaggio."
}

// Title is the notification's title: "<service name> - <organization name>".
func Title(serviceName, organizationName string) string {
	return fmt.Sprintf("%s - %s", serviceName, organizationName)
}
