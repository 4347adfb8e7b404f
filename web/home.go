package web

import (
	"net/http"

	"sportello/views"
)

// page builds the frame every signed-in page shares.
func (s *Server) page(r *http.Request, title string) (views.Page, error) {
	u := currentUser(r.Context())
	accounts, err := s.store.Users.AccountsOf(r.Context(), u.ID)
	if err != nil {
		return views.Page{}, err
	}
	return views.Page{Title: title, User: u, Accounts: accounts, Location: userLocation(u.TimeZone)}, nil
}

func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	p, err := s.page(r, views.T(r.Context(), "Your shared accounts"))
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, views.Home(p))
}
