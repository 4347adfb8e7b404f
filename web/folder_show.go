package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/go-chi/chi/v5"

	"sportello/imapclient"
	"sportello/store"
	"sportello/views"
)

// folderParam is the {folder} of the route: the IMAP name, path-escaped.
func folderParam(r *http.Request) string {
	v := chi.URLParam(r, "folder")
	if r.URL.RawPath != "" {
		if u, err := url.PathUnescape(v); err == nil {
			return u
		}
	}
	return v
}

// folderOrder puts INBOX first, then the special folders, then the
// user's folders by name (a tree by their delimiter).
var folderOrder = map[string]int{"INBOX": 0, `\Sent`: 1, `\Drafts`: 2, `\Archive`: 3, `\Trash`: 4, `\Junk`: 5}

func folderLinks(accountID int64, folders []store.Folder) []views.FolderLink {
	rank := func(f store.Folder) int {
		if f.Name == "INBOX" {
			return 0
		}
		if r, ok := folderOrder[f.SpecialUse]; ok {
			return r
		}
		return 10
	}
	sort.SliceStable(folders, func(i, j int) bool {
		ri, rj := rank(folders[i]), rank(folders[j])
		if ri != rj {
			return ri < rj
		}
		return strings.ToLower(folders[i].Name) < strings.ToLower(folders[j].Name)
	})
	links := make([]views.FolderLink, 0, len(folders))
	for _, f := range folders {
		label, depth := views.FolderLabel(f.Name, f.SpecialUse), 0
		if rank(f) == 10 && f.Delimiter != "" {
			parts := strings.Split(f.Name, f.Delimiter)
			label, depth = parts[len(parts)-1], len(parts)-1
		}
		links = append(links, views.FolderLink{Name: f.Name, Label: label, Depth: depth, Unread: f.Unread, Total: f.Total, Href: views.FolderURL(accountID, f.Name)})
	}
	return links
}

// mailbox builds the folders and list of an account for the pages that
// show them.
func (s *Server) mailbox(w http.ResponseWriter, r *http.Request, acc *access, folderName string) (views.Page, views.Mailbox, bool) {
	ctx := r.Context()
	u := currentUser(ctx)
	p, err := s.page(r, acc.Name)
	if err != nil {
		s.serverError(w, r, err)
		return p, views.Mailbox{}, false
	}
	p.CurrentAccount = acc.ID
	folders, err := s.store.Folders.ListFor(ctx, acc.ID, u.ID)
	if err != nil {
		s.serverError(w, r, err)
		return p, views.Mailbox{}, false
	}
	var folder *store.Folder
	for _, f := range folders {
		if f.Name == folderName {
			folder = &f // a copy: folderLinks reorders the slice
		}
	}
	if folder == nil {
		s.fail(w, r, http.StatusNotFound, "Page not found.")
		return p, views.Mailbox{}, false
	}
	before, ok := cursorParam(r)
	if !ok {
		s.fail(w, r, http.StatusBadRequest, "That page link is damaged; go back to the list.")
		return p, views.Mailbox{}, false
	}
	filters := listFilters(r)
	q := store.ListQuery{UserID: u.ID, FolderID: folder.ID, Before: before}
	if filters.Scope == "account" {
		q.FolderID, q.AccountID = 0, acc.ID
	}
	applyFilters(filters, &q, p.Location)
	mb := views.Mailbox{Account: &acc.AccountSummary, Folders: folderLinks(acc.ID, folders), Folder: folder.Name, Filters: filters, CanManage: acc.canManage(),
		InTrash: folder.Name == acc.TrashFolder}
	if undo := r.URL.Query().Get("undo"); undo != "" && acc.canManage() && len(splitIDs(undo)) > 0 {
		mb.UndoURL = fmt.Sprintf("/a/%d/undo/%s", acc.ID, undo)
	}
	mb.Title = views.T(ctx, views.FolderLabel(folder.Name, folder.SpecialUse))
	if filters.Server && filters.Q != "" && s.imap != nil {
		// Mail whose body is not cached yet: ask the server too.
		uids, err := s.imap.Search(ctx, acc.ID, folder.Name, filters.Q)
		switch {
		case errors.Is(err, imapclient.ErrAuthFailed):
			mb.Notice = views.T(ctx, "The mail server refused Sportello's password, so only the cached mail was searched.")
		case err != nil:
			s.log.Warn("server search failed", "account", acc.ID, "err", err)
			mb.Notice = views.T(ctx, "The mail server did not answer, so only the cached mail was searched.")
		default:
			ids, err := s.store.Messages.ByUIDs(ctx, folder.ID, uids)
			if err != nil {
				s.serverError(w, r, err)
				return p, mb, false
			}
			q.OrIDs = ids
		}
	}
	rows, next, err := s.store.Messages.List(ctx, q)
	if err != nil {
		s.serverError(w, r, err)
		return p, mb, false
	}
	path := views.FolderURL(acc.ID, folder.Name)
	mb.Rows, mb.Next, mb.ListURL = rows, withCursor(r, path, next), listURL(r, path)
	return p, mb, true
}

func (s *Server) folderShow(w http.ResponseWriter, r *http.Request) {
	acc, ok := s.accountAccess(w, r)
	if !ok {
		return
	}
	p, mb, ok := s.mailbox(w, r, acc, folderParam(r))
	if !ok {
		return
	}
	s.renderMailbox(w, r, p, mb)
}

// renderMailbox answers the full page, or for HTMX only the rows asked for.
func (s *Server) renderMailbox(w http.ResponseWriter, r *http.Request, p views.Page, mb views.Mailbox) {
	if r.URL.Query().Get("fragment") == "rows" {
		s.render(w, r, http.StatusOK, views.MessageRows(p, mb))
		return
	}
	s.render(w, r, http.StatusOK, views.MailboxPage(p, mb))
}
