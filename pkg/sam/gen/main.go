// Command gen writes the monitoring (alarms and the dashboard) from
// template.yaml's functions and queues: monitoring.yaml, a nested stack, and
// template.yaml's section that creates it. go generate ./pkg/sam.
package main

import (
	"log"
	"os"
	"path/filepath"

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
	nested, section := t.Monitoring()
	out, err := sam.WithMonitoring(string(text), section)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(filepath.Dir(path), sam.MonitoringFile), []byte(nested), 0o644); err != nil {
		log.Fatal(err)
	}
}
