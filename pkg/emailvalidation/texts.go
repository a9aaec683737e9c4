package emailvalidation

import (
	"errors"
	"html"
	"strings"

	"github.com/digital-citizenship/functions/pkg/emails"
	"github.com/digital-citizenship/functions/pkg/problem"
)

type text struct{ subject, intro, action, ignore string }

var mailTexts = map[string]text{
	"it": {"Conferma il tuo indirizzo e-mail", "Hai indicato questo indirizzo per ricevere le comunicazioni delle pubbliche amministrazioni.",
		"Per confermarlo apri questo link entro 30 giorni:", "Se non sei stato tu, ignora questa e-mail."},
	"en": {"Confirm your e-mail address", "You gave this address to receive the communications of public administrations.",
		"To confirm it, open this link within 30 days:", "If it was not you, ignore this e-mail."},
}

// Email is the validation e-mail of link: in the citizen's first preferred
// language (Italian or English), then in the other.
func Email(preferred []string, link string) emails.Email {
	order := []string{"it", "en"}
	if len(preferred) > 0 && strings.HasPrefix(preferred[0], "en") {
		order = []string{"en", "it"}
	}
	var h, t strings.Builder
	for i, lang := range order {
		x := mailTexts[lang]
		if i > 0 {
			h.WriteString("<hr>")
			t.WriteString("\n---\n\n")
		}
		h.WriteString("<p>" + html.EscapeString(x.intro) + "</p><p>" + html.EscapeString(x.action) +
			`</p><p><a href="` + html.EscapeString(link) + `">` + html.EscapeString(link) + "</a></p><p>" +
			html.EscapeString(x.ignore) + "</p>")
		t.WriteString(x.intro + "\n" + x.action + "\n" + link + "\n" + x.ignore + "\n")
	}
	first, second := mailTexts[order[0]], mailTexts[order[1]]
	return emails.Email{Subject: first.subject + " / " + second.subject, HTML: h.String(), Text: t.String()}
}

var pageTexts = map[string][2]string{
	"":                 {"Indirizzo e-mail confermato. Da ora riceverai le notifiche a questo indirizzo.", "E-mail address confirmed. From now on notifications reach you at this address."},
	ErrMalformed.Title: {"Il link è incompleto: copia tutto il link dall'e-mail.", "The link is incomplete: copy the whole link from the e-mail."},
	ErrUnknown.Title:   {"Il link non è valido o è già stato usato.", "The link is not valid or was used already."},
	ErrExpired.Title:   {"Il link è scaduto: chiedine uno nuovo dall'app.", "The link expired: ask for a new one from the app."},
	ErrChanged.Title:   {"L'indirizzo e-mail del profilo è cambiato: usa il link inviato al nuovo indirizzo.", "The profile's e-mail address changed: follow the link sent to the new address."},
	"retry":            {"Non è stato possibile confermare l'indirizzo ora: riprova più tardi.", "The address could not be confirmed now: try again later."},
}

// Page is the HTML page that answers a link: err is Validate's outcome.
func Page(err error) string {
	key := ""
	if err != nil {
		key = "retry"
		var p *problem.Error
		if errors.As(err, &p) && p.Kind != problem.Internal {
			if _, ok := pageTexts[p.Title]; ok {
				key = p.Title
			}
		}
	}
	t := pageTexts[key]
	title := [2]string{"Indirizzo e-mail confermato", "E-mail address confirmed"}
	if err != nil {
		title = [2]string{"Indirizzo e-mail non confermato", "E-mail address not confirmed"}
	}
	return `<!doctype html><html lang="it"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">` +
		"<title>" + title[0] + " / " + title[1] + "</title>" +
		`<style>body{font-family:sans-serif;max-width:36em;margin:3em auto;padding:0 1em;line-height:1.5}</style></head><body>` +
		"<h1>" + title[0] + "</h1><p>" + html.EscapeString(t[0]) + `</p><hr lang="en"><h1 lang="en">` + title[1] +
		`</h1><p lang="en">` + html.EscapeString(t[1]) + "</p></body></html>\n"
}
