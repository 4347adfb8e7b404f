package web_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-smtp"

	"sportello/store"
	"sportello/testrig"
)

// sendingOffice is the Dovecot office whose accounts submit to a recording
// SMTP server.
func sendingOffice(t *testing.T) (*testrig.Office, *testrig.SMTPServer) {
	o := testrig.NewDovecotOffice(t, map[string][][]byte{"info@studio.test": {sample(1, "info@studio.test")}},
		testrig.Options{UndoWindow: 500 * time.Millisecond, RetryBase: 200 * time.Millisecond})
	srv := testrig.StartSMTP(t)
	for _, addr := range []string{"info@studio.test", "studio.rossi@pec.studio.test"} {
		a := o.Account(t, addr)
		if _, err := o.Store.Accounts.Update(context.Background(), a.ID, store.NewAccount{Name: a.Name, Address: a.Address, IMAPAddr: a.IMAPAddr,
			SMTPAddr: srv.Addr, TLS: store.TLSNone, Username: a.Username, IsPEC: a.IsPEC}); err != nil {
			t.Fatal(err)
		}
	}
	o.WaitSynced(t, 12)
	return o, srv
}

func multipartSend(t *testing.T, c *http.Client, url string, fields map[string]string, file string, data []byte) *http.Response {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for k, v := range fields {
		w.WriteField(k, v)
	}
	if file != "" {
		fw, _ := w.CreateFormFile("attachment", file)
		fw.Write(data)
	}
	w.Close()
	resp, err := c.Post(url, w.FormDataContentType(), &b)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func outboxState(t *testing.T, o *testrig.Office, accountID int64) []store.Outgoing {
	list, err := o.Store.Outbox().List(context.Background(), accountID, 10)
	if err != nil {
		t.Fatal(err)
	}
	return list
}

func TestSendOnceToSMTPAndSent(t *testing.T) {
	o, smtpSrv := sendingOffice(t)
	info := o.Account(t, "info@studio.test")
	giulia := o.Client(t, "giulia@studio.test")
	fields := map[string]string{
		"to": "Mario Bianchi <mario@example.it>", "cc": "lucia@example.it", "bcc": "archivio@example.it",
		"subject": "Preventivo è pronto", "body": "Buongiorno,\nin allegato il preventivo.\nCordiali saluti", "idempotency_key": "key-1",
	}
	pdf := []byte("%PDF-1.4 preventivo")
	for i := 0; i < 3; i++ { // a double (triple) click on Send
		if resp := multipartSend(t, giulia, fmt.Sprintf("%s/a/%d/outbox", o.URL, info.ID), fields, "Preventivo è.pdf", pdf); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("send answered %d", resp.StatusCode)
		}
	}
	waitFor(t, "the message in Sent", 10*time.Second, func() bool {
		_, ok := onServer(t, o, "info@studio.test", "Sent")["Preventivo è pronto"]
		return ok
	})
	time.Sleep(500 * time.Millisecond)
	got := smtpSrv.Accepted()
	if len(got) != 1 {
		t.Fatalf("the SMTP server got %d messages, want exactly 1", len(got))
	}
	if strings.Join(got[0].To, ",") != "mario@example.it,lucia@example.it,archivio@example.it" || got[0].From != "info@studio.test" {
		t.Fatalf("envelope: from %s to %v", got[0].From, got[0].To)
	}
	mr, err := mail.CreateReader(bytes.NewReader(got[0].Data))
	if err != nil {
		t.Fatal(err)
	}
	subject, _ := mr.Header.Subject()
	to, _ := mr.Header.AddressList("To")
	id, _ := mr.Header.MessageID()
	if subject != "Preventivo è pronto" || len(to) != 1 || to[0].Name != "Mario Bianchi" || !strings.HasSuffix(id, "@studio.test") {
		t.Fatalf("headers: subject %q, to %v, message-id %q", subject, to, id)
	}
	if mr.Header.Get("Bcc") != "" || bytes.Contains(got[0].Data, []byte("archivio@example.it")) {
		t.Fatal("the Bcc recipient shows in the message")
	}
	var text, filename string
	var attached []byte
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		switch h := p.Header.(type) {
		case *mail.InlineHeader:
			if ct, _, _ := h.ContentType(); ct == "text/plain" {
				b, _ := io.ReadAll(p.Body)
				text = string(b)
			}
		case *mail.AttachmentHeader:
			filename, _ = h.Filename()
			attached, _ = io.ReadAll(p.Body)
		}
	}
	if !strings.Contains(text, "in allegato il preventivo") || filename != "Preventivo è.pdf" || !bytes.Equal(attached, pdf) {
		t.Fatalf("body %q, attachment %q %q", text, filename, attached)
	}
	// Sent once, marked read; the outbox says sent; the log says so.
	sent := onServer(t, o, "info@studio.test", "Sent")
	if len(sent) != 1 || !strings.Contains(sent["Preventivo è pronto"], `\Seen`) {
		t.Fatalf("Sent holds %v", sent)
	}
	waitFor(t, "the outbox to say sent", 5*time.Second, func() bool {
		l := outboxState(t, o, info.ID)
		return len(l) == 1 && l[0].State == store.OutboxSent
	})
	rows := actionRows(t, o, info.ID)
	if len(rows) == 0 || rows[0].Action != "send" || rows[0].Outcome != "ok" || rows[0].Actor != "giulia@studio.test" {
		t.Fatalf("activity: %+v", rows)
	}
}

func TestTransientFailureRetriesAndSendsOnce(t *testing.T) {
	o, smtpSrv := sendingOffice(t)
	smtpSrv.Answer = func(attempt int) error {
		if attempt == 1 {
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Try again later"}
		}
		return nil
	}
	info := o.Account(t, "info@studio.test")
	giulia := o.Client(t, "giulia@studio.test")
	multipartSend(t, giulia, fmt.Sprintf("%s/a/%d/outbox", o.URL, info.ID), map[string]string{"to": "mario@example.it", "subject": "Retry", "body": "x", "idempotency_key": "k2"}, "", nil)
	waitFor(t, "the retry to succeed", 15*time.Second, func() bool {
		l := outboxState(t, o, info.ID)
		return len(l) == 1 && l[0].State == store.OutboxSent
	})
	if n := len(smtpSrv.Accepted()); n != 1 || smtpSrv.Attempts() != 2 {
		t.Fatalf("accepted %d after %d attempts, want 1 after 2", n, smtpSrv.Attempts())
	}
}

func TestPermanentRefusalIsShownAndNotRetried(t *testing.T) {
	o, smtpSrv := sendingOffice(t)
	smtpSrv.Answer = func(int) error {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "Mailbox unavailable"}
	}
	info := o.Account(t, "info@studio.test")
	giulia := o.Client(t, "giulia@studio.test")
	multipartSend(t, giulia, fmt.Sprintf("%s/a/%d/outbox", o.URL, info.ID), map[string]string{"to": "nobody@example.it", "subject": "Refused", "body": "x", "idempotency_key": "k3"}, "", nil)
	waitFor(t, "the failure", 10*time.Second, func() bool {
		l := outboxState(t, o, info.ID)
		return len(l) == 1 && l[0].State == store.OutboxFailed
	})
	time.Sleep(1 * time.Second)
	if smtpSrv.Attempts() != 1 || len(smtpSrv.Accepted()) != 0 {
		t.Fatalf("a 550 was retried: %d attempts", smtpSrv.Attempts())
	}
	resp, err := giulia.Get(fmt.Sprintf("%s/a/%d/outbox", o.URL, info.ID))
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), "550") || !strings.Contains(string(page), "Mailbox unavailable") {
		t.Fatal("the outbox page does not show the server's answer")
	}
	rows := actionRows(t, o, info.ID)
	if rows[0].Action != "send" || rows[0].Outcome != "failed" || !strings.Contains(rows[0].Detail, "550") {
		t.Fatalf("activity: %+v", rows[0].Entry)
	}
	// Edit and send again: the form comes back filled, the failed one is
	// replaced.
	failed := outboxState(t, o, info.ID)[0]
	resp, err = giulia.Get(fmt.Sprintf("%s/a/%d/compose?outbox=%d", o.URL, info.ID, failed.ID))
	if err != nil {
		t.Fatal(err)
	}
	form, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(form), "nobody@example.it") || !strings.Contains(string(form), `name="replaces"`) {
		t.Fatal("the edit form is not filled from the refused message")
	}
	smtpSrv.Answer = nil
	multipartSend(t, giulia, fmt.Sprintf("%s/a/%d/outbox", o.URL, info.ID), map[string]string{"to": "somebody@example.it", "subject": "Refused",
		"body": "x", "idempotency_key": "k3-edit", "replaces": fmt.Sprint(failed.ID)}, "", nil)
	waitFor(t, "the corrected message", 10*time.Second, func() bool { return len(smtpSrv.Accepted()) == 1 })
	if st, _ := o.Store.Outbox().ByID(context.Background(), info.ID, failed.ID); st.State != store.OutboxDiscarded {
		t.Fatalf("the refused message is %s, want discarded", st.State)
	}
}

func TestCrashBetweenSMTPAndAppendDoesNotSendTwice(t *testing.T) {
	o, smtpSrv := sendingOffice(t)
	info := o.Account(t, "info@studio.test")
	ctx := context.Background()
	raw := []byte("From: info@studio.test\r\nTo: mario@example.it\r\nSubject: Already submitted\r\nMessage-ID: <crash@studio.test>\r\n\r\nx\r\n")
	// As a process that died right after the server accepted the message
	// left it: smtp_done, no copy in Sent yet.
	entry := store.Entry{Actor: "giulia@studio.test", Action: store.ActionSend, AccountID: &info.ID, Subject: "Already submitted"}
	out, _, err := o.Store.Outbox().Enqueue(ctx, store.Outgoing{AccountID: info.ID, Actor: "giulia@studio.test", IdempotencyKey: "crash",
		MailFrom: "info@studio.test", Rcpt: []string{"mario@example.it"}, Raw: raw, MessageID: "crash@studio.test", Subject: "Already submitted"}, 0, entry)
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Store.Outbox().SMTPDone(ctx, out.ID, "250 accepted"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the Sent copy after the restart", 10*time.Second, func() bool {
		_, ok := onServer(t, o, "info@studio.test", "Sent")["Already submitted"]
		return ok
	})
	if smtpSrv.Attempts() != 0 {
		t.Fatalf("the message was submitted again (%d attempts)", smtpSrv.Attempts())
	}
}

func TestReaderCannotSend(t *testing.T) {
	o, smtpSrv := sendingOffice(t)
	info := o.Account(t, "info@studio.test")
	marco := o.Client(t, "marco@studio.test")
	resp := multipartSend(t, marco, fmt.Sprintf("%s/a/%d/outbox", o.URL, info.ID), map[string]string{"to": "x@example.it", "subject": "no", "body": "x", "idempotency_key": "k4"}, "", nil)
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a reader's send answered %d, want 403", resp.StatusCode)
	}
	if resp, _ := marco.Get(fmt.Sprintf("%s/a/%d/compose", o.URL, info.ID)); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a reader's compose page answered %d, want 403", resp.StatusCode)
	}
	time.Sleep(500 * time.Millisecond)
	if len(outboxState(t, o, info.ID)) != 0 || smtpSrv.Attempts() != 0 {
		t.Fatal("a reader's message was queued")
	}
	_ = url.Values{}
}

func TestReplyFromAPhone(t *testing.T) {
	o, smtpSrv := sendingOffice(t)
	info := o.Account(t, "info@studio.test")
	id := cachedID(t, o, info.ID, "INBOX", "Pratica 1")
	ctx := testrig.Browser(t, 375, 812)
	if err := o.SignIn(ctx, "giulia@studio.test"); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx,
		chromedp.Navigate(fmt.Sprintf("%s/a/%d/m/%d", o.URL, info.ID, id)),
		chromedp.WaitVisible(chromedp.CSS("a.reply")),
	); err != nil {
		t.Fatal(err)
	}
	testrig.Screenshot(t, ctx, "phone-manager-message")
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("a.reply")),
		chromedp.WaitVisible(chromedp.ID("body")),
		chromedp.Evaluate[chromedp.Void](`document.getElementById("body").value = "Grazie, ricevuto.\n" + document.getElementById("body").value`),
	); err != nil {
		t.Fatal(err)
	}
	testrig.Screenshot(t, ctx, "phone-reply")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("button.primary")), chromedp.WaitVisible(chromedp.CSS(".outbox"))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the reply in Sent", 10*time.Second, func() bool {
		_, ok := onServer(t, o, "info@studio.test", "Sent")["Re: Pratica 1"]
		return ok
	})
	got := smtpSrv.Accepted()
	if len(got) != 1 || !bytes.Contains(got[0].Data, []byte("In-Reply-To: <pratica-1@example.it>")) || got[0].To[0] != "c1@example.it" {
		t.Fatalf("the reply: %d messages, to %v", len(got), got)
	}
}
