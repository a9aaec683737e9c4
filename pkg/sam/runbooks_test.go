package sam

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestRunbooks: every alarm's description ends with its runbook, a section
// of docs/runbooks.md that exists (GitHub's anchor of a heading), and every
// dead-letter queue has its own section (dcp dlq show names it).
func TestRunbooks(t *testing.T) {
	_, tmpl := repoTemplate(t)
	mon := monitoringTemplate(t)
	doc, err := os.ReadFile(filepath.Join(repoRoot(), "docs", "runbooks.md"))
	if err != nil {
		t.Fatal(err)
	}
	anchors := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^#{2,3} (.+)$`).FindAllStringSubmatch(string(doc), -1) {
		anchors[anchor(m[1])] = true
	}
	runbook := regexp.MustCompile(`Runbook: docs/runbooks\.md#([a-z0-9-]+)$`)
	alarms := append(tmpl.OfType("AWS::CloudWatch::Alarm"), mon.OfType("AWS::CloudWatch::Alarm")...)
	if len(alarms) < 10 {
		t.Fatalf("only %d alarms", len(alarms))
	}
	for _, id := range alarms {
		res, ok := tmpl.Resources[id]
		if !ok {
			res = mon.Resources[id]
		}
		d := str(res.Properties["AlarmDescription"])
		m := runbook.FindStringSubmatch(d)
		if m == nil {
			t.Errorf("%s: its description names no runbook: %q", id, d)
			continue
		}
		if !anchors[m[1]] {
			t.Errorf("%s: docs/runbooks.md has no section #%s", id, m[1])
		}
	}
	_, dlq := tmpl.Queues()
	for _, d := range dlq {
		if !anchors[strings.ToLower(d)] || Runbook(d) != "docs/runbooks.md#"+strings.ToLower(d) {
			t.Errorf("no runbook section for %s", d)
		}
	}
}

// anchor is GitHub's anchor of a heading: lower case, spaces to hyphens,
// punctuation dropped.
func anchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(heading)) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
		}
	}
	return b.String()
}
