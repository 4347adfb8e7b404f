package imapclient

import (
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"sportello/mail"
	"sportello/store"
)

// extraHeaders are fetched with BODY.PEEK beside the envelope: threading
// and the PEC markers.
var extraHeaders = []string{"References", "X-Trasporto", "X-Ricevuta", "X-Riferimento-Message-ID", "X-TipoRicevuta"}

func headerFetchOptions(condstore bool) *imap.FetchOptions {
	return &imap.FetchOptions{
		UID:           true,
		Flags:         true,
		Envelope:      true,
		InternalDate:  true,
		RFC822Size:    true,
		BodyStructure: &imap.FetchItemBodyStructure{Extended: true},
		BodySection: []*imap.FetchItemBodySection{{
			Specifier:    imap.PartSpecifierHeader,
			HeaderFields: extraHeaders,
			Peek:         true,
		}},
		ModSeq: condstore,
	}
}

// toHeader turns a FETCH response into what the cache keeps. It never
// fails: whatever could not be read is left empty.
func toHeader(m *imapclient.FetchMessageBuffer) store.Header {
	h := store.Header{
		UID:          uint32(m.UID),
		ModSeq:       m.ModSeq,
		Flags:        flagStrings(m.Flags),
		InternalDate: m.InternalDate,
		Size:         m.RFC822Size,
	}
	if h.InternalDate.IsZero() {
		h.InternalDate = time.Now()
	}
	if env := m.Envelope; env != nil {
		if !env.Date.IsZero() {
			d := env.Date
			h.SentDate = &d
		}
		h.Subject = decodeWords(env.Subject)
		if len(env.From) > 0 {
			h.FromName = decodeWords(env.From[0].Name)
			h.FromAddr = env.From[0].Addr()
		}
		h.To = addressList(env.To)
		h.Cc = addressList(env.Cc)
		h.ReplyTo = addressList(env.ReplyTo)
		h.MessageID = mail.StripAngles(env.MessageID)
		if len(env.InReplyTo) > 0 {
			h.InReplyTo = mail.StripAngles(env.InReplyTo[0])
		}
	}
	if len(m.BodySection) > 0 {
		fields := mail.HeaderOf(m.BodySection[0].Bytes) // a broken header yields what could be read
		h.References = parseReferences(fields.Get("References"))
		h.PECKind, h.PECRef = mail.ClassifyPEC(fields.Get)
	}
	if m.BodyStructure != nil {
		h.Attachments = attachments(m.BodyStructure)
	}
	return h
}

func flagStrings(flags []imap.Flag) []string {
	out := make([]string, len(flags))
	for i, f := range flags {
		out[i] = string(f)
	}
	return out
}

func decodeWords(s string) string { return mail.HeaderText(s) }

func addressList(addrs []imap.Address) string {
	parts := make([]string, 0, len(addrs))
	for _, a := range addrs {
		addr := a.Addr()
		name := decodeWords(a.Name)
		switch {
		case name != "" && addr != "":
			parts = append(parts, name+" <"+addr+">")
		case addr != "":
			parts = append(parts, addr)
		case name != "":
			parts = append(parts, name)
		}
	}
	return strings.Join(parts, ", ")
}

func parseReferences(v string) []string {
	var refs []string
	for _, f := range strings.Fields(v) {
		if id := mail.StripAngles(f); id != "" {
			refs = append(refs, id)
		}
	}
	return refs
}

// attachments lists the parts a person would call attachments: anything
// with a filename or an attachment disposition, and forwarded messages.
func attachments(bs imap.BodyStructure) []store.Attachment {
	var out []store.Attachment
	bs.Walk(func(path []int, part imap.BodyStructure) bool {
		sp, ok := part.(*imap.BodyStructureSinglePart)
		if !ok {
			return true
		}
		name := decodeWords(sp.Filename())
		disp := sp.Disposition()
		isAttachment := name != "" || (disp != nil && strings.EqualFold(disp.Value, "attachment")) || sp.MediaType() == "message/rfc822"
		if disp != nil && strings.EqualFold(disp.Value, "inline") && strings.HasPrefix(sp.MediaType(), "text/") && name == "" {
			isAttachment = false
		}
		if isAttachment {
			out = append(out, store.Attachment{Part: partPath(path), Filename: name, Type: sp.MediaType(), Size: int64(sp.Size)})
		}
		return true
	})
	return out
}

func partPath(path []int) string {
	s := make([]string, len(path))
	for i, p := range path {
		s[i] = strconv.Itoa(p)
	}
	return strings.Join(s, ".")
}
