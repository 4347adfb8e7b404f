package web

import (
	"encoding/csv"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"sportello/store"
	"sportello/views"
)

// activityAccess lets readers and managers of the account see its log,
// and administrators see any account's.
func (s *Server) activityAccess(w http.ResponseWriter, r *http.Request) (store.Account, bool) {
	u := currentUser(r.Context())
	if !u.IsAdmin {
		acc, ok := s.accountAccess(w, r)
		if !ok {
			return store.Account{}, false
		}
		return acc.Account, true
	}
	id, err := strconv.ParseInt(chi.URLParam(r, "acct"), 10, 64)
	if err != nil {
		s.fail(w, r, http.StatusNotFound, "Page not found.")
		return store.Account{}, false
	}
	a, err := s.store.Accounts.ByID(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		s.fail(w, r, http.StatusNotFound, "Page not found.")
		return a, false
	}
	if err != nil {
		s.serverError(w, r, err)
		return a, false
	}
	return a, true
}

// activityShow is the account's log, newest first; ?format=csv exports it.
func (s *Server) activityShow(w http.ResponseWriter, r *http.Request) {
	acct, ok := s.activityAccess(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	q := r.URL.Query()
	p, err := s.page(r, views.T(ctx, "Activity"))
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	p.CurrentAccount = acct.ID
	f := store.ActionFilter{AccountID: acct.ID, Actor: q.Get("actor"), Action: q.Get("action")}
	if t, err := time.ParseInLocation("2006-01-02", q.Get("since"), p.Location); err == nil {
		f.Since = &t
	}
	if t, err := time.ParseInLocation("2006-01-02", q.Get("until"), p.Location); err == nil {
		t = t.AddDate(0, 0, 1)
		f.Until = &t
	}
	if id, err := strconv.ParseInt(q.Get("message"), 10, 64); err == nil {
		m, err := s.store.Messages.ByID(ctx, 0, acct.ID, id)
		if errors.Is(err, store.ErrNotFound) {
			s.fail(w, r, http.StatusNotFound, "Page not found.")
			return
		}
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		if m.MessageID != "" {
			f.MessageID = m.MessageID
		} else {
			uid, uv := int64(m.UID), int64(m.UIDValidity)
			f.Folder, f.UID, f.UIDValidity = m.Folder, &uid, &uv
		}
	}
	if q.Get("format") == "csv" {
		f.Limit = 1_000_000
	}
	list, err := s.store.Activity.Actions(ctx, f)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if q.Get("format") == "csv" {
		writeActivityCSV(w, acct, list)
		return
	}
	rowsN, bytes, err := s.store.Activity.Size(ctx)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	csvQuery := url.Values{}
	for k, v := range q {
		csvQuery[k] = v
	}
	csvQuery.Set("format", "csv")
	s.render(w, r, http.StatusOK, views.ActivityPage(p, views.ActivityView{
		Account: acct, Actions: list, Actor: f.Actor, Action: f.Action, Since: q.Get("since"), Until: q.Get("until"),
		Message: q.Get("message"), CSVURL: fmt.Sprintf("/a/%d/activity?%s", acct.ID, csvQuery.Encode()), LogRows: rowsN, LogBytes: bytes,
	}))
}

// activityColumns are the CSV columns scripts rely on, in this order.
var activityColumns = []string{"time", "actor", "remote_addr", "user_agent", "action", "account", "folder", "uid", "uidvalidity",
	"message_id", "subject", "sender", "reason", "outcome", "detail"}

func writeActivityCSV(w http.ResponseWriter, acct store.Account, list []store.Action) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="activity-%d-%s.csv"`, acct.ID, time.Now().UTC().Format("20060102")))
	cw := csv.NewWriter(w)
	_ = cw.Write(activityColumns)
	opt := func(p *int64) string {
		if p == nil {
			return ""
		}
		return strconv.FormatInt(*p, 10)
	}
	for _, a := range list {
		_ = cw.Write([]string{a.At.UTC().Format(time.RFC3339), a.Actor, a.RemoteAddr, a.UserAgent, a.Action,
			opt(a.AccountID), a.Folder, opt(a.UID), opt(a.UIDValidity), a.MessageID, csvSafe(a.Subject),
			csvSafe(a.Sender), csvSafe(a.Reason), a.Outcome, csvSafe(a.Detail)})
	}
	cw.Flush()
}

// csvSafe keeps a spreadsheet from reading mail-controlled text as a
// formula.
func csvSafe(s string) string {
	if s != "" && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@') {
		return "'" + s
	}
	return s
}
