package messages

import (
	"github.com/digital-citizenship/functions/pkg/ids"
	"github.com/digital-citizenship/functions/pkg/problem"
	"github.com/digital-citizenship/functions/pkg/validate"
)

// Opening conditions of a message with remote content (has_precondition):
// a screen the citizen accepts before the message opens, every time
// (ALWAYS), the first time (ONCE), or never (NONE).
const (
	PreconditionAlways = "ALWAYS"
	PreconditionOnce   = "ONCE"
	PreconditionNone   = "NONE"
)

// ThirdPartyData says that a message's content is kept at its sender's
// (IO's "messages with remote content"): the platform stores what finds
// it, and fetches the rest from the sender's system, through the sender's
// remote-content configuration, each time the citizen opens it.
type ThirdPartyData struct {
	// ID is the sender's id of the message in its own system.
	ID              string `json:"id" dynamodbav:"id"`
	ConfigurationID string `json:"configuration_id" dynamodbav:"configuration_id"`
	// HasPrecondition is ALWAYS, ONCE or NONE; empty: the configuration's.
	HasPrecondition  string `json:"has_precondition,omitempty" dynamodbav:"has_precondition,omitempty"`
	HasRemoteContent bool   `json:"has_remote_content" dynamodbav:"has_remote_content"`
	HasAttachments   bool   `json:"has_attachments" dynamodbav:"has_attachments"`
	OriginalSender   string `json:"original_sender,omitempty" dynamodbav:"original_sender,omitempty"`
	Summary          string `json:"summary,omitempty" dynamodbav:"summary,omitempty"`
}

// Precondition returns the message's opening condition: its own, else the
// configuration's (def), else NONE.
func (d ThirdPartyData) Precondition(def string) string {
	switch {
	case d.HasPrecondition != "":
		return d.HasPrecondition
	case def != "":
		return def
	}
	return PreconditionNone
}

// MaybePrecondition reports whether a message may have an opening
// condition before its configuration is read: its own says so, or it
// leaves it to the configuration.
func (d ThirdPartyData) MaybePrecondition() bool { return d.HasPrecondition != PreconditionNone }

// Limits of third-party data.
const (
	MaxThirdPartyID = 2048
	MaxSummary      = 1000
	MaxOriginalName = 200
)

type thirdPartyInput struct {
	ID               *string `json:"id"`
	ConfigurationID  *string `json:"configuration_id"`
	HasPrecondition  *string `json:"has_precondition"`
	HasRemoteContent *bool   `json:"has_remote_content"`
	HasAttachments   *bool   `json:"has_attachments"`
	OriginalSender   *string `json:"original_sender"`
	Summary          *string `json:"summary"`
}

// ParsePrecondition validates an opening condition ("NEVER", IO's name,
// is NONE); ok is false for anything else.
func ParsePrecondition(s string) (string, bool) {
	switch s {
	case PreconditionAlways, PreconditionOnce, PreconditionNone:
		return s, true
	case "NEVER":
		return PreconditionNone, true
	}
	return "", false
}

// parseThirdParty validates content.third_party_data.
func parseThirdParty(r *validate.Report, in *thirdPartyInput) *ThirdPartyData {
	const p = "content.third_party_data."
	d := &ThirdPartyData{}
	if in.ID == nil || *in.ID == "" || len(*in.ID) > MaxThirdPartyID || !validate.SingleLine(*in.ID) {
		r.Addf(p+"id", "the sender's id of the message, 1 to %d characters on one line", MaxThirdPartyID)
	} else {
		d.ID = *in.ID
	}
	if in.ConfigurationID == nil || !ids.Valid(*in.ConfigurationID) {
		r.Addf(p+"configuration_id", "the id of one of the service's remote-content configurations")
	} else {
		d.ConfigurationID = *in.ConfigurationID
	}
	if in.HasPrecondition != nil {
		if v, ok := ParsePrecondition(*in.HasPrecondition); ok {
			d.HasPrecondition = v
		} else {
			r.Addf(p+"has_precondition", "one of %s, %s, %s", PreconditionAlways, PreconditionOnce, PreconditionNone)
		}
	}
	d.HasRemoteContent = in.HasRemoteContent != nil && *in.HasRemoteContent
	d.HasAttachments = in.HasAttachments != nil && *in.HasAttachments
	if in.OriginalSender != nil {
		d.OriginalSender = text(r, p+"original_sender", in.OriginalSender, 1, MaxOriginalName, validate.SingleLine, "on one line without control characters")
	}
	if in.Summary != nil {
		d.Summary = text(r, p+"summary", in.Summary, 1, MaxSummary, validate.MultiLine, "without control characters other than tabs and line breaks")
	}
	return d
}

// ErrNoConfiguration answers a message whose third_party_data names no
// remote-content configuration of its sender's.
var ErrNoConfiguration = problem.New(problem.Invalid, NewMessageTitle,
	"value.content.third_party_data.configuration_id is not one of this service's remote-content configurations")

// ErrRemoteAttachmentsForbidden answers a STANDARD message whose remote
// content has attachments: documents are an ADVANCED feature.
var ErrRemoteAttachmentsForbidden = problem.New(problem.Forbidden, "Call forbidden",
	"Only ADVANCED messages may have attachments (third_party_data.has_attachments).")
