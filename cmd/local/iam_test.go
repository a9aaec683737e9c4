package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/digital-citizenship/functions/pkg/localstack"
	"github.com/digital-citizenship/functions/pkg/sam"
)

// iamReports is where each stack of the tests writes its IAM report.
var iamReports string

// iamChecked runs the package's tests and then proves the functions' IAM
// policies against every AWS call the tests' stacks recorded: each call's
// authorizations (action names as IAM has them, resource ARNs of the
// stack's resources, condition keys) are evaluated against the function's
// role as the SAM transform of template.yaml creates it. A denied or unknown
// call fails the run; so does, when every test ran, an action a policy
// grants that no call exercised (exercise it or remove it). The summary goes
// to the output and to .build/iam.txt, which make test prints.
type iamChecked struct{ m interface{ Run() int } }

func (c iamChecked) Run() int {
	dir, err := os.MkdirTemp("", "iam-reports-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	iamReports = dir
	code := c.m.Run()
	if ok := checkIAM(dir, code == 0 && flag.Lookup("test.run").Value.String() == ""); !ok && code == 0 {
		code = 1
	}
	return code
}

func checkIAM(dir string, complete bool) bool {
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(files) == 0 {
		return true // no stack ran
	}
	var all localstack.IAMReport
	grants := map[string]*localstack.Grant{}
	functions := map[string]bool{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		var rep localstack.IAMReport
		if err == nil {
			err = json.Unmarshal(b, &rep)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "IAM report %s: %v\n", f, err)
			return false
		}
		all.Calls += rep.Calls
		all.Requests += rep.Requests
		all.Denied = append(all.Denied, rep.Denied...)
		all.Unmapped = append(all.Unmapped, rep.Unmapped...)
		for _, fn := range rep.Functions {
			functions[fn] = true
		}
		for _, g := range rep.Grants {
			if prev, ok := grants[g.Key()]; ok {
				prev.Exercised = prev.Exercised || g.Exercised
			} else {
				grants[g.Key()] = &g
			}
		}
	}
	var unexercised, actions []string
	for _, g := range grants {
		actions = append(actions, g.Action)
		if !g.Exercised {
			unexercised = append(unexercised, fmt.Sprintf("%s: %s on %v (%s)", g.Function, g.Action, g.Resource, g.Statement))
		}
	}
	slices.Sort(unexercised)
	slices.Sort(actions)
	// The functions granted nothing (they call no AWS service) are named.
	granted := map[string]bool{}
	for _, g := range grants {
		granted[g.Function] = true
	}
	var declared, ungranted []string
	if tmpl, err := sam.Load(filepath.Join("..", "..", "template.yaml")); err == nil {
		for _, f := range tmpl.Functions() {
			declared = append(declared, f.LogicalID)
			if !granted[f.LogicalID] {
				ungranted = append(ungranted, f.LogicalID)
			}
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "IAM: %d distinct calls (%d authorizations) by %d of %d functions (granted nothing: %s), from %d stacks, checked against "+
		"the functions' policies: %d denied, %d unknown; %d granted actions (%d kinds), %d not exercised\n", all.Calls, all.Requests,
		len(functions), len(declared), strings.Join(ungranted, ", "), len(files), len(all.Denied), len(all.Unmapped), len(grants),
		len(slices.Compact(actions)), len(unexercised))
	for _, d := range dedupe(all.Denied) {
		fmt.Fprintf(&b, "  denied: %s\n", d)
	}
	for _, u := range dedupe(all.Unmapped) {
		fmt.Fprintf(&b, "  unknown call: %s\n", u)
	}
	for _, u := range unexercised {
		fmt.Fprintf(&b, "  granted, never exercised: %s\n", u)
	}
	fmt.Print(b.String())
	_ = os.MkdirAll(filepath.Join("..", "..", ".build"), 0o755)
	_ = os.WriteFile(filepath.Join("..", "..", ".build", "iam.txt"), []byte(b.String()), 0o644)
	ok := len(all.Denied) == 0 && len(all.Unmapped) == 0
	if complete {
		ok = ok && len(unexercised) == 0
	}
	return ok
}

func dedupe(s []string) []string {
	slices.Sort(s)
	return slices.Compact(s)
}
