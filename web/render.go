package web

import (
	"net/http"

	"github.com/a-h/templ"
)

func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, c templ.Component) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	// Mail is private: no copy on a shared computer's disk. It also keeps
	// pages out of the back/forward cache, whose kept-open event streams
	// would exhaust the browser's six connections to the server.
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := c.Render(r.Context(), w); err != nil {
		s.log.Error("render failed", "path", r.URL.Path, "err", err)
	}
}
