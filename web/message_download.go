package web

import (
	"errors"
	"mime"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"sportello/mail"
	"sportello/store"
)

// attachmentHeaders make a download a download: the browser never renders
// it in Sportello's origin, never sniffs its type, and an HTML attachment
// opened anyway runs nothing.
func attachmentHeaders(w http.ResponseWriter, contentType, filename string) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": filename}))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'")
	h.Set("Cache-Control", "private, max-age=300")
}

var unsafeName = regexp.MustCompile(`[\x00-\x1f/\\:*?"<>|]+`)

func safeFilename(name, fallback string) string {
	name = strings.TrimSpace(unsafeName.ReplaceAllString(name, "_"))
	if name == "" || name == "." || name == ".." {
		return fallback
	}
	if len(name) > 150 {
		name = name[:150]
	}
	return name
}

// messageRaw serves the original message byte for byte (for PEC, the
// legal evidence).
func (s *Server) messageRaw(w http.ResponseWriter, r *http.Request) {
	_, m, ok := s.messageAccess(w, r)
	if !ok {
		return
	}
	raw, err := s.rawMessage(r.Context(), m)
	if err != nil {
		s.bodyError(w, r, err)
		return
	}
	e := messageEntry(store.ActionDownload, m)
	e.Detail = "original message (.eml)"
	if _, err := s.record(r, currentUser(r.Context()).Email, e); err != nil {
		s.serverError(w, r, err)
		return
	}
	attachmentHeaders(w, "message/rfc822", safeFilename(m.Subject, "message-"+strconv.FormatInt(m.ID, 10))+".eml")
	w.Header().Set("Content-Length", strconv.Itoa(len(raw)))
	_, _ = w.Write(raw)
}

// messagePart serves one attachment or inline image.
func (s *Server) messagePart(w http.ResponseWriter, r *http.Request) {
	_, m, ok := s.messageAccess(w, r)
	if !ok {
		return
	}
	raw, err := s.rawMessage(r.Context(), m)
	if err != nil {
		s.bodyError(w, r, err)
		return
	}
	path := chi.URLParam(r, "part")
	part, data, err := mail.PartContent(raw, path)
	if errors.Is(err, mail.ErrNoPart) {
		s.fail(w, r, http.StatusNotFound, "Page not found.")
		return
	}
	if err != nil {
		s.log.Warn("damaged attachment", "message", m.ID, "part", path, "err", err)
		s.fail(w, r, http.StatusUnprocessableEntity, "This attachment is damaged and cannot be opened.")
		return
	}
	// Inline images shown by the body are not downloads worth a log row.
	if r.Header.Get("Sec-Fetch-Dest") != "image" {
		e := messageEntry(store.ActionDownload, m)
		e.Detail = "attachment " + path + ": " + part.Filename
		if _, err := s.record(r, currentUser(r.Context()).Email, e); err != nil {
			s.serverError(w, r, err)
			return
		}
	}
	ctype := part.ContentType
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	attachmentHeaders(w, ctype, safeFilename(part.Filename, "attachment-"+path))
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	_, _ = w.Write(data)
}
