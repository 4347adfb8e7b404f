package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"

	"sportello/imapclient"
	"sportello/store"
)

// The rules of mailbox actions live here, for the message page, the list's
// bulk actions and the delayed deletes alike: who may act, what a PEC
// account asks for, and the activity row written before the server is
// touched and completed after.

// actionRequest is what a manager asked to do to one message.
type actionRequest struct {
	Action  string // delete, restore, expunge, move, flag
	Dest    string // move: the destination folder
	Flag    string // flag: seen or flagged
	On      bool
	Reason  string
	Confirm bool
}

func readAction(r *http.Request, action string) actionRequest {
	return actionRequest{
		Action:  action,
		Dest:    r.PostFormValue("folder"),
		Flag:    r.PostFormValue("flag"),
		On:      r.PostFormValue("on") == "1" || r.PostFormValue("on") == "true",
		Reason:  strings.TrimSpace(r.PostFormValue("reason")),
		Confirm: r.PostFormValue("confirm") == "yes",
	}
}

// actionError carries the HTTP status and the sentence for the user.
type actionError struct {
	status  int
	message string
}

func (e *actionError) Error() string { return e.message }

func refuse(status int, message string) error { return &actionError{status, message} }

var actions = map[string]bool{"delete": true, "restore": true, "expunge": true, "move": true, "flag": true}

// check says whether acc's user may do req to m; nil means go ahead.
func (s *Server) check(ctx context.Context, acc *access, m *store.Message, req actionRequest) error {
	if !actions[req.Action] {
		return refuse(http.StatusNotFound, "Page not found.")
	}
	if !acc.canManage() {
		return refuse(http.StatusForbidden, "You are not allowed to do that.")
	}
	inTrash := m.Folder == acc.TrashFolder && acc.TrashFolder != ""
	switch req.Action {
	case "delete":
		if inTrash {
			return refuse(http.StatusBadRequest, "This message is already in the Trash: use Delete forever.")
		}
	case "restore":
		if !inTrash {
			return refuse(http.StatusBadRequest, "Only messages in the Trash can be restored.")
		}
	case "expunge":
		if !req.Confirm {
			return refuse(http.StatusBadRequest, "Deleting forever needs confirmation (confirm=yes).")
		}
	case "move":
		if req.Dest == "" || req.Dest == m.Folder {
			return refuse(http.StatusBadRequest, "Choose another folder to move the message to.")
		}
		if _, err := s.store.Folders.ByName(ctx, acc.ID, req.Dest); err != nil {
			return refuse(http.StatusBadRequest, "There is no such folder in this mailbox.")
		}
	case "flag":
		if req.Flag != "seen" && req.Flag != "flagged" {
			return refuse(http.StatusBadRequest, "Unknown flag.")
		}
	}
	// A PEC mailbox is legal evidence: removing or filing away needs a
	// written reason.
	needsReason := req.Action == "delete" || req.Action == "expunge" || (req.Action == "move" && m.Folder == "INBOX")
	if acc.IsPEC && needsReason && req.Reason == "" {
		return refuse(http.StatusUnprocessableEntity, "This is a certified (PEC) mailbox: write the reason for this action.")
	}
	return nil
}

// perform runs a checked action. A delete is only scheduled (it can be
// undone for a few seconds); its pending id is returned.
func (s *Server) perform(r *http.Request, acc *access, m *store.Message, req actionRequest) (undoID int64, err error) {
	ctx := r.Context()
	actor := currentUser(ctx).Email
	e := messageEntry(req.Action, m)
	e.Outcome, e.Reason = store.OutcomePending, req.Reason
	switch req.Action {
	case "move":
		e.Detail = "to " + req.Dest
	case "flag":
		e.Detail = fmt.Sprintf("%s %s", map[bool]string{true: "set", false: "cleared"}[req.On], req.Flag)
	case "delete":
		e.Detail = "to " + acc.TrashFolder
	}
	// The log row comes first: nothing reaches the server unrecorded.
	seq, err := s.record(r, actor, e)
	if err != nil {
		return 0, err
	}
	if req.Action == "delete" {
		return s.store.Messages.Schedule(ctx, store.PendingAction{
			AccountID: acc.ID, MessageID: m.ID, Folder: m.Folder, UIDValidity: m.UIDValidity, UID: m.UID,
			Action: "delete", Actor: actor, ActivitySeq: seq, RunAt: time.Now().Add(s.undoWindow),
		})
	}
	detail, err := s.execute(ctx, acc.Account, m, req)
	s.complete(ctx, r, actor, seq, e, detail, err)
	return 0, err
}

// execute does the IMAP part of an action and brings the cache along.
func (s *Server) execute(ctx context.Context, acct store.Account, m *store.Message, req actionRequest) (string, error) {
	if s.imap == nil {
		return "", errors.New("web: no IMAP access configured")
	}
	folder, err := s.store.Folders.ByName(ctx, acct.ID, m.Folder)
	if err != nil {
		return "", err
	}
	switch req.Action {
	case "delete", "move", "restore":
		dest := req.Dest
		switch req.Action {
		case "delete":
			if acct.TrashFolder == "" {
				return "", refuse(http.StatusConflict, "This mailbox has no Trash folder, so nothing can be moved there.")
			}
			dest = acct.TrashFolder
		case "restore":
			origin, err := s.store.Messages.Origin(ctx, acct.ID, m.Folder, m.UIDValidity, m.UID)
			if err != nil {
				return "", err
			}
			if origin == "" {
				origin = "INBOX"
			}
			dest = origin
		}
		if err := s.store.Messages.ExpectRemoval(ctx, folder.ID, []uint32{m.UID}); err != nil {
			return "", err
		}
		moved, err := s.imap.Move(ctx, acct.ID, m.Folder, m.UIDValidity, []uint32{m.UID}, dest)
		if err != nil {
			return "", err
		}
		if _, err := s.store.Messages.DeleteUIDs(ctx, folder, []uint32{m.UID}); err != nil {
			return "", err
		}
		if dest == acct.TrashFolder {
			if newUID, ok := moved.UIDs[m.UID]; ok {
				if err := s.store.Messages.RememberOrigin(ctx, acct.ID, dest, moved.UIDValidity, newUID, m.Folder); err != nil {
					return "", err
				}
			}
		}
		_ = s.store.Accounts.RequestSync(ctx, acct.ID)
		return "to " + dest, nil
	case "expunge":
		if err := s.store.Messages.ExpectRemoval(ctx, folder.ID, []uint32{m.UID}); err != nil {
			return "", err
		}
		if err := s.imap.Expunge(ctx, acct.ID, m.Folder, m.UIDValidity, []uint32{m.UID}); err != nil {
			return "", err
		}
		_, err := s.store.Messages.DeleteUIDs(ctx, folder, []uint32{m.UID})
		return "", err
	case "flag":
		flag := imap.FlagSeen
		if req.Flag == "flagged" {
			flag = imap.FlagFlagged
		}
		if err := s.imap.SetFlag(ctx, acct.ID, m.Folder, m.UIDValidity, []uint32{m.UID}, flag, req.On); err != nil {
			return "", err
		}
		flags := withFlag(m.Flags, string(flag), req.On)
		return "", s.store.Messages.UpdateFlags(ctx, folder, []store.FlagUpdate{{UID: m.UID, Flags: flags}})
	}
	return "", fmt.Errorf("web: unknown action %q", req.Action)
}

func withFlag(flags []string, flag string, on bool) []string {
	out := make([]string, 0, len(flags)+1)
	for _, f := range flags {
		if !strings.EqualFold(f, flag) {
			out = append(out, f)
		}
	}
	if on {
		out = append(out, flag)
	}
	return out
}

// complete writes the row that closes a pending one with its outcome and,
// on failure, the server's answer.
func (s *Server) complete(ctx context.Context, r *http.Request, actor string, seq int64, e store.Entry, detail string, err error) {
	e.Completes, e.Outcome = &seq, store.OutcomeOK
	if detail != "" {
		e.Detail = detail
	}
	if err != nil {
		e.Outcome, e.Detail = store.OutcomeFailed, err.Error()
	}
	e.Actor = actor
	if r != nil {
		e.RemoteAddr, e.UserAgent = remoteIP(r), r.UserAgent()
	}
	if _, werr := s.store.Activity.Append(context.WithoutCancel(ctx), e); werr != nil {
		s.log.Error("activity row not completed", "seq", seq, "err", werr)
	}
}

// actionFailure says in words why the server did not do it.
func actionFailure(err error) (int, string) {
	var ae *actionError
	switch {
	case errors.As(err, &ae):
		return ae.status, ae.message
	case errors.Is(err, imapclient.ErrGone):
		return http.StatusConflict, "The message is no longer there on the mail server; the list will catch up in a moment."
	case errors.Is(err, imapclient.ErrNoUIDPlus):
		return http.StatusConflict, "This mail server cannot remove single messages, so Sportello did not delete anything."
	case errors.Is(err, imapclient.ErrAuthFailed):
		return http.StatusBadGateway, "The mail server refused Sportello's password for this mailbox; an administrator must enter it again."
	}
	return http.StatusBadGateway, "The mail server did not carry out the action: " + err.Error()
}

// runScheduled carries out deletes whose undo window has passed.
func (s *Server) runScheduled(ctx context.Context) {
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		due, err := s.store.Messages.ClaimDue(ctx, 20)
		if err != nil {
			if ctx.Err() == nil {
				s.log.Warn("scheduled actions unavailable", "err", err)
			}
			continue
		}
		for _, pa := range due {
			s.runOne(ctx, pa)
		}
	}
}

func (s *Server) runOne(ctx context.Context, pa store.PendingAction) {
	acct, err := s.store.Accounts.ByID(ctx, pa.AccountID)
	if err != nil {
		s.log.Warn("scheduled action for a missing account", "action", pa.ID, "err", err)
		_ = s.store.Messages.Done(ctx, pa.ID)
		return
	}
	m, err := s.store.Messages.ByID(ctx, 0, pa.AccountID, pa.MessageID)
	var detail string
	if errors.Is(err, store.ErrNotFound) {
		err = imapclient.ErrGone
	} else if err == nil {
		detail, err = s.execute(ctx, acct, m, actionRequest{Action: pa.Action})
	}
	if err != nil && m != nil {
		_ = s.store.Messages.Unhide(ctx, pa.AccountID, pa.Folder, pa.MessageID)
	}
	s.complete(ctx, nil, pa.Actor, pa.ActivitySeq, pendingEntry(pa, m), detail, err)
	if err := s.store.Messages.Done(ctx, pa.ID); err != nil {
		s.log.Warn("scheduled action not cleared", "action", pa.ID, "err", err)
	}
}

// pendingEntry is the activity row that closes a pending action: about the
// message when it is still known, else about what the action recorded.
func pendingEntry(pa store.PendingAction, m *store.Message) store.Entry {
	if m != nil {
		return messageEntry(pa.Action, m)
	}
	acct, uid, uidValidity := pa.AccountID, int64(pa.UID), int64(pa.UIDValidity)
	return store.Entry{Action: pa.Action, AccountID: &acct, Folder: pa.Folder, UID: &uid, UIDValidity: &uidValidity}
}
