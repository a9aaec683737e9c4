package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	apigw "github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/digital-citizenship/functions/pkg/sam"
)

// Gaps are what moto's CloudFormation does not create or does not apply,
// with the reason; the rehearsal checks each in the transformed template
// instead. docs/deploy.md lists them.
var (
	// resource types moto's CloudFormation skips.
	gapTypes = map[string]string{
		"AWS::CloudWatch::Alarm":                     "moto's CloudFormation has no alarm resource",
		"AWS::ApiGateway::Stage":                     "moto creates the stage from the deployment's StageName only",
		"AWS::ApiGateway::UsagePlan":                 "moto's CloudFormation has no usage plan resource",
		"AWS::SQS::QueuePolicy":                      "moto's CloudFormation has no queue policy resource",
		"AWS::SNS::Subscription":                     "moto's CloudFormation has no subscription resource",
		"AWS::SNS::TopicPolicy":                      "moto's CloudFormation has no topic policy resource",
		"AWS::SES::ConfigurationSet":                 "moto's CloudFormation has no SES resources",
		"AWS::SES::ConfigurationSetEventDestination": "moto's CloudFormation has no SES resources",
		"AWS::Lambda::Alias":                         "moto's CloudFormation has no alias resource: in moto, what calls an alias calls its function",
		"AWS::CodeDeploy::Application":               "moto's CloudFormation has no CodeDeploy resources",
		"AWS::CodeDeploy::DeploymentGroup":           "moto's CloudFormation has no CodeDeploy resources",
	}
	// properties moto's CloudFormation ignores, by resource type.
	gapProperties = map[string][]string{
		"AWS::Lambda::Function": {"Architectures", "TracingConfig"},
		"AWS::IAM::Role":        {"ManagedPolicyArns"},
		"AWS::DynamoDB::Table":  {"TimeToLiveSpecification", "PointInTimeRecoverySpecification", "SSESpecification"},
		"AWS::S3::Bucket": {"LifecycleConfiguration", "PublicAccessBlockConfiguration", "OwnershipControls", "VersioningConfiguration",
			"ObjectLockConfiguration"},
		"AWS::ApiGateway::RestApi": {"Body: the authorizer and the gateway responses"},
	}
)

// check runs every check and returns them all failed at once, if any.
func (r *rehearsal) check(ctx context.Context) error {
	c := &checker{r: r}
	resources := r.resources()
	for _, id := range slices.Sorted(maps.Keys(resources)) {
		typ := fmt.Sprint(resources[id]["Type"])
		c.references(id, resources[id])
		if _, gap := gapTypes[typ]; gap {
			r.fromTemplate++
			continue
		}
		if _, ok := r.physical[id]; !ok {
			c.failf("%s (%s) was not created", id, typ)
			continue
		}
		r.created++
	}
	// CloudFormation refuses a stack of more than 500 resources (counted
	// after the transform): the alarms are a nested stack for that.
	c.equal("the main stack's resources within CloudFormation's 500", len(r.transformed.Resources()) <= 500, true)
	for _, step := range []func(context.Context, *checker) error{
		r.checkFunctions, r.checkRoles, r.checkTables, r.checkQueues, r.checkMappings, r.checkSchedules,
		r.checkBucket, r.checkKeys, r.checkTopics, r.checkDashboards, r.checkAPI, r.checkGaps, r.checkDeployments,
	} {
		if err := step(ctx, c); err != nil {
			return err
		}
	}
	if len(c.failures) > 0 {
		return fmt.Errorf("%d checks failed:\n  %s", len(c.failures), strings.Join(c.failures, "\n  "))
	}
	var gaps []string
	for typ, reason := range gapTypes {
		gaps = append(gaps, typ+" ("+reason+")")
	}
	for typ, props := range gapProperties {
		gaps = append(gaps, typ+" "+strings.Join(props, ", ")+" (not applied by moto's CloudFormation)")
	}
	sort.Strings(gaps)
	fmt.Fprintf(r.out, "deploy-check: checked in the transformed template instead of moto: %s\n", strings.Join(gaps, "; "))
	return nil
}

// checker collects failures and counts checks.
type checker struct {
	r        *rehearsal
	failures []string
}

func (c *checker) failf(format string, args ...any) {
	c.failures = append(c.failures, fmt.Sprintf(format, args...))
}

// equal checks that got is want, numbers compared by value (JSON gives
// the template's as float64).
func (c *checker) equal(what string, got, want any) {
	c.r.checks++
	if norm(got) != norm(want) {
		c.failf("%s: %v, want %v", what, norm(got), norm(want))
	}
}

func norm(v any) string {
	if f, ok := v.(float64); ok {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

// expect resolves a template value to what CloudFormation makes of it, as
// far as the rehearsal can tell: literals, parameters, pseudo parameters and
// Ref to created resources (ok is false for anything else).
func (r *rehearsal) expect(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case float64, bool:
		return fmt.Sprint(x), true
	case map[string]any:
		id, ok := x["Ref"].(string)
		if !ok {
			return "", false
		}
		switch id {
		case "AWS::Region":
			return r.cfg.Region, true
		case "AWS::AccountId":
			return "123456789012", true
		case "AWS::StackName":
			return r.stack, true
		case "AWS::Partition":
			return "aws", true
		}
		if p, ok := r.params[id]; ok {
			return p, true
		}
		p, ok := r.physical[id]
		return p, ok && p != ""
	}
	return "", false
}

func props(res map[string]any) map[string]any { m, _ := res["Properties"].(map[string]any); return m }

func (r *rehearsal) checkFunctions(ctx context.Context, c *checker) error {
	l, i := lambda.NewFromConfig(r.cfg), iam.NewFromConfig(r.cfg)
	resources := r.transformed.Resources()
	for _, id := range r.transformed.OfType("AWS::Lambda::Function") {
		p := props(resources[id])
		cfg, err := r.function(ctx, id)
		if err != nil {
			return err
		}
		c.equal(id+" runtime", cfg.Runtime, p["Runtime"])
		c.equal(id+" handler", cfg.Handler, p["Handler"])
		c.equal(id+" memory", cfg.MemorySize, p["MemorySize"])
		c.equal(id+" timeout", cfg.Timeout, p["Timeout"])
		c.equal(id+" architectures (template)", p["Architectures"], []any{"arm64"})
		c.equal(id+" tracing (template)", p["TracingConfig"], map[string]any{"Mode": "Active"})
		role, err := i.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(r.physical[refTo(p["Role"])])})
		if err != nil {
			return fmt.Errorf("role of %s: %w", id, err)
		}
		c.equal(id+" role", cfg.Role, aws.ToString(role.Role.Arn))
		vars, _ := p["Environment"].(map[string]any)["Variables"].(map[string]any)
		got := map[string]string{}
		for k, v := range cfg.Environment.Variables {
			got[k] = fmt.Sprint(v)
		}
		for _, k := range slices.Sorted(maps.Keys(vars)) {
			want, ok := r.expect(vars[k])
			switch {
			case ok:
				c.equal(id+" environment "+k, got[k], want)
			case gapTypes[r.typeOf(refTo(vars[k]))] != "":
				c.r.checks++ // a reference to a resource moto cannot create: present in the template
			default:
				c.equal(id+" environment "+k+" is set", got[k] != "", true)
			}
		}
		if rc, ok := p["ReservedConcurrentExecutions"]; ok {
			conc, err := l.GetFunctionConcurrency(ctx, &lambda.GetFunctionConcurrencyInput{FunctionName: aws.String(r.physical[id])})
			if err != nil {
				return err
			}
			c.equal(id+" reserved concurrency", aws.ToInt32(conc.ReservedConcurrentExecutions), rc)
		}
	}
	// Every permission is in its function's resource policy.
	policies := map[string]string{}
	for _, id := range r.transformed.OfType("AWS::Lambda::Permission") {
		p := props(resources[id])
		fn := r.functionOf(refTo(p["FunctionName"]))
		if _, ok := policies[fn]; !ok {
			out, err := l.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String(r.physical[fn])})
			if err != nil {
				return fmt.Errorf("policy of %s: %w", fn, err)
			}
			policies[fn] = aws.ToString(out.Policy)
		}
		c.equal(id+": "+fmt.Sprint(p["Principal"])+" may invoke "+fn, strings.Contains(policies[fn], fmt.Sprint(p["Principal"])), true)
	}
	return nil
}

// functionConfig is what the rehearsal reads of a function's configuration.
type functionConfig struct {
	FunctionArn, Runtime, Handler, Role string
	CodeSha256                          string
	MemorySize, Timeout                 int
	Environment                         struct{ Variables map[string]any }
}

// function reads a function's configuration with Lambda's API as plain
// HTTP: moto answers a Number parameter in an environment as a JSON number,
// which the SDK's strict decoder refuses.
func (r *rehearsal) function(ctx context.Context, id string) (functionConfig, error) {
	var f functionConfig
	body, err := r.raw(ctx, "lambda", "GET", "/2015-03-31/functions/"+url.PathEscape(r.physical[id])+"/configuration", nil)
	if err != nil {
		return f, fmt.Errorf("function %s: %w", id, err)
	}
	return f, json.Unmarshal(body, &f)
}

// raw sends one signed request to moto and returns the answer's body: for
// the calls the SDK cannot make to moto.
func (r *rehearsal) raw(ctx context.Context, service, method, path string, form url.Values) ([]byte, error) {
	payload := form.Encode()
	req, err := http.NewRequestWithContext(ctx, method, r.endpoint+path, strings.NewReader(payload))
	if err != nil {
		return nil, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	creds, err := r.cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return nil, err
	}
	hash := sha256.Sum256([]byte(payload))
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(hash[:]), service, r.cfg.Region, time.Now()); err != nil {
		return nil, err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err == nil && res.StatusCode != http.StatusOK {
		err = fmt.Errorf("%s: %.300s", res.Status, body)
	}
	return body, err
}

func (r *rehearsal) typeOf(id string) string {
	res, ok := r.resources()[id]
	if !ok {
		return ""
	}
	return fmt.Sprint(res["Type"])
}

// checkRoles compares each role's inline policies as created with the
// template's: the same actions and effects, and resources that name the
// created resources the template refers to.
func (r *rehearsal) checkRoles(ctx context.Context, c *checker) error {
	i := iam.NewFromConfig(r.cfg)
	resources := r.transformed.Resources()
	for _, id := range r.transformed.OfType("AWS::IAM::Role") {
		p := props(resources[id])
		name := r.physical[id]
		role, err := i.GetRole(ctx, &iam.GetRoleInput{RoleName: &name})
		if err != nil {
			return fmt.Errorf("role %s: %w", id, err)
		}
		trust, _ := url.QueryUnescape(aws.ToString(role.Role.AssumeRolePolicyDocument))
		managed, _ := p["ManagedPolicyArns"].([]any)
		if id == codeDeployRole { // SAM's, for CodeDeploy to shift the aliases
			c.equal(id+" trusts CodeDeploy", strings.Contains(trust, "codedeploy.amazonaws.com"), true)
			c.equal(id+" managed policies (template)", fmt.Sprint(managed), "[arn:aws:iam::aws:policy/service-role/AWSCodeDeployRoleForLambda]")
			continue
		}
		c.equal(id+" trusts Lambda", strings.Contains(trust, "lambda.amazonaws.com"), true)
		c.equal(id+" managed policies (template) include basic execution", slices.Contains(managed, any("arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")), true)
		inline, _ := p["Policies"].([]any)
		for _, pol := range inline {
			pm, _ := pol.(map[string]any)
			out, err := i.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: &name, PolicyName: aws.String(fmt.Sprint(pm["PolicyName"]))})
			if err != nil {
				c.failf("%s: policy %v not created: %v", id, pm["PolicyName"], err)
				continue
			}
			var got struct{ Statement []map[string]any }
			if err := policyDocument(aws.ToString(out.PolicyDocument), &got); err != nil {
				return fmt.Errorf("%s policy: %w", id, err)
			}
			want, _ := pm["PolicyDocument"].(map[string]any)["Statement"].([]any)
			if len(got.Statement) != len(want) {
				c.failf("%s: %d statements created, %d in the template", id, len(got.Statement), len(want))
				continue
			}
			for n, w := range want {
				wm, g := w.(map[string]any), got.Statement[n]
				what := fmt.Sprintf("%s statement %d", id, n)
				c.equal(what+" effect", g["Effect"], wm["Effect"])
				c.equal(what+" actions", strings.Join(list(g["Action"]), ","), strings.Join(list(wm["Action"]), ","))
				c.equal(what+" condition", fmt.Sprint(g["Condition"] != nil), fmt.Sprint(wm["Condition"] != nil))
				r.checkStatementResources(c, what, list(g["Resource"]), wm["Resource"])
			}
		}
	}
	return nil
}

// policyDocument decodes an IAM policy document as IAM's API gives it
// (URL-encoded JSON), or as moto gives one CloudFormation created (the
// Python literal of the document).
func policyDocument(doc string, v any) error {
	if u, err := url.QueryUnescape(doc); err == nil {
		doc = u
	}
	if err := json.Unmarshal([]byte(doc), v); err == nil {
		return nil
	}
	pythonic := strings.NewReplacer("'", `"`, "True", "true", "False", "false", "None", "null").Replace(doc)
	return json.Unmarshal([]byte(pythonic), v)
}

var subRef = regexp.MustCompile(`\$\{([A-Za-z0-9]+)(\.[A-Za-z]+)?\}`)

// checkStatementResources checks that the created statement's resources
// name what the template's refer to: a created resource's physical name,
// or (for a resource moto cannot create) the reference left as it was.
func (r *rehearsal) checkStatementResources(c *checker, what string, got []string, want any) {
	var refs []string
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case []any:
			for _, e := range x {
				walk(e)
			}
		case map[string]any:
			if id := refTo(x); id != "" {
				refs = append(refs, id)
			}
			if s, ok := x["Fn::Sub"].(string); ok {
				for _, m := range subRef.FindAllStringSubmatch(s, -1) {
					if _, ok := r.transformed.Resources()[m[1]]; ok {
						refs = append(refs, m[1])
					}
				}
			}
		}
	}
	walk(want)
	joined := strings.Join(got, " ")
	for _, id := range refs {
		c.r.checks++
		if gapTypes[r.typeOf(id)] != "" {
			continue // checked in the template: the resource is declared
		}
		name := r.physical[id]
		if i := strings.LastIndex(name, "/"); i >= 0 { // a queue's URL
			name = name[i+1:]
		}
		if name == "" || !strings.Contains(joined, name) {
			c.failf("%s: resources %v do not name %s (%s)", what, got, id, name)
		}
	}
	c.equal(what+" has resources", len(got) > 0, true)
}

func list(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		out := make([]string, len(x))
		for i, e := range x {
			out[i] = fmt.Sprint(e)
		}
		return out
	}
	return nil
}

func (r *rehearsal) checkTables(ctx context.Context, c *checker) error {
	d := dynamodb.NewFromConfig(r.cfg)
	for _, id := range r.transformed.OfType("AWS::DynamoDB::Table") {
		p := props(r.transformed.Resources()[id])
		out, err := d.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(r.physical[id])})
		if err != nil {
			return fmt.Errorf("table %s: %w", id, err)
		}
		t := out.Table
		var keys []string
		for _, k := range t.KeySchema {
			keys = append(keys, aws.ToString(k.AttributeName)+" "+string(k.KeyType))
		}
		c.equal(id+" key", strings.Join(keys, ", "), keySchema(p["KeySchema"]))
		c.equal(id+" billing", t.BillingModeSummary != nil && string(t.BillingModeSummary.BillingMode) == fmt.Sprint(p["BillingMode"]), true)
		var indexes []string
		for _, g := range t.GlobalSecondaryIndexes {
			var ks []string
			for _, k := range g.KeySchema {
				ks = append(ks, aws.ToString(k.AttributeName)+" "+string(k.KeyType))
			}
			indexes = append(indexes, aws.ToString(g.IndexName)+": "+strings.Join(ks, ", ")+" "+string(g.Projection.ProjectionType)+
				fmt.Sprint(g.Projection.NonKeyAttributes))
		}
		var wantIndexes []string
		for _, g := range anyList(p["GlobalSecondaryIndexes"]) {
			gm := g.(map[string]any)
			proj := gm["Projection"].(map[string]any)
			var nonKey []string
			for _, a := range anyList(proj["NonKeyAttributes"]) {
				nonKey = append(nonKey, fmt.Sprint(a))
			}
			wantIndexes = append(wantIndexes, fmt.Sprint(gm["IndexName"])+": "+keySchema(gm["KeySchema"])+" "+
				fmt.Sprint(proj["ProjectionType"])+fmt.Sprint(nonKey))
		}
		c.equal(id+" indexes", strings.Join(indexes, "; "), strings.Join(wantIndexes, "; "))
		c.equal(id+" stream (none declared)", t.StreamSpecification == nil || !aws.ToBool(t.StreamSpecification.StreamEnabled), p["StreamSpecification"] == nil)
		if ttl, ok := p["TimeToLiveSpecification"].(map[string]any); ok {
			c.equal(id+" TTL (template)", fmt.Sprint(ttl["AttributeName"], " ", ttl["Enabled"]), "expires_at true")
		}
		c.equal(id+" encryption (template)", fmt.Sprint(p["SSESpecification"]), "map[SSEEnabled:true]")
		c.equal(id+" point-in-time recovery (template)", fmt.Sprint(p["PointInTimeRecoverySpecification"]), "map[PointInTimeRecoveryEnabled:true]")
	}
	return nil
}

func keySchema(v any) string {
	var ks []string
	for _, k := range anyList(v) {
		km := k.(map[string]any)
		ks = append(ks, fmt.Sprint(km["AttributeName"])+" "+fmt.Sprint(km["KeyType"]))
	}
	return strings.Join(ks, ", ")
}

func anyList(v any) []any { l, _ := v.([]any); return l }

func (r *rehearsal) checkQueues(ctx context.Context, c *checker) error {
	q := sqs.NewFromConfig(r.cfg)
	arns := map[string]string{}
	attrs := map[string]map[string]string{}
	ids := r.transformed.OfType("AWS::SQS::Queue")
	for _, id := range ids {
		out, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(r.physical[id]),
			AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll}})
		if err != nil {
			return fmt.Errorf("queue %s: %w", id, err)
		}
		attrs[id], arns[id] = out.Attributes, out.Attributes["QueueArn"]
	}
	for _, id := range ids {
		p := props(r.transformed.Resources()[id])
		for _, a := range []string{"VisibilityTimeout", "MessageRetentionPeriod", "SqsManagedSseEnabled"} {
			if v, ok := p[a]; ok {
				c.equal(id+" "+a, attrs[id][a], v)
			}
		}
		if rp, ok := p["RedrivePolicy"].(map[string]any); ok {
			var got struct {
				DeadLetterTargetArn string `json:"deadLetterTargetArn"`
				MaxReceiveCount     int    `json:"maxReceiveCount"`
			}
			_ = json.Unmarshal([]byte(attrs[id]["RedrivePolicy"]), &got)
			c.equal(id+" dead-letter queue", got.DeadLetterTargetArn, arns[refTo(rp["deadLetterTargetArn"])])
			c.equal(id+" receives before the dead-letter queue", got.MaxReceiveCount, rp["maxReceiveCount"])
		}
	}
	r.queueARNs = arns
	return nil
}

func (r *rehearsal) checkMappings(ctx context.Context, c *checker) error {
	l := lambda.NewFromConfig(r.cfg)
	for _, id := range r.transformed.OfType("AWS::Lambda::EventSourceMapping") {
		p := props(r.transformed.Resources()[id])
		m, err := l.GetEventSourceMapping(ctx, &lambda.GetEventSourceMappingInput{UUID: aws.String(r.physical[id])})
		if err != nil {
			return fmt.Errorf("mapping %s: %w", id, err)
		}
		fn, err := r.function(ctx, r.functionOf(refTo(p["FunctionName"])))
		if err != nil {
			return err
		}
		c.equal(id+" function", aws.ToString(m.FunctionArn), fn.FunctionArn)
		c.equal(id+" queue", aws.ToString(m.EventSourceArn), r.queueARNs[refTo(p["EventSourceArn"])])
		c.equal(id+" batch size", aws.ToInt32(m.BatchSize), orDefault(p["BatchSize"], 10))
		c.equal(id+" partial batch failures", fmt.Sprint(m.FunctionResponseTypes), "[ReportBatchItemFailures]")
		if w, ok := p["MaximumBatchingWindowInSeconds"]; ok {
			c.equal(id+" batching window", aws.ToInt32(m.MaximumBatchingWindowInSeconds), w)
		}
		if sc, ok := p["ScalingConfig"].(map[string]any); ok {
			got := int32(0)
			if m.ScalingConfig != nil {
				got = aws.ToInt32(m.ScalingConfig.MaximumConcurrency)
			}
			want := sc["MaximumConcurrency"]
			if ref := refTo(want); ref != "" { // a parameter (BulkEmailConcurrency)
				want = r.params[ref]
			}
			c.equal(id+" maximum concurrency", got, want)
		}
	}
	return nil
}

func (r *rehearsal) checkSchedules(ctx context.Context, c *checker) error {
	e := eventbridge.NewFromConfig(r.cfg)
	for _, id := range r.transformed.OfType("AWS::Events::Rule") {
		p := props(r.transformed.Resources()[id])
		rule, err := e.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String(r.physical[id])})
		if err != nil {
			return fmt.Errorf("rule %s: %w", id, err)
		}
		c.equal(id+" schedule", aws.ToString(rule.ScheduleExpression), p["ScheduleExpression"])
		targets, err := e.ListTargetsByRule(ctx, &eventbridge.ListTargetsByRuleInput{Rule: aws.String(r.physical[id])})
		if err != nil {
			return err
		}
		for n, t := range anyList(p["Targets"]) {
			fn, err := r.function(ctx, r.functionOf(refTo(t.(map[string]any)["Arn"])))
			if err != nil {
				return err
			}
			c.equal(fmt.Sprintf("%s target %d", id, n), len(targets.Targets) > n && aws.ToString(targets.Targets[n].Arn) == fn.FunctionArn, true)
		}
	}
	return nil
}

func (r *rehearsal) checkBucket(ctx context.Context, c *checker) error {
	s := s3.NewFromConfig(r.cfg, func(o *s3.Options) { o.UsePathStyle = true })
	for _, id := range r.transformed.OfType("AWS::S3::Bucket") {
		p := props(r.transformed.Resources()[id])
		enc, err := s.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String(r.physical[id])})
		if err != nil {
			return fmt.Errorf("bucket %s: %w", id, err)
		}
		algo := ""
		if rules := enc.ServerSideEncryptionConfiguration.Rules; len(rules) > 0 && rules[0].ApplyServerSideEncryptionByDefault != nil {
			algo = string(rules[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm)
		}
		c.equal(id+" encryption", algo, "AES256")
		c.equal(id+" public access blocked (template)", fmt.Sprint(p["PublicAccessBlockConfiguration"]),
			"map[BlockPublicAcls:true BlockPublicPolicy:true IgnorePublicAcls:true RestrictPublicBuckets:true]")
		// The archives of downloads expire after 7 days; the documents stay
		// as long as their messages (the erasure deletes them).
		lifecycle, _ := p["LifecycleConfiguration"].(map[string]any)
		rules := anyList(lifecycle["Rules"])
		versioned := fmt.Sprint(p["VersioningConfiguration"]) == "map[Status:Enabled]"
		expiresIn := func(days string) bool {
			return len(rules) == 1 && fmt.Sprint(rules[0].(map[string]any)["ExpirationInDays"]) == days
		}
		switch id {
		case "UserDataBucket":
			c.equal(id+" archives expire (template)", expiresIn("7"), true)
		case "DocumentsBucket":
			c.equal(id+" documents do not expire (template)", len(rules), 0)
			c.equal(id+" versioned: links name the version checked (template)", versioned, true)
		case "TransitBucket":
			c.equal(id+" documents in transit expire after a day (template)", expiresIn("1"), true)
		case "ReceiptsBucket":
			c.equal(id+" receipts do not expire (template)", len(rules), 0)
			c.equal(id+" versioned (template)", versioned, true)
			c.equal(id+" Object Lock (template)", fmt.Sprint(p["ObjectLockEnabled"]), "true")
			lock, _ := p["ObjectLockConfiguration"].(map[string]any)
			retention := fmt.Sprint(lock["Rule"].(map[string]any)["DefaultRetention"])
			c.equal(id+" COMPLIANCE retention of ReceiptRetentionYears (template)", retention, "map[Mode:COMPLIANCE Years:map[Ref:ReceiptRetentionYears]]")
			c.equal(id+" kept when the stack goes (template)", fmt.Sprint(r.transformed.Resources()[id]["DeletionPolicy"]), "Retain")
		default:
			c.equal(id+" is a bucket the rehearsal knows", id, "UserDataBucket, DocumentsBucket, TransitBucket or ReceiptsBucket")
		}
	}
	return nil
}

// checkKeys checks the KMS keys: created, with their spec and usage, and
// kept when the stack goes (what they signed is checked for years). moto
// keeps the key policy its CloudFormation was given in a form it cannot
// read back (DescribeKey fails on it): the spec and usage are checked in
// the template, the key's existence in moto.
func (r *rehearsal) checkKeys(ctx context.Context, c *checker) error {
	created := map[string]bool{}
	p := kms.NewListKeysPaginator(kms.NewFromConfig(r.cfg), &kms.ListKeysInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list keys: %w", err)
		}
		for _, k := range page.Keys {
			created[aws.ToString(k.KeyId)] = true
		}
	}
	for _, id := range r.transformed.OfType("AWS::KMS::Key") {
		res := r.transformed.Resources()[id]
		spec := fmt.Sprint(props(res)["KeySpec"]) + " " + fmt.Sprint(props(res)["KeyUsage"])
		c.equal(id+" created", created[r.physical[id]], true)
		c.equal(id+" spec and usage (template)", spec, map[string]string{"ReceiptSigningKey": "ECC_NIST_P256 SIGN_VERIFY",
			"RecipientHashKey": "HMAC_256 GENERATE_VERIFY_MAC"}[id])
		c.equal(id+" kept when the stack goes (template)", fmt.Sprint(res["DeletionPolicy"]), "Retain")
	}
	return nil
}

func (r *rehearsal) checkTopics(ctx context.Context, c *checker) error {
	s := sns.NewFromConfig(r.cfg)
	for _, id := range r.transformed.OfType("AWS::SNS::Topic") {
		_, err := s.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String(r.physical[id])})
		c.equal(id+" exists", err == nil, true)
	}
	return nil
}

// checkDashboards reads each dashboard with CloudWatch's query protocol:
// the SDK speaks CBOR to CloudWatch, which moto does not.
func (r *rehearsal) checkDashboards(ctx context.Context, c *checker) error {
	for _, id := range r.ofType("AWS::CloudWatch::Dashboard") {
		raw, err := r.raw(ctx, "monitoring", "POST", "/", url.Values{"Action": {"GetDashboard"}, "Version": {"2010-08-01"},
			"DashboardName": {r.physical[id]}})
		if err != nil {
			return fmt.Errorf("dashboard %s: %w", id, err)
		}
		var out struct {
			Body string `xml:"GetDashboardResult>DashboardBody"`
		}
		if err := xml.Unmarshal(raw, &out); err != nil {
			return fmt.Errorf("dashboard %s: %w", id, err)
		}
		var body struct{ Widgets []any }
		err = json.Unmarshal([]byte(out.Body), &body)
		c.equal(id+" body is JSON with widgets", err == nil && len(body.Widgets) > 0, true)
		c.equal(id+" body has every reference resolved", strings.Contains(out.Body, "${"), false)
	}
	return nil
}

// checkAPI checks every route of the template in the created REST API: its
// method, its Lambda integration with the right function, and whether the
// authorizer guards it; the authorizer and gateway responses in the Body.
func (r *rehearsal) checkAPI(ctx context.Context, c *checker) error {
	g := apigw.NewFromConfig(r.cfg)
	apis := r.transformed.OfType("AWS::ApiGateway::RestApi")
	if len(apis) != 1 {
		return fmt.Errorf("want one REST API, the template has %d", len(apis))
	}
	api := apis[0]
	out, err := g.GetResources(ctx, &apigw.GetResourcesInput{RestApiId: aws.String(r.physical[api]), Limit: aws.Int32(500), Embed: []string{"methods"}})
	if err != nil {
		return fmt.Errorf("API resources: %w", err)
	}
	byPath := map[string]map[string]string{} // path -> method -> "auth uri"
	for _, res := range out.Items {
		byPath[aws.ToString(res.Path)] = map[string]string{}
		for verb, m := range res.ResourceMethods {
			uri := ""
			if m.MethodIntegration != nil {
				uri = aws.ToString(m.MethodIntegration.Uri)
			}
			byPath[aws.ToString(res.Path)][verb] = aws.ToString(m.AuthorizationType) + " " + uri
		}
	}
	routes := 0
	for _, f := range r.tmpl.Functions() {
		fn, err := r.function(ctx, f.LogicalID)
		if err != nil {
			return err
		}
		for _, rt := range f.Routes {
			routes++
			got := byPath[rt.Path][rt.Method]
			auth := "CUSTOM"
			if rt.Anonymous {
				auth = "NONE"
			}
			c.equal(rt.Method+" "+rt.Path+" authorization", strings.Fields(got + " ")[0], auth)
			c.equal(rt.Method+" "+rt.Path+" invokes "+f.LogicalID, strings.Contains(got, fn.FunctionArn+"/invocations"), true)
		}
	}
	methods := 0
	for _, m := range byPath {
		for verb := range m {
			if verb != "OPTIONS" {
				methods++
			}
		}
	}
	c.equal("API methods other than CORS preflights, one per route", methods, routes)
	body, _ := props(r.transformed.Resources()[api])["Body"].(map[string]any)
	sec, _ := body["securityDefinitions"].(map[string]any)
	authorizer, _ := sec[authorizerName].(map[string]any)["x-amazon-apigateway-authorizer"].(map[string]any)
	c.equal("authorizer (Body) identity", authorizer["identitySource"], "method.request.header.Ocp-Apim-Subscription-Key")
	c.equal("authorizer (Body) type", authorizer["type"], "request")
	c.equal("authorizer (Body) cache", fmt.Sprint(authorizer["authorizerResultTtlInSeconds"]), r.params["AuthorizerCacheTtl"])
	c.equal("authorizer (Body) function", strings.Contains(fmt.Sprint(authorizer["authorizerUri"]), "AuthorizerFunction"), true)
	responses, _ := body["x-amazon-apigateway-gateway-responses"].(map[string]any)
	declared, _ := r.tmpl.Resources[api].Properties["GatewayResponses"].(map[string]any)
	c.equal("gateway responses declared", len(declared) >= 6, true)
	for typ := range declared {
		gr, _ := responses[typ].(map[string]any)
		params, _ := gr["responseParameters"].(map[string]any)
		c.equal("gateway response (Body) "+typ, params["gatewayresponse.header.Content-Type"], "'application/problem+json'")
	}
	return nil
}

// checkGaps checks the resources moto cannot create in the template:
// usage plan, stage, subscriptions, policies, SES, alarms.
func (r *rehearsal) checkGaps(_ context.Context, c *checker) error {
	res := r.transformed.Resources()
	for _, id := range r.transformed.OfType("AWS::ApiGateway::UsagePlan") {
		p := props(res[id])
		th, _ := p["Throttle"].(map[string]any)
		c.equal(id+" throttle", refTo(th["RateLimit"])+" "+refTo(th["BurstLimit"]), "ThrottleRateLimit ThrottleBurstLimit")
		stages := anyList(p["ApiStages"])
		c.equal(id+" stage", len(stages) == 1 && r.typeOf(refTo(stages[0].(map[string]any)["Stage"])) == "AWS::ApiGateway::Stage", true)
	}
	for _, id := range r.transformed.OfType("AWS::ApiGateway::Stage") {
		p := props(res[id])
		c.equal(id+" name", refTo(p["StageName"]), "StageName")
		c.equal(id+" deployment", r.typeOf(refTo(p["DeploymentId"])), "AWS::ApiGateway::Deployment")
		c.equal(id+" tracing", p["TracingEnabled"], true)
	}
	for _, id := range r.transformed.OfType("AWS::SES::ConfigurationSetEventDestination") {
		d, _ := props(res[id])["EventDestination"].(map[string]any)
		types := list(d["MatchingEventTypes"])
		c.equal(id+" bounces and complaints", slices.Contains(types, "bounce") && slices.Contains(types, "complaint"), true)
		sd, _ := d["SnsDestination"].(map[string]any)
		c.equal(id+" topic", r.typeOf(refTo(sd["TopicARN"])), "AWS::SNS::Topic")
	}
	for _, id := range r.transformed.OfType("AWS::SNS::Subscription") {
		p := props(res[id])
		c.equal(id+" protocol", p["Protocol"], "sqs")
		c.equal(id+" endpoint", r.typeOf(refTo(p["Endpoint"])), "AWS::SQS::Queue")
	}
	alarmed := map[string]bool{}
	for _, id := range r.ofType("AWS::CloudWatch::Alarm") {
		p := props(r.resources()[id])
		for _, ref := range refsIn(p) {
			alarmed[ref] = true
		}
		c.equal(id+" notifies AlarmTopicArn when given", strings.Contains(fmt.Sprint(p["AlarmActions"]), "AlarmTopicArn"), true)
	}
	for _, typ := range []string{"AWS::SQS::Queue", "AWS::Lambda::Function"} {
		for _, id := range r.transformed.OfType(typ) {
			if _, lane := sam.Lane(id); lane == "bulk" {
				// No age alarm on purpose (a campaign's backlog is
				// expected); its dead letters are its kind's queue's.
				c.equal(id+" has no alarm", alarmed[id], false)
				continue
			}
			c.equal(id+" has an alarm", alarmed[id], true)
		}
	}
	return nil
}

// references checks that each of a resource's references names a resource
// or parameter of the template (moto leaves a dangling one unresolved).
func (c *checker) references(id string, res map[string]any) {
	params := map[string]any{}
	for k := range c.r.params {
		params[k] = true
	}
	if stack := c.r.nestedOf[id]; stack != "" { // a nested stack's: its own parameters and resources
		params = c.r.transformed.Nested[stack]["Parameters"].(map[string]any)
	}
	for _, ref := range refsIn(props(res)) {
		c.r.checks++
		if _, isParam := params[ref]; !isParam && c.r.typeOf(ref) == "" {
			c.failf("%s refers to %s, which the template does not declare", id, ref)
		}
	}
}

// refsIn returns the logical ids and parameters v refers to with Ref and
// Fn::GetAtt, at any depth (pseudo parameters left out).
func refsIn(v any) []string {
	var refs []string
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case []any:
			for _, e := range x {
				walk(e)
			}
		case map[string]any:
			if ref := refTo(x); ref != "" && !strings.HasPrefix(ref, "AWS::") {
				refs = append(refs, ref)
			}
			for k, e := range x {
				if k != "Ref" && k != "Fn::GetAtt" {
					walk(e)
				}
			}
		}
	}
	walk(v)
	return refs
}
