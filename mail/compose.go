package mail

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/mail"
	"net/textproto"
	"strings"
	"time"

	gomail "github.com/emersion/go-message/mail"
)

// Draft is a message to build.
type Draft struct {
	From        mail.Address
	To, Cc, Bcc []*mail.Address
	Subject     string
	Text        string
	Formatted   bool     // Text uses the marks of FormattedToHTML
	InReplyTo   string   // Message-ID (without <>) of the message replied to
	References  []string // without <>
	Attachments []Attachment
	Date        time.Time
	MessageID   string // without <>; generated when empty
}

// Attachment is a file to attach.
type Attachment struct {
	Filename    string
	ContentType string
	Data        []byte
}

// ParseAddressList reads a comma-separated list of addresses as people
// type them ("Mario <m@x.it>, y@z.it"); an empty string is no address.
func ParseAddressList(s string) ([]*mail.Address, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	list, err := mail.ParseAddressList(s)
	if err != nil {
		return nil, fmt.Errorf("%q is not a list of e-mail addresses", s)
	}
	return list, nil
}

// NewMessageID returns a unique Message-ID on the sender's domain.
func NewMessageID(from string) string {
	domain := "localhost"
	if i := strings.LastIndex(from, "@"); i >= 0 {
		domain = from[i+1:]
	}
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s.%s@%s", time.Now().UTC().Format("20060102150405"), hex.EncodeToString(b), domain)
}

func toGo(list []*mail.Address) []*gomail.Address {
	out := make([]*gomail.Address, len(list))
	for i, a := range list {
		out[i] = &gomail.Address{Name: a.Name, Address: a.Address}
	}
	return out
}

// Build writes the message: UTF-8 text with an HTML alternative made from
// it, attachments with RFC 2231 names, RFC 2047 headers. Bcc recipients
// are not written into the headers.
func Build(d Draft) ([]byte, error) {
	if d.Date.IsZero() {
		d.Date = time.Now()
	}
	if d.MessageID == "" {
		d.MessageID = NewMessageID(d.From.Address)
	}
	var h gomail.Header
	h.SetDate(d.Date)
	h.SetAddressList("From", []*gomail.Address{{Name: d.From.Name, Address: d.From.Address}})
	if len(d.To) > 0 {
		h.SetAddressList("To", toGo(d.To))
	}
	if len(d.Cc) > 0 {
		h.SetAddressList("Cc", toGo(d.Cc))
	}
	h.SetSubject(d.Subject)
	h.SetMessageID(d.MessageID)
	if d.InReplyTo != "" {
		h.SetMsgIDList("In-Reply-To", []string{d.InReplyTo})
	}
	if len(d.References) > 0 {
		h.SetMsgIDList("References", d.References)
	}
	h.Set("User-Agent", "Sportello")

	var buf bytes.Buffer
	w, err := gomail.CreateWriter(&buf, h)
	if err != nil {
		return nil, err
	}
	tw, err := w.CreateInline()
	if err != nil {
		return nil, err
	}
	text := strings.ReplaceAll(d.Text, "\r\n", "\n")
	var th gomail.InlineHeader
	th.Set("Content-Type", "text/plain; charset=utf-8")
	if err := writePart(tw, th, strings.ReplaceAll(text, "\n", "\r\n")); err != nil {
		return nil, err
	}
	var hh gomail.InlineHeader
	hh.Set("Content-Type", "text/html; charset=utf-8")
	body := TextToHTML(text)
	if d.Formatted {
		body = FormattedToHTML(text)
	}
	html := `<!DOCTYPE html><html><body>` + body + `</body></html>`
	if err := writePart(tw, hh, html); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	for _, a := range d.Attachments {
		var ah gomail.AttachmentHeader
		ctype := a.ContentType
		if ctype == "" {
			ctype = "application/octet-stream"
		}
		ah.Set("Content-Type", ctype)
		ah.SetFilename(a.Filename)
		aw, err := w.CreateAttachment(ah)
		if err != nil {
			return nil, err
		}
		if _, err := aw.Write(a.Data); err != nil {
			return nil, err
		}
		if err := aw.Close(); err != nil {
			return nil, err
		}
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func writePart(tw *gomail.InlineWriter, h gomail.InlineHeader, body string) error {
	pw, err := tw.CreatePart(h)
	if err != nil {
		return err
	}
	if _, err := io.WriteString(pw, body); err != nil {
		return err
	}
	return pw.Close()
}

// ReplySubject prefixes a subject for a reply once ("Re:"/"R:" kept).
func ReplySubject(s string) string {
	l := strings.ToLower(strings.TrimSpace(s))
	if strings.HasPrefix(l, "re:") || strings.HasPrefix(l, "r:") {
		return s
	}
	return "Re: " + s
}

// ForwardSubject prefixes a subject for a forward once.
func ForwardSubject(s string) string {
	l := strings.ToLower(strings.TrimSpace(s))
	if strings.HasPrefix(l, "fwd:") || strings.HasPrefix(l, "i:") {
		return s
	}
	return "Fwd: " + s
}

// Quote prefixes every line of a text with "> ".
func Quote(text string) string {
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	for i, l := range lines {
		lines[i] = "> " + l
	}
	return strings.Join(lines, "\n")
}

// HeaderOf reads the header of a raw message (what can be read of it).
func HeaderOf(raw []byte) textproto.MIMEHeader {
	h, _ := textproto.NewReader(bufio.NewReader(bytes.NewReader(raw))).ReadMIMEHeader()
	if h == nil {
		h = textproto.MIMEHeader{}
	}
	return h
}
