package receipts

import (
	"context"
	"errors"
	"time"

	"github.com/digital-citizenship/functions/pkg/auth"
	"github.com/digital-citizenship/functions/pkg/callbacks"
	"github.com/digital-citizenship/functions/pkg/messages"
	"github.com/digital-citizenship/functions/pkg/problem"
	"github.com/digital-citizenship/functions/pkg/remotecontent"
)

// Hasher gives the keyed hash of a fiscal code ("hmac-sha256:" and
// base64url), whose key the platform alone holds.
type Hasher interface {
	Recipient(ctx context.Context, fiscalCode string) (string, error)
}

// Archive keeps receipts, each written once.
type Archive interface {
	// Create stores a receipt at key unless one is there:
	// problem.ErrConflict if one is.
	Create(ctx context.Context, key string, jws []byte) error
	// Get returns the receipt at key, or problem.ErrNotFound.
	Get(ctx context.Context, key string) ([]byte, error)
}

// Key is where the receipt of a message's legal event is kept: by message,
// no personal data.
func Key(messageID, event string) string {
	return "receipts/" + messageID + "/" + event + ".jws"
}

// Notary makes, keeps and hands out the receipts of messages' legal events.
type Notary struct {
	Store  Store
	Signer Signer
	Hasher Hasher
	Archive
	// Configurations and Sender read, for a message whose content is at
	// its sender's, what the sender's system answers at its opening.
	Configurations remotecontent.Store
	Sender         remotecontent.Caller
	// Callbacks takes message.opened and message.not_opened, with the
	// receipt, for a sender that asked for them.
	Callbacks messages.Queue
	Now       func() time.Time
}

// Receipt is a receipt as the API shows it.
type Receipt struct {
	MessageID string `json:"message_id"`
	Event     string `json:"event"`
	At        string `json:"at"`
	Receipt   string `json:"receipt"`
}

// Open records the citizen's first opening of a message of the inbox,
// whatever the citizen's read-status consent (it has legal effect), and
// answers its receipt; a later opening answers the same receipt and
// changes nothing. For content kept at the sender's, the sender's system
// is read first (its answers' digests go in the receipt): a sender that
// fails is a 502 or 504 and records nothing.
func (n Notary) Open(ctx context.Context, fiscalCode, id string) (Receipt, error) {
	m, recorded, err := n.Store.RecordOpening(ctx, fiscalCode, id, n.Now().UTC(), Opening{}, false)
	if err != nil {
		return Receipt{}, opened(err)
	}
	if !recorded && !m.Acts.Opened() { // its content is at its sender's: read it first
		o, err := n.remote(ctx, m)
		if err != nil {
			return Receipt{}, err
		}
		if m, recorded, err = n.Store.RecordOpening(ctx, fiscalCode, id, n.Now().UTC(), o, true); err != nil {
			return Receipt{}, opened(err)
		}
	}
	return n.issue(ctx, m, Opened, recorded)
}

func opened(err error) error {
	if errors.Is(err, problem.ErrNotFound) {
		return messages.ErrNotFound // not in the inbox
	}
	return problem.Wrap(problem.Internal, err, "Query error", "Error while recording the opening")
}

// remote reads, at the opening of a message with remote content, what its
// sender's system answers: the message and, with an opening condition, the
// condition.
func (n Notary) remote(ctx context.Context, m messages.Message) (Opening, error) {
	rc, err := remotecontent.Resolve(ctx, n.Configurations, m)
	if err != nil {
		return Opening{}, err
	}
	o := Opening{Precondition: rc.Precondition()}
	r, err := n.Sender.Message(ctx, rc.Environment, rc.Data.ID, m.FiscalCode)
	if err != nil {
		return Opening{}, err
	}
	o.RemoteDigest = r.Digest
	if o.Precondition == messages.PreconditionNone {
		o.Precondition = ""
		return o, nil
	}
	p, err := n.Sender.Precondition(ctx, rc.Environment, rc.Data.ID, m.FiscalCode)
	if err != nil {
		return Opening{}, err
	}
	o.PreconditionDigest = p.Digest
	return o, nil
}

// issue answers the receipt of a message's legal event: the one kept, or
// a new one, signed and kept, whose callback is queued when the sender
// asked for it. A receipt is made again, the same, from the message alone,
// so a run that stopped before keeping it is finished by the next.
func (n Notary) issue(ctx context.Context, m messages.Message, event string, recorded bool) (Receipt, error) {
	at := m.Acts.OpenedAt
	if event == NotOpened {
		at = m.Acts.NotOpenedAt
	}
	r := Receipt{MessageID: m.ID, Event: event, At: messages.FormatTime(at)}
	key := Key(m.ID, eventFile(event))
	if !recorded {
		kept, err := n.Get(ctx, key)
		if err == nil {
			r.Receipt = string(kept)
			return r, nil
		}
		if !errors.Is(err, problem.ErrNotFound) {
			return Receipt{}, problem.Wrap(problem.Internal, err, "Storage error", "Error while reading the receipt")
		}
	}
	p, err := n.payload(ctx, m, event)
	if err != nil {
		return Receipt{}, err
	}
	jws, err := Sign(ctx, n.Signer, p)
	if err != nil {
		return Receipt{}, problem.Wrap(problem.Unavailable, err, "Service unavailable", "The receipt could not be signed; try again.")
	}
	switch err := n.Create(ctx, key, []byte(jws)); {
	case errors.Is(err, problem.ErrConflict): // another run kept one first: that one is the receipt
		kept, err := n.Get(ctx, key)
		if err != nil {
			return Receipt{}, problem.Wrap(problem.Internal, err, "Storage error", "Error while reading the receipt")
		}
		jws = string(kept)
	case err != nil:
		return Receipt{}, problem.Wrap(problem.Unavailable, err, "Service unavailable", "The receipt could not be kept; try again.")
	}
	r.Receipt = jws
	ev := callbacks.NewEvent(event, m.SenderServiceID, m.ID, m.Reference, "", eventStatus(event), "", at)
	ev.Receipt = jws
	if err := messages.QueueCallback(ctx, n.Callbacks, m.Callbacks, ev); err != nil {
		return Receipt{}, problem.Wrap(problem.Unavailable, err, "Service unavailable",
			"The receipt is kept; its callback could not be queued. Send the request again.")
	}
	return r, nil
}

func eventFile(event string) string {
	if event == NotOpened {
		return "not-opened"
	}
	return "opened"
}

func eventStatus(event string) string {
	if event == NotOpened {
		return "NOT_OPENED"
	}
	return "OPENED"
}

// payload is the receipt of a message's legal event, from the message
// alone: the same every time it is made.
func (n Notary) payload(ctx context.Context, m messages.Message, event string) (Payload, error) {
	rec, err := n.Hasher.Recipient(ctx, m.FiscalCode)
	if err != nil {
		return Payload{}, problem.Wrap(problem.Unavailable, err, "Service unavailable", "The receipt could not be made; try again.")
	}
	p := Payload{Version: 1, Event: event, MessageID: m.ID, SenderServiceID: m.SenderServiceID, Recipient: rec,
		CreatedAt: messages.FormatTime(m.CreatedAt), DeliveredAt: messages.FormatTime(m.StatusAt)}
	if m.Content != nil {
		p.Content.Digest = ContentDigest(*m.Content)
		if d := m.Content.ThirdPartyData; d != nil {
			p.Content.Remote = &Remote{ID: d.ID, Digest: m.Acts.RemoteDigest}
		}
	}
	for _, a := range m.Attachments {
		p.Content.Documents = append(p.Content.Documents, Document{ID: a.ID, SHA256: a.SHA256})
	}
	if k := m.Acts.Precondition; k != "" {
		p.Precondition = &Precondition{Kind: k, Digest: m.Acts.PreconditionDigest}
	}
	switch event {
	case Opened:
		p.OpenedAt, p.Prev = messages.FormatTime(m.Acts.OpenedAt), m.Acts.LegalHead
	case NotOpened:
		// Nothing was read from the sender's system: its digests (an
		// opening's, should one come later) are not this receipt's.
		p.DeadlineAt, p.NotOpenedAt = messages.FormatTime(m.Acts.Deadline), messages.FormatTime(m.Acts.NotOpenedAt)
		if p.Content.Remote != nil {
			p.Content.Remote.Digest = ""
		}
		if p.Precondition != nil {
			p.Precondition.Digest = ""
		}
	}
	return p, nil
}

// ErrNoReceipt answers the receipts of a message without a legal event yet.
var ErrNoReceipt = problem.New(problem.NotFound, "No receipt", "The message has no receipt yet: it was neither opened nor past its opening deadline.")

// Receipts returns a message's receipts for its sender, oldest first (each
// names the one before it).
func (n Notary) Receipts(ctx context.Context, c auth.Caller, fiscalCode, id string) ([]Receipt, error) {
	m, err := messages.Get(ctx, n.Store, c, fiscalCode, id)
	if err != nil {
		return nil, err
	}
	var out []Receipt
	for _, e := range []struct {
		event string
		at    time.Time
	}{{NotOpened, m.Acts.NotOpenedAt}, {Opened, m.Acts.OpenedAt}} {
		if e.at.IsZero() {
			continue
		}
		jws, err := n.Get(ctx, Key(m.ID, eventFile(e.event)))
		if errors.Is(err, problem.ErrNotFound) {
			continue // recorded, and its receipt still being made
		}
		if err != nil {
			return nil, problem.Wrap(problem.Internal, err, "Storage error", "Error while reading the receipt")
		}
		out = append(out, Receipt{MessageID: m.ID, Event: e.event, At: messages.FormatTime(e.at), Receipt: string(jws)})
	}
	if len(out) == 0 {
		return nil, ErrNoReceipt
	}
	return out, nil
}
