// Package iam evaluates identity policies as AWS IAM does, for the checks
// that prove each function's policy in template.yaml allows every call the
// function makes (neither emulator enforces IAM). It is small on purpose:
// no Go library for IAM's evaluation is well kept, and the project needs
// only identity policies: Allow and Deny statements, Action and NotAction,
// Resource and NotResource with * and ? wildcards, and the string, ARN,
// numeric and boolean condition operators, with IfExists and the
// ForAnyValue/ForAllValues qualifiers. An operator it does not know is an
// error, never a silent match.
package iam

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Policy is an identity policy document.
type Policy struct {
	// Name says where the policy comes from, for reports.
	Name      string      `json:"-"`
	Statement []Statement `json:"Statement"`
}

// Statement is one statement of a policy. Action and Resource accept a
// string or a list in JSON, as IAM does.
type Statement struct {
	Sid         string                        `json:"Sid,omitempty"`
	Effect      string                        `json:"Effect"`
	Action      Strings                       `json:"Action,omitempty"`
	NotAction   Strings                       `json:"NotAction,omitempty"`
	Resource    Strings                       `json:"Resource,omitempty"`
	NotResource Strings                       `json:"NotResource,omitempty"`
	Condition   map[string]map[string]Strings `json:"Condition,omitempty"`
}

// Strings is a JSON string or list of strings.
type Strings []string

// UnmarshalJSON accepts a string or a list of strings (numbers and
// booleans, which conditions use, as their text).
func (s *Strings) UnmarshalJSON(b []byte) error {
	var list []any
	if err := json.Unmarshal(b, &list); err != nil {
		var one any
		if err := json.Unmarshal(b, &one); err != nil {
			return err
		}
		list = []any{one}
	}
	*s = make(Strings, len(list))
	for i, v := range list {
		switch x := v.(type) {
		case string:
			(*s)[i] = x
		case float64:
			(*s)[i] = strconv.FormatFloat(x, 'f', -1, 64)
		case bool:
			(*s)[i] = strconv.FormatBool(x)
		default:
			return fmt.Errorf("not a string: %v", v)
		}
	}
	return nil
}

// Request is one authorization IAM makes: an action on a resource, with
// the request's context keys (ses:FromAddress, say).
type Request struct {
	Action   string
	Resource string
	Context  map[string][]string
}

// Decision is the outcome of an evaluation.
type Decision int

// Decisions: denied by default (no statement allows), allowed, or denied by
// a statement (a Deny wins over any Allow).
const (
	ImplicitDeny Decision = iota
	Allow
	ExplicitDeny
)

func (d Decision) String() string {
	return [...]string{"implicitly denied", "allowed", "explicitly denied"}[d]
}

// Match is a statement that applies to a request.
type Match struct {
	Policy    string
	Statement int
}

// Evaluate decides req against policies and returns the statements that
// allow it (empty unless Allow). An unknown condition operator is an error.
func Evaluate(policies []Policy, req Request) (Decision, []Match, error) {
	var allows []Match
	for _, p := range policies {
		for i, s := range p.Statement {
			ok, err := s.applies(req)
			if err != nil {
				return ImplicitDeny, nil, fmt.Errorf("%s statement %d: %w", p.Name, i, err)
			}
			if !ok {
				continue
			}
			switch s.Effect {
			case "Deny":
				return ExplicitDeny, nil, nil
			case "Allow":
				allows = append(allows, Match{Policy: p.Name, Statement: i})
			default:
				return ImplicitDeny, nil, fmt.Errorf("%s statement %d: effect %q", p.Name, i, s.Effect)
			}
		}
	}
	if len(allows) > 0 {
		return Allow, allows, nil
	}
	return ImplicitDeny, nil, nil
}

// applies tells whether the statement's action, resource and conditions
// all match the request.
func (s Statement) applies(req Request) (bool, error) {
	switch {
	case len(s.Action) > 0 && !anyMatch(s.Action, req.Action, ActionMatches):
		return false, nil
	case len(s.NotAction) > 0 && anyMatch(s.NotAction, req.Action, ActionMatches):
		return false, nil
	case len(s.Resource) > 0 && !anyMatch(s.Resource, req.Resource, ARNMatches):
		return false, nil
	case len(s.NotResource) > 0 && anyMatch(s.NotResource, req.Resource, ARNMatches):
		return false, nil
	}
	for op, keys := range s.Condition {
		for key, values := range keys {
			ok, err := condition(op, values, req.Context[key], hasKey(req.Context, key))
			if err != nil || !ok {
				return false, err
			}
		}
	}
	return true, nil
}

func hasKey(ctx map[string][]string, key string) bool {
	for k := range ctx { // condition keys are case-insensitive
		if strings.EqualFold(k, key) {
			return true
		}
	}
	return false
}

func anyMatch(patterns []string, v string, match func(pattern, v string) bool) bool {
	for _, p := range patterns {
		if match(p, v) {
			return true
		}
	}
	return false
}

// ActionMatches matches an action ("service:Operation") against a pattern
// with wildcards; actions are case-insensitive.
func ActionMatches(pattern, action string) bool {
	return Glob(strings.ToLower(pattern), strings.ToLower(action))
}

// ARNMatches matches a resource ARN against a pattern: "*" matches any; else
// both have six colon-separated parts (the last may hold colons) and each
// part matches with * and ? wildcards that do not cross a colon.
func ARNMatches(pattern, arn string) bool {
	if pattern == "*" {
		return true
	}
	p, a := strings.SplitN(pattern, ":", 6), strings.SplitN(arn, ":", 6)
	if len(p) != 6 || len(a) != 6 {
		return pattern == arn
	}
	for i := range p {
		if !Glob(p[i], a[i]) {
			return false
		}
	}
	return true
}

// Glob reports whether s matches pattern, where * matches any run of
// characters and ? any one character.
func Glob(pattern, s string) bool {
	// Iterative matching with backtracking to the last star.
	p, i, star, mark := 0, 0, -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// condition evaluates one condition operator on a key: values are the
// policy's, got the request's (present tells a missing key from an empty
// one). IAM's rules: a missing key fails the condition, except for the
// negated operators and IfExists, where it passes; a multivalued key needs
// ForAnyValue or ForAllValues, else any of its values may match.
func condition(op string, values, got []string, present bool) (bool, error) {
	qualifier := ""
	if q, rest, ok := strings.Cut(op, ":"); ok {
		qualifier, op = q, rest
	}
	ifExists := strings.HasSuffix(op, "IfExists")
	op = strings.TrimSuffix(op, "IfExists")
	if op == "Null" {
		want := len(values) > 0 && values[0] == "true"
		return want == !present, nil
	}
	negated := strings.Contains(op, "Not")
	test, err := comparator(op)
	if err != nil {
		return false, err
	}
	if !present {
		return negated || ifExists || qualifier == "ForAllValues", nil
	}
	matchesOne := func(v string) bool {
		for _, w := range values {
			if test(w, v) {
				return true
			}
		}
		return false
	}
	if negated {
		matchesOne = func(v string) bool {
			for _, w := range values {
				if !test(w, v) {
					return false
				}
			}
			return true
		}
	}
	if qualifier == "ForAllValues" {
		for _, v := range got {
			if !matchesOne(v) {
				return false, nil
			}
		}
		return true, nil
	}
	for _, v := range got {
		if matchesOne(v) {
			return true, nil
		}
	}
	return false, nil
}

// comparator returns the test of an operator (the negation is applied by
// the caller's "every value" rule): policy value w against request value v.
func comparator(op string) (func(w, v string) bool, error) {
	not := func(f func(w, v string) bool) func(w, v string) bool {
		return func(w, v string) bool { return !f(w, v) }
	}
	num := func(cmp func(a, b float64) bool) func(w, v string) bool {
		return func(w, v string) bool {
			a, err1 := strconv.ParseFloat(v, 64)
			b, err2 := strconv.ParseFloat(w, 64)
			return err1 == nil && err2 == nil && cmp(a, b)
		}
	}
	eq := func(w, v string) bool { return w == v }
	like := func(w, v string) bool { return Glob(w, v) }
	switch op {
	case "StringEquals", "ArnEquals":
		return eq, nil
	case "StringNotEquals", "ArnNotEquals":
		return not(eq), nil
	case "StringEqualsIgnoreCase":
		return strings.EqualFold, nil
	case "StringNotEqualsIgnoreCase":
		return not(strings.EqualFold), nil
	case "StringLike":
		return like, nil
	case "StringNotLike":
		return not(like), nil
	case "ArnLike":
		return ARNMatches, nil
	case "ArnNotLike":
		return not(ARNMatches), nil
	case "Bool":
		return func(w, v string) bool { return strings.EqualFold(w, v) }, nil
	case "NumericEquals":
		return num(func(a, b float64) bool { return a == b }), nil
	case "NumericNotEquals":
		return not(num(func(a, b float64) bool { return a == b })), nil
	case "NumericLessThan":
		return num(func(a, b float64) bool { return a < b }), nil
	case "NumericLessThanEquals":
		return num(func(a, b float64) bool { return a <= b }), nil
	case "NumericGreaterThan":
		return num(func(a, b float64) bool { return a > b }), nil
	case "NumericGreaterThanEquals":
		return num(func(a, b float64) bool { return a >= b }), nil
	}
	return nil, fmt.Errorf("condition operator %q is not implemented", op)
}
