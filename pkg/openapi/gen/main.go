// Command gen writes the served API descriptions (pkg/openapi/served/*.json)
// from the YAML sources: go generate ./pkg/openapi. A test in pkg/openapi
// fails when they are out of date.
package main

import (
	"log"
	"os"
	"path/filepath"

	"github.com/digital-citizenship/functions/pkg/openapi"
)

func main() {
	for name, api := range openapi.Served {
		doc, err := openapi.Bundle(api)
		if err != nil {
			log.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join("served", name), append(doc, '\n'), 0o644); err != nil {
			log.Fatal(err)
		}
	}
}
