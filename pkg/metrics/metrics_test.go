package metrics

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestEMF writes the format CloudWatch extracts metrics from, and reads it
// back.
func TestEMF(t *testing.T) {
	var b bytes.Buffer
	e := &EMF{W: &b, Now: func() time.Time { return time.UnixMilli(1763900000000) }}
	e.Emit(Notifications, "Count", 1, map[string]string{"Outcome": "SENT", "Channel": "email"})
	var raw map[string]any
	if err := json.Unmarshal(b.Bytes(), &raw); err != nil || !strings.HasSuffix(b.String(), "}\n") {
		t.Fatalf("%s: %v", b.String(), err)
	}
	meta := raw["_aws"].(map[string]any)
	cm := meta["CloudWatchMetrics"].([]any)[0].(map[string]any)
	if meta["Timestamp"] != float64(1763900000000) || cm["Namespace"] != Namespace || raw["Notifications"] != float64(1) ||
		raw["Channel"] != "email" || raw["Outcome"] != "SENT" {
		t.Fatalf("line %s", b.String())
	}
	if dims := cm["Dimensions"].([]any)[0].([]any); len(dims) != 2 || dims[0] != "Channel" || dims[1] != "Outcome" {
		t.Fatalf("dimensions %v", dims)
	}
	l, ok := Parse(strings.TrimSpace(b.String()))
	if !ok || l.Name != Notifications || l.Value != 1 || l.Dims["Channel"] != "email" || l.Dims["Outcome"] != "SENT" {
		t.Fatalf("parsed %+v %v", l, ok)
	}
	if _, ok := Parse(`{"aws_request":"DynamoDB.Query"}`); ok {
		t.Fatal("a request line parsed as a metric")
	}
}

// TestEmitWithProperties: a property travels in the line, not as a
// dimension, and a sink without properties still gets the metric.
func TestEmitWithProperties(t *testing.T) {
	var b bytes.Buffer
	e := &EMF{W: &b, Now: time.Now}
	EmitWithProperties(e, DailyLimitUsage, "Percent", 81.5, nil, map[string]string{"ServiceId": "tari"})
	l, ok := Parse(strings.TrimSpace(b.String()))
	if !ok || l.Name != DailyLimitUsage || l.Value != 81.5 || len(l.Dims) != 0 || l.Props["ServiceId"] != "tari" {
		t.Fatalf("%+v from %s", l, b.String())
	}
	var plain plainSink
	EmitWithProperties(&plain, DailyLimitUsage, "Percent", 10, nil, map[string]string{"ServiceId": "tari"})
	if plain.n != 1 {
		t.Fatalf("a plain sink got %d metrics", plain.n)
	}
}

type plainSink struct{ n int }

func (p *plainSink) Emit(string, string, float64, map[string]string) { p.n++ }
