// Package openapi holds the API descriptions: ours (the original contract
// plus this implementation's extensions), served at /specs/.../swagger.json,
// and the original contracts (original/, MIT licensed) the tests check our
// responses against. Files keep the original layout: a definitions file
// whose internal references are "#/Name"; Bundle makes one document of them.
package openapi

import (
	"embed"
	"encoding/json"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

//go:generate go run ./gen

//go:embed *.yaml original/*.yaml
var files embed.FS

// Served maps each file of package served to the description it bundles.
var Served = map[string]string{
	"public_api_v1.json": "public_api_v1.yaml",
	"admin_api.json":     "admin_api.yaml",
}

// Bundle returns the Swagger 2.0 document api (a file name in this package,
// "original/" for the originals) with its definitions file inlined, as JSON.
func Bundle(api string) ([]byte, error) {
	dir := ""
	if i := strings.LastIndexByte(api, '/'); i >= 0 {
		dir = api[:i+1]
	}
	doc, err := load(api)
	if err != nil {
		return nil, err
	}
	defs, err := load(dir + "definitions.yaml")
	if err != nil {
		return nil, err
	}
	doc["definitions"] = rewriteRefs(defs)
	return json.Marshal(doc)
}

func load(name string) (map[string]any, error) {
	b, err := files.ReadFile(name)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := yaml.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("parse %s: %w", name, err)
	}
	return m, nil
}

// rewriteRefs turns the definitions file's "#/Name" into "#/definitions/Name".
func rewriteRefs(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && k == "$ref" && strings.HasPrefix(s, "#/") && !strings.HasPrefix(s, "#/definitions/") {
				v[k] = "#/definitions/" + s[2:]
				continue
			}
			v[k] = rewriteRefs(x)
		}
	case []any:
		for i, x := range v {
			v[i] = rewriteRefs(x)
		}
	}
	return v
}
