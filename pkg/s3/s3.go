// Package s3 keeps files in Amazon S3: the archives of the citizens' data
// downloads (userdata.Files) and the messages' documents
// (messages.Documents).
package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"mime"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/digital-citizenship/functions/pkg/messages"
)

// Bucket is one bucket.
type Bucket struct {
	Client  *s3.Client
	Presign *s3.PresignClient
	Name    string
}

// New returns the bucket name. With a custom endpoint (an emulator), paths
// name the bucket instead of host names.
func New(cfg aws.Config, name string) Bucket {
	c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = cfg.BaseEndpoint != nil || o.BaseEndpoint != nil })
	return Bucket{Client: c, Presign: s3.NewPresignClient(c), Name: name}
}

// Put implements userdata.Files: a private JSON object, encrypted at rest.
func (b Bucket) Put(ctx context.Context, key string, body []byte) error {
	_, err := b.Client.PutObject(ctx, &s3.PutObjectInput{Bucket: &b.Name, Key: &key, Body: bytes.NewReader(body),
		ContentType: aws.String("application/json"), ServerSideEncryption: types.ServerSideEncryptionAes256})
	if err != nil {
		return fmt.Errorf("put object: %w", err)
	}
	return nil
}

// Link implements userdata.Files: a presigned GET. It lasts ttl at most;
// signed with a role's temporary credentials, it lasts no longer than they
// do.
func (b Bucket) Link(ctx context.Context, key string, ttl time.Duration) (string, error) {
	req, err := b.Presign.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: &b.Name, Key: &key,
		ResponseContentDisposition: aws.String(`attachment; filename="my-data.json"`)}, s3.WithPresignExpires(ttl))
	if err != nil {
		return "", fmt.Errorf("presign: %w", err)
	}
	return req.URL, nil
}

// DeletePrefix implements userdata.Files.
func (b Bucket) DeletePrefix(ctx context.Context, prefix string) error {
	p := s3.NewListObjectsV2Paginator(b.Client, &s3.ListObjectsV2Input{Bucket: &b.Name, Prefix: &prefix})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list objects: %w", err)
		}
		for _, o := range page.Contents {
			if _, err := b.Client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &b.Name, Key: o.Key}); err != nil {
				return fmt.Errorf("delete object: %w", err)
			}
		}
	}
	return nil
}

// Documents reads the messages' documents (messages.Checker) in a bucket;
// their links come from package presign, which needs no S3 client.
type Documents struct{ Bucket }

// Check implements messages.Checker: the object is read (at most one
// byte more than declared) and its size, SHA-256 and PDF signature
// compared with the declaration; the version read is returned ("" in a
// bucket without versioning).
func (d Documents) Check(ctx context.Context, key string, a messages.Attachment) (string, error) {
	out, err := d.Client.GetObject(ctx, &s3.GetObjectInput{Bucket: &d.Name, Key: &key})
	// A missing object is NoSuchKey to a role that may list the bucket and
	// AccessDenied to one that may not: process-message may read the
	// documents and nothing else (make test proves its policy grants
	// s3:GetObject on them), so either means "not uploaded yet".
	var nsk *types.NoSuchKey
	var ae smithy.APIError
	if errors.As(err, &nsk) || errors.As(err, &ae) && ae.ErrorCode() == "AccessDenied" {
		return "", messages.ErrNotUploaded
	}
	if err != nil {
		return "", fmt.Errorf("get object: %w", err)
	}
	defer out.Body.Close()
	return aws.ToString(out.VersionId), messages.VerifyDocument(out.Body, a)
}

// Versioned is a versioned bucket (the documents'): deleting a prefix
// deletes every version of every object under it, and the delete markers,
// so that nothing of it remains.
type Versioned struct{ Bucket }

// DeletePrefix implements userdata.Files: each version and delete marker
// under prefix is deleted by its version id.
func (v Versioned) DeletePrefix(ctx context.Context, prefix string) error {
	p := s3.NewListObjectVersionsPaginator(v.Client, &s3.ListObjectVersionsInput{Bucket: &v.Name, Prefix: &prefix})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list object versions: %w", err)
		}
		for _, o := range page.Versions {
			if err := v.deleteVersion(ctx, o.Key, o.VersionId); err != nil {
				return err
			}
		}
		for _, m := range page.DeleteMarkers {
			if err := v.deleteVersion(ctx, m.Key, m.VersionId); err != nil {
				return err
			}
		}
	}
	return nil
}

func (v Versioned) deleteVersion(ctx context.Context, key, version *string) error {
	if _, err := v.Client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &v.Name, Key: key, VersionId: version}); err != nil {
		return fmt.Errorf("delete object version: %w", err)
	}
	return nil
}

var _ messages.Checker = Documents{}

// Transit hands documents over (remotecontent.Transit): each is stored at
// its key, private and encrypted, and answered with a presigned link; the
// bucket's lifecycle rule expires them.
type Transit struct{ Bucket }

// Hand implements remotecontent.Transit.
func (t Transit) Hand(ctx context.Context, key, name string, body []byte, ttl time.Duration) (string, error) {
	_, err := t.Client.PutObject(ctx, &s3.PutObjectInput{Bucket: &t.Name, Key: &key, Body: bytes.NewReader(body),
		ContentType: aws.String(messages.PDF), ServerSideEncryption: types.ServerSideEncryptionAes256})
	if err != nil {
		return "", fmt.Errorf("put object: %w", err)
	}
	req, err := t.Presign.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: &t.Name, Key: &key,
		ResponseContentDisposition: aws.String(mime.FormatMediaType("attachment", map[string]string{"filename": name}))},
		s3.WithPresignExpires(ttl))
	if err != nil {
		return "", fmt.Errorf("presign: %w", err)
	}
	return req.URL, nil
}
