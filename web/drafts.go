package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"sportello/store"
	"sportello/views"
)

// draftFromForm reads the compose form as a draft.
func draftFromForm(r *http.Request, accountID int64) store.Draft {
	d := store.Draft{AccountID: accountID, To: r.FormValue("to"), Cc: r.FormValue("cc"), Bcc: r.FormValue("bcc"),
		Subject: r.FormValue("subject"), Body: r.FormValue("body"), Mode: r.FormValue("mode"), IdempotencyKey: r.FormValue("idempotency_key")}
	d.ID, _ = strconv.ParseInt(r.FormValue("draft_id"), 10, 64)
	d.Version, _ = strconv.Atoi(r.FormValue("version"))
	if id, err := strconv.ParseInt(r.FormValue("in_reply_to"), 10, 64); err == nil {
		d.InReplyTo = &id
	}
	if d.IdempotencyKey == "" {
		d.IdempotencyKey = newIdempotencyKey()
	}
	return d
}

func wantsJSON(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "application/json")
}

// draftSave is POST /a/{acct}/drafts: the compose page saves every few
// seconds and when a field loses focus; "Save draft" does it without JS.
func (s *Server) draftSave(w http.ResponseWriter, r *http.Request) {
	acc, ok := s.managerAccess(w, r)
	if !ok {
		return
	}
	if err := r.ParseMultipartForm(8 << 20); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		_ = r.ParseForm()
	}
	u := currentUser(r.Context())
	d, err := s.store.Drafts().Save(r.Context(), u.ID, draftFromForm(r, acc.ID))
	conflict := errors.Is(err, store.ErrDraftConflict)
	if err != nil && !conflict {
		if errors.Is(err, store.ErrNotFound) {
			s.fail(w, r, http.StatusNotFound, "Page not found.")
			return
		}
		s.serverError(w, r, err)
		return
	}
	if wantsJSON(r) {
		w.Header().Set("Content-Type", "application/json")
		if conflict {
			w.WriteHeader(http.StatusConflict)
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"id": d.ID, "version": d.Version, "conflict": conflict,
			"by": d.UpdatedByName, "saved": d.UpdatedAt.Format("15:04:05")})
		return
	}
	target := fmt.Sprintf("/a/%d/compose?draft=%d", acc.ID, d.ID)
	if conflict {
		target += "&conflict=1"
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// draftsShow lists the account's drafts.
func (s *Server) draftsShow(w http.ResponseWriter, r *http.Request) {
	acc, ok := s.managerAccess(w, r)
	if !ok {
		return
	}
	list, err := s.store.Drafts().List(r.Context(), acc.ID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	p, err := s.page(r, views.T(r.Context(), "Drafts"))
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	p.CurrentAccount = acc.ID
	s.render(w, r, http.StatusOK, views.DraftsPage(p, acc.Account, list))
}

func (s *Server) draftDelete(w http.ResponseWriter, r *http.Request) {
	acc, ok := s.managerAccess(w, r)
	if !ok {
		return
	}
	id, _ := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err := s.store.Drafts().Delete(r.Context(), acc.ID, id); err != nil {
		s.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/a/%d/drafts", acc.ID), http.StatusSeeOther)
}
