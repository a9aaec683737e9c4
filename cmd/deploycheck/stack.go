package main

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/digital-citizenship/functions/pkg/sam"
)

// rehearsal is one run: the template, its transform, the stack in moto and
// what was checked.
type rehearsal struct {
	cfg         aws.Config
	endpoint    string // moto's
	stack       string
	out         io.Writer
	tmpl        *sam.Template
	transformed *sam.Transformed
	params      map[string]string
	// physical ids by logical id, as CloudFormation reports them.
	physical map[string]string
	// queueARNs by logical id, read by checkQueues.
	queueARNs map[string]string
	// all caches resources() for the transformed template.
	all map[string]map[string]any
	// nestedOf maps each resource of a nested stack (monitoring.yaml's) to
	// the stack's logical id.
	nestedOf map[string]string
	// codeURIs are the packaged functions' CodeUri by logical id.
	codeURIs map[string]string
	// aliases maps each function's alias to the function.
	aliases map[string]string
	// deployments says what checkDeployments found.
	deployments string
	// created and fromTemplate count resources checked in moto and in the
	// transformed template; checks counts property checks.
	created, fromTemplate, checks int
}

// bucket holds the packaged code and the template, as sam package's does.
func (r *rehearsal) bucket() string { return r.stack + "-artifacts" }

// packageFunctions zips every function's bootstrap and uploads it to the
// artifacts bucket under the zip's MD5, as sam package does, and returns
// each function's CodeUri.
func (r *rehearsal) packageFunctions(ctx context.Context, dir string) (map[string]string, error) {
	c := s3.NewFromConfig(r.cfg, func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(r.bucket()),
		CreateBucketConfiguration: &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(r.cfg.Region)}}); err != nil {
		return nil, err
	}
	uris := map[string]string{}
	for _, f := range r.tmpl.Functions() {
		bin, err := os.ReadFile(filepath.Join(dir, f.Dir, "bootstrap"))
		if err != nil {
			return nil, fmt.Errorf("%s: %w (make build)", f.LogicalID, err)
		}
		zipped, err := zipBootstrap(bin)
		if err != nil {
			return nil, err
		}
		sum := md5.Sum(zipped)
		key := hex.EncodeToString(sum[:])
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(r.bucket()), Key: &key, Body: bytes.NewReader(zipped)}); err != nil {
			return nil, fmt.Errorf("upload %s: %w", f.LogicalID, err)
		}
		uris[f.LogicalID] = "s3://" + r.bucket() + "/" + key
	}
	return uris, nil
}

// zipBootstrap is the deployment package: one executable, bootstrap.
func zipBootstrap(bin []byte) ([]byte, error) {
	var buf bytes.Buffer
	z := zip.NewWriter(&buf)
	h := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate, Modified: time.Unix(0, 0).UTC()}
	h.SetMode(0o755)
	w, err := z.CreateHeader(h)
	if err == nil {
		_, err = w.Write(bin)
	}
	if err := errors.Join(err, z.Close()); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// stackParameters are the template's defaults, with the optional ones that
// change what is created given a value: an alarm topic, the webhook, the
// push platform applications (created in moto's SNS).
func (r *rehearsal) stackParameters(ctx context.Context) (map[string]string, error) {
	c := sns.NewFromConfig(r.cfg)
	topic, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(r.stack + "-alarms")})
	if err != nil {
		return nil, err
	}
	p := map[string]string{"AlarmTopicArn": aws.ToString(topic.TopicArn), "WebhookUrl": "https://app-backend.example.it/api/v1/notify"}
	for param, platform := range map[string]string{"ApnsPlatformApplicationArn": "APNS", "FcmPlatformApplicationArn": "GCM"} {
		app, err := c.CreatePlatformApplication(ctx, &sns.CreatePlatformApplicationInput{Name: aws.String(r.stack + "-" + platform),
			Platform: aws.String(platform), Attributes: map[string]string{"PlatformCredential": "rehearsal", "PlatformPrincipal": "rehearsal"}})
		if err != nil {
			return nil, err
		}
		p[param] = aws.ToString(app.PlatformApplicationArn)
	}
	for name := range r.tmpl.Parameters {
		if _, ok := p[name]; !ok {
			p[name] = r.tmpl.ParameterDefault(name)
		}
	}
	return p, nil
}

// upload puts the transformed template (API methods spelled out, see
// explodeAPI; aliases left out, see withoutAliases) and its nested stacks'
// templates in S3, as sam package does, and returns the template's URL
// (moto reads it from its own S3, named as S3's URL for it).
func (r *rehearsal) upload(ctx context.Context, name string) (string, error) {
	doc, err := explodeAPI(r.transformed)
	if err != nil {
		return "", err
	}
	withoutAliases(doc, r.aliases)
	s := s3.NewFromConfig(r.cfg, func(o *s3.Options) { o.UsePathStyle = true })
	put := func(key string, v any) (string, error) {
		body, err := json.Marshal(v)
		if err != nil {
			return "", err
		}
		if _, err := s.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(r.bucket()), Key: &key, Body: bytes.NewReader(body)}); err != nil {
			return "", err
		}
		return fmt.Sprintf("https://%s.s3.amazonaws.com/%s", r.bucket(), key), nil
	}
	for id, nested := range r.transformed.Nested {
		u, err := put(name+"-"+id+".json", nested)
		if err != nil {
			return "", err
		}
		props(doc["Resources"].(map[string]any)[id].(map[string]any))["TemplateURL"] = u
	}
	return put(name+".json", doc)
}

// cloudFormation is the client of the rehearsal's stack operations, without
// retries: a failed CreateStack retried answers "already exists" and hides
// why it failed.
func (r *rehearsal) cloudFormation() *cloudformation.Client {
	return cloudformation.NewFromConfig(r.cfg, func(o *cloudformation.Options) { o.RetryMaxAttempts = 1 })
}

func (r *rehearsal) parameters() []cftypes.Parameter {
	var params []cftypes.Parameter
	for k, v := range r.params {
		params = append(params, cftypes.Parameter{ParameterKey: aws.String(k), ParameterValue: aws.String(v)})
	}
	return params
}

var capabilities = []cftypes.Capability{cftypes.CapabilityCapabilityIam, cftypes.CapabilityCapabilityAutoExpand}

// createStack creates the transformed template in moto's CloudFormation from
// S3, as sam deploy does, and waits for it. A resource that fails to create
// fails the rehearsal with CloudFormation's reason.
func (r *rehearsal) createStack(ctx context.Context) error {
	var err error
	if r.params, err = r.stackParameters(ctx); err != nil {
		return err
	}
	url, err := r.upload(ctx, "template")
	if err != nil {
		return err
	}
	cf := r.cloudFormation()
	if _, err := cf.CreateStack(ctx, &cloudformation.CreateStackInput{StackName: &r.stack, Parameters: r.parameters(),
		TemplateURL: &url, Capabilities: capabilities}); err != nil {
		return fmt.Errorf("create stack: %w", err)
	}
	if err := r.wait(ctx, cftypes.StackStatusCreateComplete); err != nil {
		return err
	}
	r.physical, err = r.describe(ctx)
	return err
}

// wait waits for the stack's operation to end in want.
func (r *rehearsal) wait(ctx context.Context, want cftypes.StackStatus) error {
	cf := r.cloudFormation()
	for {
		out, err := cf.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: &r.stack})
		if err != nil && want == cftypes.StackStatusDeleteComplete && strings.Contains(err.Error(), "does not exist") {
			return nil // a deleted stack is no longer found by its name
		}
		if err != nil {
			return err
		}
		st := out.Stacks[0]
		if strings.HasSuffix(string(st.StackStatus), "_IN_PROGRESS") {
			time.Sleep(200 * time.Millisecond)
			continue
		}
		if st.StackStatus != want {
			return fmt.Errorf("stack %s: %s %s%s", r.stack, st.StackStatus, aws.ToString(st.StackStatusReason), r.failedEvents(ctx, cf))
		}
		return nil
	}
}

// describe returns the stack's physical ids by logical id, its nested
// stacks' resources included (by their logical ids there).
func (r *rehearsal) describe(ctx context.Context) (map[string]string, error) {
	cf := r.cloudFormation()
	physical := map[string]string{}
	read := func(stack string) error {
		res, err := cf.DescribeStackResources(ctx, &cloudformation.DescribeStackResourcesInput{StackName: &stack})
		if err != nil {
			return fmt.Errorf("stack %s: %w", stack, err)
		}
		for _, x := range res.StackResources {
			if id := aws.ToString(x.LogicalResourceId); id != "" {
				physical[id] = aws.ToString(x.PhysicalResourceId)
			}
		}
		return nil
	}
	if err := read(r.stack); err != nil {
		return nil, err
	}
	for id := range r.transformed.Nested {
		if err := read(physical[id]); err != nil {
			return nil, err
		}
	}
	return physical, nil
}

func (r *rehearsal) failedEvents(ctx context.Context, cf *cloudformation.Client) string {
	out, err := cf.DescribeStackEvents(ctx, &cloudformation.DescribeStackEventsInput{StackName: &r.stack})
	if err != nil {
		return ""
	}
	var lines []string
	for _, e := range out.StackEvents {
		if strings.Contains(string(e.ResourceStatus), "FAILED") {
			lines = append(lines, fmt.Sprintf("\n  %s (%s): %s", aws.ToString(e.LogicalResourceId), aws.ToString(e.ResourceType), aws.ToString(e.ResourceStatusReason)))
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "")
}

// resources are the transformed template's resources and its nested
// stacks' (whose logical ids differ from the main stack's).
func (r *rehearsal) resources() map[string]map[string]any {
	if r.all != nil {
		return r.all
	}
	parent := r.transformed.Resources()
	all := maps.Clone(parent)
	r.nestedOf = map[string]string{}
	for stack, doc := range r.transformed.Nested {
		for id, res := range doc["Resources"].(map[string]any) {
			if _, clash := parent[id]; clash {
				panic(fmt.Sprintf("%s is in both the main stack and %s", id, stack))
			}
			all[id] = res.(map[string]any)
			r.nestedOf[id] = stack
		}
	}
	r.all = all
	return all
}

// ofType returns the logical ids of the resources of type typ, the nested
// stacks' included, sorted.
func (r *rehearsal) ofType(typ string) []string {
	var ids []string
	for id, res := range r.resources() {
		if res["Type"] == typ {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}
