package web

import (
	"net/http"
	"strings"
	"time"

	"sportello/store"
	"sportello/views"
)

// listFilters reads the search form from the query string.
func listFilters(r *http.Request) views.ListFilters {
	q := r.URL.Query()
	return views.ListFilters{
		Q:           strings.TrimSpace(q.Get("q")),
		Scope:       q.Get("scope"),
		Unread:      q.Get("unread") == "1",
		Attachments: q.Get("attachments") == "1",
		From:        strings.TrimSpace(q.Get("from")),
		Since:       q.Get("since"),
		Until:       q.Get("until"),
		PEC:         q.Get("pec"),
		Server:      q.Get("server") == "1",
	}
}

// apply copies the filters into a store query, reading dates in loc.
func applyFilters(f views.ListFilters, q *store.ListQuery, loc *time.Location) {
	q.Search, q.Unread, q.Attachments, q.From, q.PEC = f.Q, f.Unread, f.Attachments, f.From, f.PEC
	if t, err := time.ParseInLocation("2006-01-02", f.Since, loc); err == nil {
		q.Since = &t
	}
	if t, err := time.ParseInLocation("2006-01-02", f.Until, loc); err == nil {
		t = t.AddDate(0, 0, 1) // the whole last day
		q.Until = &t
	}
}

// withCursor returns the list URL for the page after cursor, keeping the
// filters.
func withCursor(r *http.Request, path string, next *store.Cursor) string {
	if next == nil {
		return ""
	}
	q := r.URL.Query()
	q.Del("fragment")
	q.Del("undo")
	q.Set("before", next.String())
	return path + "?" + q.Encode()
}

// listURL is the first page of the current list with its filters.
func listURL(r *http.Request, path string) string {
	q := r.URL.Query()
	q.Del("before")
	q.Del("fragment")
	q.Del("undo")
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

func cursorParam(r *http.Request) (*store.Cursor, bool) {
	v := r.URL.Query().Get("before")
	if v == "" {
		return nil, true
	}
	c, err := store.ParseCursor(v)
	return c, err == nil
}
