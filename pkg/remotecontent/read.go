package remotecontent

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/digital-citizenship/functions/pkg/auth"
	"github.com/digital-citizenship/functions/pkg/ids"
	"github.com/digital-citizenship/functions/pkg/messages"
	"github.com/digital-citizenship/functions/pkg/problem"
)

// Transit hands a fetched document over: stored under key, it answers a
// link valid for ttl that saves it as name.
type Transit interface {
	Hand(ctx context.Context, key, name string, body []byte, ttl time.Duration) (string, error)
}

// Reader serves the app backend the messages whose content is at their
// senders': each read calls the sender's system through its configuration.
type Reader struct {
	Messages       messages.Store
	Configurations Store
	Sender         Caller
	// Transit, when set, hands documents over (GET .../attachments/...).
	Transit Transit
	Now     func() time.Time
}

// ErrNotRemote answers a read of remote content of a message without any.
var ErrNotRemote = problem.New(problem.NotFound, "No remote content",
	"The message keeps no content at its sender's (it has no third_party_data).")

// ErrNoPrecondition answers the opening condition of a message without one.
var ErrNoPrecondition = problem.New(problem.NotFound, "No precondition", "The message has no opening condition.")

// ErrNoRemoteAttachment answers a document the sender's message does not
// list (or a message without documents).
var ErrNoRemoteAttachment = problem.New(problem.NotFound, "Attachment not found",
	"The sender's message lists no document at this url.")

// Opened is a message with remote content as it is read: the message, its
// configuration and the environment that serves the citizen.
type Opened struct {
	Message       messages.Message
	Data          messages.ThirdPartyData
	Configuration Configuration
	Environment   Environment
}

// Precondition returns the message's opening condition (ALWAYS, ONCE,
// NONE), its own or its configuration's.
func (o Opened) Precondition() string { return o.Data.Precondition(o.Configuration.HasPrecondition) }

// Open reads a message of the inbox with remote content and its
// configuration, for the caller (a trusted app).
func (u Reader) Open(ctx context.Context, c auth.Caller, fiscalCode, id string) (Opened, error) {
	m, err := messages.Get(ctx, u.Messages, c, fiscalCode, id)
	if err != nil {
		return Opened{}, err
	}
	if m.Pending || m.Content == nil {
		return Opened{}, messages.ErrNotFound // not in the inbox
	}
	return Resolve(ctx, u.Configurations, m)
}

// ErrConfigurationGone answers a message whose sender's configuration was
// deleted: there is no way to its content.
var ErrConfigurationGone = problem.New(problem.BadGateway, "Bad gateway", "The sender's remote-content configuration is gone.")

// Resolve finds how to reach the content of a message with remote
// content: its sender's configuration and the environment that serves its
// citizen. ErrNotRemote for a message without third_party_data,
// ErrConfigurationGone when the configuration no longer exists.
func Resolve(ctx context.Context, configs Store, m messages.Message) (Opened, error) {
	if m.Content == nil || m.Content.ThirdPartyData == nil {
		return Opened{}, ErrNotRemote
	}
	d := m.Content.ThirdPartyData
	cfg, err := configs.Configuration(ctx, m.SenderServiceID, d.ConfigurationID)
	if errors.Is(err, problem.ErrNotFound) {
		return Opened{}, ErrConfigurationGone
	}
	if err != nil {
		return Opened{}, problem.Wrap(problem.Internal, err, "Query error", "Error while reading the sender's configuration")
	}
	return Opened{Message: m, Data: *d, Configuration: cfg, Environment: cfg.For(m.FiscalCode)}, nil
}

// MessageView is a message with remote content as the app backend gets
// it: the stored message, its content as the sender's system gives it now
// (subject and markdown of remote content), and the sender's details and
// documents (third_party_message).
type MessageView struct {
	ID                string            `json:"id"`
	FiscalCode        string            `json:"fiscal_code"`
	CreatedAt         string            `json:"created_at"`
	SenderServiceID   string            `json:"sender_service_id"`
	Content           messages.Content  `json:"content"`
	ThirdPartyMessage ThirdPartyMessage `json:"third_party_message"`
	HasPrecondition   string            `json:"has_precondition"`
	FeatureLevelType  string            `json:"feature_level_type"`
}

// ThirdPartyMessage is what the sender's system said.
type ThirdPartyMessage struct {
	Details     map[string]any     `json:"details,omitempty"`
	Attachments []RemoteAttachment `json:"attachments,omitempty"`
}

// Message reads the sender's message for the app backend.
func (u Reader) Message(ctx context.Context, c auth.Caller, fiscalCode, id string) (MessageView, error) {
	o, err := u.Open(ctx, c, fiscalCode, id)
	if err != nil {
		return MessageView{}, err
	}
	r, err := u.Sender.Message(ctx, o.Environment, o.Data.ID, fiscalCode)
	if err != nil {
		return MessageView{}, err
	}
	return o.view(r)
}

// view is the app backend's view of what the sender answered: remote
// content replaces the stored subject and markdown, within a message's
// limits (else the answer is not usable: a 502); documents are listed only
// for a message that may have them.
func (o Opened) view(r Remote) (MessageView, error) {
	m := o.Message
	v := MessageView{ID: m.ID, FiscalCode: m.FiscalCode, CreatedAt: messages.FormatTime(m.CreatedAt), SenderServiceID: m.SenderServiceID,
		Content: *m.Content, HasPrecondition: o.Precondition(), FeatureLevelType: m.Level(),
		ThirdPartyMessage: ThirdPartyMessage{Details: r.Details}}
	if o.Data.HasRemoteContent {
		subject, _ := r.Details["subject"].(string)
		markdown, _ := r.Details["markdown"].(string)
		if err := messages.CheckContent(subject, markdown); err != nil {
			return MessageView{}, badAnswer("its details.subject and details.markdown are not a message's (" + err.Error() + ")")
		}
		v.Content.Subject, v.Content.Markdown = subject, markdown
	}
	if o.Data.HasAttachments {
		v.ThirdPartyMessage.Attachments = r.Attachments
	}
	return v, nil
}

// Precondition reads the opening condition of the sender's message.
func (u Reader) Precondition(ctx context.Context, c auth.Caller, fiscalCode, id string) (Precondition, error) {
	o, err := u.Open(ctx, c, fiscalCode, id)
	if err != nil {
		return Precondition{}, err
	}
	if o.Precondition() == messages.PreconditionNone {
		return Precondition{}, ErrNoPrecondition
	}
	return u.Sender.Precondition(ctx, o.Environment, o.Data.ID, fiscalCode)
}

// AttachmentWindow is how long the link to a fetched document lasts.
const AttachmentWindow = 5 * time.Minute

// Attachment fetches a document of the sender's message, named by its url
// (or its id) as the message lists it, and hands it over through the
// transit bucket: the app backend gets a link valid AttachmentWindow. Only
// a document the sender's message lists is fetched.
func (u Reader) Attachment(ctx context.Context, c auth.Caller, fiscalCode, id, which string) (messages.AttachmentLink, error) {
	o, err := u.Open(ctx, c, fiscalCode, id)
	if err != nil {
		return messages.AttachmentLink{}, err
	}
	if !o.Data.HasAttachments || u.Transit == nil {
		return messages.AttachmentLink{}, ErrNoRemoteAttachment
	}
	r, err := u.Sender.Message(ctx, o.Environment, o.Data.ID, fiscalCode)
	if err != nil {
		return messages.AttachmentLink{}, err
	}
	var doc *RemoteAttachment
	want := strings.TrimLeft(which, "/")
	for i, a := range r.Attachments {
		if strings.TrimLeft(a.URL, "/") == want || a.ID == which {
			doc = &r.Attachments[i]
			break
		}
	}
	if doc == nil {
		return messages.AttachmentLink{}, ErrNoRemoteAttachment
	}
	body, err := u.Sender.Attachment(ctx, o.Environment, o.Data.ID, doc.URL, fiscalCode)
	if err != nil {
		return messages.AttachmentLink{}, err
	}
	name := doc.Name
	if name == "" {
		name = "document.pdf"
	}
	now := u.Now()
	link, err := u.Transit.Hand(ctx, TransitKey(fiscalCode, now), name, body, AttachmentWindow)
	if err != nil {
		return messages.AttachmentLink{}, problem.Wrap(problem.Internal, err, "Storage error", "Error while handing the document over")
	}
	return messages.AttachmentLink{DownloadURL: link, ExpiresAt: messages.FormatTime(now.Add(AttachmentWindow))}, nil
}

// TransitKey is where a fetched document waits for its download: under a
// hash of the fiscal code (the erasure deletes the prefix), at a new id.
func TransitKey(fiscalCode string, now time.Time) string {
	return messages.TransitPrefix(fiscalCode) + ids.ULID(now) + ".pdf"
}
