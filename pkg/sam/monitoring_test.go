package sam

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// monitoringTemplate is monitoring.yaml, the nested stack of the alarms.
func monitoringTemplate(t *testing.T) *Template {
	t.Helper()
	mon, err := Load(filepath.Join(repoRoot(), MonitoringFile))
	if err != nil {
		t.Fatal(err)
	}
	return mon
}

func repoTemplate(t *testing.T) (string, *Template) {
	t.Helper()
	path := filepath.Join(repoRoot(), "template.yaml")
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(text), tmpl
}

// TestMonitoring reads template.yaml: its generated monitoring is up to
// date, every work queue has an alarm on the age of its oldest message and
// one on its dead-letter queue, every function an alarm on its errors and
// throttles, and every alarm notifies the AlarmTopicArn topic.
func TestMonitoring(t *testing.T) {
	text, tmpl := repoTemplate(t)
	nested, section := tmpl.Monitoring()
	if monitoringSection(text) != section {
		t.Fatal("template.yaml's monitoring is out of date: run go generate ./pkg/sam")
	}
	mon := monitoringTemplate(t)
	if got, _ := os.ReadFile(filepath.Join(repoRoot(), MonitoringFile)); string(got) != nested {
		t.Fatal(MonitoringFile + " is out of date: run go generate ./pkg/sam")
	}
	// The main stack gives every parameter the nested one has no default for.
	given := asMap(asMap(tmpl.Resources["Monitoring"].Properties)["Parameters"])
	for name, p := range mon.Parameters {
		if _, ok := asMap(p)["Default"]; !ok && given[name] == nil {
			t.Errorf("template.yaml's Monitoring does not give %s", name)
		}
	}
	// alarmsOn maps "namespace metric dimension-target" to the alarms (the
	// nested stack's parameters are named after the main stack's resources).
	alarmsOn := map[string][]string{}
	for _, id := range append(tmpl.OfType("AWS::CloudWatch::Alarm"), mon.OfType("AWS::CloudWatch::Alarm")...) {
		p := tmpl.Resources[id].Properties
		if _, ok := tmpl.Resources[id]; !ok {
			p = mon.Resources[id].Properties
		}
		if !strings.Contains(strings.Join(flatten(p["AlarmActions"]), " "), "AlarmTopicArn") {
			t.Errorf("alarm %s notifies no one: %v", id, p["AlarmActions"])
		}
		add := func(ns, metric string, dims any) {
			for _, d := range list(dims) {
				alarmsOn[ns+" "+metric+" "+refTarget(asMap(d)["Value"])] = append(alarmsOn[ns+" "+metric+" "+refTarget(asMap(d)["Value"])], id)
			}
		}
		add(str(p["Namespace"]), str(p["MetricName"]), p["Dimensions"])
		for _, m := range list(p["Metrics"]) {
			ms := asMap(asMap(asMap(m)["MetricStat"])["Metric"])
			add(str(ms["Namespace"]), str(ms["MetricName"]), ms["Dimensions"])
		}
	}
	work, dlq := tmpl.Queues()
	if len(work) == 0 {
		t.Fatal("no queues found")
	}
	lanes := map[string]int{}
	for _, q := range work {
		_, lane := Lane(q)
		lanes[lane]++
		switch aged := len(alarmsOn["AWS/SQS ApproximateAgeOfOldestMessage "+q]) > 0; {
		case lane == "bulk" && aged:
			t.Errorf("bulk lane %s has an age alarm: a campaign's backlog is expected", q)
		case lane != "bulk" && !aged:
			t.Errorf("queue %s has no alarm on the age of its oldest message", q)
		}
		if dlq[q] == "" {
			t.Errorf("queue %s has no dead-letter queue", q)
		} else if len(alarmsOn["AWS/SQS ApproximateNumberOfMessagesVisible "+dlq[q]]) == 0 {
			t.Errorf("dead-letter queue %s has no alarm", dlq[q])
		}
	}
	if lanes["priority"] != 3 || lanes["normal"] != 3 || lanes["bulk"] != 3 {
		t.Errorf("lanes of the created-messages, e-mail and push queues: %v, want 3 of each", lanes)
	}
	for _, f := range tmpl.Functions() {
		if len(alarmsOn["AWS/Lambda Errors "+f.LogicalID]) == 0 || len(alarmsOn["AWS/Lambda Throttles "+f.LogicalID]) == 0 {
			t.Errorf("function %s has no alarm on its errors and throttles", f.LogicalID)
		}
	}
	for _, want := range []string{"AWS/ApiGateway 5XXError ", "AWS/SES Reputation.BounceRate ", "AWS/SES Reputation.ComplaintRate "} {
		found := false
		for k := range alarmsOn {
			found = found || strings.HasPrefix(k, want)
		}
		for _, id := range mon.OfType("AWS::CloudWatch::Alarm") {
			p := mon.Resources[id].Properties
			found = found || str(p["Namespace"])+" "+str(p["MetricName"])+" " == want
		}
		if !found {
			t.Errorf("no alarm on %s", want)
		}
	}
	if len(mon.OfType("AWS::CloudWatch::Dashboard")) != 1 {
		t.Error("no dashboard")
	}
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func flatten(v any) []string {
	switch x := v.(type) {
	case []any:
		var out []string
		for _, e := range x {
			out = append(out, flatten(e)...)
		}
		return out
	case map[string]any:
		var out []string
		for k, e := range x {
			out = append(out, k)
			out = append(out, flatten(e)...)
		}
		return out
	case string:
		return []string{x}
	}
	return nil
}
