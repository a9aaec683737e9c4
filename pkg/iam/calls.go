package iam

import (
	"fmt"
	"net/url"
	"sort"
	"strings"
)

// Call is one AWS request as a function made it: the SDK's service and
// operation, the HTTP method and path, and the input fields that name what
// it acts on (config.LogRequests writes them, config.AuditParams picks them).
type Call struct {
	Operation string              `json:"aws_request"`
	Method    string              `json:"method,omitempty"`
	Path      string              `json:"path,omitempty"`
	Params    map[string][]string `json:"params,omitempty"`
	// Presigned is a request presigned for someone else to send (an S3
	// link): it acts with the function's role all the same.
	Presigned bool `json:"presigned,omitempty"`
}

// Key is the call's identity, for counting distinct calls.
func (c Call) Key() string {
	keys := make([]string, 0, len(c.Params))
	for k, v := range c.Params {
		keys = append(keys, k+"="+strings.Join(v, ","))
	}
	sort.Strings(keys)
	return c.Operation + " " + c.Method + " " + c.Path + " " + strings.Join(keys, " ")
}

// Where is the account and region a stack's resources are in, what the
// ARNs of a call's resources are built with.
type Where struct{ Partition, Region, Account string }

// Requests returns the authorizations IAM makes for a call, with the action
// names IAM uses (a TransactWriteItems needs the action of each item it
// writes, a SendMessageBatch sqs:SendMessage) and the resources' ARNs. A
// call it does not know is an error: a new kind of call must be taught here
// before the check can pass.
func (w Where) Requests(c Call) ([]Request, error) {
	service, op, _ := strings.Cut(c.Operation, ".")
	one := func(param string) string {
		if v := c.Params[param]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	switch service {
	case "DynamoDB":
		return w.dynamodb(op, c, one)
	case "SQS":
		name := one("QueueName")
		if u := one("QueueUrl"); u != "" {
			name = u[strings.LastIndex(u, "/")+1:]
		}
		action, ok := map[string]string{"SendMessage": "SendMessage", "SendMessageBatch": "SendMessage", "ReceiveMessage": "ReceiveMessage",
			"DeleteMessage": "DeleteMessage", "DeleteMessageBatch": "DeleteMessage", "ChangeMessageVisibility": "ChangeMessageVisibility",
			"ChangeMessageVisibilityBatch": "ChangeMessageVisibility", "GetQueueAttributes": "GetQueueAttributes", "GetQueueUrl": "GetQueueUrl"}[op]
		if !ok || name == "" {
			break
		}
		return []Request{{Action: "sqs:" + action, Resource: w.arn("sqs", w.Account, name)}}, nil
	case "SESv2":
		if op != "SendEmail" || one("FromEmailAddress") == "" {
			break
		}
		from := one("FromEmailAddress")
		if _, addr, ok := strings.Cut(from, "<"); ok { // "Name <address>"
			from = strings.TrimSuffix(addr, ">")
		}
		ctx := map[string][]string{"ses:FromAddress": {from}}
		reqs := []Request{{Action: "ses:SendEmail", Resource: w.arn("ses", w.Account, "identity/"+from), Context: ctx}}
		if set := one("ConfigurationSetName"); set != "" {
			reqs = append(reqs, Request{Action: "ses:SendEmail", Resource: w.arn("ses", w.Account, "configuration-set/"+set), Context: ctx})
		}
		return reqs, nil
	case "SNS":
		var target string
		switch op {
		case "Publish":
			target = one("TargetArn") + one("TopicArn")
		case "CreatePlatformEndpoint":
			target = one("PlatformApplicationArn")
		case "DeleteEndpoint", "SetEndpointAttributes", "GetEndpointAttributes":
			target = one("EndpointArn")
		}
		if target == "" {
			break
		}
		return []Request{{Action: "sns:" + op, Resource: target}}, nil
	case "S3":
		return w.s3(op, c, one)
	case "KMS":
		// A key named by id or ARN; IAM authorizes the key's ARN.
		key := one("KeyId")
		if key == "" {
			break
		}
		if !strings.HasPrefix(key, "arn:") {
			key = w.arn("kms", w.Account, "key/"+key)
		}
		return []Request{{Action: "kms:" + op, Resource: key}}, nil
	case "API Gateway":
		// The management API authorizes the HTTP method on the path.
		if c.Method == "" || c.Path == "" {
			break
		}
		path, err := url.PathUnescape(c.Path)
		if err != nil {
			return nil, err
		}
		return []Request{{Action: "apigateway:" + c.Method, Resource: fmt.Sprintf("arn:%s:apigateway:%s::%s", w.partition(), w.Region, path)}}, nil
	}
	return nil, fmt.Errorf("no IAM mapping for %s %v: teach pkg/iam.Where.Requests", c.Operation, c.Params)
}

func (w Where) dynamodb(op string, c Call, one func(string) string) ([]Request, error) {
	table := func(name string) string { return w.arn("dynamodb", w.Account, "table/"+name) }
	switch op {
	case "TransactWriteItems", "TransactGetItems":
		var reqs []Request
		for _, kind := range []string{"Put", "Update", "Delete", "ConditionCheck", "Get"} {
			action := map[string]string{"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
				"ConditionCheck": "ConditionCheckItem", "Get": "GetItem"}[kind]
			for _, t := range c.Params["TransactItems."+kind+".TableName"] {
				reqs = append(reqs, Request{Action: "dynamodb:" + action, Resource: table(t)})
			}
		}
		if len(reqs) == 0 {
			return nil, fmt.Errorf("%s without items", op)
		}
		return reqs, nil
	case "BatchWriteItem", "BatchGetItem":
		var reqs []Request
		for _, t := range c.Params["RequestItems"] {
			reqs = append(reqs, Request{Action: "dynamodb:" + op, Resource: table(t)})
		}
		return reqs, nil
	}
	t := one("TableName")
	if t == "" {
		return nil, fmt.Errorf("DynamoDB.%s without a table", op)
	}
	resource := table(t)
	if idx := one("IndexName"); idx != "" {
		resource += "/index/" + idx
	}
	return []Request{{Action: "dynamodb:" + op, Resource: resource}}, nil
}

func (w Where) s3(op string, c Call, one func(string) string) ([]Request, error) {
	bucket := one("Bucket")
	if bucket == "" {
		return nil, fmt.Errorf("S3.%s without a bucket", op)
	}
	object := func(key string) string { return fmt.Sprintf("arn:%s:s3:::%s/%s", w.partition(), bucket, key) }
	switch op {
	case "GetObject", "DeleteObject":
		// Naming a version is an action of its own: s3:GetObjectVersion,
		// s3:DeleteObjectVersion.
		action := "s3:" + op
		if one("VersionId") != "" {
			action += "Version"
		}
		return []Request{{Action: action, Resource: object(one("Key"))}}, nil
	case "PutObject":
		return []Request{{Action: "s3:" + op, Resource: object(one("Key"))}}, nil
	case "ListObjectVersions":
		return []Request{{Action: "s3:ListBucketVersions", Resource: fmt.Sprintf("arn:%s:s3:::%s", w.partition(), bucket)}}, nil
	case "HeadObject":
		return []Request{{Action: "s3:GetObject", Resource: object(one("Key"))}}, nil
	case "ListObjectsV2", "ListObjects":
		return []Request{{Action: "s3:ListBucket", Resource: fmt.Sprintf("arn:%s:s3:::%s", w.partition(), bucket)}}, nil
	case "DeleteObjects":
		var reqs []Request
		for _, k := range c.Params["Delete.Objects.Key"] {
			reqs = append(reqs, Request{Action: "s3:DeleteObject", Resource: object(k)})
		}
		return reqs, nil
	}
	return nil, fmt.Errorf("no IAM mapping for S3.%s", op)
}

func (w Where) arn(service, account, resource string) string {
	return fmt.Sprintf("arn:%s:%s:%s:%s:%s", w.partition(), service, w.Region, account, resource)
}

func (w Where) partition() string {
	if w.Partition == "" {
		return "aws"
	}
	return w.Partition
}
