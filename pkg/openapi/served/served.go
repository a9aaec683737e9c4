// Package served holds the API descriptions as the spec functions serve
// them: JSON bundled at build time by go generate ./pkg/openapi, so that
// serving them needs no YAML parser and no work at cold start.
package served

import "embed"

//go:embed *.json
var files embed.FS

// Public is the public API description (GET /specs/api/v1/swagger.json).
func Public() []byte { return must("public_api_v1.json") }

// Admin is the admin API description (GET /specs/adm/swagger.json).
func Admin() []byte { return must("admin_api.json") }

func must(name string) []byte {
	b, err := files.ReadFile(name)
	if err != nil {
		panic(err) // embedded at build time: cannot happen
	}
	return b
}
