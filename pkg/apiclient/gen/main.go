// Command gen writes package apiclient's generated files from the API
// descriptions: go generate ./pkg/apiclient. A test in package apiclient
// fails when they are out of date.
package main

import (
	"log"
	"os"

	"github.com/digital-citizenship/functions/pkg/apiclient/internal/generate"
)

func main() {
	files, err := generate.Files()
	if err != nil {
		log.Fatal(err)
	}
	for name, src := range files {
		if err := os.WriteFile(name, src, 0o644); err != nil {
			log.Fatal(err)
		}
	}
}
