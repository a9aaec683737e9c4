package sam

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"

	"github.com/digital-citizenship/functions/pkg/config"
)

//go:embed transform.py
var transformScript string

// Transformed is template.yaml after the SAM transform: plain
// CloudFormation, what a deployment creates.
type Transformed struct {
	// Doc is the whole template, as JSON decodes it.
	Doc map[string]any
	// Nested are the nested stacks' templates whose TemplateURL is a file
	// next to the template (monitoring.yaml), by the stack's logical id.
	Nested map[string]map[string]any
}

// Resources returns the template's resources by logical id.
func (t *Transformed) Resources() map[string]map[string]any {
	out := map[string]map[string]any{}
	for id, r := range asMap(t.Doc["Resources"]) {
		out[id] = asMap(r)
	}
	return out
}

// OfType returns the logical ids of the resources of type typ, sorted.
func (t *Transformed) OfType(typ string) []string {
	var ids []string
	for id, r := range t.Resources() {
		if r["Type"] == typ {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// Transform runs the SAM transform on the template at path with
// aws-sam-translator (python3, installed on every machine of this project),
// each function's CodeUri replaced by codeURIs[logical id] (s3://bucket/key,
// as sam package writes them; a placeholder for the others). It fails when
// the template no longer transforms.
func Transform(path string, codeURIs map[string]string) (*Transformed, error) {
	code, err := json.Marshal(codeURIs)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command("python3", "-c", transformScript, path, string(code))
	// The library makes a boto3 session, which reads AWS_PROFILE and the
	// like: none of the developer's settings may break it.
	cmd.Env = append(config.WithoutAWS(os.Environ()), "AWS_DEFAULT_REGION=eu-south-1")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("SAM transform of %s (aws-sam-translator): %v: %s", path, err, stderr.String())
	}
	var both struct {
		Template map[string]any
		Nested   map[string]map[string]any
	}
	if err := json.Unmarshal(out, &both); err != nil {
		return nil, fmt.Errorf("SAM transform output: %w", err)
	}
	return &Transformed{Doc: both.Template, Nested: both.Nested}, nil
}
