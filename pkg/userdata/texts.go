package userdata

import (
	"strings"

	"github.com/digital-citizenship/functions/pkg/emails"
	"github.com/digital-citizenship/functions/pkg/messages"
)

func english(preferred []string) bool {
	return len(preferred) > 0 && strings.HasPrefix(preferred[0], "en")
}

// DownloadMessage is the message that brings the citizen the archive's
// link, in Italian or English.
func DownloadMessage(preferred []string, link string) messages.Content {
	if english(preferred) {
		return messages.Content{Subject: "Your data is ready to download", Markdown: "You asked for a copy of the data the " +
			"platform holds about you: your profile, your preferences, your messages with their statuses and your devices.\n\n" +
			"[Download the archive](" + link + ") (a JSON file). The link works for 7 days; after that the archive is deleted " +
			"and you can ask again."}
	}
	return messages.Content{Subject: "I tuoi dati sono pronti da scaricare", Markdown: "Hai chiesto una copia dei dati che " +
		"la piattaforma conserva su di te: il profilo, le preferenze, i messaggi con il loro stato e i tuoi dispositivi.\n\n" +
		"[Scarica l'archivio](" + link + ") (un file JSON). Il link funziona per 7 giorni; poi l'archivio viene cancellato " +
		"e puoi chiederlo di nuovo."}
}

// DeletionEmail confirms an erasure, in the citizen's language first.
func DeletionEmail(preferred []string) emails.Email {
	it := "Come hai chiesto, stiamo cancellando tutti i dati che la piattaforma conserva su di te: profilo, preferenze, " +
		"messaggi, dispositivi e questo indirizzo. Non riceverai altre comunicazioni qui."
	en := "As you asked, we are deleting every piece of data the platform holds about you: profile, preferences, messages, " +
		"devices and this address. You will receive no more communications here."
	subject, first, second := "I tuoi dati vengono cancellati / Your data is being deleted", it, en
	if english(preferred) {
		subject, first, second = "Your data is being deleted / I tuoi dati vengono cancellati", en, it
	}
	return emails.Email{Subject: subject, HTML: "<p>" + first + "</p><hr><p>" + second + "</p>", Text: first + "\n\n---\n\n" + second + "\n"}
}
