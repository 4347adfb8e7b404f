package web

import (
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"

	"sportello/mail"
	"sportello/store"
)

// The sender takes messages from the outbox: SMTP first, recorded as
// smtp_done before anything else; then the APPEND to Sent; then sent. A
// crash after SMTP resumes at the APPEND and never submits twice. Only a
// crash in the middle of the SMTP conversation itself can lead to a second
// submission (the server may have taken the message without our knowing).

// sendBackoff is the delay before attempt n+1 after a transient failure:
// exponential from retryBase, with jitter, at most half an hour.
func (s *Server) sendBackoff(attempts int) time.Duration {
	d := s.retryBase << min(max(attempts-1, 0), 12)
	d = min(d, 30*time.Minute)
	return d + time.Duration(rand.Int64N(int64(d)/4+1))
}

func (s *Server) runSender(ctx context.Context) {
	tick := time.NewTicker(s.senderTick)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-s.sendNow:
		}
		due, err := s.store.Outbox().Claim(ctx, 10)
		if err != nil {
			if ctx.Err() == nil {
				s.log.Warn("outbox unavailable", "err", err)
			}
			continue
		}
		for _, o := range due {
			s.sendOne(ctx, o)
		}
	}
}

func (s *Server) wakeSender() {
	select {
	case s.sendNow <- struct{}{}:
	default:
	}
}

func (s *Server) sendOne(ctx context.Context, o store.Outgoing) {
	box := s.store.Outbox()
	acct, err := s.store.Accounts.ByID(ctx, o.AccountID)
	if err != nil {
		s.log.Warn("outgoing mail of a missing account", "outbox", o.ID, "err", err)
		return
	}
	entry := store.Entry{Actor: o.Actor, Action: store.ActionSend, AccountID: &o.AccountID, Folder: "Sent",
		MessageID: o.MessageID, Subject: o.Subject, Sender: acct.Address}
	if o.State != store.OutboxSMTPDone {
		password, err := s.store.Accounts.Password(ctx, acct.ID)
		if err != nil {
			_ = box.Retry(ctx, o.ID, store.OutboxQueued, s.sendBackoff(o.Attempts), err.Error())
			return
		}
		answer, err := mail.Submit(mail.SMTPConfig{Addr: acct.SMTPAddr, TLS: acct.TLS, Username: acct.Username, Password: password,
			InsecureSkipVerify: acct.InsecureSkipVerify}, o.MailFrom, o.Rcpt, o.Raw)
		if err != nil {
			var se *mail.SubmitError
			if errors.As(err, &se) && se.Permanent {
				entry.Outcome, entry.Detail = store.OutcomeFailed, "the mail server refused it: "+se.Answer
				if ferr := box.Finish(ctx, o, store.OutboxFailed, se.Answer, entry); ferr != nil {
					s.log.Error("outbox not updated", "outbox", o.ID, "err", ferr)
				}
				return
			}
			s.log.Info("sending will be retried", "outbox", o.ID, "attempt", o.Attempts, "err", err)
			_ = box.Retry(ctx, o.ID, store.OutboxQueued, s.sendBackoff(o.Attempts), err.Error())
			return
		}
		if err := box.SMTPDone(ctx, o.ID, answer); err != nil {
			s.log.Error("outbox not updated after SMTP; it will not be sent again", "outbox", o.ID, "err", err)
			return
		}
		o.State = store.OutboxSMTPDone
	}
	// The Sent copy, so every device sees what the office sent, unless
	// the server files submitted mail in Sent itself.
	sent, err := s.sentFolder(ctx, acct.ID)
	if serverFilesSent(acct.SMTPAddr) {
		sent = ""
	}
	if err == nil && sent != "" && s.imap != nil {
		err = s.imap.Append(ctx, acct.ID, sent, o.Raw, imap.FlagSeen)
		if err == nil {
			_ = s.store.Accounts.RequestSync(ctx, acct.ID)
		}
	}
	if err != nil {
		s.log.Warn("Sent copy will be retried", "outbox", o.ID, "err", err)
		_ = box.Retry(ctx, o.ID, store.OutboxSMTPDone, time.Minute, "sent; the copy in Sent will be retried: "+err.Error())
		return
	}
	entry.Outcome, entry.Detail = store.OutcomeOK, "to "+o.Recipients
	if sent == "" && !serverFilesSent(acct.SMTPAddr) {
		entry.Detail += " (this mailbox has no Sent folder)"
	}
	if err := box.Finish(ctx, o, store.OutboxSent, "", entry); err != nil {
		s.log.Error("outbox not updated", "outbox", o.ID, "err", err)
	}
}

// sentFolder is the account's \Sent folder, or "".
func (s *Server) sentFolder(ctx context.Context, accountID int64) (string, error) {
	folders, err := s.store.Folders.List(ctx, accountID)
	if err != nil {
		return "", err
	}
	for _, f := range folders {
		if f.SpecialUse == `\Sent` {
			return f.Name, nil
		}
	}
	return "", nil
}

// serverFilesSent reports whether the submission server is known to put a
// copy in Sent itself (Gmail does): appending one more would duplicate it.
func serverFilesSent(smtpAddr string) bool {
	host, _, _ := strings.Cut(strings.ToLower(smtpAddr), ":")
	return host == "smtp.gmail.com" || host == "smtp.googlemail.com"
}
