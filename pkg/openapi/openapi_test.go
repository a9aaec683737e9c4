package openapi

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"

	"github.com/digital-citizenship/functions/pkg/openapi/served"
)

func TestBundle_LoadsAndValidates(t *testing.T) {
	for _, name := range []string{"public_api_v1.yaml", "admin_api.yaml", "original/public_api_v1.yaml", "original/admin_api.yaml"} {
		t.Run(name, func(t *testing.T) {
			b, err := Bundle(name)
			if err != nil {
				t.Fatal(err)
			}
			var v2 openapi2.T
			if err := json.Unmarshal(b, &v2); err != nil {
				t.Fatal(err)
			}
			v3, err := openapi2conv.ToV3(&v2)
			if err != nil {
				t.Fatal(err)
			}
			// The original's examples break its own schemas (legacy "QUEUED",
			// missing required fields): the documents are checked, not them.
			if err := v3.Validate(context.Background(), openapi3.DisableExamplesValidation()); err != nil {
				t.Fatalf("invalid description: %v", err)
			}
			if len(v3.Paths.Map()) < 2 {
				t.Fatalf("%d paths", len(v3.Paths.Map()))
			}
		})
	}
}

// The spec functions serve package served: it must be what Bundle makes of
// the YAML sources today.
func TestServed_IsUpToDate(t *testing.T) {
	got := map[string][]byte{"public_api_v1.json": served.Public(), "admin_api.json": served.Admin()}
	if len(got) != len(Served) {
		t.Fatalf("served has %d descriptions, Served lists %d", len(got), len(Served))
	}
	for name, api := range Served {
		want, err := Bundle(api)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(bytes.TrimSpace(got[name]), want) {
			t.Errorf("served/%s is out of date with %s: run go generate ./pkg/openapi", name, api)
		}
	}
}
