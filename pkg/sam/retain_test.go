package sam

import (
	"fmt"
	"testing"
)

// statefulTypes are the resources that hold data the platform must keep
// when its stack goes or a change would replace them: the citizens'
// profiles and messages, the services and accounts, documents, archives,
// receipts, and the keys receipts are checked against.
var statefulTypes = map[string]bool{
	"AWS::DynamoDB::Table": true, "AWS::S3::Bucket": true, "AWS::KMS::Key": true, "AWS::Logs::LogGroup": true,
}

// TestStatefulResourcesSurvive reads template.yaml: every stateful resource
// is kept when the stack is deleted and when an update would replace it
// (DeletionPolicy and UpdateReplacePolicy Retain), and every table refuses
// a DeleteTable (DeletionProtectionEnabled), so that a sam delete, a stack
// deleted by mistake or a renamed key deletes no citizen's data.
func TestStatefulResourcesSurvive(t *testing.T) {
	_, tmpl := repoTemplate(t)
	n := 0
	for id, r := range tmpl.Resources {
		if !statefulTypes[r.Type] {
			continue
		}
		n++
		if r.DeletionPolicy != "Retain" || r.UpdateReplacePolicy != "Retain" {
			t.Errorf("%s (%s): DeletionPolicy %q, UpdateReplacePolicy %q; want Retain for both", id, r.Type, r.DeletionPolicy, r.UpdateReplacePolicy)
		}
		if r.Type == "AWS::DynamoDB::Table" && fmt.Sprint(r.Properties["DeletionProtectionEnabled"]) != "true" {
			t.Errorf("%s: DeletionProtectionEnabled %v, want true", id, r.Properties["DeletionProtectionEnabled"])
		}
	}
	if n < 10 { // 4 tables, 4 buckets, 2 keys
		t.Fatalf("%d stateful resources found, want at least 10", n)
	}
}
