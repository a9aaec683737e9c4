// Package sam reads the project's SAM template, the one source of truth for
// functions, routes, tables and queues, so that the local stack and the tests
// create exactly what a deployment creates. It understands the subset of
// CloudFormation the template uses (Ref, GetAtt, Sub, Globals).
package sam

import (
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Template is a parsed template.yaml.
type Template struct {
	Parameters map[string]any
	Globals    map[string]any
	Resources  map[string]Resource
}

// Resource is one entry of Resources.
type Resource struct {
	Type       string
	Properties map[string]any
	// DeletionPolicy and UpdateReplacePolicy ("" when unset).
	DeletionPolicy, UpdateReplacePolicy string
}

// Route is an API event of a function.
type Route struct {
	Method string // upper case
	Path   string
	// Anonymous is true when the route has no authorizer.
	Anonymous bool
}

// QueueEvent is an SQS event source of a function.
type QueueEvent struct {
	Queue     string // logical id of the queue
	BatchSize int
	// BatchingWindow is MaximumBatchingWindowInSeconds: how long the
	// mapping gathers records before invoking with fewer than BatchSize.
	BatchingWindow int
	// MaxConcurrency is ScalingConfig.MaximumConcurrency (0: unset).
	MaxConcurrency int
}

// Function is a function resource with its events.
type Function struct {
	LogicalID string
	// Dir is the folder under functions/ (PascalCase id less "Function", in kebab case).
	Dir     string
	Timeout int
	// MemorySize in MB; Reserved is ReservedConcurrentExecutions (0: unset).
	MemorySize int
	Reserved   int
	Env        map[string]any
	Routes     []Route
	Queues     []QueueEvent
	// Schedules are the periods of its Schedule events (rate(...)).
	Schedules []time.Duration
}

// Rate parses a schedule expression "rate(N unit)"; cron expressions and
// malformed rates give false.
func Rate(expr string) (time.Duration, bool) {
	inner, ok := strings.CutPrefix(strings.TrimSpace(expr), "rate(")
	if !ok || !strings.HasSuffix(inner, ")") {
		return 0, false
	}
	f := strings.Fields(strings.TrimSuffix(inner, ")"))
	if len(f) != 2 {
		return 0, false
	}
	n, err := strconv.Atoi(f[0])
	unit := map[string]time.Duration{"minute": time.Minute, "minutes": time.Minute, "hour": time.Hour, "hours": time.Hour,
		"day": 24 * time.Hour, "days": 24 * time.Hour}[f[1]]
	if err != nil || n <= 0 || unit == 0 {
		return 0, false
	}
	return time.Duration(n) * unit, true
}

// Load reads and parses a template file.
func Load(path string) (*Template, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	doc, _ := convert(root.Content[0]).(map[string]any)
	t := &Template{Parameters: asMap(doc["Parameters"]), Globals: asMap(doc["Globals"]), Resources: map[string]Resource{}}
	for id, r := range asMap(doc["Resources"]) {
		rm := asMap(r)
		dp, _ := rm["DeletionPolicy"].(string)
		urp, _ := rm["UpdateReplacePolicy"].(string)
		t.Resources[id] = Resource{Type: fmt.Sprint(rm["Type"]), Properties: asMap(rm["Properties"]), DeletionPolicy: dp, UpdateReplacePolicy: urp}
	}
	return t, nil
}

// convert turns a YAML node into plain values, short-form intrinsics
// (!Ref X, !GetAtt X.Y, !Sub s) into their long form.
func convert(n *yaml.Node) any {
	var v any
	switch n.Kind {
	case yaml.MappingNode:
		m := map[string]any{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			m[n.Content[i].Value] = convert(n.Content[i+1])
		}
		v = m
	case yaml.SequenceNode:
		s := make([]any, len(n.Content))
		for i, c := range n.Content {
			s[i] = convert(c)
		}
		v = s
	case yaml.AliasNode:
		return convert(n.Alias)
	default:
		v = n.Value
	}
	switch n.Tag {
	case "!Ref":
		return map[string]any{"Ref": v}
	case "!GetAtt":
		if s, ok := v.(string); ok {
			a, b, _ := strings.Cut(s, ".")
			return map[string]any{"Fn::GetAtt": []any{a, b}}
		}
		return map[string]any{"Fn::GetAtt": v}
	case "!Sub":
		return map[string]any{"Fn::Sub": v}
	}
	return v
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	if m == nil {
		return map[string]any{}
	}
	return m
}

var upper = regexp.MustCompile(`([a-z0-9])([A-Z])`)

// Kebab turns a PascalCase logical id (less its "Function" suffix) into the
// folder name under functions/.
func Kebab(logicalID string) string {
	s := strings.TrimSuffix(logicalID, "Function")
	return strings.ToLower(upper.ReplaceAllString(s, "$1-$2"))
}

// Functions returns the template's functions sorted by logical id, with
// Globals applied.
func (t *Template) Functions() []Function {
	g := asMap(t.Globals["Function"])
	var out []Function
	for id, r := range t.Resources {
		if r.Type != "AWS::Serverless::Function" {
			continue
		}
		f := Function{LogicalID: id, Dir: Kebab(id), Timeout: 3, MemorySize: 128, Env: map[string]any{}}
		for _, src := range []map[string]any{g, r.Properties} {
			if s, ok := src["Timeout"].(string); ok {
				f.Timeout, _ = strconv.Atoi(s)
			}
			if s, ok := src["MemorySize"].(string); ok {
				f.MemorySize, _ = strconv.Atoi(s)
			}
			if s, ok := src["ReservedConcurrentExecutions"].(string); ok {
				f.Reserved, _ = strconv.Atoi(s)
			}
			for k, v := range asMap(asMap(src["Environment"])["Variables"]) {
				f.Env[k] = v
			}
		}
		for _, ev := range asMap(r.Properties["Events"]) {
			em := asMap(ev)
			p := asMap(em["Properties"])
			switch em["Type"] {
			case "Api":
				auth := asMap(p["Auth"])
				f.Routes = append(f.Routes, Route{Method: strings.ToUpper(fmt.Sprint(p["Method"])),
					Path: fmt.Sprint(p["Path"]), Anonymous: auth["Authorizer"] == "NONE"})
			case "SQS":
				q := refTarget(p["Queue"])
				n, _ := strconv.Atoi(fmt.Sprint(p["BatchSize"]))
				if n == 0 {
					n = 10
				}
				w, _ := strconv.Atoi(fmt.Sprint(p["MaximumBatchingWindowInSeconds"]))
				c, _ := strconv.Atoi(fmt.Sprint(asMap(p["ScalingConfig"])["MaximumConcurrency"]))
				f.Queues = append(f.Queues, QueueEvent{Queue: q, BatchSize: n, BatchingWindow: w, MaxConcurrency: c})
			case "Schedule":
				if d, ok := Rate(fmt.Sprint(p["Schedule"])); ok {
					f.Schedules = append(f.Schedules, d)
				}
			}
		}
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].LogicalID < out[j].LogicalID })
	return out
}

// refTarget returns the logical id named by {Ref: X} or {Fn::GetAtt: [X, ..]}.
func refTarget(v any) string {
	m := asMap(v)
	if r, ok := m["Ref"].(string); ok {
		return r
	}
	if ga, ok := m["Fn::GetAtt"].([]any); ok && len(ga) > 0 {
		return fmt.Sprint(ga[0])
	}
	return ""
}

// OfType returns the logical ids of resources of type typ, sorted.
func (t *Template) OfType(typ string) []string {
	var ids []string
	for id, r := range t.Resources {
		if r.Type == typ {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// ParameterDefault returns a parameter's default value.
func (t *Template) ParameterDefault(name string) string {
	d := asMap(t.Parameters[name])["Default"]
	if d == nil {
		return ""
	}
	return fmt.Sprint(d)
}
