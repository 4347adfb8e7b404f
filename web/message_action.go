package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"sportello/store"
	"sportello/views"
)

// messageAction is POST /a/{acct}/m/{msg}/{action}.
func (s *Server) messageAction(w http.ResponseWriter, r *http.Request) {
	acc, m, ok := s.messageAccess(w, r)
	if !ok {
		return
	}
	req := readAction(r, chi.URLParam(r, "action"))
	if err := s.check(r.Context(), acc, m, req); err != nil {
		status, msg := actionFailure(err)
		if status == http.StatusUnprocessableEntity {
			// The PEC form again, asking for the reason.
			s.renderMessage(w, r, acc, m, status, msg)
			return
		}
		s.fail(w, r, status, msg)
		return
	}
	undoID, err := s.perform(r, acc, m, req)
	if err != nil {
		status, msg := actionFailure(err)
		s.fail(w, r, status, msg)
		return
	}
	back := views.FolderURL(acc.ID, m.Folder)
	switch {
	case undoID != 0:
		back += "?undo=" + strconv.FormatInt(undoID, 10)
	case req.Action == "flag":
		back = views.MessageURL(acc.ID, m.ID)
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}

// bulkAction applies one action to the selected messages of a list.
func (s *Server) bulkAction(w http.ResponseWriter, r *http.Request) {
	acc, ok := s.accountAccess(w, r)
	if !ok {
		return
	}
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, http.StatusBadRequest, "The form could not be read.")
		return
	}
	req := readAction(r, r.PostFormValue("action"))
	if !acc.canManage() {
		s.fail(w, r, http.StatusForbidden, "You are not allowed to do that.")
		return
	}
	var undo []string
	back := r.PostFormValue("back")
	for _, v := range r.PostForm["ids"] {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			continue
		}
		m, err := s.store.Messages.ByID(r.Context(), currentUser(r.Context()).ID, acc.ID, id)
		if errors.Is(err, store.ErrNotFound) {
			s.fail(w, r, http.StatusNotFound, "Page not found.")
			return
		}
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		if back == "" {
			back = views.FolderURL(acc.ID, m.Folder)
		}
		if err := s.check(r.Context(), acc, m, req); err != nil {
			status, msg := actionFailure(err)
			s.fail(w, r, status, msg)
			return
		}
		undoID, err := s.perform(r, acc, m, req)
		if err != nil {
			status, msg := actionFailure(err)
			s.fail(w, r, status, fmt.Sprintf("%s (%s)", msg, m.Subject))
			return
		}
		if undoID != 0 {
			undo = append(undo, strconv.FormatInt(undoID, 10))
		}
	}
	back = localPath(back)
	if len(undo) > 0 {
		u, _ := url.Parse(back)
		q := u.Query()
		q.Set("undo", joinIDs(undo))
		u.RawQuery = q.Encode()
		back = u.String()
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}

func joinIDs(ids []string) string { return strings.Join(ids, ",") }

// undo takes back deletes still waiting out their window.
func (s *Server) undo(w http.ResponseWriter, r *http.Request) {
	acc, ok := s.accountAccess(w, r)
	if !ok {
		return
	}
	if !acc.canManage() {
		s.fail(w, r, http.StatusForbidden, "You are not allowed to do that.")
		return
	}
	actor := currentUser(r.Context()).Email
	back := views.FolderURL(acc.ID, "INBOX")
	for _, v := range splitIDs(chi.URLParam(r, "pending")) {
		pa, err := s.store.Messages.Cancel(r.Context(), acc.ID, v)
		if errors.Is(err, store.ErrNotFound) {
			s.fail(w, r, http.StatusConflict, "Too late to undo: the message has already been moved to the Trash (restore it from there).")
			return
		}
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		back = views.FolderURL(acc.ID, pa.Folder)
		acct, uid, uidValidity := pa.AccountID, int64(pa.UID), int64(pa.UIDValidity)
		e := store.Entry{Action: pa.Action, AccountID: &acct, Folder: pa.Folder, UID: &uid, UIDValidity: &uidValidity}
		if m, err := s.store.Messages.ByID(r.Context(), 0, acc.ID, pa.MessageID); err == nil {
			e = messageEntry(pa.Action, m)
		}
		s.complete(r.Context(), r, actor, pa.ActivitySeq, e, "", fmt.Errorf("undone by %s before it reached the server", actor))
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}

func splitIDs(s string) []int64 {
	var out []int64
	for _, part := range strings.Split(s, ",") {
		if id, err := strconv.ParseInt(strings.TrimSpace(part), 10, 64); err == nil {
			out = append(out, id)
		}
	}
	return out
}
