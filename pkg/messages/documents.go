package messages

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
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
	// VersionID is the version of the object the check found to be what
	// was declared: every link to the document names it, so a later
	// upload to the same key (a new version) is never served.
	VersionID string `json:"version_id,omitempty" dynamodbav:"version_id,omitempty"`
}

// NullVersion is S3's version id of an object stored before its bucket was
// versioned (a document checked before its version was recorded).
const NullVersion = "null"

// Version returns the version a link to the document names.
func (a Attachment) Version() string {
	if a.VersionID == "" {
		return NullVersion
	}
	return a.VersionID
}

// ChecksumSHA256 is the declared SHA-256 as S3's x-amz-checksum-sha256
// header carries it (base64 of the 32 bytes).
func (a Attachment) ChecksumSHA256() string {
	b, err := hex.DecodeString(a.SHA256)
	if err != nil {
		return ""
	}
	return base64.StdEncoding.EncodeToString(b)
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
func DocumentPrefix(fiscalCode string) string { return citizenPrefix("documents/", fiscalCode) }

// TransitPrefix is the prefix of a citizen's documents in transit (fetched
// from a sender's system for the app backend, expired within a day).
func TransitPrefix(fiscalCode string) string { return citizenPrefix("transit/", fiscalCode) }

func citizenPrefix(root, fiscalCode string) string {
	h := sha256.Sum256([]byte(fiscalCode))
	return root + hex.EncodeToString(h[:]) + "/"
}

// Uploads hands out the links senders upload documents to.
type Uploads interface {
	// UploadLink is a link the sender PUTs document a to, valid for ttl,
	// and the headers the PUT must carry: the link signs the declared size
	// and SHA-256, so that the store refuses any other bytes.
	UploadLink(ctx context.Context, key string, a Attachment, ttl time.Duration) (string, map[string]string, error)
}

// Downloads hands out links to documents.
type Downloads interface {
	// DownloadLink is a link to a version of a document, valid for ttl.
	DownloadLink(ctx context.Context, key, version, name string, ttl time.Duration) (string, error)
}

// Checker reads uploaded documents.
type Checker interface {
	// Check reads a document and returns the version it read:
	// ErrNotUploaded when it is not there, a *DocumentError when it is not
	// what was declared.
	Check(ctx context.Context, key string, a Attachment) (string, error)
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
// it, with which headers, until when.
type UploadView struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	UploadURL string `json:"upload_url"`
	// UploadHeaders are the headers the PUT must carry as they are: the
	// link signs them (the size and the SHA-256 declared).
	UploadHeaders map[string]string `json:"upload_headers"`
	ExpiresAt     string            `json:"expires_at"`
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
		u, h, err := d.UploadLink(ctx, DocumentKey(fiscalCode, id, a.ID), a, until.Sub(now))
		if err != nil {
			return nil, problem.Wrap(problem.Internal, err, "Storage error", "Error while preparing the documents' upload")
		}
		out = append(out, UploadView{ID: a.ID, Name: a.Name, UploadURL: u, UploadHeaders: h, ExpiresAt: FormatTime(until)})
	}
	return out, nil
}

// documentsReady checks a new message's documents before it is processed:
// it returns them with the versions checked when every one is uploaded and
// is what was declared, the reason to fail the message otherwise, or
// ErrNotUploaded while some are still to come within the upload window.
func documentsReady(ctx context.Context, d Checker, em EventMessage, as []Attachment, now time.Time) ([]Attachment, string, error) {
	var missing []string
	checked := make([]Attachment, 0, len(as))
	for _, a := range as {
		version, err := d.Check(ctx, DocumentKey(em.FiscalCode, em.ID, a.ID), a)
		var bad *DocumentError
		switch {
		case err == nil:
			a.VersionID = version
			checked = append(checked, a)
		case errors.As(err, &bad):
			return nil, fmt.Sprintf("Document %s (%q) refused: %s.", a.ID, a.Name, bad.Reason), nil
		case errors.Is(err, ErrNotUploaded):
			missing = append(missing, a.ID)
		default:
			return nil, "", err
		}
	}
	if len(missing) == 0 {
		return checked, "", nil
	}
	if !now.Before(em.CreatedAt.Add(UploadWindow)) {
		return nil, fmt.Sprintf("Documents %v were not uploaded within an hour of the submission.", missing), nil
	}
	return nil, "", ErrNotUploaded
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
		u, err := d.DownloadLink(ctx, DocumentKey(m.FiscalCode, m.ID, a.ID), a.Version(), a.Name, DownloadWindow)
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
