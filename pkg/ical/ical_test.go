package ical_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	goical "github.com/emersion/go-ical"

	"github.com/digital-citizenship/functions/pkg/ical"
)

// The event is read back with a real iCalendar parser (emersion/go-ical),
// not compared as a string.
func TestEvent_ParsesBack(t *testing.T) {
	due := time.Date(2027, 1, 31, 22, 59, 59, 0, time.UTC)
	summary := `Avviso TARI; rata "unica", città di Roma \ Municipio I – versamento entro la scadenza indicata nell'avviso`
	e := ical.Event{UID: "01ABC@messages.io.italia.it", Stamp: due.Add(-30 * 24 * time.Hour), Due: due, Summary: summary,
		Description: []string{"TARI - Comune di Roma", "Avviso pagoPA 302000100000009401, importo 120,00 EUR"},
		Alarms:      []time.Duration{7 * 24 * time.Hour, 24 * time.Hour, 90 * time.Minute}, URL: "ioit://messages/01ABC"}
	raw := e.Marshal()
	for _, line := range strings.SplitAfter(string(raw), "\r\n") {
		if len(strings.TrimSuffix(line, "\r\n")) > 75 {
			t.Fatalf("line over 75 octets: %q", line)
		}
		if strings.Contains(strings.TrimSuffix(line, "\r\n"), "\n") {
			t.Fatalf("a bare line feed: %q", line)
		}
	}
	cal, err := goical.NewDecoder(bytes.NewReader(raw)).Decode()
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, raw)
	}
	if m, _ := cal.Props.Text(goical.PropMethod); m != "PUBLISH" {
		t.Fatalf("METHOD %q", m)
	}
	events := cal.Events()
	if len(events) != 1 {
		t.Fatalf("%d events", len(events))
	}
	ev := events[0]
	if uid, _ := ev.Props.Text(goical.PropUID); uid != e.UID {
		t.Fatalf("UID %q", uid)
	}
	if s, _ := ev.Props.Text(goical.PropSummary); s != summary {
		t.Fatalf("SUMMARY %q, want %q", s, summary)
	}
	if d, _ := ev.Props.Text(goical.PropDescription); d != "TARI - Comune di Roma\nAvviso pagoPA 302000100000009401, importo 120,00 EUR" {
		t.Fatalf("DESCRIPTION %q", d)
	}
	start, err := ev.DateTimeStart(time.UTC)
	if err != nil || !start.Equal(due) {
		t.Fatalf("DTSTART %v %v", start, err)
	}
	stamp, err := ev.Props.DateTime(goical.PropDateTimeStamp, time.UTC)
	if err != nil || !stamp.Equal(e.Stamp) {
		t.Fatalf("DTSTAMP %v %v", stamp, err)
	}
	var triggers []time.Duration
	for _, c := range ev.Children {
		if c.Name != goical.CompAlarm {
			continue
		}
		d, err := c.Props.Get(goical.PropTrigger).Duration()
		if err != nil {
			t.Fatal(err)
		}
		triggers = append(triggers, d)
	}
	want := []time.Duration{-7 * 24 * time.Hour, -24 * time.Hour, -90 * time.Minute}
	if len(triggers) != len(want) {
		t.Fatalf("alarms %v", triggers)
	}
	for i := range want {
		if triggers[i] != want[i] {
			t.Fatalf("alarm %d: %v, want %v", i, triggers[i], want[i])
		}
	}
}
