// Package mail owns message content: MIME parsing and building, HTML
// sanitizing, PEC classification and SMTP submission. It imports no other
// package of the project.
package mail

import "strings"

// PEC kinds, as Sportello stores and shows them. They are the header values
// of PEC.md §1 (X-Trasporto for envelopes, X-Ricevuta for receipts).
const (
	PECEnvelope        = "posta-certificata"
	PECAnomaly         = "errore" // anomaly envelope (X-Trasporto: errore)
	PECAcceptance      = "accettazione"
	PECNonAcceptance   = "non-accettazione"
	PECTakenInCharge   = "presa-in-carico"
	PECDelivery        = "avvenuta-consegna"
	PECDeliveryError   = "errore-consegna"
	PECDeliveryWarning = "preavviso-errore-consegna"
	PECVirus           = "rilevazione-virus"
)

// HeaderGetter returns the first value of a header field, or "".
type HeaderGetter func(name string) string

// ClassifyPEC reads the PEC marker headers. kind is "" for ordinary mail;
// ref is the Message-ID (without angle brackets) of the message a receipt or
// envelope refers to. Unknown X-Ricevuta values are kept as they are, so a
// new receipt type still shows as a receipt.
func ClassifyPEC(get HeaderGetter) (kind, ref string) {
	ref = StripAngles(get("X-Riferimento-Message-ID"))
	if v := normalize(get("X-Ricevuta")); v != "" {
		return v, ref
	}
	switch v := normalize(get("X-Trasporto")); v {
	case "posta-certificata":
		return PECEnvelope, ref
	case "errore":
		return PECAnomaly, ref
	case "":
		return "", ""
	default:
		return v, ref
	}
}

func normalize(v string) string {
	return strings.ToLower(strings.TrimSpace(v))
}

// StripAngles trims a Message-ID and removes its angle brackets.
func StripAngles(id string) string {
	id = strings.TrimSpace(id)
	id = strings.TrimPrefix(id, "<")
	return strings.TrimSuffix(id, ">")
}
