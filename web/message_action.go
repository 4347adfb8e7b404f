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
	acc, ok := s.managerAccess(w, r)
	if !ok {
		return
	}
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, http.StatusBadRequest, "The form could not be read.")
		return
	}
	req := readAction(r, r.PostFormValue("action"))
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
	acc, ok := s.managerAccess(w, r)
	if !ok {
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
		m, _ := s.store.Messages.ByID(r.Context(), 0, acc.ID, pa.MessageID) // nil if gone meanwhile
		s.complete(r.Context(), r, actor, pa.ActivitySeq, pendingEntry(pa, m), "", fmt.Errorf("undone by %s before it reached the server", actor))
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

// emptyTrash deletes forever every message in the account's Trash: each
// one logged, each removed by UID (never a bare EXPUNGE).
func (s *Server) emptyTrash(w http.ResponseWriter, r *http.Request) {
	acc, ok := s.managerAccess(w, r)
	if !ok {
		return
	}
	if r.PostFormValue("confirm") != "yes" {
		s.fail(w, r, http.StatusBadRequest, "Deleting forever needs confirmation (confirm=yes).")
		return
	}
	if acc.TrashFolder == "" {
		s.fail(w, r, http.StatusConflict, "This mailbox has no Trash folder, so nothing can be moved there.")
		return
	}
	trash, err := s.store.Folders.ByName(r.Context(), acc.ID, acc.TrashFolder)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	req := actionRequest{Action: "expunge", Confirm: true, Reason: strings.TrimSpace(r.PostFormValue("reason"))}
	u := currentUser(r.Context())
	for {
		rows, _, err := s.store.Messages.List(r.Context(), store.ListQuery{UserID: u.ID, FolderID: trash.ID, Limit: 100})
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		if len(rows) == 0 {
			break
		}
		for _, row := range rows {
			m, err := s.store.Messages.ByID(r.Context(), u.ID, acc.ID, row.ID)
			if err != nil {
				continue // gone meanwhile
			}
			if err := s.check(r.Context(), acc, m, req); err != nil {
				status, msg := actionFailure(err)
				s.fail(w, r, status, msg)
				return
			}
			if _, err := s.perform(r, acc, m, req); err != nil {
				status, msg := actionFailure(err)
				s.fail(w, r, status, msg)
				return
			}
		}
	}
	http.Redirect(w, r, views.FolderURL(acc.ID, acc.TrashFolder), http.StatusSeeOther)
}
