package awstest

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strings"
)

// ConditionalWrite names the kind of a DynamoDB request that writes under a
// condition, by its operation, tables and conditions ("" for any other
// request): tests that lose the answer of the first write of each kind use
// it to tell kinds apart.
func ConditionalWrite(r *http.Request, body []byte) string {
	target := r.Header.Get("X-Amz-Target")
	op, ok := strings.CutPrefix(target, "DynamoDB_20120810.")
	if !ok {
		return ""
	}
	type write struct {
		TableName, ConditionExpression string
		ExpressionAttributeNames       map[string]string
	}
	var in struct {
		write
		TransactItems []map[string]write
	}
	if json.Unmarshal(body, &in) != nil {
		return ""
	}
	// The names too: one expression serves every channel of a message.
	describe := func(w write) []string {
		return append([]string{w.TableName, w.ConditionExpression}, slices.Sorted(maps.Values(w.ExpressionAttributeNames))...)
	}
	parts := append([]string{op}, describe(in.write)...)
	conditional := in.ConditionExpression != ""
	for _, it := range in.TransactItems {
		for kind, w := range it {
			parts = append(append(parts, kind), describe(w)...)
			conditional = conditional || w.ConditionExpression != ""
		}
	}
	if !conditional {
		return ""
	}
	return strings.Join(parts, " ")
}
