package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	gomail "github.com/emersion/go-message/mail"

	"sportello/store"
	"sportello/testrig"
)

func TestDraftSurvivesARestart(t *testing.T) {
	o := actionsOffice(t)
	info := o.Account(t, "info@studio.test")
	giulia := o.Client(t, "giulia@studio.test")
	resp := post(t, giulia, fmt.Sprintf("%s/a/%d/drafts", o.URL, info.ID), url.Values{"to": {"mario@example.it"}, "subject": {"Bozza importante"}, "body": {"Testo lungo"}})
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "draft=") {
		t.Fatalf("save draft answered %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	o.RestartWeb(t)
	r2, err := giulia.Get(fmt.Sprintf("%s/a/%d/drafts", o.URL, info.ID))
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(r2.Body)
	r2.Body.Close()
	if r2.StatusCode != 200 || !strings.Contains(string(page), "Bozza importante") {
		t.Fatalf("after a restart the drafts page answered %d without the draft", r2.StatusCode)
	}
}

func TestTwoManagersEditingADraftAreWarned(t *testing.T) {
	o := actionsOffice(t)
	info := o.Account(t, "info@studio.test")
	admin, _ := o.Store.Users.ByEmail(context.Background(), "admin@studio.test")
	if err := o.Store.Users.Grant(context.Background(), admin.ID, info.ID, store.RoleManager); err != nil {
		t.Fatal(err)
	}
	giulia, other := o.Client(t, "giulia@studio.test"), o.Client(t, "admin@studio.test")
	save := func(c *http.Client, form url.Values) (int, map[string]any) {
		req, _ := http.NewRequest(http.MethodPost, fmt.Sprintf("%s/a/%d/drafts", o.URL, info.ID), strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept", "application/json")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	_, first := save(giulia, url.Values{"subject": {"v1"}})
	id := fmt.Sprint(first["id"])
	save(giulia, url.Values{"draft_id": {id}, "version": {"1"}, "subject": {"v2 by Giulia"}})
	code, got := save(other, url.Values{"draft_id": {id}, "version": {"1"}, "subject": {"v2 by the admin"}})
	if code != http.StatusConflict || got["by"] != "Giulia Rossi" {
		t.Fatalf("a stale save answered %d %v, want 409 naming Giulia", code, got)
	}
	d, _ := o.Store.Drafts().ByID(context.Background(), info.ID, int64(first["id"].(float64)))
	if d.Subject != "v2 by Giulia" {
		t.Fatalf("the stale save overwrote the draft: %q", d.Subject)
	}
	resp, _ := other.Get(fmt.Sprintf("%s/a/%d/compose?draft=%s", o.URL, info.ID, id))
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), "Giulia Rossi is also editing this draft") {
		t.Fatal("opening a draft another manager just saved gives no warning")
	}
}

func TestAddressBook(t *testing.T) {
	o, smtpSrv := sendingOffice(t)
	info := o.Account(t, "info@studio.test")
	giulia := o.Client(t, "giulia@studio.test")
	// Collected from received mail (sync) and from what the team sends.
	multipartSend(t, giulia, fmt.Sprintf("%s/a/%d/outbox", o.URL, info.ID), map[string]string{"to": "Cliente Uno <c1@example.it>", "subject": "x", "body": "y", "idempotency_key": "ab1"}, "", nil)
	waitFor(t, "the send", 10*time.Second, func() bool { return len(smtpSrv.Accepted()) == 1 })
	suggest := func(q string) []map[string]any {
		resp, err := giulia.Get(o.URL + "/contacts/suggest?q=" + url.QueryEscape(q))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out []map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		return out
	}
	got := suggest("exampl")
	if len(got) == 0 || got[0]["email"] != "c1@example.it" {
		t.Fatalf("suggestions for 'exampl' (most used first): %v", got)
	}
	// vCard and CSV import, vCard export.
	upload := func(name, body string) int {
		var b bytes.Buffer
		w := multipart.NewWriter(&b)
		fw, _ := w.CreateFormFile("file", name)
		fw.Write([]byte(body))
		w.Close()
		resp, err := giulia.Post(o.URL+"/contacts/import", w.FormDataContentType(), &b)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := upload("rubrica.vcf", "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Studio Notarile Bianchi\r\nEMAIL:notaio@pec.bianchi.example.it\r\nX-PEC:1\r\nEND:VCARD\r\n"); code != http.StatusSeeOther {
		t.Fatalf("vCard import answered %d", code)
	}
	if code := upload("rubrica.csv", "name,email,pec\nAnna Verdi,anna.verdi@example.org,no\n"); code != http.StatusSeeOther {
		t.Fatalf("CSV import answered %d", code)
	}
	if got := suggest("notarile"); len(got) != 1 || got[0]["pec"] != true {
		t.Fatalf("imported PEC contact: %v", got)
	}
	if got := suggest("verdi"); len(got) != 1 || got[0]["email"] != "anna.verdi@example.org" {
		t.Fatalf("CSV contact: %v", got)
	}
	resp, err := giulia.Get(o.URL + "/contacts/export.vcf")
	if err != nil {
		t.Fatal(err)
	}
	vcf, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Contains(vcf, []byte("EMAIL:notaio@pec.bianchi.example.it")) || !bytes.Contains(vcf, []byte("FN:Anna Verdi")) {
		t.Fatalf("vCard export:\n%s", vcf)
	}
	// Readers read the address book but do not edit it.
	marco := o.Client(t, "marco@studio.test")
	if code := post(t, marco, o.URL+"/contacts", url.Values{"email": {"x@example.it"}}).StatusCode; code != http.StatusForbidden {
		t.Fatalf("a reader edited the address book: %d", code)
	}
}

func TestFormattedTextAndForwardAsAttachment(t *testing.T) {
	o, smtpSrv := sendingOffice(t)
	info := o.Account(t, "info@studio.test")
	id := cachedID(t, o, info.ID, "INBOX", "Pratica 1")
	giulia := o.Client(t, "giulia@studio.test")
	multipartSend(t, giulia, fmt.Sprintf("%s/a/%d/outbox", o.URL, info.ID), map[string]string{"to": "mario@example.it", "subject": "Fwd: Pratica 1",
		"body": "Ecco **la pratica**:\n- originale allegato", "format": "1", "in_reply_to": fmt.Sprint(id), "mode": "forward",
		"forward_as": "attachment", "idempotency_key": "fw1"}, "", nil)
	waitFor(t, "the forward", 10*time.Second, func() bool { return len(smtpSrv.Accepted()) == 1 })
	mr, err := gomail.CreateReader(bytes.NewReader(smtpSrv.Accepted()[0].Data))
	if err != nil {
		t.Fatal(err)
	}
	var html, attached string
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p.Body)
		switch h := p.Header.(type) {
		case *gomail.InlineHeader:
			if ct, _, _ := h.ContentType(); ct == "text/html" {
				html = string(b)
			}
		case *gomail.AttachmentHeader:
			if ct, _, _ := h.ContentType(); ct == "message/rfc822" {
				attached = string(b)
			}
		}
	}
	if !strings.Contains(html, "<strong>la pratica</strong>") || !strings.Contains(html, "<ul><li>originale allegato</li></ul>") {
		t.Errorf("formatted HTML part: %s", html)
	}
	if !strings.Contains(attached, "Subject: Pratica 1") || !strings.Contains(attached, "Message-ID: <pratica-1@example.it>") {
		t.Errorf("the original is not attached as it was: %q", attached)
	}
}

func TestComposeSavesItselfAndCompletesAddresses(t *testing.T) {
	o := actionsOffice(t)
	info := o.Account(t, "info@studio.test")
	ctx := testrig.Browser(t, 1280, 900)
	if err := o.SignIn(ctx, "giulia@studio.test"); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx,
		chromedp.Navigate(fmt.Sprintf("%s/a/%d/compose", o.URL, info.ID)),
		chromedp.WaitVisible(chromedp.ID("to")),
		chromedp.SendKeys(chromedp.ID("to"), "clie"),
		chromedp.WaitVisible(chromedp.CSS(".suggestions li")),
		chromedp.Click(chromedp.CSS(".suggestions li")),
		chromedp.SendKeys(chromedp.ID("subject"), "Scritto nel browser"),
	); err != nil {
		t.Fatal(err)
	}
	to := run(t, ctx, chromedp.Evaluate[string](`document.getElementById("to").value`))
	if !strings.Contains(to, "@example.it") {
		t.Fatalf("autocomplete filled %q", to)
	}
	waitFor(t, "the autosave", 10*time.Second, func() bool {
		list, _ := o.Store.Drafts().List(context.Background(), info.ID)
		return len(list) == 1 && list[0].Subject == "Scritto nel browser" && strings.Contains(list[0].To, "@example.it")
	})
}

func TestSignature(t *testing.T) {
	o := actionsOffice(t)
	info := o.Account(t, "info@studio.test")
	id := cachedID(t, o, info.ID, "INBOX", "Pratica 1")
	giulia := o.Client(t, "giulia@studio.test")
	if code := post(t, giulia, fmt.Sprintf("%s/a/%d/signature", o.URL, info.ID), url.Values{"signature": {"Studio Rossi\nVia Roma 1, Torino"}}).StatusCode; code != http.StatusSeeOther {
		t.Fatalf("saving the signature answered %d", code)
	}
	if code := post(t, o.Client(t, "marco@studio.test"), fmt.Sprintf("%s/a/%d/signature", o.URL, info.ID), url.Values{"signature": {"x"}}).StatusCode; code != http.StatusForbidden {
		t.Fatalf("a reader changed the signature: %d", code)
	}
	for _, q := range []string{"", fmt.Sprintf("?reply=%d", id)} {
		resp, err := giulia.Get(fmt.Sprintf("%s/a/%d/compose%s", o.URL, info.ID, q))
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body := string(page)
		i, j := strings.Index(body, "-- \nStudio Rossi\nVia Roma 1, Torino"), strings.Index(body, "&gt; Testo 1.")
		if i < 0 || (q != "" && (j < 0 || j < i)) {
			t.Fatalf("compose%s: the signature is missing or below the quote", q)
		}
	}
	rows := actionRows(t, o, info.ID)
	if rows[0].Action != store.ActionAccountChange || rows[0].Detail != "signature changed" {
		t.Fatalf("the change is not logged: %+v", rows[0].Entry)
	}
}
