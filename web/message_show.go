package web

import (
	"fmt"
	"net/http"

	"sportello/mail"
	"sportello/store"
	"sportello/views"
)

func partURL(m *store.Message) func(string) string {
	return func(path string) string { return fmt.Sprintf("/a/%d/m/%d/part/%s", m.AccountID, m.ID, path) }
}

// messageShow shows one message beside its folder's list. Opening marks it
// read for this user only; on a PEC account it is logged (who consulted
// the legal mail).
func (s *Server) messageShow(w http.ResponseWriter, r *http.Request) {
	acc, m, ok := s.messageAccess(w, r)
	if !ok {
		return
	}
	s.renderMessage(w, r, acc, m, http.StatusOK, "")
}

// renderMessage shows the message page; notice, if any, says what went
// wrong with the last action (a PEC action without its reason, say).
func (s *Server) renderMessage(w http.ResponseWriter, r *http.Request, acc *access, m *store.Message, status int, notice string) {
	ctx := r.Context()
	u := currentUser(ctx)
	raw, err := s.rawMessage(ctx, m)
	if err != nil {
		s.bodyError(w, r, err)
		return
	}
	parsed := mail.Parse(raw)
	showImages := r.URL.Query().Get("images") == "1"
	clean := mail.SanitizeHTML(parsed.HTML, parsed.Parts, partURL(m), showImages)

	if status == http.StatusOK {
		if err := s.store.Messages.MarkRead(ctx, u.ID, m.ID); err != nil {
			s.serverError(w, r, err)
			return
		}
		if acc.IsPEC {
			if _, err := s.record(r, u.Email, messageEntry(store.ActionOpen, m)); err != nil {
				s.serverError(w, r, err)
				return
			}
		}
	}
	p, mb, ok := s.mailbox(w, r, acc, m.Folder)
	if !ok {
		return
	}
	base := views.MessageURL(acc.ID, m.ID)
	bodyURL := base + "/body"
	if showImages {
		bodyURL += "?images=1"
	}
	mb.ListURL = views.FolderURL(acc.ID, m.Folder)
	mb.Reading = &views.Reading{
		Msg: m, BodyURL: bodyURL, RawURL: base + "/raw", PartURL: partURL(m), Attachments: m.Attachments,
		BlockedImages: clean.BlockedImages, ShowImages: showImages, ImagesURL: base + "?images=1",
		Problems: parsed.Problems, CanManage: acc.canManage(), BackURL: views.FolderURL(acc.ID, m.Folder),
		IsPEC: acc.IsPEC, InTrash: acc.TrashFolder != "" && m.Folder == acc.TrashFolder, ActionURL: base,
		Error: notice, Reason: r.PostFormValue("reason"), HistoryURL: fmt.Sprintf("/a/%d/activity?message=%d", acc.ID, m.ID),
	}
	for _, f := range mb.Folders {
		if f.Name != m.Folder {
			mb.Reading.MoveTargets = append(mb.Reading.MoveTargets, f)
		}
	}
	p.Title = m.Subject
	s.render(w, r, status, views.MailboxPage(p, mb))
}

// messageEntry is an activity row about a message.
func messageEntry(action string, m *store.Message) store.Entry {
	uid, uidValidity := int64(m.UID), int64(m.UIDValidity)
	acct := m.AccountID
	sender := m.FromAddr
	if m.FromName != "" {
		sender = m.FromName + " <" + m.FromAddr + ">"
	}
	return store.Entry{Action: action, AccountID: &acct, Folder: m.Folder, UID: &uid, UIDValidity: &uidValidity,
		MessageID: m.MessageID, Subject: m.Subject, Sender: sender, Outcome: store.OutcomeOK}
}
