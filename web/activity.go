package web

import (
	"net/http"

	"sportello/store"
)

// record writes an activity row for the request's user and client. A log
// row that cannot be written is an error the caller must not ignore.
func (s *Server) record(r *http.Request, actor string, e store.Entry) (int64, error) {
	e.Actor = actor
	e.RemoteAddr = remoteIP(r)
	e.UserAgent = r.UserAgent()
	return s.store.Activity.Append(r.Context(), e)
}
