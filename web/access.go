package web

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"sportello/store"
)

// access is what a request may do on the account it names.
type access struct {
	store.AccountSummary
}

func (a *access) canManage() bool { return a.Role == store.RoleManager }

// accountAccess loads the account of {acct} if the user holds a role on it.
// Anything else answers 404, never a hint that the account exists.
func (s *Server) accountAccess(w http.ResponseWriter, r *http.Request) (*access, bool) {
	id, err := strconv.ParseInt(chi.URLParam(r, "acct"), 10, 64)
	if err != nil {
		s.fail(w, r, http.StatusNotFound, "Page not found.")
		return nil, false
	}
	sum, err := s.store.Users.AccountFor(r.Context(), currentUser(r.Context()).ID, id)
	if errors.Is(err, store.ErrNotFound) {
		s.fail(w, r, http.StatusNotFound, "Page not found.")
		return nil, false
	}
	if err != nil {
		s.serverError(w, r, err)
		return nil, false
	}
	return &access{sum}, true
}

// messageAccess loads {msg} of the account the user may see; a message of
// another account answers 404.
func (s *Server) messageAccess(w http.ResponseWriter, r *http.Request) (*access, *store.Message, bool) {
	acc, ok := s.accountAccess(w, r)
	if !ok {
		return nil, nil, false
	}
	id, err := strconv.ParseInt(chi.URLParam(r, "msg"), 10, 64)
	if err != nil {
		s.fail(w, r, http.StatusNotFound, "Page not found.")
		return nil, nil, false
	}
	m, err := s.store.Messages.ByID(r.Context(), currentUser(r.Context()).ID, acc.ID, id)
	if errors.Is(err, store.ErrNotFound) {
		s.fail(w, r, http.StatusNotFound, "Page not found.")
		return nil, nil, false
	}
	if err != nil {
		s.serverError(w, r, err)
		return nil, nil, false
	}
	return acc, m, true
}
