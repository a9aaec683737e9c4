package userdata

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/digital-citizenship/functions/pkg/auth"
	"github.com/digital-citizenship/functions/pkg/emails"
	"github.com/digital-citizenship/functions/pkg/feed"
	"github.com/digital-citizenship/functions/pkg/messages"
	"github.com/digital-citizenship/functions/pkg/problem"
	"github.com/digital-citizenship/functions/pkg/profiles"
	"github.com/digital-citizenship/functions/pkg/services"
)

// Holdings is everything the platform's tables hold about a citizen.
type Holdings interface {
	// Export returns it by kind (profile versions, preferences, messages
	// with their content and statuses, senders, installations, ...).
	Export(ctx context.Context, fiscalCode string) (map[string][]map[string]any, error)
	// Erase deletes it; the user-data-processing requests stay.
	Erase(ctx context.Context, fiscalCode string) error
}

// Devices unregisters a citizen's devices where they are registered (the
// push endpoints).
type Devices interface {
	Unregister(ctx context.Context, installationID string) error
}

// Archives keeps the archives of downloads.
type Archives interface {
	Put(ctx context.Context, key string, body []byte) error
	// Link is a link to key valid for ttl.
	Link(ctx context.Context, key string, ttl time.Duration) (string, error)
}

// Files are stored objects an erasure deletes: archives, documents,
// documents in transit.
type Files interface {
	// DeletePrefix deletes every object under prefix.
	DeletePrefix(ctx context.Context, prefix string) error
}

// Archive is a download's file.
type Archive struct {
	FiscalCode string                      `json:"fiscal_code"`
	ExportedAt time.Time                   `json:"exported_at"`
	Data       map[string][]map[string]any `json:"data"`
	// Documents are the messages' documents, each with a link as long as
	// the archive's.
	Documents []ArchivedDocument `json:"documents,omitempty"`
	// HeldElsewhere names, for each message whose content is at its
	// sender's (remote content), who holds that content: the platform
	// stores none of it.
	HeldElsewhere []HeldContent `json:"held_elsewhere,omitempty"`
	// Notes say what the platform keeps that the archive does not carry.
	Notes []string `json:"notes"`
}

// HeldContent is the content of a message kept at its sender's.
type HeldContent struct {
	MessageID       string `json:"message_id"`
	SenderServiceID string `json:"sender_service_id"`
	// ThirdPartyID is the sender's id of the message in its own system.
	ThirdPartyID string `json:"third_party_id"`
	HeldBy       string `json:"held_by"`
}

// ArchiveNotes are what every archive says of the data it does not carry.
var ArchiveNotes = []string{
	"Messages with remote content (held_elsewhere): their subject, text and documents are kept by the sending " +
		"service's own system, which the platform asks each time the message is opened; ask that service for them.",
	"Receipts of legal events (the opening of a message, or its non-opening by its deadline) are kept for the " +
		"time the law requires, under a lock no one can lift: they hold only a keyed hash of your fiscal code, not " +
		"the code itself, and are not deleted with your other data.",
}

// ArchivedDocument is a message's document in an archive.
type ArchivedDocument struct {
	MessageID string `json:"message_id"`
	messages.Attachment
	DownloadURL string `json:"download_url"`
}

// ArchiveTTL is how long archives are kept (the bucket's lifecycle rule)
// and download links last at most.
const ArchiveTTL = 7 * 24 * time.Hour

// MaxAttempts is how many times the processor tries a request before it
// is FAILED.
const MaxAttempts = 5

// Exporter carries out due downloads (a scheduled function).
type Exporter struct {
	Store    Store
	Holdings Holdings
	Files    Archives
	Profiles profiles.Recipients
	// Submitter and Service send the download message, from the
	// platform's own service.
	Submitter messages.Submitter
	Service   services.Service
	// Documents, when set, links the messages' documents in the archive.
	Documents messages.Downloads
	Now       func() time.Time
	Log       *slog.Logger
}

// Eraser carries out due deletions (a scheduled function).
type Eraser struct {
	Store    Store
	Holdings Holdings
	Devices  Devices
	Files    Files
	Profiles profiles.Recipients
	// Documents, when set, keeps the messages' documents, which go too;
	// so do the documents in transit that Transit keeps.
	Documents Files
	Transit   Files
	// Feed, when set, loses the citizen's entries and tells services the
	// citizen unsubscribed (the subscriptions feed).
	Feed feed.Store
	// Mailer and From send the confirmation.
	Mailer emails.Mailer
	From   string
	Now    func() time.Time
	Log    *slog.Logger
}

// Run carries out up to batch due downloads; it fails only when they
// cannot be read (a request that fails is retried on the next run, up to
// MaxAttempts).
func (e Exporter) Run(ctx context.Context, batch int) error {
	return run(ctx, e.Store, Download, batch, e.Now, e.Log, e.download)
}

// Run carries out up to batch due deletions, as Exporter.Run.
func (e Eraser) Run(ctx context.Context, batch int) error {
	return run(ctx, e.Store, Delete, batch, e.Now, e.Log, e.erase)
}

func run(ctx context.Context, st Store, choice string, batch int, now func() time.Time, log *slog.Logger,
	do func(context.Context, *Request) error) error {
	due, err := st.Due(ctx, choice, now(), batch)
	if err != nil {
		return fmt.Errorf("read due requests: %w", err)
	}
	for _, r := range due {
		if err := process(ctx, st, r, now, do); err != nil {
			// No personal data: the error names the step, not the citizen.
			log.ErrorContext(ctx, "user data request failed", "request", r.ID, "choice", r.Choice, "attempt", r.Attempts+1, "error", err.Error())
		}
	}
	return nil
}

// ArchivePrefix is where a citizen's archives are kept: a hash, so that
// object keys carry no fiscal code.
func ArchivePrefix(fiscalCode string) string {
	h := sha256.Sum256([]byte(fiscalCode))
	return "exports/" + hex.EncodeToString(h[:]) + "/"
}

// process claims r (WIP, one more attempt), does it, and records the
// outcome: CLOSED, or FAILED after MaxAttempts; a failure before that
// leaves it WIP and due.
func process(ctx context.Context, st Store, r Request, now func() time.Time, do func(context.Context, *Request) error) error {
	from := r.Status
	r.Status, r.Attempts, r.UpdatedAt = WIP, r.Attempts+1, now()
	if err := st.Update(ctx, r, from); err != nil {
		if errors.Is(err, problem.ErrConflict) {
			return nil // aborted or taken meanwhile
		}
		return fmt.Errorf("claim: %w", err)
	}
	err := do(ctx, &r)
	switch {
	case err == nil:
		r.Status = Closed
	case r.Attempts >= MaxAttempts:
		r.Status, r.Reason = Failed, fmt.Sprintf("Given up after %d attempts; ask again.", r.Attempts)
	default:
		return err // still WIP and due: the next run tries again
	}
	r.UpdatedAt = now()
	if uerr := st.Update(ctx, r, WIP); uerr != nil {
		return errors.Join(err, fmt.Errorf("record %s: %w", r.Status, uerr))
	}
	return err
}

func (p Exporter) download(ctx context.Context, r *Request) error {
	data, err := p.Holdings.Export(ctx, r.FiscalCode)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	docs, err := p.documents(ctx, r.FiscalCode, data)
	if err != nil {
		return err
	}
	body, err := json.MarshalIndent(Archive{FiscalCode: r.FiscalCode, ExportedAt: p.Now().UTC(), Data: data, Documents: docs,
		HeldElsewhere: heldElsewhere(data), Notes: ArchiveNotes}, "", "  ")
	if err != nil {
		return fmt.Errorf("encode the archive: %w", err)
	}
	key := ArchivePrefix(r.FiscalCode) + r.ID + ".json"
	if err := p.Files.Put(ctx, key, body); err != nil {
		return fmt.Errorf("store the archive: %w", err)
	}
	r.Archive = key
	link, err := p.Files.Link(ctx, key, ArchiveTTL)
	if err != nil {
		return fmt.Errorf("link the archive: %w", err)
	}
	var langs []string
	if rec, err := p.Profiles.Recipient(ctx, r.FiscalCode); err == nil {
		langs = rec.Profile.PreferredLanguages
	}
	s := messages.Submission{
		Caller:     auth.Caller{SubscriptionID: p.Service.ServiceID, UserID: "platform", Groups: []auth.Group{auth.MessageWrite}},
		Service:    p.Service,
		FiscalCode: r.FiscalCode,
		Message:    messages.NewMessage{TimeToLive: 24 * 3600, Content: DownloadMessage(langs, link)},
		// One message per request, also when a run is retried.
		IdempotencyKey: "download-" + r.ID,
		Body:           []byte("download " + r.ID),
	}
	if _, err := p.Submitter.Submit(ctx, s); err != nil {
		return fmt.Errorf("send the download message: %w", err)
	}
	return nil
}

// heldElsewhere lists the exported messages whose content is at their
// senders' (content.third_party_data).
func heldElsewhere(data map[string][]map[string]any) []HeldContent {
	var out []HeldContent
	for _, items := range data {
		for _, it := range items {
			content, _ := it["content"].(map[string]any)
			d, ok := content["third_party_data"].(map[string]any)
			if !ok {
				continue
			}
			id, _ := it["id"].(string)
			svc, _ := it["sender_service_id"].(string)
			tp, _ := d["id"].(string)
			out = append(out, HeldContent{MessageID: id, SenderServiceID: svc, ThirdPartyID: tp,
				HeldBy: "the system of the sending service " + svc})
		}
	}
	return out
}

// documents links every document of the exported messages (items with
// attachments).
func (p Exporter) documents(ctx context.Context, fiscalCode string, data map[string][]map[string]any) ([]ArchivedDocument, error) {
	if p.Documents == nil {
		return nil, nil
	}
	var out []ArchivedDocument
	for _, items := range data {
		for _, it := range items {
			id, _ := it["id"].(string)
			raw, ok := it["attachments"]
			if !ok || id == "" {
				continue
			}
			b, _ := json.Marshal(raw)
			var as []messages.Attachment
			if err := json.Unmarshal(b, &as); err != nil {
				continue
			}
			for _, a := range as {
				link, err := p.Documents.DownloadLink(ctx, messages.DocumentKey(fiscalCode, id, a.ID), a.Version(), a.Name, ArchiveTTL)
				if err != nil {
					return nil, fmt.Errorf("link a document: %w", err)
				}
				out = append(out, ArchivedDocument{MessageID: id, Attachment: a, DownloadURL: link})
			}
		}
	}
	return out, nil
}

func (p Eraser) erase(ctx context.Context, r *Request) error {
	rec, err := p.Profiles.Recipient(ctx, r.FiscalCode)
	if err != nil && !errors.Is(err, problem.ErrNotFound) {
		return fmt.Errorf("read the profile: %w", err)
	}
	prof := rec.Profile
	// The confirmation goes first: the address goes with the rest.
	if !r.Confirmed && prof.Email != "" && prof.IsEmailValidated {
		e := DeletionEmail(prof.PreferredLanguages)
		e.From, e.To = p.From, prof.Email
		if err := p.Mailer.Send(ctx, e); err != nil && !errors.Is(err, emails.ErrRejected) {
			return fmt.Errorf("send the confirmation: %w", err)
		}
		r.Confirmed = true
		if err := p.Store.Update(ctx, *r, WIP); err != nil {
			return fmt.Errorf("record the confirmation: %w", err)
		}
	}
	for _, d := range rec.Devices {
		if err := p.Devices.Unregister(ctx, d.InstallationID); err != nil {
			return fmt.Errorf("forget a device: %w", err)
		}
	}
	if err := p.Files.DeletePrefix(ctx, ArchivePrefix(r.FiscalCode)); err != nil {
		return fmt.Errorf("delete the archives: %w", err)
	}
	if p.Documents != nil {
		if err := p.Documents.DeletePrefix(ctx, messages.DocumentPrefix(r.FiscalCode)); err != nil {
			return fmt.Errorf("delete the documents: %w", err)
		}
	}
	if p.Transit != nil {
		if err := p.Transit.DeletePrefix(ctx, messages.TransitPrefix(r.FiscalCode)); err != nil {
			return fmt.Errorf("delete the documents in transit: %w", err)
		}
	}
	// A closed download no longer offers its archive.
	if dl, err := p.Store.Request(ctx, r.FiscalCode, Download); err == nil && dl.Archive != "" && !dl.Open() {
		dl.Archive = ""
		if err := p.Store.Update(ctx, dl, dl.Status); err != nil && !errors.Is(err, problem.ErrConflict) {
			return fmt.Errorf("forget the archive: %w", err)
		}
	} else if err != nil && !errors.Is(err, problem.ErrNotFound) {
		return fmt.Errorf("read the download request: %w", err)
	}
	if p.Feed != nil {
		if err := p.Feed.Erase(ctx, r.FiscalCode, p.Now()); err != nil {
			return fmt.Errorf("erase the feed entries: %w", err)
		}
	}
	if err := p.Holdings.Erase(ctx, r.FiscalCode); err != nil {
		return fmt.Errorf("erase: %w", err)
	}
	return nil
}
