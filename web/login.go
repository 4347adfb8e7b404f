package web

import (
	"errors"
	"net/http"
	"time"

	"sportello/store"
	"sportello/views"
)

func (s *Server) loginForm(w http.ResponseWriter, r *http.Request) {
	if s.sessions.GetInt64(r.Context(), sessionUserID) != 0 {
		http.Redirect(w, r, localPath(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	s.render(w, r, http.StatusOK, views.Login(views.Page{Title: views.T(r.Context(), "Sign in")}, views.LoginForm{Next: r.URL.Query().Get("next")}))
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	email, password := r.PostFormValue("email"), r.PostFormValue("password")
	form := views.LoginForm{Email: email, Next: r.PostFormValue("next")}
	page := views.Page{Title: views.T(r.Context(), "Sign in")}

	if !s.limits.allow(remoteIP(r), email) {
		s.log.Warn("login rate limit reached", "remote", remoteIP(r))
		w.Header().Set("Retry-After", "60")
		form.Error = views.T(r.Context(), "Too many attempts: wait a minute and try again.")
		s.render(w, r, http.StatusTooManyRequests, views.Login(page, form))
		return
	}
	u, err := s.store.Users.Authenticate(r.Context(), email, password)
	if errors.Is(err, store.ErrBadCredentials) {
		if _, err := s.record(r, email, store.Entry{Action: store.ActionLoginFailed, Outcome: store.OutcomeFailed}); err != nil {
			s.serverError(w, r, err)
			return
		}
		form.Error = views.T(r.Context(), "Wrong e-mail or password.")
		s.render(w, r, http.StatusUnauthorized, views.Login(page, form))
		return
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if err := s.sessions.RenewToken(r.Context()); err != nil {
		s.serverError(w, r, err)
		return
	}
	s.sessions.Put(r.Context(), sessionUserID, u.ID)
	s.sessions.Put(r.Context(), sessionSeen, time.Now().Unix())
	if _, err := s.record(r, u.Email, store.Entry{Action: store.ActionLogin}); err != nil {
		s.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, localPath(form.Next), http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	u := currentUser(r.Context())
	if _, err := s.record(r, u.Email, store.Entry{Action: store.ActionLogout}); err != nil {
		s.serverError(w, r, err)
		return
	}
	if err := s.sessions.Destroy(r.Context()); err != nil {
		s.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}
