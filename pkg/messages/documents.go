package messages

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/digital-citizenship/functions/pkg/problem"
	"github.com/digital-citizenship/functions/pkg/validate"
)

// Limits of an ADVANCED message's documents.
const (
	MaxAttachments    = 5
	MaxAttachmentSize = 10 << 20
	PDF               = "application/pdf"
	// UploadWindow is how long the sender has to upload the documents it
	// declared (and how long the upload links last); then the message is
	// FAILED.
	UploadWindow = time.Hour
)

// Attachment is a document of a message, as the sender declared it.
type Attachment struct {
	ID          string `json:"id" dynamodbav:"id"`
	Name        string `json:"name" dynamodbav:"name"`
	ContentType string `json:"content_type" dynamodbav:"content_type"`
	Size        int64  `json:"size" dynamodbav:"size"`
	SHA256      string `json:"sha256" dynamodbav:"sha256"`
}

var sha256Hex = validate.Regexp(`^[0-9a-f]{64}$`)

// parseAttachments validates a NewMessage's declared documents and gives
// them their ids ("1" to "5", in order).
func parseAttachments(r *validate.Report, in []attachmentInput) []Attachment {
	if len(in) > MaxAttachments {
		r.Addf("attachments", "an array of at most %d documents", MaxAttachments)
		return nil
	}
	out := make([]Attachment, 0, len(in))
	for i, a := range in {
		path := fmt.Sprintf("attachments.%d", i)
		at := Attachment{ID: strconv.Itoa(i + 1)}
		if a.Name == nil || validate.Chars(*a.Name) < 1 || validate.Chars(*a.Name) > 255 || !validate.SingleLine(*a.Name) {
			r.Addf(path+".name", "a file name of 1 to 255 characters on one line")
		} else {
			at.Name = *a.Name
		}
		if a.ContentType == nil || *a.ContentType != PDF {
			r.Addf(path+".content_type", "%q", PDF)
		} else {
			at.ContentType = PDF
		}
		if a.Size == nil || *a.Size < 1 || *a.Size > MaxAttachmentSize {
			r.Addf(path+".size", "an integer between 1 and %d (bytes)", MaxAttachmentSize)
		} else {
			at.Size = *a.Size
		}
		if a.SHA256 == nil || !sha256Hex().MatchString(*a.SHA256) {
			r.Addf(path+".sha256", "the document's SHA-256, 64 lower-case hexadecimal digits")
		} else {
			at.SHA256 = *a.SHA256
		}
		out = append(out, at)
	}
	return out
}

type attachmentInput struct {
	Name        *string `json:"name"`
	ContentType *string `json:"content_type"`
	Size        *int64  `json:"size"`
	SHA256      *string `json:"sha256"`
}

// DocumentKey is where a message's document is kept: under a hash of the
// fiscal code (no fiscal code in object keys), so that a citizen's
// documents share a prefix (DocumentPrefix) the erasure deletes.
func DocumentKey(fiscalCode, messageID, attachmentID string) string {
	return DocumentPrefix(fiscalCode) + messageID + "/" + attachmentID
}

// DocumentPrefix is the prefix of a citizen's documents.
func DocumentPrefix(fiscalCode string) string {
	h := sha256.Sum256([]byte(fiscalCode))
	return "documents/" + hex.EncodeToString(h[:]) + "/"
}

// Uploads hands out the links senders upload documents to.
type Uploads interface {
	// UploadLink is a link the sender PUTs a document to, valid for ttl.
	UploadLink(ctx context.Context, key, contentType string, ttl time.Duration) (string, error)
}

// Downloads hands out links to documents.
type Downloads interface {
	// DownloadLink is a link to a document, valid for ttl.
	DownloadLink(ctx context.Context, key, name string, ttl time.Duration) (string, error)
}

// Checker reads uploaded documents.
type Checker interface {
	// Check reads a document: ErrNotUploaded when it is not there, a
	// *DocumentError when it is not what was declared.
	Check(ctx context.Context, key string, a Attachment) error
}

// Documents is all of it (the in-memory fake).
type Documents interface {
	Uploads
	Downloads
	Checker
}

// ErrNotUploaded is Check's answer for a document not uploaded yet.
var ErrNotUploaded = fmt.Errorf("document not uploaded: %w", problem.ErrNotFound)

// DocumentError says why an uploaded document is refused.
type DocumentError struct{ Reason string }

func (e *DocumentError) Error() string { return e.Reason }

// UploadView is a declared document in a submission's answer: where to PUT
// it, until when.
type UploadView struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	UploadURL string `json:"upload_url"`
	ExpiresAt string `json:"expires_at"`
}

// UploadLinks returns the upload links of a new message's documents, valid
// until the end of the upload window.
func UploadLinks(ctx context.Context, d Uploads, fiscalCode, id string, created time.Time, as []Attachment, now time.Time) ([]UploadView, error) {
	until := created.Add(UploadWindow)
	if !until.After(now) {
		return nil, nil // a replay after the window: nothing to upload any more
	}
	out := make([]UploadView, 0, len(as))
	for _, a := range as {
		u, err := d.UploadLink(ctx, DocumentKey(fiscalCode, id, a.ID), a.ContentType, until.Sub(now))
		if err != nil {
			return nil, problem.Wrap(problem.Internal, err, "Storage error", "Error while preparing the documents' upload")
		}
		out = append(out, UploadView{ID: a.ID, Name: a.Name, UploadURL: u, ExpiresAt: FormatTime(until)})
	}
	return out, nil
}

// documentsReady checks a new message's documents before it is processed:
// it returns "" when every one is uploaded and is what was declared, the
// reason to fail the message otherwise, or ErrNotUploaded while some are
// still to come within the upload window.
func documentsReady(ctx context.Context, d Checker, em EventMessage, as []Attachment, now time.Time) (string, error) {
	var missing []string
	for _, a := range as {
		err := d.Check(ctx, DocumentKey(em.FiscalCode, em.ID, a.ID), a)
		var bad *DocumentError
		switch {
		case err == nil:
		case errors.As(err, &bad):
			return fmt.Sprintf("Document %s (%q) refused: %s.", a.ID, a.Name, bad.Reason), nil
		case errors.Is(err, ErrNotUploaded):
			missing = append(missing, a.ID)
		default:
			return "", err
		}
	}
	if len(missing) == 0 {
		return "", nil
	}
	if !now.Before(em.CreatedAt.Add(UploadWindow)) {
		return fmt.Sprintf("Documents %v were not uploaded within an hour of the submission.", missing), nil
	}
	return "", ErrNotUploaded
}

// AttachmentLink is a document's download link for the app backend.
type AttachmentLink struct {
	DownloadURL string `json:"download_url"`
	ExpiresAt   string `json:"expires_at"`
}

// DownloadWindow is how long a document's download link lasts.
const DownloadWindow = 5 * time.Minute

// ErrNoAttachment answers a link to a document a message does not have.
var ErrNoAttachment = problem.New(problem.NotFound, "Attachment not found", "The message has no document with this id.")

// LinkAttachment returns a short-lived link to a document of a message in
// the citizen's inbox.
func LinkAttachment(ctx context.Context, d Downloads, m Message, attachmentID string, now time.Time) (AttachmentLink, error) {
	if m.Pending {
		return AttachmentLink{}, ErrNotFound
	}
	for _, a := range m.Attachments {
		if a.ID != attachmentID {
			continue
		}
		u, err := d.DownloadLink(ctx, DocumentKey(m.FiscalCode, m.ID, a.ID), a.Name, DownloadWindow)
		if err != nil {
			return AttachmentLink{}, problem.Wrap(problem.Internal, err, "Storage error", "Error while preparing the document's link")
		}
		return AttachmentLink{DownloadURL: u, ExpiresAt: FormatTime(now.Add(DownloadWindow))}, nil
	}
	return AttachmentLink{}, ErrNoAttachment
}

// VerifyDocument reads an uploaded document (at most one byte more than
// declared) and compares its size, SHA-256 and PDF signature with the
// declaration: a *DocumentError says what differs.
func VerifyDocument(r io.Reader, a Attachment) error {
	h := sha256.New()
	var head []byte
	n, err := io.Copy(h, io.TeeReader(io.LimitReader(r, a.Size+1), writerFunc(func(b []byte) {
		if len(head) < 5 {
			head = append(head, b[:min(5-len(head), len(b))]...)
		}
	})))
	if err != nil {
		return fmt.Errorf("read the document: %w", err)
	}
	switch {
	case n != a.Size:
		return &DocumentError{Reason: fmt.Sprintf("its size is not the %d bytes declared", a.Size)}
	case hex.EncodeToString(h.Sum(nil)) != a.SHA256:
		return &DocumentError{Reason: "its SHA-256 is not the one declared"}
	case string(head) != "%PDF-":
		return &DocumentError{Reason: "it is not a PDF"}
	}
	return nil
}

type writerFunc func([]byte)

func (f writerFunc) Write(b []byte) (int, error) { f(b); return len(b), nil }
