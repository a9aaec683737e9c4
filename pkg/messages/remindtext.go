package messages

import (
	"fmt"
	"strings"
)

// AppMessageLink is where a reminder points: the message in the IO app.
func AppMessageLink(id string) string { return "ioit://messages/" + id }

// reminderTexts are the reminder's words in Italian (the default) and
// English.
type reminderTexts struct {
	subject, unpaid, unread, open, push, generic string
	date                                         func(s string) string
}

var (
	italian = reminderTexts{
		subject: "Promemoria: %s",
		unpaid:  "Ti ricordiamo che l'avviso di pagamento **%s** di %s risulta ancora da pagare. Scade il %s.",
		unread:  "Ti ricordiamo il messaggio **%s** di %s, in scadenza il %s.",
		open:    "Apri il messaggio nell'app IO: %s",
		push:    "Promemoria: %s, scade il %s",
		generic: "Hai una scadenza in arrivo.",
		date: func(s string) string {
			t := ParseTime(s)
			return t.Format("02/01/2006") + " alle " + t.Format("15:04") + " (UTC)"
		},
	}
	english = reminderTexts{
		subject: "Reminder: %s",
		unpaid:  "This is a reminder that the payment notice **%s** from %s is still unpaid. It is due on %s.",
		unread:  "This is a reminder of the message **%s** from %s, due on %s.",
		open:    "Open the message in the IO app: %s",
		push:    "Reminder: %s, due on %s",
		generic: "You have a deadline coming up.",
		date: func(s string) string {
			t := ParseTime(s)
			return t.Format("2 January 2006") + " at " + t.Format("15:04") + " (UTC)"
		},
	}
)

func textsFor(language string) reminderTexts {
	if strings.HasPrefix(language, "en") {
		return english
	}
	return italian
}

// ReminderEmail returns a reminder e-mail's subject and markdown: the
// service, the subject, the due date and the way to the message in the
// app, in the citizen's language.
func ReminderEmail(ev NotificationEvent) (subject, markdown string) {
	t := textsFor(ev.Language)
	from := ev.SenderMetadata.ServiceName
	if o := ev.SenderMetadata.OrganizationName; o != "" {
		from += " (" + o + ")"
	}
	body := t.unread
	if ev.Reminder.Payment {
		body = t.unpaid
	}
	return fmt.Sprintf(t.subject, ev.Content.Subject),
		fmt.Sprintf(body, ev.Content.Subject, from, t.date(ev.Reminder.DueDate)) + "\n\n" + fmt.Sprintf(t.open, AppMessageLink(ev.Message.ID)) + "\n"
}

// ReminderPush returns a reminder's push text.
func ReminderPush(ev NotificationEvent) string {
	t := textsFor(ev.Language)
	if ev.Anonymous {
		return t.generic
	}
	return fmt.Sprintf(t.push, ev.Content.Subject, t.date(ev.Reminder.DueDate))
}

// DocumentsWaiting is what a message's e-mail says of its documents: they
// wait in the app (the e-mail attaches none and links to none).
func DocumentsWaiting(language string, n int) string {
	if strings.HasPrefix(language, "en") {
		if n == 1 {
			return "_A document of this message is waiting for you in the IO app._"
		}
		return fmt.Sprintf("_%d documents of this message are waiting for you in the IO app._", n)
	}
	if n == 1 {
		return "_Un documento di questo messaggio ti aspetta nell'app IO._"
	}
	return fmt.Sprintf("_%d documenti di questo messaggio ti aspettano nell'app IO._", n)
}
