package main

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/digital-citizenship/functions/pkg/sam"
	queue "github.com/digital-citizenship/functions/pkg/sqs"
)

// statefulTypes are what holds the citizens' data or what is in flight:
// replacing one loses it. Tables, buckets and keys also outlive the stack
// (DeletionPolicy Retain); queues go with it.
var statefulTypes = []string{"AWS::DynamoDB::Table", "AWS::S3::Bucket", "AWS::KMS::Key", "AWS::SQS::Queue"}

// The update rehearsal's changes: a parameter every function reads, and
// one function's code.
const (
	changedParameter = "WebhookTimeoutSeconds"
	changedFunction  = "SendEmailFunction"
)

// rehearseUpdate updates the stack as a new release with new settings
// would (sam deploy of a changed template): a changed parameter and a
// changed function, and checks that no stateful resource was replaced
// (each keeps its physical id), that the parameter reached the functions
// and that the function runs its new code as a new version.
func (r *rehearsal) rehearseUpdate(ctx context.Context, c *checker, template, lambdaDir string) (string, error) {
	before := r.physical
	stateful := r.statefulIDs()
	if err := r.writeData(ctx); err != nil {
		return "", err
	}
	// A new build of one function: another zip, under its own MD5.
	bin, err := os.ReadFile(filepath.Join(lambdaDir, sam.Kebab(changedFunction), "bootstrap"))
	if err != nil {
		return "", err
	}
	zipped, err := zipBootstrap(append(bin, []byte("\nrelease 2")...))
	if err != nil {
		return "", err
	}
	sum := md5.Sum(zipped)
	key := hex.EncodeToString(sum[:])
	s := s3.NewFromConfig(r.cfg, func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := s.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(r.bucket()), Key: &key, Body: bytes.NewReader(zipped)}); err != nil {
		return "", err
	}
	codeURIs := maps.Clone(r.codeURIs)
	codeURIs[changedFunction] = "s3://" + r.bucket() + "/" + key
	oldVersions := r.transformed.OfType("AWS::Lambda::Version")
	if r.transformed, err = sam.Transform(template, codeURIs); err != nil {
		return "", err
	}
	r.all = nil
	r.aliases = aliasesOf(r.transformed)
	old, _ := strconv.Atoi(r.params[changedParameter])
	r.params[changedParameter] = strconv.Itoa(old + 2)
	url, err := r.upload(ctx, "template-update")
	if err != nil {
		return "", err
	}
	codeBefore, err := r.codeSha(ctx, changedFunction)
	if err != nil {
		return "", err
	}
	if _, err := r.cloudFormation().UpdateStack(ctx, &cloudformation.UpdateStackInput{StackName: &r.stack, TemplateURL: &url,
		Parameters: r.parameters(), Capabilities: capabilities}); err != nil {
		return "", fmt.Errorf("update stack: %w", err)
	}
	if err := r.wait(ctx, cftypes.StackStatusUpdateComplete); err != nil {
		return "", err
	}
	if r.physical, err = r.describe(ctx); err != nil {
		return "", err
	}
	for _, id := range stateful {
		c.equal(id+" kept through the update (not replaced)", r.physical[id], before[id])
	}
	if err := r.dataKept(ctx, c, "through the update"); err != nil {
		return "", err
	}
	// The new version: the transform named it after the new code.
	newVersions := r.transformed.OfType("AWS::Lambda::Version")
	added := slices.DeleteFunc(slices.Clone(newVersions), func(v string) bool { return slices.Contains(oldVersions, v) })
	c.equal("the update's new versions", fmt.Sprint(added), fmt.Sprintf("[%s]", r.versionOf(changedFunction)))
	codeAfter, err := r.codeSha(ctx, changedFunction)
	if err != nil {
		return "", err
	}
	c.equal(changedFunction+" runs its new code", codeAfter != codeBefore, true)
	for _, f := range r.tmpl.Functions() {
		cfg, err := r.function(ctx, f.LogicalID)
		if err != nil {
			return "", err
		}
		c.equal(f.LogicalID+" reads the new "+changedParameter, fmt.Sprint(cfg.Environment.Variables["WEBHOOK_TIMEOUT_SECONDS"]), r.params[changedParameter])
	}
	return fmt.Sprintf("%s %d → %s and %s's code changed: %d stateful resources (tables, buckets, keys, queues) kept, none replaced, every record and object still there; %d new version",
		changedParameter, old, r.params[changedParameter], changedFunction, len(stateful), len(added)), nil
}

// writeData puts a record in every table and an object in every bucket,
// as a deployment that ran has: what the rehearsals then look for.
func (r *rehearsal) writeData(ctx context.Context) error {
	db, s := dynamodb.NewFromConfig(r.cfg), s3.NewFromConfig(r.cfg, func(o *s3.Options) { o.UsePathStyle = true })
	for _, id := range r.transformed.OfType("AWS::DynamoDB::Table") {
		item, err := r.rehearsalKey(ctx, db, id)
		if err != nil {
			return err
		}
		item["note"] = &ddbtypes.AttributeValueMemberS{Value: "a citizen's data"}
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(r.physical[id]), Item: item}); err != nil {
			return fmt.Errorf("%s: %w", id, err)
		}
	}
	for _, id := range r.transformed.OfType("AWS::S3::Bucket") {
		if _, err := s.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(r.physical[id]), Key: aws.String("rehearsal/kept"),
			Body: bytes.NewReader([]byte("a citizen's document"))}); err != nil {
			return fmt.Errorf("%s: %w", id, err)
		}
	}
	return nil
}

// rehearsalKey is the key of the rehearsal's record in a table, of the
// table's own key schema.
func (r *rehearsal) rehearsalKey(ctx context.Context, db *dynamodb.Client, id string) (map[string]ddbtypes.AttributeValue, error) {
	out, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(r.physical[id])})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", id, err)
	}
	types := map[string]ddbtypes.ScalarAttributeType{}
	for _, a := range out.Table.AttributeDefinitions {
		types[aws.ToString(a.AttributeName)] = a.AttributeType
	}
	key := map[string]ddbtypes.AttributeValue{}
	for _, k := range out.Table.KeySchema {
		name := aws.ToString(k.AttributeName)
		if types[name] == ddbtypes.ScalarAttributeTypeN {
			key[name] = &ddbtypes.AttributeValueMemberN{Value: "1"}
		} else {
			key[name] = &ddbtypes.AttributeValueMemberS{Value: "REHEARSAL#kept"}
		}
	}
	return key, nil
}

// dataKept checks that the rehearsal's record and object are still there.
func (r *rehearsal) dataKept(ctx context.Context, c *checker, when string) error {
	db, s := dynamodb.NewFromConfig(r.cfg), s3.NewFromConfig(r.cfg, func(o *s3.Options) { o.UsePathStyle = true })
	for _, id := range r.transformed.OfType("AWS::DynamoDB::Table") {
		key, err := r.rehearsalKey(ctx, db, id)
		if err != nil {
			c.failf("%s %s: %v", id, when, err)
			continue
		}
		out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(r.physical[id]), Key: key, ConsistentRead: aws.Bool(true)})
		c.equal(id+" keeps its data "+when, err == nil && out.Item["note"] != nil, true)
	}
	for _, id := range r.transformed.OfType("AWS::S3::Bucket") {
		_, err := s.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(r.physical[id]), Key: aws.String("rehearsal/kept")})
		c.equal(id+" keeps its objects "+when, err == nil, true)
	}
	return nil
}

// statefulIDs are the logical ids of the stack's stateful resources.
func (r *rehearsal) statefulIDs() []string {
	var ids []string
	for _, typ := range statefulTypes {
		ids = append(ids, r.transformed.OfType(typ)...)
	}
	return ids
}

// versionOf is the logical id of a function's version resource.
func (r *rehearsal) versionOf(function string) string {
	for _, id := range r.transformed.OfType("AWS::Lambda::Version") {
		if refTo(props(r.transformed.Resources()[id])["FunctionName"]) == function {
			return id
		}
	}
	return ""
}

func (r *rehearsal) codeSha(ctx context.Context, function string) (string, error) {
	cfg, err := r.function(ctx, function)
	return cfg.CodeSha256, err
}

// rehearseDeletion deletes the stack, as sam delete (or a mistake) would,
// and checks that every table, bucket and KMS key is still there, with the
// data written to it, while the rest went with the stack.
func (r *rehearsal) rehearseDeletion(ctx context.Context, c *checker) (string, error) {
	k := kms.NewFromConfig(r.cfg)
	tables, buckets, keys := r.transformed.OfType("AWS::DynamoDB::Table"), r.transformed.OfType("AWS::S3::Bucket"), r.transformed.OfType("AWS::KMS::Key")
	// The policies that keep them (also TestStatefulResourcesSurvive's).
	for _, id := range slices.Concat(tables, buckets, keys) {
		res := r.transformed.Resources()[id]
		c.equal(id+" policies", fmt.Sprint(res["DeletionPolicy"], " ", res["UpdateReplacePolicy"]), "Retain Retain")
		if r.typeOf(id) == "AWS::DynamoDB::Table" {
			c.equal(id+" deletion protection", props(res)["DeletionProtectionEnabled"], true)
		}
	}
	if _, err := r.cloudFormation().DeleteStack(ctx, &cloudformation.DeleteStackInput{StackName: &r.stack}); err != nil {
		// moto refuses at once what CloudFormation would fail on: a table
		// with deletion protection but no DeletionPolicy Retain.
		return "", fmt.Errorf("delete stack: %w%s", err, r.failedEvents(ctx, r.cloudFormation()))
	}
	if err := r.wait(ctx, cftypes.StackStatusDeleteComplete); err != nil {
		return "", err
	}
	if err := r.dataKept(ctx, c, "when the stack was deleted"); err != nil {
		return "", err
	}
	listed := map[string]bool{}
	p := kms.NewListKeysPaginator(k, &kms.ListKeysInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return "", err
		}
		for _, key := range page.Keys {
			listed[aws.ToString(key.KeyId)] = true
		}
	}
	for _, id := range keys {
		c.equal(id+" kept when the stack was deleted", listed[r.physical[id]], true)
	}
	// What is not data went: the stack really was deleted.
	gone := 0
	for _, f := range r.tmpl.Functions() {
		_, err := r.function(ctx, f.LogicalID)
		c.equal(f.LogicalID+" deleted with the stack", err != nil && strings.Contains(err.Error(), "404"), true)
		gone++
	}
	queues := r.transformed.OfType("AWS::SQS::Queue")
	for _, id := range queues {
		_, err := sqs.NewFromConfig(r.cfg).GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(queue.QueueName(r.physical[id]))})
		c.equal(id+" deleted with the stack", err != nil, true)
		gone++
	}
	return fmt.Sprintf("DeletionPolicy and UpdateReplacePolicy Retain on %d tables (with deletion protection), %d buckets and %d KMS keys; "+
		"stack deleted: every one kept, tables with their records and buckets with their objects; %d functions and queues gone with it",
		len(tables), len(buckets), len(keys), gone), nil
}
