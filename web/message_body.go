package web

import (
	"bytes"
	"net/http"

	"sportello/mail"
	"sportello/views"
)

// bodyCSP confines a message body: nothing runs, nothing is fetched but
// Sportello's own attachment URLs and data: images (and, when the reader
// asked, remote images), no form goes anywhere.
func bodyCSP(remoteImages bool) string {
	img := "img-src 'self' data:"
	if remoteImages {
		img += " https: http:"
	}
	return "default-src 'none'; " + img + "; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; " +
		"frame-ancestors 'self'; sandbox allow-popups allow-popups-to-escape-sandbox"
}

// messageBody serves the sanitized body as its own document, for the
// sandboxed iframe of the message page.
func (s *Server) messageBody(w http.ResponseWriter, r *http.Request) {
	_, m, ok := s.messageAccess(w, r)
	if !ok {
		return
	}
	raw, err := s.rawMessage(r.Context(), m)
	if err != nil {
		s.bodyError(w, r, err)
		return
	}
	parsed := mail.Parse(raw)
	showImages := r.URL.Query().Get("images") == "1"
	var body string
	switch {
	case parsed.HTML != "":
		body = mail.SanitizeHTML(parsed.HTML, parsed.Parts, partURL(m), showImages).HTML
	default:
		text := parsed.Text
		if parsed.Flowed {
			text = mail.Unflow(text, parsed.DelSp)
		}
		body = mail.TextToHTML(text)
	}
	h := w.Header()
	h.Set("Content-Security-Policy", bodyCSP(showImages))
	h.Set("X-Frame-Options", "SAMEORIGIN")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "private, max-age=300")
	var buf bytes.Buffer
	if err := views.BodyDocument(views.Lang(r.Context()), body).Render(r.Context(), &buf); err != nil {
		s.serverError(w, r, err)
		return
	}
	h.Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(buf.Bytes())
}
