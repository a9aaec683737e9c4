// Package presign presigns S3 object links (SigV4, query-string
// authentication) without the S3 client, which would make a function that
// only hands out links, or writes and reads a few objects, half as large
// again (make sizes): links for someone else (documents' uploads and
// downloads, archives), and requests the function sends itself through a
// link it presigns (Objects: archives, documents in transit, receipts).
// Each acts with the function's role; with AWS_REQUEST_LOG=1 it is written
// to the request log, a link marked presigned as the SDK's presigned
// requests are, so that the IAM check of make test sees it and the bench
// counts only what is sent.
package presign

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/digital-citizenship/functions/pkg/config"
	"github.com/digital-citizenship/functions/pkg/messages"
	"github.com/digital-citizenship/functions/pkg/problem"
	"github.com/digital-citizenship/functions/pkg/receipts"
)

// Bucket presigns links to the objects of one bucket.
type Bucket struct {
	Config aws.Config
	Name   string
	// Endpoint is S3's endpoint when not AWS's (an emulator: path-style
	// links); Log, when set, gets each link's audit line.
	Endpoint string
	Log      io.Writer
	Now      func() time.Time
}

// New returns the presigner of bucket name, with the endpoint and the
// request log the process environment sets (as config.MustLoad does).
func New(cfg aws.Config, name string) Bucket {
	b := Bucket{Config: cfg, Name: name, Endpoint: config.ServiceEndpoint(os.Getenv, "S3"), Now: time.Now}
	if os.Getenv("AWS_REQUEST_LOG") == "1" {
		b.Log = os.Stdout
	}
	return b
}

// Link presigns method (GET or PUT) on key for ttl, with extra query
// parameters (response-content-disposition, versionId) and signed headers
// (x-amz-checksum-sha256; Content-Length, with size > 0): a request
// without them, or with other values, is refused by S3.
func (b Bucket) Link(ctx context.Context, method, key string, query url.Values, headers map[string]string, size int64, ttl time.Duration) (string, error) {
	return b.link(ctx, method, key, query, headers, size, ttl, false)
}

// link is Link; sent says the function sends the request itself (its
// request-log line then counts as a request it made).
func (b Bucket) link(ctx context.Context, method, key string, query url.Values, headers map[string]string, size int64, ttl time.Duration, sent bool) (string, error) {
	var raw string
	escaped := (&url.URL{Path: "/" + key}).EscapedPath()
	if b.Endpoint != "" {
		raw = strings.TrimRight(b.Endpoint, "/") + "/" + url.PathEscape(b.Name) + escaped
	} else {
		raw = "https://" + b.Name + ".s3." + b.Config.Region + ".amazonaws.com" + escaped
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("presign: %w", err)
	}
	q := url.Values{}
	for k, vs := range query {
		q[k] = vs
	}
	q.Set("X-Amz-Expires", strconv.Itoa(int(ttl/time.Second)))
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, method, u.String(), nil)
	if err != nil {
		return "", fmt.Errorf("presign: %w", err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	req.ContentLength = size // signed as content-length when > 0
	creds, err := b.Config.Credentials.Retrieve(ctx)
	if err != nil {
		return "", fmt.Errorf("presign: credentials: %w", err)
	}
	signed, _, err := v4.NewSigner().PresignHTTP(ctx, creds, req, "UNSIGNED-PAYLOAD", "s3", b.Config.Region, b.Now().UTC())
	if err != nil {
		return "", fmt.Errorf("presign: %w", err)
	}
	b.audit(method, u.EscapedPath(), key, query.Get("versionId"), sent)
	return signed, nil
}

// audit writes the link's line to the request log, as config.LogRequests
// writes a presigned request's (or, for a request the function sends
// itself, a sent one's).
func (b Bucket) audit(method, path, key, version string, sent bool) {
	if b.Log == nil {
		return
	}
	op := map[string]string{"GET": "GetObject", "PUT": "PutObject"}[method]
	params := map[string][]string{"Bucket": {b.Name}, "Key": {key}}
	if version != "" {
		params["VersionId"] = []string{version}
	}
	config.RequestLine{Op: "S3." + op, Method: method, Path: path, Params: params, Presigned: !sent}.Write(b.Log)
}

// Documents hands out the links of the messages' documents
// (messages.Uploads and messages.Downloads).
type Documents struct{ Bucket }

// ChecksumHeader is S3's header of a SHA-256 an upload must match.
const ChecksumHeader = "x-amz-checksum-sha256"

// UploadLink is a link the sender PUTs a document to. It signs the declared
// size (Content-Length) and SHA-256 (x-amz-checksum-sha256): S3 refuses a
// PUT without those headers, with other values, or whose bytes do not
// match them, so the link can upload only the document declared.
func (d Documents) UploadLink(ctx context.Context, key string, a messages.Attachment, ttl time.Duration) (string, map[string]string, error) {
	h := map[string]string{ChecksumHeader: a.ChecksumSHA256()}
	u, err := d.Link(ctx, http.MethodPut, key, nil, h, a.Size, ttl)
	if err != nil {
		return "", nil, err
	}
	h["Content-Length"] = strconv.FormatInt(a.Size, 10)
	return u, h, nil
}

// DownloadLink is a link to one version of a document (the one checked)
// that saves it under its name.
func (d Documents) DownloadLink(ctx context.Context, key, version, name string, ttl time.Duration) (string, error) {
	q := url.Values{"response-content-disposition": {mimeAttachment(name)}, "response-content-type": {"application/pdf"},
		"versionId": {version}}
	return d.Link(ctx, http.MethodGet, key, q, nil, 0, ttl)
}

func mimeAttachment(name string) string {
	return mime.FormatMediaType("attachment", map[string]string{"filename": name})
}

// Objects writes objects without the S3 client: each PUT goes through a
// link presigned for it (content-type and length signed), sent at once
// with the function's HTTP client. The S3 client would make a function
// that only writes and links objects half as large again (make sizes).
type Objects struct {
	Bucket
	HTTP *http.Client
}

// NewObjects returns the objects of bucket name, as New.
func NewObjects(cfg aws.Config, name string) Objects {
	return Objects{Bucket: New(cfg, name), HTTP: &http.Client{Timeout: 30 * time.Second}}
}

// put stores body at key as contentType (the bucket encrypts it by
// default).
func (o Objects) put(ctx context.Context, key, contentType string, body []byte) error {
	res, err := o.send(ctx, http.MethodPut, key, map[string]string{"Content-Type": contentType}, body)
	if err != nil {
		return err
	}
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("put object: S3 answered %d", res.StatusCode)
	}
	return nil
}

// send makes method on key through a link presigned for it, with the
// headers given (signed) and body; the answer's body is read (at most
// 1 MiB) and closed.
func (o Objects) send(ctx context.Context, method, key string, headers map[string]string, body []byte) (*answer, error) {
	link, err := o.link(ctx, method, key, nil, headers, int64(len(body)), time.Minute, true)
	if err != nil {
		return nil, err
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, link, rd)
	if err != nil {
		return nil, fmt.Errorf("%s object: %w", method, err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := o.HTTP.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the link's query carries a signature
		}
		return nil, fmt.Errorf("%s object: %w", method, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("%s object: %w", method, err)
	}
	return &answer{StatusCode: res.StatusCode, Body: b}, nil
}

// answer is S3's answer to a request sent through a link.
type answer struct {
	StatusCode int
	Body       []byte
}

// Archives keeps the citizens' download archives (userdata.Archives).
type Archives struct{ Objects }

// Put implements userdata.Archives: a private JSON object.
func (a Archives) Put(ctx context.Context, key string, body []byte) error {
	return a.put(ctx, key, "application/json", body)
}

// Link implements userdata.Archives: a presigned GET that saves the
// archive as my-data.json.
func (a Archives) Link(ctx context.Context, key string, ttl time.Duration) (string, error) {
	return a.Objects.Link(ctx, http.MethodGet, key, url.Values{"response-content-disposition": {mimeAttachment("my-data.json")}}, nil, 0, ttl)
}

// Transit hands documents fetched from senders over
// (remotecontent.Transit): each is stored at its key and answered with a
// link that saves it under its name; the bucket's lifecycle rule expires
// them.
type Transit struct{ Objects }

// Hand implements remotecontent.Transit.
func (t Transit) Hand(ctx context.Context, key, name string, body []byte, ttl time.Duration) (string, error) {
	if err := t.put(ctx, key, messages.PDF, body); err != nil {
		return "", err
	}
	q := url.Values{"response-content-disposition": {mimeAttachment(name)}, "response-content-type": {messages.PDF}}
	return t.Link(ctx, http.MethodGet, key, q, nil, 0, ttl)
}

// Receipts keeps the receipts of legal events (receipts.Archive) in a
// bucket with Object Lock: each written once (If-None-Match: *), with the
// Content-MD5 S3 asks of an object under a retention, then kept under the
// bucket's default COMPLIANCE retention, which no one can shorten or lift.
type Receipts struct{ Objects }

// Create implements receipts.Archive: problem.ErrConflict when a receipt
// is at key already.
func (r Receipts) Create(ctx context.Context, key string, jws []byte) error {
	sum := md5.Sum(jws) // S3 asks Content-MD5 (or a checksum) of an object under a retention
	res, err := r.send(ctx, http.MethodPut, key, map[string]string{"Content-Type": "application/jose", "If-None-Match": "*",
		"Content-Md5": base64.StdEncoding.EncodeToString(sum[:])}, jws)
	switch {
	case err != nil:
		return fmt.Errorf("put receipt: %w", err)
	case res.StatusCode == http.StatusPreconditionFailed || res.StatusCode == http.StatusConflict:
		return fmt.Errorf("put receipt: %w", problem.ErrConflict)
	case res.StatusCode/100 != 2:
		return fmt.Errorf("put receipt: S3 answered %d", res.StatusCode)
	}
	return nil
}

// Get implements receipts.Archive: problem.ErrNotFound for a key without
// a receipt (NoSuchKey, or AccessDenied to a role that may not list the
// bucket).
func (r Receipts) Get(ctx context.Context, key string) ([]byte, error) {
	res, err := r.send(ctx, http.MethodGet, key, nil, nil)
	switch {
	case err != nil:
		return nil, fmt.Errorf("get receipt: %w", err)
	case res.StatusCode == http.StatusNotFound || res.StatusCode == http.StatusForbidden:
		return nil, fmt.Errorf("get receipt: %w", problem.ErrNotFound)
	case res.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("get receipt: S3 answered %d", res.StatusCode)
	}
	return res.Body, nil
}

var _ receipts.Archive = Receipts{}
