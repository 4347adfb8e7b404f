package web

import (
	"context"
	"errors"
	"net/http"

	"github.com/jackc/pgx/v5/pgconn"

	"sportello/views"
)

// fail answers with a status and one sentence for the user, as a page or
// as a bare message for HTMX.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, status int, message string) {
	msg := views.T(r.Context(), message)
	if r.Header.Get("HX-Request") != "" {
		http.Error(w, msg, status)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	p := views.Page{Title: http.StatusText(status), User: currentUser(r.Context())}
	_ = views.ErrorPage(p, status, msg).Render(r.Context(), w)
}

// serverError logs err for the operator and tells the user honestly.
func (s *Server) serverError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) {
		return
	}
	if isDatabaseDown(err) {
		s.log.Error("database unavailable", "path", r.URL.Path, "err", err)
		s.fail(w, r, http.StatusServiceUnavailable, "The database is not answering; try again in a moment.")
		return
	}
	s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	s.fail(w, r, http.StatusInternalServerError, "Something went wrong on our side; the error was logged.")
}

func isDatabaseDown(err error) bool {
	var connErr *pgconn.ConnectError
	return errors.As(err, &connErr) || pgconn.SafeToRetry(err)
}
