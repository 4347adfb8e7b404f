package demo

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html"
	"strings"
	"time"
)

// pecParams describes the message a PEC receipt or envelope speaks of.
type pecParams struct {
	MsgID          string // with angle brackets
	Subject        string
	Sender         string
	Recipients     []string
	Identificativo string
	When           time.Time
	Provider       string
}

var receiptSubjects = map[string]string{
	"accettazione":      "ACCETTAZIONE: ",
	"avvenuta-consegna": "CONSEGNA: ",
	"errore-consegna":   "AVVISO DI MANCATA CONSEGNA: ",
	"posta-certificata": "POSTA CERTIFICATA: ",
}

func daticert(kind, errore string, p pecParams, consegna string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<postacert tipo=\"%s\" errore=\"%s\">\n  <intestazione>\n", kind, errore)
	fmt.Fprintf(&b, "    <mittente>%s</mittente>\n", html.EscapeString(p.Sender))
	for _, r := range p.Recipients {
		fmt.Fprintf(&b, "    <destinatari tipo=\"certificato\">%s</destinatari>\n", html.EscapeString(r))
	}
	fmt.Fprintf(&b, "    <risposte>%s</risposte>\n    <oggetto>%s</oggetto>\n  </intestazione>\n  <dati>\n", html.EscapeString(p.Sender), html.EscapeString(p.Subject))
	fmt.Fprintf(&b, "    <gestore-emittente>%s</gestore-emittente>\n", html.EscapeString(p.provider()))
	fmt.Fprintf(&b, "    <data zona=\"%s\"><giorno>%s</giorno><ora>%s</ora></data>\n", p.When.Format("-0700"), p.When.Format("02/01/2006"), p.When.Format("15:04:05"))
	fmt.Fprintf(&b, "    <identificativo>%s</identificativo>\n    <msgid>%s</msgid>\n", p.Identificativo, html.EscapeString(p.MsgID))
	if kind == "avvenuta-consegna" {
		b.WriteString("    <ricevuta tipo=\"completa\"/>\n")
	}
	if consegna != "" {
		fmt.Fprintf(&b, "    <consegna>%s</consegna>\n", html.EscapeString(consegna))
	}
	if errore != "nessuno" {
		b.WriteString("    <errore-esteso>5.1.1 - Demo PEC - indirizzo non valido</errore-esteso>\n")
	}
	b.WriteString("  </dati>\n</postacert>\n")
	return b.String()
}

func (p pecParams) provider() string {
	if p.Provider != "" {
		return p.Provider
	}
	return "DEMO GESTORE PEC S.p.A."
}

// pecReceipt builds a provider receipt (accettazione, avvenuta-consegna,
// errore-consegna) in the S/MIME-signed shape of PEC.md §2; the signature
// is a dummy.
func pecReceipt(p pecParams, kind, consegna string) []byte {
	errore := "nessuno"
	if kind == "errore-consegna" {
		errore = "no-dest"
	}
	text := fmt.Sprintf("Ricevuta di %s\r\n\r\nIl giorno %s alle ore %s il messaggio\r\n\"%s\" proveniente da \"%s\"\r\nè stato trattato dal sistema (%s).\r\nIdentificativo messaggio: %s\r\n",
		kind, p.When.Format("02/01/2006"), p.When.Format("15:04:05"), p.Subject, p.Sender, consegna, p.Identificativo)
	return signedPEC(p, map[string]string{"X-Ricevuta": kind}, receiptSubjects[kind]+p.Subject, "posta-certificata@pec.studio.test", text, daticert(kind, errore, p, consegna), nil)
}

// pecEnvelope wraps an original message into a transport envelope, as the
// sender's provider delivers it.
func pecEnvelope(p pecParams, original []byte) []byte {
	text := fmt.Sprintf("Messaggio di posta certificata\r\n\r\nIl giorno %s alle ore %s il messaggio\r\n\"%s\" è stato inviato da \"%s\"\r\nindirizzato a: %s\r\nIl messaggio originale è incluso in allegato.\r\nIdentificativo messaggio: %s\r\n",
		p.When.Format("02/01/2006"), p.When.Format("15:04:05"), p.Subject, p.Sender, strings.Join(p.Recipients, ", "), p.Identificativo)
	from := fmt.Sprintf("\"Per conto di: %s\" <posta-certificata@%s>", p.Sender, domainOf(p.Sender))
	return signedPEC(p, map[string]string{"X-Trasporto": "posta-certificata", "Reply-To": p.Sender}, receiptSubjects["posta-certificata"]+p.Subject, from, text, daticert("posta-certificata", "nessuno", p, ""), original)
}

func domainOf(addr string) string {
	if i := strings.LastIndex(addr, "@"); i >= 0 {
		return addr[i+1:]
	}
	return addr
}

func signedPEC(p pecParams, extra map[string]string, subject, from, text, xml string, original []byte) []byte {
	var b bytes.Buffer
	outer, mixed, alt := "----=_signed_"+p.Identificativo, "----=_mixed_"+p.Identificativo, "----=_alt_"+p.Identificativo
	fmt.Fprintf(&b, "Return-Path: <posta-certificata@pec.studio.test>\r\n")
	fmt.Fprintf(&b, "Date: %s\r\n", p.When.Format(time.RFC1123Z))
	fmt.Fprintf(&b, "From: %s\r\n", from)
	fmt.Fprintf(&b, "To: %s\r\n", strings.Join(p.Recipients, ", "))
	fmt.Fprintf(&b, "Subject: %s\r\n", encodeSubject(subject))
	fmt.Fprintf(&b, "Message-ID: <%s>\r\n", p.Identificativo)
	fmt.Fprintf(&b, "X-Riferimento-Message-ID: %s\r\n", p.MsgID)
	for k, v := range extra {
		fmt.Fprintf(&b, "%s: %s\r\n", k, v)
	}
	fmt.Fprintf(&b, "MIME-Version: 1.0\r\nContent-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; micalg=sha-256; boundary=\"%s\"\r\n\r\n", outer)
	fmt.Fprintf(&b, "--%s\r\nContent-Type: multipart/mixed; boundary=\"%s\"\r\n\r\n", outer, mixed)
	fmt.Fprintf(&b, "--%s\r\nContent-Type: multipart/alternative; boundary=\"%s\"\r\n\r\n", mixed, alt)
	fmt.Fprintf(&b, "--%s\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n%s\r\n", alt, text)
	fmt.Fprintf(&b, "--%s\r\nContent-Type: text/html; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n<html><body><pre>%s</pre></body></html>\r\n", alt, html.EscapeString(text))
	fmt.Fprintf(&b, "--%s--\r\n\r\n", alt)
	fmt.Fprintf(&b, "--%s\r\nContent-Type: application/xml; name=\"daticert.xml\"\r\nContent-Disposition: inline; filename=\"daticert.xml\"\r\nContent-Transfer-Encoding: base64\r\n\r\n%s\r\n", mixed, wrap64([]byte(xml)))
	if original != nil {
		fmt.Fprintf(&b, "--%s\r\nContent-Type: message/rfc822; name=\"postacert.eml\"\r\nContent-Disposition: inline; filename=\"postacert.eml\"\r\n\r\n%s\r\n", mixed, original)
	}
	fmt.Fprintf(&b, "--%s--\r\n\r\n", mixed)
	fmt.Fprintf(&b, "--%s\r\nContent-Type: application/pkcs7-signature; name=\"smime.p7s\"\r\nContent-Disposition: attachment; filename=\"smime.p7s\"\r\nContent-Transfer-Encoding: base64\r\n\r\n%s\r\n", outer, wrap64([]byte("demo signature: not a real S/MIME signature")))
	fmt.Fprintf(&b, "--%s--\r\n", outer)
	return b.Bytes()
}

func wrap64(data []byte) string {
	s := base64.StdEncoding.EncodeToString(data)
	var b strings.Builder
	for len(s) > 76 {
		b.WriteString(s[:76])
		b.WriteString("\r\n")
		s = s[76:]
	}
	b.WriteString(s)
	return b.String()
}
