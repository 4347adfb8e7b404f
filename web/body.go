package web

import (
	"context"
	"crypto/sha256"
	"errors"
	"net/http"

	"sportello/imapclient"
	"sportello/mail"
	"sportello/store"
)

// rawMessage returns the message's bytes: from the cache, else from IMAP
// (BODY.PEEK: reading never sets \Seen), cached when small enough.
func (s *Server) rawMessage(ctx context.Context, m *store.Message) ([]byte, error) {
	raw, ok, err := s.store.Messages.CachedBody(ctx, m.ID)
	if err != nil || ok {
		return raw, err
	}
	if s.imap == nil {
		return nil, errors.New("web: no IMAP access configured")
	}
	raw, err = s.imap.FetchRaw(ctx, m.AccountID, m.Folder, m.UIDValidity, m.UID)
	if err != nil {
		return nil, err
	}
	if int64(len(raw)) <= s.bodyCacheMax {
		sum := sha256.Sum256(raw)
		parsed := mail.Parse(raw)
		if err := s.store.Messages.CacheBody(ctx, m.ID, raw, sum[:], parsed.SearchText()); err != nil {
			s.log.Warn("body not cached", "message", m.ID, "err", err)
		}
	}
	return raw, nil
}

// bodyError answers a failed fetch in words the reader understands.
func (s *Server) bodyError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, imapclient.ErrGone):
		s.fail(w, r, http.StatusNotFound, "This message is no longer on the mail server.")
	case errors.Is(err, imapclient.ErrAuthFailed), errors.Is(err, store.ErrUnreadableSecret):
		s.log.Warn("message body unavailable", "err", err)
		s.fail(w, r, http.StatusBadGateway, "The mail server refused Sportello's password for this mailbox; an administrator must enter it again.")
	case errors.Is(err, context.Canceled):
	default:
		s.log.Warn("message body unavailable", "err", err)
		s.fail(w, r, http.StatusBadGateway, "The mail server did not answer; try again in a moment.")
	}
}
