package messages

import (
	"fmt"
	"time"

	"github.com/digital-citizenship/functions/pkg/ical"
)

// CalendarUID is a message's event UID: importing the event again updates
// the one imported before.
func CalendarUID(id string) string { return id + "@messages.io.italia.it" }

// Calendar returns the iCalendar event of a message's due date, with an
// alarm at each reminder offset; false without a due date. The
// description names the service and, for a payment, the notice number and
// the amount; never the citizen.
func Calendar(id string, created time.Time, c Content, sm SenderMetadata, offsets []int) (ical.Event, bool) {
	due := ParseTime(c.DueDate)
	if due.IsZero() {
		return ical.Event{}, false
	}
	from := sm.ServiceName
	if sm.OrganizationName != "" {
		from += " - " + sm.OrganizationName
	}
	e := ical.Event{UID: CalendarUID(id), Stamp: created, Due: due, Summary: c.Subject, URL: AppMessageLink(id)}
	if from != "" {
		e.Description = append(e.Description, from)
	}
	if pd := c.PaymentData; pd != nil {
		e.Description = append(e.Description, fmt.Sprintf("Avviso pagoPA %s, importo %d,%02d EUR", pd.NoticeNumber, pd.Amount/100, pd.Amount%100))
	}
	for _, o := range offsets {
		e.Alarms = append(e.Alarms, time.Duration(o)*time.Second)
	}
	return e, true
}
