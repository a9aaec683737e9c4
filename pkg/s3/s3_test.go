package s3

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/digital-citizenship/functions/pkg/awstest"
	"github.com/digital-citizenship/functions/pkg/messages"
	"github.com/digital-citizenship/functions/pkg/problem"
	"github.com/digital-citizenship/functions/pkg/s3/presign"
)

func TestMain(m *testing.M) { awstest.Main(m) }

// TestBucket deletes a citizen's prefix, through the SDK against moto's S3.
func TestBucket(t *testing.T) {
	ctx := context.Background()
	b := New(awstest.Config(awstest.Endpoint(t)), "userdata-test")
	if _, err := b.Client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &b.Name, CreateBucketConfiguration: &types.CreateBucketConfiguration{
		LocationConstraint: types.BucketLocationConstraint(awstest.Region)}}); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"exports/aa/1.json", "exports/aa/2.json", "exports/bb/1.json"} {
		if _, err := b.Client.PutObject(ctx, &s3.PutObjectInput{Bucket: &b.Name, Key: aws.String(k), Body: strings.NewReader(k)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.DeletePrefix(ctx, "exports/aa/"); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]bool{"exports/aa/1.json": false, "exports/aa/2.json": false, "exports/bb/1.json": true} {
		if ok, err := exists(ctx, b, k); err != nil || ok != want {
			t.Fatalf("%s exists %v (%v), want %v", k, ok, err, want)
		}
	}
}

// exists reports whether key is in the bucket.
func exists(ctx context.Context, b Bucket, key string) (bool, error) {
	_, err := b.Client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &b.Name, Key: &key})
	if err == nil {
		return true, nil
	}
	var nf *types.NotFound
	if errors.As(err, &nf) {
		return false, nil
	}
	return false, err
}

// TestDocuments uploads a document to a presigned link with the headers it
// signs, checks it (recording the version read), uploads other bytes to the
// same link (moto takes them: it checks neither signatures nor checksums),
// and follows the download link of the version checked: the document as
// declared. The erasure's delete leaves no version and no delete marker.
func TestDocuments(t *testing.T) {
	ctx := context.Background()
	cfg := awstest.Config(awstest.Endpoint(t))
	b := New(cfg, "documents-test")
	if _, err := b.Client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &b.Name, CreateBucketConfiguration: &types.CreateBucketConfiguration{
		LocationConstraint: types.BucketLocationConstraint(awstest.Region)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Client.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: &b.Name,
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	links := presign.Documents{Bucket: presign.Bucket{Config: cfg, Name: b.Name, Endpoint: awstest.Endpoint(t), Now: time.Now}}
	doc := []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
	sum := sha256.Sum256(doc)
	a := messages.Attachment{ID: "1", Name: "avviso.pdf", ContentType: messages.PDF, Size: int64(len(doc)), SHA256: hex.EncodeToString(sum[:])}
	key := messages.DocumentKey("SPNDNL80R13C555X", "01MSG", "1")
	up, headers, err := links.UploadLink(ctx, key, a, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if headers["Content-Length"] != strconv.Itoa(len(doc)) || headers["x-amz-checksum-sha256"] != base64.StdEncoding.EncodeToString(sum[:]) {
		t.Fatalf("upload headers %v", headers)
	}
	upload(t, up, headers, doc)
	checked, err := Documents{b}.Check(ctx, key, a)
	if err != nil || checked == "" {
		t.Fatalf("check: version %q, %v", checked, err)
	}
	// A second upload to the same link, of other bytes of the same size.
	other := bytes.Replace(doc, []byte("1.4"), []byte("1.7"), 1)
	upload(t, up, headers, other)
	if v, err := (Documents{b}).Check(ctx, key, a); err == nil || v == checked {
		t.Fatalf("the latest version is still the document declared (%q, %v)", v, err)
	}
	down, err := links.DownloadLink(ctx, key, checked, a.Name, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.Get(down)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !bytes.Equal(got, doc) {
		t.Fatalf("the checked version's link gave %d, %d bytes (the document has %d)", res.StatusCode, len(got), len(doc))
	}
	// The erasure: every version and marker under the citizen's prefix.
	if _, err := b.Client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &b.Name, Key: &key}); err != nil { // a delete marker
		t.Fatal(err)
	}
	if err := (Versioned{b}).DeletePrefix(ctx, messages.DocumentPrefix("SPNDNL80R13C555X")); err != nil {
		t.Fatal(err)
	}
	left, err := b.Client.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: &b.Name})
	if err != nil || len(left.Versions)+len(left.DeleteMarkers) != 0 {
		t.Fatalf("after the erasure: %d versions, %d markers (%v)", len(left.Versions), len(left.DeleteMarkers), err)
	}
}

// TestUploadLink_SignsSizeAndChecksum reads the upload link itself (moto
// checks no signature): it signs content-length, host and
// x-amz-checksum-sha256, and the signature is the one of the declared
// values only. S3 recomputes it from the request it gets, so a PUT of
// another size or SHA-256, or without the headers, does not match it, and
// S3 also refuses bytes whose SHA-256 is not the header's.
func TestUploadLink_SignsSizeAndChecksum(t *testing.T) {
	at := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	links := presign.Documents{Bucket: presign.Bucket{Config: awstest.Config("http://127.0.0.1:1"), Name: "documents", Now: func() time.Time { return at }}}
	a := messages.Attachment{Size: 1234, SHA256: strings.Repeat("ab", 32)}
	link := func(a messages.Attachment) url.Values {
		u, _, err := links.UploadLink(context.Background(), "documents/x/01MSG/1", a, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		p, err := url.Parse(u)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(u, "https://documents.s3."+awstest.Region+".amazonaws.com/documents/x/01MSG/1?") {
			t.Fatalf("link %s", u)
		}
		return p.Query()
	}
	q := link(a)
	if got := q.Get("X-Amz-SignedHeaders"); got != "content-length;host;x-amz-checksum-sha256" {
		t.Fatalf("signed headers %q", got)
	}
	if q.Get("x-amz-checksum-sha256") != "" {
		t.Fatal("the checksum travels in the query (hoisted), not as a signed header")
	}
	same := link(a).Get("X-Amz-Signature")
	if same != q.Get("X-Amz-Signature") {
		t.Fatal("the signature is not a function of the declaration")
	}
	bigger, otherSum := a, a
	bigger.Size++
	otherSum.SHA256 = strings.Repeat("cd", 32)
	for name, other := range map[string]messages.Attachment{"size": bigger, "SHA-256": otherSum} {
		if link(other).Get("X-Amz-Signature") == same {
			t.Fatalf("another %s signs the same: the link does not bind it", name)
		}
	}
}

// upload PUTs body to a presigned link with the headers it signs.
func upload(t *testing.T, link string, headers map[string]string, body []byte) {
	t.Helper()
	req, err := http.NewRequest("PUT", link, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		if k != "Content-Length" { // the body's length
			req.Header.Set(k, v)
		}
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("upload: %d %s", res.StatusCode, b)
	}
}

// TestPresignedObjects: archives and documents in transit written and
// linked with no S3 client (presigned PUTs the functions send themselves),
// read back through their links as a browser would.
func TestPresignedObjects(t *testing.T) {
	ctx := context.Background()
	cfg := awstest.Config(awstest.Endpoint(t))
	b := New(cfg, "objects-test")
	if _, err := b.Client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &b.Name, CreateBucketConfiguration: &types.CreateBucketConfiguration{
		LocationConstraint: types.BucketLocationConstraint(awstest.Region)}}); err != nil {
		t.Fatal(err)
	}
	objects := presign.Objects{Bucket: presign.Bucket{Config: cfg, Name: b.Name, Endpoint: awstest.Endpoint(t), Now: time.Now}, HTTP: http.DefaultClient}
	archives, transit := presign.Archives{Objects: objects}, presign.Transit{Objects: objects}
	if err := archives.Put(ctx, "exports/aa/1.json", []byte(`{"k":1}`)); err != nil {
		t.Fatal(err)
	}
	link, err := archives.Link(ctx, "exports/aa/1.json", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if got, disposition := get(t, link); got != `{"k":1}` || !strings.Contains(disposition, "my-data.json") {
		t.Fatalf("the archive's link gave %q (%s)", got, disposition)
	}
	link, err = transit.Hand(ctx, "transit/bb/1.pdf", "atto.pdf", []byte("%PDF-1.4 x"), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if got, disposition := get(t, link); got != "%PDF-1.4 x" || !strings.Contains(disposition, "atto.pdf") {
		t.Fatalf("the document's link gave %q (%s)", got, disposition)
	}
	bad := presign.Archives{Objects: presign.Objects{Bucket: presign.Bucket{Config: cfg, Name: "no-such-bucket", Endpoint: awstest.Endpoint(t), Now: time.Now},
		HTTP: http.DefaultClient}}
	if err := bad.Put(ctx, "exports/x.json", []byte("{}")); err == nil || strings.Contains(err.Error(), "X-Amz-Signature") {
		t.Fatalf("a put to no bucket: %v", err)
	}
}

// get follows a link and returns what it gave and the disposition it asks
// S3 for (read from the link itself: moto does not apply it).
func get(t *testing.T, link string) (string, string) {
	t.Helper()
	res, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("GET %d %s", res.StatusCode, b)
	}
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	return string(b), u.Query().Get("response-content-disposition")
}

// TestReceipts: a bucket with Object Lock (COMPLIANCE) keeps a receipt
// written once (a PUT the function presigns for itself, with Content-MD5):
// a second write of the key is a conflict, the receipt is under the
// bucket's default retention, and deleting its version is refused.
func TestReceipts(t *testing.T) {
	ctx := context.Background()
	b := New(awstest.Config(awstest.Endpoint(t)), "receipts-test")
	if _, err := b.Client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &b.Name, ObjectLockEnabledForBucket: aws.Bool(true),
		CreateBucketConfiguration: &types.CreateBucketConfiguration{LocationConstraint: types.BucketLocationConstraint(awstest.Region)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Client.PutObjectLockConfiguration(ctx, &s3.PutObjectLockConfigurationInput{Bucket: &b.Name,
		ObjectLockConfiguration: &types.ObjectLockConfiguration{ObjectLockEnabled: types.ObjectLockEnabledEnabled,
			Rule: &types.ObjectLockRule{DefaultRetention: &types.DefaultRetention{Mode: types.ObjectLockRetentionModeCompliance, Years: aws.Int32(10)}}}}); err != nil {
		t.Fatal(err)
	}
	r := presign.Receipts{Objects: presign.Objects{Bucket: presign.Bucket{Config: awstest.Config(awstest.Endpoint(t)), Name: b.Name,
		Endpoint: awstest.Endpoint(t), Now: time.Now}, HTTP: http.DefaultClient}}
	key := "receipts/01MSG/opened.jws"
	if _, err := r.Get(ctx, key); !errors.Is(err, problem.ErrNotFound) {
		t.Fatalf("a receipt not written: %v", err)
	}
	if err := r.Create(ctx, key, []byte("first.jws.sig")); err != nil {
		t.Fatal(err)
	}
	if err := r.Create(ctx, key, []byte("second.jws.sig")); !errors.Is(err, problem.ErrConflict) {
		t.Fatalf("a second write: %v", err)
	}
	if got, err := r.Get(ctx, key); err != nil || string(got) != "first.jws.sig" {
		t.Fatalf("read back %q %v", got, err)
	}
	head, err := b.Client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &b.Name, Key: &key})
	if err != nil || head.ObjectLockMode != types.ObjectLockModeCompliance || head.ObjectLockRetainUntilDate == nil ||
		head.ObjectLockRetainUntilDate.Before(time.Now().AddDate(9, 0, 0)) {
		t.Fatalf("the receipt's lock: %+v %v", head, err)
	}
	if _, err := b.Client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &b.Name, Key: &key, VersionId: head.VersionId}); err == nil {
		t.Fatal("a locked receipt was deleted")
	}
}
