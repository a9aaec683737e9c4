package welcome

import "github.com/digital-citizenship/functions/pkg/messages"

// texts are the welcome messages by language; the app opens the ioit://
// links on its own screens.
var texts = map[string][]messages.Content{
	"it": {
		{Subject: "Benvenuto nella tua casella dei servizi pubblici!", Markdown: "Ciao! Da oggi le pubbliche amministrazioni " +
			"possono scriverti qui, conoscendo solo il tuo codice fiscale: avvisi di pagamento, scadenze, comunicazioni.\n\n" +
			"Ogni messaggio resta nella tua casella; le notifiche arrivano per e-mail e sul telefono, come preferisci.\n\n" +
			"Puoi cambiare le tue preferenze in ogni momento dalla [pagina del profilo](ioit://PREFERENCES_HOME)."},
		{Subject: "Scegli quali servizi possono scriverti", Markdown: "Sei tu a decidere quali servizi possono contattarti " +
			"e su quali canali: casella, e-mail, notifiche.\n\n" +
			"Dalla [lista dei servizi](ioit://PREFERENCES_SERVICES) puoi disattivare un servizio, o sceglierli uno per uno " +
			"passando alla modalità manuale. Puoi anche decidere se un servizio può sapere che hai letto i suoi messaggi."},
	},
	"en": {
		{Subject: "Welcome to your public services inbox!", Markdown: "Hello! From today public administrations can write " +
			"to you here, knowing only your fiscal code: payment notices, deadlines, communications.\n\n" +
			"Every message stays in your inbox; notifications reach you by e-mail and on your phone, as you prefer.\n\n" +
			"You can change your preferences at any time from your [profile page](ioit://PREFERENCES_HOME)."},
		{Subject: "Choose which services may write to you", Markdown: "You decide which services may contact you and on " +
			"which channels: inbox, e-mail, notifications.\n\n" +
			"From the [list of services](ioit://PREFERENCES_SERVICES) you can switch a service off, or choose them one by " +
			"one in manual mode. You can also decide whether a service may know that you read its messages."},
	},
}

// Texts returns the welcome messages in the first of the citizen's
// preferred languages that has them (Italian and English), Italian
// otherwise.
func Texts(preferred []string) []messages.Content {
	if len(preferred) > 0 {
		if t, ok := texts[language(preferred[0])]; ok {
			return t
		}
	}
	return texts["it"]
}

// language is the language part of a locale such as en_GB.
func language(locale string) string {
	if len(locale) >= 2 {
		return locale[:2]
	}
	return locale
}
