// Package views holds Sportello's templ components and their Italian and
// English texts. Views render what handlers give them; they read store types
// but never query anything.
package views

import (
	"context"
	"strings"
)

type ctxKey int

const langKey ctxKey = 0

// WithLang returns a context whose views speak lang ("it" or "en").
func WithLang(ctx context.Context, lang string) context.Context {
	return context.WithValue(ctx, langKey, lang)
}

// Lang is the language of ctx, English by default.
func Lang(ctx context.Context) string {
	if l, ok := ctx.Value(langKey).(string); ok && l != "" {
		return l
	}
	return "en"
}

// PickLang chooses it or en from an Accept-Language header, in the order
// of the browser's preferences.
func PickLang(acceptLanguage string) string {
	for _, part := range strings.Split(acceptLanguage, ",") {
		tag := strings.ToLower(strings.TrimSpace(strings.SplitN(part, ";", 2)[0]))
		switch {
		case strings.HasPrefix(tag, "it"):
			return "it"
		case strings.HasPrefix(tag, "en"):
			return "en"
		}
	}
	return "en"
}

// italian maps each English text to its Italian translation.
var italian = map[string]string{
	"Sign in":                   "Accedi",
	"E-mail":                    "E-mail",
	"Password":                  "Password",
	"Sign out":                  "Esci",
	"Wrong e-mail or password.": "E-mail o password errati.",
	"Too many attempts: wait a minute and try again.": "Troppi tentativi: attendi un minuto e riprova.",
	"Your shared accounts":                            "Le tue caselle condivise",
	"All inboxes":                                     "Tutte le caselle",
	"unread":                                          "da leggere",
	"messages":                                        "messaggi",
	"No shared account yet: ask an administrator to give you access.": "Nessuna casella condivisa: chiedi a un amministratore di darti accesso.",
	"manager":                         "gestore",
	"reader":                          "lettore",
	"Certified mail (PEC)":            "Posta certificata (PEC)",
	"Shared inbox for the whole team": "La casella condivisa di tutto lo studio",
	"Folders":                         "Cartelle",
	"Older":                           "Meno recenti",
	"Newer":                           "Più recenti",
	"Search":                          "Cerca",
	"No messages.":                    "Nessun messaggio.",
	"From":                            "Da",
	"To":                              "A",
	"Cc":                              "Cc",
	"Date":                            "Data",
	"Reply-To":                        "Rispondi a",
	"Subject":                         "Oggetto",
	"(no subject)":                    "(nessun oggetto)",
	"Attachments":                     "Allegati",
	"Download .eml":                   "Scarica .eml",
	"Back":                            "Indietro",
	"Show images":                     "Mostra immagini",
	"Remote images were blocked to protect your privacy.": "Le immagini remote sono state bloccate per proteggere la tua privacy.",
	"Inbox":                           "Posta in arrivo",
	"Sent":                            "Inviata",
	"Drafts":                          "Bozze",
	"Trash":                           "Cestino",
	"Junk":                            "Posta indesiderata",
	"Archive":                         "Archivio",
	"Account":                         "Casella",
	"Page not found.":                 "Pagina non trovata.",
	"You are not allowed to do that.": "Non hai i permessi per farlo.",
	"Something went wrong on our side; the error was logged.": "Qualcosa è andato storto da parte nostra; l'errore è stato registrato.",
	"The database is not answering; try again in a moment.":   "Il database non risponde; riprova tra poco.",
	"Skip to content": "Vai al contenuto",
	"Main navigation": "Navigazione principale",
	"Messages":        "Messaggi",
	"This part of the message could not be read.": "Questa parte del messaggio non è leggibile.",
	"syncing":         "sincronizzazione",
	"Not synced yet.": "Non ancora sincronizzata.",
}

// T translates an English text into the language of ctx.
func T(ctx context.Context, s string) string {
	if Lang(ctx) == "it" {
		if t, ok := italian[s]; ok {
			return t
		}
	}
	return s
}
