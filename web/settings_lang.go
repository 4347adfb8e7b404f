package web

import (
	"net/http"
	"net/url"
)

// setLanguage keeps the user's choice of language over the browser's.
func (s *Server) setLanguage(w http.ResponseWriter, r *http.Request) {
	lang := r.PostFormValue("lang")
	if lang != "it" && lang != "en" {
		s.fail(w, r, http.StatusBadRequest, "Unknown language.")
		return
	}
	if err := s.store.Users.SetLocale(r.Context(), currentUser(r.Context()).ID, lang); err != nil {
		s.serverError(w, r, err)
		return
	}
	s.sessions.Put(r.Context(), "lang", lang)
	back := "/"
	if ref, err := url.Parse(r.Referer()); err == nil && ref.Host == r.Host {
		back = localPath(ref.RequestURI())
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}
