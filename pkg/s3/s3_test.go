package s3

import (
	"context"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/digital-citizenship/functions/pkg/awstest"
)

func TestMain(m *testing.M) { awstest.Main(m) }

// TestBucket puts an archive, follows its presigned link like a browser,
// and deletes a citizen's prefix, through the SDK against moto's S3.
func TestBucket(t *testing.T) {
	ctx := context.Background()
	b := New(awstest.Config(awstest.Endpoint(t)), "userdata-test")
	if _, err := b.Client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &b.Name, CreateBucketConfiguration: &types.CreateBucketConfiguration{
		LocationConstraint: types.BucketLocationConstraint(awstest.Region)}}); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"exports/aa/1.json", "exports/aa/2.json", "exports/bb/1.json"} {
		if err := b.Put(ctx, k, []byte(`{"k":"`+k+`"}`)); err != nil {
			t.Fatal(err)
		}
	}
	link, err := b.Link(ctx, "exports/aa/1.json", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || string(body) != `{"k":"exports/aa/1.json"}` {
		t.Fatalf("the link gave %d %s", res.StatusCode, body)
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
