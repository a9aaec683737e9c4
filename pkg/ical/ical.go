// Package ical writes the iCalendar (RFC 5545) event of a message's due
// date: what the citizen puts in a calendar, attached to the message's
// e-mail and served to the app backend.
package ical

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Event is a due date.
type Event struct {
	// UID is the same for every copy of one message's event, so that
	// importing it again updates it.
	UID string
	// Stamp is when the event was created (DTSTAMP): the message's
	// creation.
	Stamp   time.Time
	Due     time.Time
	Summary string
	// Description lines (the service; a payment's notice number and amount).
	Description []string
	// Alarms are how long before Due the calendar reminds.
	Alarms []time.Duration
	// URL points to the message.
	URL string
}

// ContentType is the MIME type of a published event.
const ContentType = "text/calendar; charset=utf-8; method=PUBLISH"

// Marshal writes the event as a calendar of one VEVENT, METHOD:PUBLISH, with
// CRLF line ends, escaped text and lines folded at 75 octets.
func (e Event) Marshal() []byte {
	var b strings.Builder
	line := func(name, value string) { fold(&b, name+":"+value) }
	line("BEGIN", "VCALENDAR")
	line("VERSION", "2.0")
	line("PRODID", "-//Digital Citizenship//Messages//IT")
	line("METHOD", "PUBLISH")
	line("CALSCALE", "GREGORIAN")
	line("BEGIN", "VEVENT")
	line("UID", Escape(e.UID))
	line("DTSTAMP", utc(e.Stamp))
	line("DTSTART", utc(e.Due))
	line("SUMMARY", Escape(e.Summary))
	if len(e.Description) > 0 {
		line("DESCRIPTION", Escape(strings.Join(e.Description, "\n")))
	}
	if e.URL != "" {
		line("URL", e.URL)
	}
	line("TRANSP", "TRANSPARENT")
	for _, a := range e.Alarms {
		line("BEGIN", "VALARM")
		line("ACTION", "DISPLAY")
		line("TRIGGER", "-"+duration(a))
		line("DESCRIPTION", Escape(e.Summary))
		line("END", "VALARM")
	}
	line("END", "VEVENT")
	line("END", "VCALENDAR")
	return []byte(b.String())
}

func utc(t time.Time) string { return t.UTC().Format("20060102T150405Z") }

// duration is an RFC 5545 dur-value: P<days>DT<h>H<m>M<s>S, the zero parts
// left out.
func duration(d time.Duration) string {
	s := int64(d / time.Second)
	days, s := s/86400, s%86400
	out := "P"
	if days > 0 {
		out += fmt.Sprintf("%dD", days)
	}
	if s > 0 || days == 0 {
		out += "T"
		if h := s / 3600; h > 0 {
			out += fmt.Sprintf("%dH", h)
		}
		if m := s % 3600 / 60; m > 0 {
			out += fmt.Sprintf("%dM", m)
		}
		if sec := s % 60; sec > 0 || s == 0 {
			out += fmt.Sprintf("%dS", sec)
		}
	}
	return out
}

// Escape escapes a TEXT value: backslash, semicolon, comma and line breaks.
func Escape(s string) string {
	return strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\r\n", `\n`, "\n", `\n`, "\r", `\n`).Replace(s)
}

// fold writes a content line, folded into lines of at most 75 octets (a
// continuation starts with a space), never inside a UTF-8 sequence.
func fold(b *strings.Builder, s string) {
	limit := 75
	for len(s) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		b.WriteString(s[:cut])
		b.WriteString("\r\n ")
		s = s[cut:]
		limit = 74 // the leading space counts
	}
	b.WriteString(s)
	b.WriteString("\r\n")
}
