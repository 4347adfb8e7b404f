package web

import (
	"net/http"

	"sportello/store"
	"sportello/views"
)

// allInboxes merges the INBOX of every account the user may see.
func (s *Server) allInboxes(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	u := currentUser(ctx)
	p, err := s.pageWithCounts(r, views.T(ctx, "All inboxes"))
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	before, ok := cursorParam(r)
	if !ok {
		s.fail(w, r, http.StatusBadRequest, "That page link is damaged; go back to the list.")
		return
	}
	ids := make([]int64, len(p.Accounts))
	for i, a := range p.Accounts {
		ids[i] = a.ID
	}
	filters := listFilters(r)
	filters.Scope, filters.Server = "", false
	q := store.ListQuery{UserID: u.ID, InboxesOf: ids, Before: before}
	applyFilters(filters, &q, p.Location)
	rows, next, err := s.store.Messages.List(ctx, q)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	mb := views.Mailbox{Title: views.T(ctx, "All inboxes"), AllInboxes: true, Rows: rows, Filters: filters,
		Next: withCursor(r, "/all", next), ListURL: listURL(r, "/all")}
	s.renderMailbox(w, r, p, mb)
}
