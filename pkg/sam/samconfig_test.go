package sam

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// samConfig is samconfig.toml, read with Python's tomllib (SAM CLI's own
// format; python3 is on every machine of this project).
func samConfig(t *testing.T) map[string]map[string]map[string]any {
	t.Helper()
	out, err := exec.Command("python3", "-c", "import json, sys, tomllib; json.dump(tomllib.load(open(sys.argv[1], 'rb')), sys.stdout)",
		filepath.Join(repoRoot(), "samconfig.toml")).Output()
	if err != nil {
		t.Fatalf("samconfig.toml does not parse: %v", err)
	}
	var cfg map[string]any
	if err := json.Unmarshal(out, &cfg); err != nil {
		t.Fatal(err)
	}
	envs := map[string]map[string]map[string]any{}
	for env, v := range cfg {
		if env == "version" {
			continue
		}
		envs[env] = map[string]map[string]any{}
		for cmd, p := range asMap(v) {
			envs[env][cmd] = asMap(asMap(p)["parameters"])
		}
	}
	return envs
}

// TestSamConfig: samconfig.toml has the environments dev (also the
// default), staging and prod, each its own stack and S3 prefix in a region,
// with parameters that template.yaml declares and accepts.
func TestSamConfig(t *testing.T) {
	_, tmpl := repoTemplate(t)
	envs := samConfig(t)
	if !reflect.DeepEqual(envs["default"], envs["dev"]) {
		t.Errorf("the default environment is not dev's:\n%v\n%v", envs["default"], envs["dev"])
	}
	stacks := map[string]string{}
	for _, env := range []string{"dev", "staging", "prod"} {
		e, ok := envs[env]
		if !ok {
			t.Errorf("no environment %s", env)
			continue
		}
		stack := fmt.Sprint(e["global"]["stack_name"])
		if other, dup := stacks[stack]; dup || stack == "" {
			t.Errorf("%s's stack %q (also %s's)", env, stack, other)
		}
		stacks[stack] = env
		d := e["deploy"]
		if d["region"] == "" || !strings.Contains(fmt.Sprint(d["capabilities"]), "CAPABILITY_IAM") || d["s3_prefix"] != stack {
			t.Errorf("%s deploy: %v", env, d)
		}
		for _, kv := range strings.Fields(fmt.Sprint(d["parameter_overrides"])) {
			name, value, _ := strings.Cut(kv, "=")
			if err := acceptable(tmpl, name, value); err != nil {
				t.Errorf("%s: %v", env, err)
			}
		}
	}
	if stacks["digital-citizenship"] != "prod" {
		t.Errorf("prod is not the stack digital-citizenship: %v", stacks)
	}
}

// acceptable reports whether template.yaml declares the parameter and
// accepts the value (AllowedValues, MinValue, MaxValue).
func acceptable(tmpl *Template, name, value string) error {
	p, ok := tmpl.Parameters[name]
	if !ok {
		return fmt.Errorf("parameter %s is not in template.yaml", name)
	}
	pm := asMap(p)
	if allowed, ok := pm["AllowedValues"].([]any); ok && !slices.Contains(allowed, any(value)) {
		return fmt.Errorf("%s=%s is not among %v", name, value, allowed)
	}
	if pm["Type"] == "Number" {
		n, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return fmt.Errorf("%s=%s is not a number", name, value)
		}
		if mn, err := strconv.ParseFloat(fmt.Sprint(pm["MinValue"]), 64); err == nil && n < mn {
			return fmt.Errorf("%s=%s is under %v", name, value, mn)
		}
		if mx, err := strconv.ParseFloat(fmt.Sprint(pm["MaxValue"]), 64); err == nil && n > mx {
			return fmt.Errorf("%s=%s is over %v", name, value, mx)
		}
	}
	return nil
}
