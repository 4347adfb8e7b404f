package web

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	netmail "net/mail"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"sportello/mail"
	"sportello/store"
	"sportello/views"
)

// maxCompose bounds one message with its attachments.
const maxCompose = 30 << 20

func newIdempotencyKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// original loads the message a reply or forward refers to, from the same
// account only.
func (s *Server) original(r *http.Request, acc *access, param string) (*store.Message, error) {
	id, err := strconv.ParseInt(param, 10, 64)
	if err != nil {
		return nil, store.ErrNotFound
	}
	return s.store.Messages.ByID(r.Context(), currentUser(r.Context()).ID, acc.ID, id)
}

// composeForm is GET /a/{acct}/compose: a new message, or ?reply=,
// ?reply_all= or ?forward= a message of this account.
func (s *Server) composeForm(w http.ResponseWriter, r *http.Request) {
	acc, ok := s.managerAccess(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	f := views.ComposeForm{Account: acc.Account, IdempotencyKey: newIdempotencyKey()}
	var param string
	switch {
	case q.Get("reply") != "":
		f.Mode, param = "reply", q.Get("reply")
	case q.Get("reply_all") != "":
		f.Mode, param = "reply", q.Get("reply_all")
	case q.Get("forward") != "":
		f.Mode, param = "forward", q.Get("forward")
	}
	if v := q.Get("outbox"); v != "" {
		// Edit and send again a message the server refused.
		id, _ := strconv.ParseInt(v, 10, 64)
		o, err := s.store.Outbox().ByID(r.Context(), acc.ID, id)
		if errors.Is(err, store.ErrNotFound) || (err == nil && o.State != store.OutboxFailed) {
			s.fail(w, r, http.StatusNotFound, "Page not found.")
			return
		}
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		h := mail.HeaderOf(o.Raw)
		f.To, f.Cc, f.Subject = h.Get("To"), h.Get("Cc"), mail.HeaderText(h.Get("Subject"))
		f.Body, f.Replaces = mail.Parse(o.Raw).Text, o.ID
		s.renderCompose(w, r, http.StatusOK, f)
		return
	}
	if v := q.Get("draft"); v != "" {
		id, _ := strconv.ParseInt(v, 10, 64)
		d, err := s.store.Drafts().ByID(r.Context(), acc.ID, id)
		if errors.Is(err, store.ErrNotFound) {
			s.fail(w, r, http.StatusNotFound, "Page not found.")
			return
		}
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		f.To, f.Cc, f.Bcc, f.Subject, f.Body, f.Mode = d.To, d.Cc, d.Bcc, d.Subject, d.Body, d.Mode
		f.DraftID, f.Version, f.IdempotencyKey = d.ID, d.Version, d.IdempotencyKey
		if d.InReplyTo != nil {
			f.InReplyTo = *d.InReplyTo
		}
		me := currentUser(r.Context()).ID
		if q.Get("conflict") != "" || (d.UpdatedBy != me && time.Since(d.UpdatedAt) < 2*time.Minute) {
			f.Warning = fmt.Sprintf(views.T(r.Context(), "%s is also editing this draft (saved at %s): your changes and theirs may overwrite each other."),
				d.UpdatedByName, d.UpdatedAt.Format("15:04"))
		}
		s.renderCompose(w, r, http.StatusOK, f)
		return
	}
	if param != "" {
		m, err := s.original(r, acc, param)
		if errors.Is(err, store.ErrNotFound) {
			s.fail(w, r, http.StatusNotFound, "Page not found.")
			return
		}
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		raw, err := s.rawMessage(r.Context(), m)
		if err != nil {
			s.bodyError(w, r, err)
			return
		}
		parsed := mail.Parse(raw)
		text := parsed.Text
		if text == "" {
			text = parsed.SearchText() // an HTML-only message, as text
		}
		f.InReplyTo = m.ID
		from := m.FromAddr
		if m.FromName != "" {
			from = fmt.Sprintf("%s <%s>", m.FromName, m.FromAddr)
		}
		date := m.Date
		if m.SentDate != nil {
			date = *m.SentDate
		}
		if f.Mode == "reply" {
			// Reply-To first: a PEC envelope's points at the real sender,
			// never at the provider's posta-certificata@ address.
			f.To = from
			if m.ReplyTo != "" {
				f.To = m.ReplyTo
			}
			if q.Get("reply_all") != "" {
				f.Cc = othersThan(acc.Address, f.To, m.To, m.Cc)
			}
			f.Subject = mail.ReplySubject(m.Subject)
			f.Body = fmt.Sprintf("\n\n%s, %s:\n%s", date.Format("02/01/2006 15:04"), from, mail.Quote(text))
		} else if q.Get("as") == "attachment" {
			f.Subject, f.AsAttachment = mail.ForwardSubject(m.Subject), true
		} else {
			f.Subject = mail.ForwardSubject(m.Subject)
			f.Body = fmt.Sprintf("\n\n---------- %s ----------\n%s: %s\n%s: %s\n%s: %s\n%s: %s\n\n%s",
				views.T(r.Context(), "Forwarded message"), views.T(r.Context(), "From"), from, views.T(r.Context(), "Date"),
				date.Format("02/01/2006 15:04"), views.T(r.Context(), "Subject"), m.Subject, views.T(r.Context(), "To"), m.To, text)
			f.Carry = m.Attachments
		}
	}
	sig, err := s.store.Accounts.Signature(r.Context(), acc.ID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	f.Body, f.Signature = withSignature(f.Body, sig), sig
	s.renderCompose(w, r, http.StatusOK, f)
}

// withSignature puts the signature above any quoted text, after the "-- "
// separator mail clients recognise.
func withSignature(body, sig string) string {
	if strings.TrimSpace(sig) == "" {
		return body
	}
	return "\n\n-- \n" + strings.TrimRight(sig, "\n") + body
}

// signatureSave is POST /a/{acct}/signature (managers).
func (s *Server) signatureSave(w http.ResponseWriter, r *http.Request) {
	acc, ok := s.managerAccess(w, r)
	if !ok {
		return
	}
	if err := s.store.Accounts.SetSignature(r.Context(), acc.ID, r.PostFormValue("signature")); err != nil {
		s.serverError(w, r, err)
		return
	}
	e := store.Entry{Action: store.ActionAccountChange, AccountID: &acc.ID, Detail: "signature changed"}
	if _, err := s.record(r, currentUser(r.Context()).Email, e); err != nil {
		s.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/a/%d/compose", acc.ID), http.StatusSeeOther)
}

func (s *Server) renderCompose(w http.ResponseWriter, r *http.Request, status int, f views.ComposeForm) {
	p, err := s.page(r, views.T(r.Context(), "New message"))
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	p.CurrentAccount = f.Account.ID
	s.render(w, r, status, views.ComposePage(p, f))
}

// othersThan lists the addresses of lists, without self and without those
// already in exclude.
func othersThan(self, exclude string, lists ...string) string {
	seen := map[string]bool{strings.ToLower(self): true}
	if ex, err := mail.ParseAddressList(exclude); err == nil {
		for _, a := range ex {
			seen[strings.ToLower(a.Address)] = true
		}
	}
	var out []string
	for _, l := range lists {
		addrs, err := mail.ParseAddressList(l)
		if err != nil {
			continue
		}
		for _, a := range addrs {
			if !seen[strings.ToLower(a.Address)] {
				seen[strings.ToLower(a.Address)] = true
				out = append(out, a.String())
			}
		}
	}
	return strings.Join(out, ", ")
}

// outboxSend is POST /a/{acct}/outbox: the message is built and stored in
// the outbox with its activity row before any SMTP is tried. The same
// idempotency_key again sends nothing more.
func (s *Server) outboxSend(w http.ResponseWriter, r *http.Request) {
	acc, ok := s.managerAccess(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	r.Body = http.MaxBytesReader(w, r.Body, maxCompose+1<<20)
	if err := r.ParseMultipartForm(8 << 20); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		s.fail(w, r, http.StatusRequestEntityTooLarge, "The message and its attachments are too large (30 MB at most).")
		return
	}
	form := views.ComposeForm{Account: acc.Account, To: r.FormValue("to"), Cc: r.FormValue("cc"), Bcc: r.FormValue("bcc"),
		Subject: r.FormValue("subject"), Body: r.FormValue("body"), Mode: r.FormValue("mode"), IdempotencyKey: r.FormValue("idempotency_key")}
	if form.IdempotencyKey == "" {
		form.IdempotencyKey = newIdempotencyKey()
	}
	bad := func(msg string) {
		form.Error = views.T(ctx, msg)
		s.renderCompose(w, r, http.StatusUnprocessableEntity, form)
	}
	to, err1 := mail.ParseAddressList(form.To)
	cc, err2 := mail.ParseAddressList(form.Cc)
	bcc, err3 := mail.ParseAddressList(form.Bcc)
	if err := errors.Join(err1, err2, err3); err != nil {
		bad("An address is not valid: " + err.Error())
		return
	}
	if len(to)+len(cc)+len(bcc) == 0 {
		bad("Add at least one recipient.")
		return
	}
	d := mail.Draft{From: netmail.Address{Name: acc.Name, Address: acc.Address}, To: to, Cc: cc, Bcc: bcc,
		Subject: form.Subject, Text: form.Body, Formatted: r.FormValue("format") == "1"}
	if v := r.FormValue("in_reply_to"); v != "" {
		orig, err := s.original(r, acc, v)
		if errors.Is(err, store.ErrNotFound) {
			s.fail(w, r, http.StatusNotFound, "Page not found.")
			return
		}
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		form.InReplyTo = orig.ID
		if form.Mode != "forward" && orig.MessageID != "" {
			d.InReplyTo = orig.MessageID
			d.References = append(append([]string(nil), orig.References...), orig.MessageID)
		}
		if r.FormValue("forward_as") == "attachment" {
			raw, err := s.rawMessage(ctx, orig)
			if err != nil {
				s.bodyError(w, r, err)
				return
			}
			d.Attachments = append(d.Attachments, mail.Attachment{Filename: safeFilename(orig.Subject, "message") + ".eml", ContentType: "message/rfc822", Data: raw})
		}
		if carry := r.Form["carry"]; len(carry) > 0 {
			raw, err := s.rawMessage(ctx, orig)
			if err != nil {
				s.bodyError(w, r, err)
				return
			}
			for _, path := range carry {
				part, data, err := mail.PartContent(raw, path)
				if err != nil {
					bad("An attachment of the original message cannot be read; leave it out.")
					return
				}
				d.Attachments = append(d.Attachments, mail.Attachment{Filename: part.Filename, ContentType: part.ContentType, Data: data})
			}
		}
	}
	if r.MultipartForm != nil {
		total := 0
		for _, fh := range r.MultipartForm.File["attachment"] {
			f, err := fh.Open()
			if err != nil {
				bad("An attachment could not be read.")
				return
			}
			data, err := io.ReadAll(io.LimitReader(f, maxCompose))
			f.Close()
			if err != nil {
				bad("An attachment could not be read.")
				return
			}
			total += len(data)
			if total > maxCompose {
				bad("The attachments are too large (30 MB at most).")
				return
			}
			d.Attachments = append(d.Attachments, mail.Attachment{Filename: fh.Filename, ContentType: fh.Header.Get("Content-Type"), Data: data})
		}
	}
	d.MessageID = mail.NewMessageID(acc.Address)
	raw, err := mail.Build(d)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	var rcpt []string
	var shown []string
	for _, list := range [][]*netmail.Address{to, cc, bcc} {
		for _, a := range list {
			rcpt = append(rcpt, a.Address)
			shown = append(shown, a.Address)
		}
	}
	u := currentUser(ctx)
	e := store.Entry{Actor: u.Email, RemoteAddr: remoteIP(r), UserAgent: r.UserAgent(), Action: store.ActionSend, AccountID: &acc.ID,
		Folder: "Sent", MessageID: d.MessageID, Subject: d.Subject, Sender: acc.Address, Detail: "to " + strings.Join(shown, ", ")}
	o, created, err := s.store.Outbox().Enqueue(ctx, store.Outgoing{AccountID: acc.ID, Actor: u.Email, IdempotencyKey: form.IdempotencyKey,
		MailFrom: acc.Address, Rcpt: rcpt, Raw: raw, MessageID: d.MessageID, Subject: d.Subject, Recipients: strings.Join(shown, ", ")}, u.ID, e)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if created {
		s.wakeSender()
		seen := make([]store.Seen, len(rcpt))
		for i, list := 0, append(append(append([]*netmail.Address{}, to...), cc...), bcc...); i < len(list); i++ {
			seen[i] = store.Seen{Email: list[i].Address, Name: list[i].Name, PEC: acc.IsPEC}
		}
		if err := s.store.Contacts().Collect(ctx, seen); err != nil {
			s.log.Warn("contacts not collected", "err", err)
		}
	}
	if id, err := strconv.ParseInt(r.FormValue("replaces"), 10, 64); err == nil && id != 0 && created {
		if err := s.store.Outbox().Discard(ctx, acc.ID, id); err != nil && !errors.Is(err, store.ErrNotFound) {
			s.log.Warn("replaced message not discarded", "outbox", id, "err", err)
		}
	}
	if id, err := strconv.ParseInt(r.FormValue("draft_id"), 10, 64); err == nil && id != 0 {
		if err := s.store.Drafts().Delete(ctx, acc.ID, id); err != nil {
			s.log.Warn("sent draft not removed", "draft", id, "err", err)
		}
	}
	http.Redirect(w, r, fmt.Sprintf("/a/%d/outbox#o%d", acc.ID, o.ID), http.StatusSeeOther)
}

// outboxShow lists the account's outgoing mail with the server's answers.
func (s *Server) outboxShow(w http.ResponseWriter, r *http.Request) {
	acc, ok := s.accountAccess(w, r)
	if !ok {
		return
	}
	items, err := s.store.Outbox().List(r.Context(), acc.ID, 200)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	waiting, err := s.store.Outbox().Waiting(r.Context(), acc.ID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	p, err := s.page(r, views.T(r.Context(), "Outbox"))
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	p.CurrentAccount = acc.ID
	s.render(w, r, http.StatusOK, views.OutboxPage(p, views.OutboxView{Account: acc.Account, Items: items, CanManage: acc.canManage(), Waiting: waiting}))
}

func (s *Server) outboxRetry(w http.ResponseWriter, r *http.Request) {
	s.outboxChange(w, r, func(acc *access, id int64) error { return s.store.Outbox().Requeue(r.Context(), acc.ID, id) })
}

func (s *Server) outboxDiscard(w http.ResponseWriter, r *http.Request) {
	s.outboxChange(w, r, func(acc *access, id int64) error { return s.store.Outbox().Discard(r.Context(), acc.ID, id) })
}

func (s *Server) outboxChange(w http.ResponseWriter, r *http.Request, change func(*access, int64) error) {
	acc, ok := s.managerAccess(w, r)
	if !ok {
		return
	}
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil {
		s.fail(w, r, http.StatusNotFound, "Page not found.")
		return
	}
	if err := change(acc, id); errors.Is(err, store.ErrNotFound) {
		s.fail(w, r, http.StatusConflict, "That message can no longer be changed.")
		return
	} else if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.wakeSender()
	http.Redirect(w, r, fmt.Sprintf("/a/%d/outbox", acc.ID), http.StatusSeeOther)
}
