// Command gen writes template.yaml's monitoring section (alarms and the
// dashboard) from its functions and queues: go generate ./pkg/sam.
package main

import (
	"log"
	"os"

	"github.com/digital-citizenship/functions/pkg/sam"
)

func main() {
	path := "../../template.yaml"
	if len(os.Args) > 1 {
		path = os.Args[1]
	}
	t, err := sam.Load(path)
	if err != nil {
		log.Fatal(err)
	}
	text, err := os.ReadFile(path)
	if err != nil {
		log.Fatal(err)
	}
	out, err := sam.WithMonitoring(string(text), t.Monitoring())
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
		log.Fatal(err)
	}
}
