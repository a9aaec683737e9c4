package localstack

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/digital-citizenship/functions/pkg/iam"
)

// IAMReport is what a stack's calls proved of its functions' policies: every
// AWS call each function made (its own, and its event source mapping's,
// which Lambda makes with the function's role) evaluated against the
// function's role as the SAM transform of template.yaml creates it, its
// references resolved to this stack's resources.
type IAMReport struct {
	// Calls are the distinct calls checked, Requests the authorizations
	// they needed (a transaction needs one per item).
	Calls, Requests int
	// Functions are those that made at least one call.
	Functions []string
	// Denied are the requests the policies would refuse, Unmapped the calls
	// the check does not know (both fail the check).
	Denied, Unmapped []string
	// Grants are the actions of the functions' inline statements, each with
	// whether a call exercised it.
	Grants []Grant
}

// Grant is one action of one statement of a function's inline policy.
type Grant struct {
	Function  string
	Statement string // policy name and statement index
	Action    string
	Resource  []string
	Exercised bool
}

// Key identifies a grant across stacks (the same template).
func (g Grant) Key() string { return g.Function + " " + g.Statement + " " + g.Action }

// rolePolicies returns each function's policies: its role's inline ones,
// resolved against the stack, and the AWS managed ones it has.
func (s *Stack) rolePolicies() (map[string][]iam.Policy, error) {
	res := s.transformed.Resources()
	out := map[string][]iam.Policy{}
	for _, f := range s.Template.Functions() {
		fn, ok := res[f.LogicalID]
		if !ok {
			return nil, fmt.Errorf("%s is not in the transformed template", f.LogicalID)
		}
		roleRef, _ := asMap(asMap(fn["Properties"])["Role"])["Fn::GetAtt"].([]any)
		if len(roleRef) == 0 {
			return nil, fmt.Errorf("%s: its role is not a resource of the template", f.LogicalID)
		}
		role := asMap(res[fmt.Sprint(roleRef[0])]["Properties"])
		policies, _ := role["Policies"].([]any)
		for _, p := range policies {
			pm := asMap(p)
			raw, err := json.Marshal(s.resolveDeep(pm["PolicyDocument"]))
			if err != nil {
				return nil, err
			}
			pol := iam.Policy{Name: fmt.Sprint(pm["PolicyName"])}
			if err := json.Unmarshal(raw, &pol); err != nil {
				return nil, fmt.Errorf("%s policy %s: %w", f.LogicalID, pol.Name, err)
			}
			out[f.LogicalID] = append(out[f.LogicalID], pol)
		}
		managed, _ := role["ManagedPolicyArns"].([]any)
		for _, arn := range managed {
			pol, err := iam.Managed(fmt.Sprint(arn))
			if err != nil {
				return nil, fmt.Errorf("%s: %w", f.LogicalID, err)
			}
			out[f.LogicalID] = append(out[f.LogicalID], pol)
		}
	}
	return out, nil
}

// resolveDeep resolves every Ref, Fn::GetAtt and Fn::Sub in v against the
// stack.
func (s *Stack) resolveDeep(v any) any {
	switch x := v.(type) {
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = s.resolveDeep(e)
		}
		return out
	case map[string]any:
		if len(x) == 1 {
			for k := range x {
				if k == "Ref" || k == "Fn::GetAtt" || k == "Fn::Sub" {
					return s.Resources.Resolve(x)
				}
			}
		}
		out := map[string]any{}
		for k, e := range x {
			out[k] = s.resolveDeep(e)
		}
		return out
	}
	return v
}

// AuditIAM evaluates every call the stack's functions made so far
// (Options.AuditIAM) against their policies.
func (s *Stack) AuditIAM() (*IAMReport, error) {
	if s.transformed == nil {
		return nil, fmt.Errorf("the stack was not started with AuditIAM")
	}
	policies, err := s.rolePolicies()
	if err != nil {
		return nil, err
	}
	where := iam.Where{Region: s.Resources.Region, Account: s.Resources.Account}
	// Resources are reported without this stack's name, so that the
	// reports of several stacks add up.
	generic := strings.NewReplacer(s.Resources.Name+"-", "<stack>-").Replace
	rep := &IAMReport{}
	exercised := map[string][]string{} // "<function> <policy>#<statement>": the actions it allowed
	for _, id := range slices.Sorted(maps.Keys(s.runtimes)) {
		calls := s.runtimes[id].recorded()
		if len(calls) > 0 {
			rep.Functions = append(rep.Functions, id)
		}
		for _, c := range calls {
			rep.Calls++
			reqs, err := where.Requests(c.Call)
			if err != nil {
				rep.Unmapped = append(rep.Unmapped, id+": "+err.Error())
				continue
			}
			for _, req := range reqs {
				rep.Requests++
				d, matches, err := iam.Evaluate(policies[id], req)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", id, err)
				}
				if d != iam.Allow {
					rep.Denied = append(rep.Denied, fmt.Sprintf("%s: %s on %s %s (%s)", id, req.Action, generic(req.Resource), d, c.Call.Operation))
					continue
				}
				for _, m := range matches {
					k := fmt.Sprintf("%s %s#%d", id, m.Policy, m.Statement)
					exercised[k] = append(exercised[k], req.Action)
				}
			}
		}
		for _, p := range policies[id] {
			if strings.HasPrefix(p.Name, iam.ManagedPrefix) {
				continue // AWS's, not the template's to trim
			}
			for i, st := range p.Statement {
				for _, a := range st.Action {
					g := Grant{Function: id, Statement: fmt.Sprintf("%s#%d", p.Name, i), Action: a}
					for _, r := range st.Resource {
						g.Resource = append(g.Resource, generic(r))
					}
					g.Exercised = slices.ContainsFunc(exercised[id+" "+g.Statement], func(done string) bool { return iam.ActionMatches(a, done) })
					rep.Grants = append(rep.Grants, g)
				}
			}
		}
	}
	sort.Strings(rep.Denied)
	sort.Strings(rep.Unmapped)
	return rep, nil
}
