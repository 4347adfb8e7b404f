package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"sportello/store"
	"sportello/views"
)

// managerAccess admits the account's managers only: readers get 403.
func (s *Server) managerAccess(w http.ResponseWriter, r *http.Request) (*access, bool) {
	acc, ok := s.accountAccess(w, r)
	if !ok {
		return nil, false
	}
	if !acc.canManage() {
		s.fail(w, r, http.StatusForbidden, "You are not allowed to do that.")
		return nil, false
	}
	return acc, true
}

func (s *Server) membersShow(w http.ResponseWriter, r *http.Request) {
	acc, ok := s.managerAccess(w, r)
	if !ok {
		return
	}
	s.renderMembers(w, r, acc, http.StatusOK, "")
}

func (s *Server) renderMembers(w http.ResponseWriter, r *http.Request, acc *access, status int, problem string) {
	members, err := s.store.Users.Members(r.Context(), acc.ID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	p, err := s.page(r, views.T(r.Context(), "People"))
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	p.CurrentAccount = acc.ID
	s.render(w, r, status, views.MembersPage(p, views.MembersView{Account: acc.Account, Members: members, Error: problem, Self: currentUser(r.Context()).ID}))
}

// memberGrant gives a person a role on this account (managers only).
func (s *Server) memberGrant(w http.ResponseWriter, r *http.Request) {
	acc, ok := s.managerAccess(w, r)
	if !ok {
		return
	}
	role := r.PostFormValue("role")
	if role != store.RoleReader && role != store.RoleManager {
		s.renderMembers(w, r, acc, http.StatusBadRequest, views.T(r.Context(), "Choose reader or manager."))
		return
	}
	u, err := s.store.Users.ByEmail(r.Context(), r.PostFormValue("email"))
	if errors.Is(err, store.ErrNotFound) {
		s.renderMembers(w, r, acc, http.StatusUnprocessableEntity, views.T(r.Context(), "There is no Sportello user with that e-mail; an administrator must create them first."))
		return
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.changeRole(w, r, acc, u, role)
}

// memberRevoke removes a person's role; their next request is refused.
func (s *Server) memberRevoke(w http.ResponseWriter, r *http.Request) {
	acc, ok := s.managerAccess(w, r)
	if !ok {
		return
	}
	id, err := strconv.ParseInt(chi.URLParam(r, "user"), 10, 64)
	if err != nil {
		s.fail(w, r, http.StatusNotFound, "Page not found.")
		return
	}
	u, err := s.store.Users.ByID(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		s.fail(w, r, http.StatusNotFound, "Page not found.")
		return
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.changeRole(w, r, acc, u, "")
}

// changeRole grants role (or revokes with ""), logged as grant or revoke.
func (s *Server) changeRole(w http.ResponseWriter, r *http.Request, acc *access, u *store.User, role string) {
	ctx := r.Context()
	actor := currentUser(ctx).Email
	e := store.Entry{Action: store.ActionGrant, AccountID: &acc.ID, Detail: fmt.Sprintf("%s is now %s", u.Email, role)}
	if role == "" {
		e.Action, e.Detail = store.ActionRevoke, u.Email+" no longer has access"
	}
	var err error
	if role == "" {
		err = s.store.Users.Revoke(ctx, u.ID, acc.ID)
	} else {
		err = s.store.Users.Grant(ctx, u.ID, acc.ID, role)
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if _, err := s.record(r, actor, e); err != nil {
		s.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/a/%d/members", acc.ID), http.StatusSeeOther)
}
