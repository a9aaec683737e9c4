// Package s3 reads and deletes files in Amazon S3 with the S3 client: the
// messages' documents checked (messages.Checker) and what an erasure
// deletes (userdata.Files), every version of them in a versioned bucket.
// Writing and linking objects needs no S3 client: package presign.
package s3

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/digital-citizenship/functions/pkg/messages"
)

// Bucket is one bucket.
type Bucket struct {
	Client *s3.Client
	Name   string
}

// New returns the bucket name. With a custom endpoint (an emulator), paths
// name the bucket instead of host names.
func New(cfg aws.Config, name string) Bucket {
	c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = cfg.BaseEndpoint != nil || o.BaseEndpoint != nil })
	return Bucket{Client: c, Name: name}
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
