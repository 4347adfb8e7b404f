package web

import (
	"context"
	"net/http"

	"sportello/store"

	"sportello/views"
)

// page builds the frame every signed-in page shares: the navigation
// names the user's accounts. Counts cost more, and only the home page and
// All inboxes show them: see pageWithCounts.
func (s *Server) page(r *http.Request, title string) (views.Page, error) {
	return s.frame(r, title, s.store.Users.NavAccounts)
}

// pageWithCounts is page with each account's INBOX counts.
func (s *Server) pageWithCounts(r *http.Request, title string) (views.Page, error) {
	return s.frame(r, title, s.store.Users.AccountsOf)
}

func (s *Server) frame(r *http.Request, title string, accountsOf func(context.Context, int64) ([]store.AccountSummary, error)) (views.Page, error) {
	u := currentUser(r.Context())
	accounts, err := accountsOf(r.Context(), u.ID)
	if err != nil {
		return views.Page{}, err
	}
	return views.Page{Title: title, User: u, Accounts: accounts, Location: userLocation(u.TimeZone)}, nil
}

func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	p, err := s.pageWithCounts(r, views.T(r.Context(), "Your shared accounts"))
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, views.Home(p))
}
