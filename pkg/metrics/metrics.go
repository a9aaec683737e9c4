// Package metrics writes business metrics as CloudWatch Embedded Metric
// Format (EMF) log lines: CloudWatch Logs extracts them into metrics, with
// no API call from the function. Dimensions stay of low cardinality
// (outcome, channel, rejection reason; never a service or a citizen).
package metrics

import (
	"encoding/json"
	"io"
	"os"
	"sort"
	"sync"
	"time"
)

// Namespace of every metric.
const Namespace = "DigitalCitizenship"

// Names and units of the metrics.
const (
	Messages        = "Messages"        // Count; dimension Outcome (ACCEPTED, SCHEDULED, PROCESSED, REJECTED), Reason on REJECTED
	Notifications   = "Notifications"   // Count; dimensions Channel, Outcome (SENT, FAILED, EXPIRED)
	DeliveryLatency = "DeliveryLatency" // Milliseconds from accepted to sent; dimension Channel
	// DailyLimitUsage is the share of its daily limit a service used, in
	// percent, as a submitting environment read it (at most once a second);
	// no dimension, the service in the line's ServiceId property.
	DailyLimitUsage = "DailyLimitUsage"
	// Callbacks counts delivery callbacks by Outcome (DELIVERED, FAILED:
	// an attempt; GIVEN_UP after a day of retries).
	Callbacks = "Callbacks"
	// CallbacksSuspended counts suspensions of a service's callbacks (no
	// dimension; the service in the line's ServiceId property).
	CallbacksSuspended = "CallbacksSuspended"
)

// PropertySink is a Sink that can add properties to a metric's line:
// searchable in the logs (CloudWatch Logs Insights), not dimensions.
type PropertySink interface {
	EmitProperties(name, unit string, value float64, dims, props map[string]string)
}

// EmitWithProperties emits a metric with properties where sink takes them,
// without them elsewhere.
func EmitWithProperties(sink Sink, name, unit string, value float64, dims, props map[string]string) {
	if ps, ok := sink.(PropertySink); ok {
		ps.EmitProperties(name, unit, value, dims, props)
		return
	}
	sink.Emit(name, unit, value, dims)
}

// Sink receives metrics.
type Sink interface {
	// Emit records value of metric name (unit Count or Milliseconds)
	// with dims.
	Emit(name, unit string, value float64, dims map[string]string)
}

// EMF writes each metric as one EMF line.
type EMF struct {
	mu  sync.Mutex
	W   io.Writer
	Now func() time.Time
}

// Stdout is the sink of a Lambda function: its standard output goes to
// CloudWatch Logs.
var Stdout Sink = &EMF{W: os.Stdout, Now: time.Now}

// Emit implements Sink.
func (e *EMF) Emit(name, unit string, value float64, dims map[string]string) {
	e.EmitProperties(name, unit, value, dims, nil)
}

// EmitProperties implements PropertySink.
func (e *EMF) EmitProperties(name, unit string, value float64, dims, props map[string]string) {
	keys := make([]string, 0, len(dims))
	line := map[string]any{}
	for k, v := range props {
		line[k] = v
	}
	for k, v := range dims {
		keys = append(keys, k)
		line[k] = v
	}
	line[name] = value
	line["_aws"] = map[string]any{
		"Timestamp": e.Now().UnixMilli(),
		"CloudWatchMetrics": []map[string]any{{
			"Namespace":  Namespace,
			"Dimensions": [][]string{keys},
			"Metrics":    []map[string]string{{"Name": name, "Unit": unit}},
		}},
	}
	sort.Strings(keys)
	b, _ := json.Marshal(line)
	e.mu.Lock()
	defer e.mu.Unlock()
	_, _ = e.W.Write(append(b, '\n'))
}

// Count emits one occurrence when sink is set.
func Count(sink Sink, name string, dims map[string]string) {
	if sink != nil {
		sink.Emit(name, "Count", 1, dims)
	}
}

// Line is a parsed EMF line: its metric, value, dimensions and string
// properties.
type Line struct {
	Name  string
	Value float64
	Dims  map[string]string
	Props map[string]string
}

// Parse reads an EMF line written by EMF; ok is false for any other line.
func Parse(s string) (Line, bool) {
	var raw map[string]any
	if len(s) == 0 || s[0] != '{' || json.Unmarshal([]byte(s), &raw) != nil {
		return Line{}, false
	}
	meta, _ := raw["_aws"].(map[string]any)
	cms, _ := meta["CloudWatchMetrics"].([]any)
	if len(cms) != 1 {
		return Line{}, false
	}
	cm, _ := cms[0].(map[string]any)
	ms, _ := cm["Metrics"].([]any)
	if len(ms) != 1 {
		return Line{}, false
	}
	m, _ := ms[0].(map[string]any)
	name, _ := m["Name"].(string)
	value, _ := raw[name].(float64)
	l := Line{Name: name, Value: value, Dims: map[string]string{}, Props: map[string]string{}}
	dims, _ := cm["Dimensions"].([]any)
	for _, set := range dims {
		for _, d := range set.([]any) {
			k, _ := d.(string)
			l.Dims[k], _ = raw[k].(string)
		}
	}
	for k, v := range raw {
		if s, ok := v.(string); ok {
			if _, dim := l.Dims[k]; !dim {
				l.Props[k] = s
			}
		}
	}
	return l, name != ""
}
