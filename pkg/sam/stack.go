package sam

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// Stack is the template's tables, queues, topics, SES configuration sets,
// buckets and KMS keys created on an AWS endpoint (the emulator), with what
// their references resolve to.
type Stack struct {
	Name    string
	Region  string
	Account string
	Params  map[string]string
	// Refs maps a logical id to what Ref returns; Attrs maps "Id.Attr" to
	// what GetAtt returns.
	Refs  map[string]string
	Attrs map[string]string
}

// Provision creates every DynamoDB table, SQS queue, SNS topic (with its
// SQS subscriptions) and SES configuration set of t, named
// "<stack>-<LogicalId>" unless the template names them; existing ones are
// kept. params override defaults.
func Provision(ctx context.Context, cfg aws.Config, t *Template, name string, params map[string]string) (*Stack, error) {
	s := &Stack{Name: name, Region: cfg.Region, Account: "123456789012", Params: map[string]string{},
		Refs: map[string]string{}, Attrs: map[string]string{}}
	for p := range t.Parameters {
		s.Params[p] = t.ParameterDefault(p)
		if v, ok := params[p]; ok {
			s.Params[p] = v
		}
		s.Refs[p] = s.Params[p]
	}
	db := dynamodb.NewFromConfig(cfg)
	for _, id := range t.OfType("AWS::DynamoDB::Table") {
		if err := s.createTable(ctx, db, id, t.Resources[id].Properties); err != nil {
			return nil, fmt.Errorf("table %s: %w", id, err)
		}
	}
	q := sqs.NewFromConfig(cfg)
	ids := t.OfType("AWS::SQS::Queue")
	// Dead-letter queues first: the others' redrive policies name them.
	for _, pass := range []bool{false, true} {
		for _, id := range ids {
			props := t.Resources[id].Properties
			if _, redrive := props["RedrivePolicy"]; redrive != pass {
				continue
			}
			if err := s.createQueue(ctx, q, id, props); err != nil {
				return nil, fmt.Errorf("queue %s: %w", id, err)
			}
		}
	}
	if err := s.createNotifications(ctx, cfg, t); err != nil {
		return nil, err
	}
	if err := s.createBuckets(ctx, cfg, t); err != nil {
		return nil, err
	}
	if err := s.createKeys(ctx, cfg, t); err != nil {
		return nil, err
	}
	return s, nil
}

// createKeys creates the KMS keys with their key spec and usage, each
// named by an alias "alias/<stack>-<LogicalId>": a key with the alias
// already (an emulator that outlives a run) is kept, so what it signed
// still verifies.
func (s *Stack) createKeys(ctx context.Context, cfg aws.Config, t *Template) error {
	ids := t.OfType("AWS::KMS::Key")
	if len(ids) == 0 {
		return nil
	}
	c := kms.NewFromConfig(cfg)
	aliases := map[string]string{}
	p := kms.NewListAliasesPaginator(c, &kms.ListAliasesInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list key aliases: %w", err)
		}
		for _, a := range page.Aliases {
			aliases[aws.ToString(a.AliasName)] = aws.ToString(a.TargetKeyId)
		}
	}
	for _, id := range ids {
		props := t.Resources[id].Properties
		alias := "alias/" + s.physical(id)
		key := aliases[alias]
		if key == "" {
			out, err := c.CreateKey(ctx, &kms.CreateKeyInput{KeySpec: kmstypes.KeySpec(s.Resolve(props["KeySpec"])),
				KeyUsage: kmstypes.KeyUsageType(s.Resolve(props["KeyUsage"])), Description: aws.String(s.Resolve(props["Description"]))})
			if err != nil {
				return fmt.Errorf("key %s: %w", id, err)
			}
			key = aws.ToString(out.KeyMetadata.KeyId)
			if _, err := c.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: &alias, TargetKeyId: &key}); err != nil {
				return fmt.Errorf("key %s alias: %w", id, err)
			}
		}
		s.Refs[id] = key
		s.Attrs[id+".KeyId"] = key
		s.Attrs[id+".Arn"] = fmt.Sprintf("arn:aws:kms:%s:%s:key/%s", s.Region, s.Account, key)
	}
	return nil
}

// createNotifications creates the SNS topics, their SQS subscriptions and
// the SES configuration sets. SES's event destinations are not created: the
// emulator has no SES event publishing, and the tests publish SES's events
// to the topic themselves.
func (s *Stack) createNotifications(ctx context.Context, cfg aws.Config, t *Template) error {
	c := sns.NewFromConfig(cfg)
	for _, id := range t.OfType("AWS::SNS::Topic") {
		out, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(s.physical(id))})
		if err != nil {
			return fmt.Errorf("topic %s: %w", id, err)
		}
		s.Refs[id] = aws.ToString(out.TopicArn)
		s.Attrs[id+".TopicArn"] = aws.ToString(out.TopicArn)
		s.Attrs[id+".TopicName"] = s.physical(id)
	}
	for _, id := range t.OfType("AWS::SNS::Subscription") {
		p := t.Resources[id].Properties
		attrs := map[string]string{}
		if raw := fmt.Sprint(p["RawMessageDelivery"]); raw == "true" {
			attrs["RawMessageDelivery"] = "true"
		}
		_, err := c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(s.Resolve(p["TopicArn"])), Protocol: aws.String(s.Resolve(p["Protocol"])),
			Endpoint: aws.String(s.Resolve(p["Endpoint"])), Attributes: attrs})
		if err != nil {
			return fmt.Errorf("subscription %s: %w", id, err)
		}
	}
	e := sesv2.NewFromConfig(cfg)
	for _, id := range t.OfType("AWS::SES::ConfigurationSet") {
		name := s.Resolve(t.Resources[id].Properties["Name"])
		if name == "" {
			name = s.physical(id)
		}
		_, err := e.CreateConfigurationSet(ctx, &sesv2.CreateConfigurationSetInput{ConfigurationSetName: &name})
		var exists *sestypes.AlreadyExistsException
		if err != nil && !errors.As(err, &exists) {
			return fmt.Errorf("configuration set %s: %w", id, err)
		}
		s.Refs[id] = name
	}
	return nil
}

func (s *Stack) physical(id string) string { return s.Name + "-" + id }

// createBuckets creates the S3 buckets, named "<stack>-<logicalid>" in
// lower case as CloudFormation would; existing ones are kept. Versioning
// and Object Lock (its default retention) are applied as declared, since
// the functions rely on them; encryption and lifecycle rules are the
// deployment's.
func (s *Stack) createBuckets(ctx context.Context, cfg aws.Config, t *Template) error {
	c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	for _, id := range t.OfType("AWS::S3::Bucket") {
		p := t.Resources[id].Properties
		name := strings.ToLower(s.physical(id))
		locked := fmt.Sprint(p["ObjectLockEnabled"]) == "true"
		_, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &name, ObjectLockEnabledForBucket: aws.Bool(locked),
			CreateBucketConfiguration: &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(s.Region)}})
		var owned *s3types.BucketAlreadyOwnedByYou
		if err != nil && !errors.As(err, &owned) {
			return fmt.Errorf("bucket %s: %w", id, err)
		}
		if fmt.Sprint(asMap(p["VersioningConfiguration"])["Status"]) == "Enabled" && !locked {
			_, err = c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: &name,
				VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}})
			if err != nil {
				return fmt.Errorf("bucket %s versioning: %w", id, err)
			}
		}
		if lock := asMap(asMap(asMap(p["ObjectLockConfiguration"])["Rule"])["DefaultRetention"]); locked && len(lock) > 0 {
			years, _ := strconv.Atoi(s.Resolve(lock["Years"]))
			days, _ := strconv.Atoi(s.Resolve(lock["Days"]))
			r := &s3types.DefaultRetention{Mode: s3types.ObjectLockRetentionMode(s.Resolve(lock["Mode"]))}
			if years > 0 {
				r.Years = aws.Int32(int32(years))
			} else {
				r.Days = aws.Int32(int32(days))
			}
			_, err = c.PutObjectLockConfiguration(ctx, &s3.PutObjectLockConfigurationInput{Bucket: &name,
				ObjectLockConfiguration: &s3types.ObjectLockConfiguration{ObjectLockEnabled: s3types.ObjectLockEnabledEnabled,
					Rule: &s3types.ObjectLockRule{DefaultRetention: r}}})
			if err != nil {
				return fmt.Errorf("bucket %s object lock: %w", id, err)
			}
		}
		s.Refs[id] = name
		s.Attrs[id+".Arn"] = "arn:aws:s3:::" + name
	}
	return nil
}

func (s *Stack) createTable(ctx context.Context, db *dynamodb.Client, id string, p map[string]any) error {
	name := s.physical(id)
	in := &dynamodb.CreateTableInput{TableName: &name, BillingMode: ddbtypes.BillingModePayPerRequest}
	for _, a := range list(p["AttributeDefinitions"]) {
		m := asMap(a)
		in.AttributeDefinitions = append(in.AttributeDefinitions, ddbtypes.AttributeDefinition{
			AttributeName: aws.String(fmt.Sprint(m["AttributeName"])), AttributeType: ddbtypes.ScalarAttributeType(fmt.Sprint(m["AttributeType"]))})
	}
	in.KeySchema = keySchema(p["KeySchema"])
	for _, g := range list(p["GlobalSecondaryIndexes"]) {
		m := asMap(g)
		proj := &ddbtypes.Projection{ProjectionType: ddbtypes.ProjectionType(fmt.Sprint(asMap(m["Projection"])["ProjectionType"]))}
		for _, a := range list(asMap(m["Projection"])["NonKeyAttributes"]) {
			proj.NonKeyAttributes = append(proj.NonKeyAttributes, fmt.Sprint(a))
		}
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, ddbtypes.GlobalSecondaryIndex{
			IndexName: aws.String(fmt.Sprint(m["IndexName"])), KeySchema: keySchema(m["KeySchema"]), Projection: proj})
	}
	_, err := db.CreateTable(ctx, in)
	var inUse *ddbtypes.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return err
	}
	if ttl := asMap(p["TimeToLiveSpecification"]); len(ttl) > 0 && err == nil {
		_, err = db.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: &name,
			TimeToLiveSpecification: &ddbtypes.TimeToLiveSpecification{AttributeName: aws.String(fmt.Sprint(ttl["AttributeName"])), Enabled: aws.Bool(true)}})
		if err != nil {
			return err
		}
	}
	s.Refs[id] = name
	s.Attrs[id+".Arn"] = fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s", s.Region, s.Account, name)
	return nil
}

func keySchema(v any) []ddbtypes.KeySchemaElement {
	var out []ddbtypes.KeySchemaElement
	for _, k := range list(v) {
		m := asMap(k)
		out = append(out, ddbtypes.KeySchemaElement{AttributeName: aws.String(fmt.Sprint(m["AttributeName"])),
			KeyType: ddbtypes.KeyType(fmt.Sprint(m["KeyType"]))})
	}
	return out
}

func (s *Stack) createQueue(ctx context.Context, q *sqs.Client, id string, p map[string]any) error {
	attrs := map[string]string{}
	for prop, attr := range map[string]sqstypes.QueueAttributeName{
		"VisibilityTimeout": sqstypes.QueueAttributeNameVisibilityTimeout, "MessageRetentionPeriod": sqstypes.QueueAttributeNameMessageRetentionPeriod,
		"DelaySeconds": sqstypes.QueueAttributeNameDelaySeconds, "ReceiveMessageWaitTimeSeconds": sqstypes.QueueAttributeNameReceiveMessageWaitTimeSeconds,
	} {
		if v, ok := p[prop]; ok {
			attrs[string(attr)] = fmt.Sprint(v)
		}
	}
	if rp := asMap(p["RedrivePolicy"]); len(rp) > 0 {
		n, _ := strconv.Atoi(fmt.Sprint(rp["maxReceiveCount"]))
		b, _ := json.Marshal(map[string]any{"deadLetterTargetArn": s.Resolve(rp["deadLetterTargetArn"]), "maxReceiveCount": n})
		attrs[string(sqstypes.QueueAttributeNameRedrivePolicy)] = string(b)
	}
	name := s.physical(id)
	out, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: &name, Attributes: attrs})
	if err != nil {
		return err
	}
	s.Refs[id] = aws.ToString(out.QueueUrl)
	s.Attrs[id+".Arn"] = fmt.Sprintf("arn:aws:sqs:%s:%s:%s", s.Region, s.Account, name)
	s.Attrs[id+".QueueName"] = name
	return nil
}

func list(v any) []any { l, _ := v.([]any); return l }

var subVar = regexp.MustCompile(`\$\{([A-Za-z0-9:.]+)\}`)

// Resolve evaluates Ref, GetAtt and Sub against the stack; other values are
// returned as strings.
func (s *Stack) Resolve(v any) string {
	m := asMap(v)
	if r, ok := m["Ref"].(string); ok {
		return s.ref(r)
	}
	if ga, ok := m["Fn::GetAtt"].([]any); ok && len(ga) == 2 {
		return s.Attrs[fmt.Sprint(ga[0])+"."+fmt.Sprint(ga[1])]
	}
	if sub, ok := m["Fn::Sub"].(string); ok {
		return subVar.ReplaceAllStringFunc(sub, func(x string) string {
			name := x[2 : len(x)-1]
			if v, ok := s.Attrs[name]; ok {
				return v
			}
			return s.ref(name)
		})
	}
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

func (s *Stack) ref(name string) string {
	switch name {
	case "AWS::Region":
		return s.Region
	case "AWS::AccountId":
		return s.Account
	case "AWS::StackName":
		return s.Name
	case "AWS::Partition":
		return "aws"
	case "AWS::URLSuffix":
		return "amazonaws.com"
	}
	if v, ok := s.Refs[name]; ok {
		return v
	}
	return "local" // a resource the local stack does not create (the API)
}

// Env resolves a function's environment variables.
func (s *Stack) Env(f Function) map[string]string {
	env := map[string]string{}
	for k, v := range f.Env {
		env[k] = s.Resolve(v)
	}
	return env
}
