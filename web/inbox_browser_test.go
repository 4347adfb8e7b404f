package web_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"sportello/demo"
	"sportello/testrig"
)

// waitText waits until the page's text contains want.
func waitText(t *testing.T, ctx context.Context, want string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
		if err == nil && strings.Contains(text, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the page never showed %q; it shows:\n%s", want, text)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func openMessage(t *testing.T, ctx context.Context, subject string) {
	t.Helper()
	sel := fmt.Sprintf(`[...document.querySelectorAll(".messages .row a.open")].find(a => a.innerText.includes(%q))`, subject)
	href := run(t, ctx, chromedp.Evaluate[string](sel+`.getAttribute("href")`))
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](sel+`.click()`), chromedp.WaitVisible(chromedp.CSS("article.message-view"))); err != nil {
		t.Fatalf("opening %q (%s): %v", subject, href, err)
	}
}

func TestReaderReadsHostileMailSafely(t *testing.T) {
	office := testrig.NewOffice(t)
	info := office.Account(t, "info@studio.test")
	ctx := testrig.Browser(t, 1280, 900)
	var dialogs atomic.Int32
	if err := chromedp.Listen(ctx, func(ev any) {
		if strings.Contains(fmt.Sprintf("%T", ev), "JavascriptDialogOpening") {
			dialogs.Add(1)
		}
	}); err != nil {
		t.Fatal(err)
	}
	if err := office.SignIn(ctx, "marco@studio.test"); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(fmt.Sprintf("%s/a/%d/f/INBOX", office.URL, info.ID))); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, "Hai vinto un premio!", 10*time.Second)
	rows := run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll(".messages .row").length`))
	if rows != 50 {
		t.Errorf("INBOX shows %d rows, want a page of 50", rows)
	}
	openMessage(t, ctx, "Hai vinto un premio!")
	testrig.Screenshot(t, ctx, "desktop-hostile-message")
	time.Sleep(500 * time.Millisecond) // give a script every chance to run
	if title := run(t, ctx, chromedp.Evaluate[string](`document.title`)); strings.Contains(title, "pwned") {
		t.Fatal("a script from the message changed the page")
	}
	sandbox := run(t, ctx, chromedp.Evaluate[string](`document.querySelector("iframe.body").getAttribute("sandbox")`))
	if strings.Contains(sandbox, "allow-scripts") || strings.Contains(sandbox, "allow-same-origin") {
		t.Fatalf("iframe sandbox too loose: %q", sandbox)
	}
	// The body itself, opened directly: nothing ran there either.
	bodyURL := run(t, ctx, chromedp.Evaluate[string](`document.querySelector("iframe.body").src`))
	if err := chromedp.Do(ctx, chromedp.Navigate(bodyURL)); err != nil {
		t.Fatal(err)
	}
	body := run(t, ctx, chromedp.Evaluate[string](`document.body.innerHTML`))
	title := run(t, ctx, chromedp.Evaluate[string](`document.title`))
	if strings.Contains(body, "pwned") || strings.Contains(title, "pwned") || strings.Contains(strings.ToLower(body), "<script") || strings.Contains(body, "onerror") || dialogs.Load() > 0 {
		t.Fatalf("hostile content survived: title %q, %d dialogs, body %s", title, dialogs.Load(), body)
	}
	if !strings.Contains(body, "per ritirare il premio") {
		t.Fatalf("the readable text is gone: %s", body)
	}
}

func TestRemoteImagesWaitForTheReader(t *testing.T) {
	office := testrig.NewOffice(t)
	info := office.Account(t, "info@studio.test")
	var mu sync.Mutex
	var requests []string
	pixel := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		requests = append(requests, "referer="+r.Referer())
		mu.Unlock()
		w.Header().Set("Content-Type", "image/gif")
		w.Write([]byte("GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"))
	}))
	defer pixel.Close()
	msg := "From: Tracker <news@tracker.example>\r\nTo: info@studio.test\r\nSubject: Tracked newsletter\r\nMessage-ID: <tracked@tracker.example>\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Hello</p><img src=\"" + pixel.URL + "/pixel.gif\" alt=\"pixel\">\r\n"
	if err := office.Mail.Deliver("info@studio.test", "INBOX", []byte(msg)); err != nil {
		t.Fatal(err)
	}
	ctx := testrig.Browser(t, 1280, 900)
	if err := office.SignIn(ctx, "marco@studio.test"); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(fmt.Sprintf("%s/a/%d/f/INBOX", office.URL, info.ID))); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, "Tracked newsletter", 10*time.Second)
	openMessage(t, ctx, "Tracked newsletter")
	waitText(t, ctx, "Remote images were blocked", 10*time.Second)
	time.Sleep(700 * time.Millisecond)
	mu.Lock()
	before := len(requests)
	mu.Unlock()
	if before != 0 {
		t.Fatalf("the remote image was requested before the reader asked: %v", requests)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("a.show-images")), chromedp.WaitVisible(chromedp.CSS("iframe.body"))); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := len(requests)
		mu.Unlock()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("after 'Show images' the image was never loaded")
		}
		time.Sleep(50 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if requests[0] != "referer=" {
		t.Fatalf("the image request carried a referrer: %v", requests)
	}
}

// serverBytes fetches a message straight from the demo IMAP server.
func serverBytes(t *testing.T, office *testrig.Office, address, password string, uid uint32) []byte {
	t.Helper()
	c, err := imapclient.DialInsecure(office.Mail.IMAPAddr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(address, password).Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		t.Fatal(err)
	}
	section := &imap.FetchItemBodySection{Peek: true}
	msgs, err := c.Fetch(imap.UIDSetNum(imap.UID(uid)), &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{section}}).Collect()
	if err != nil || len(msgs) != 1 {
		t.Fatalf("fetch: %v", err)
	}
	return msgs[0].FindBodySection(section)
}

func TestDownloadsAreTheServersBytes(t *testing.T) {
	office := testrig.NewOffice(t)
	info := office.Account(t, "info@studio.test")
	var id int64
	var uid int64
	if err := office.Store.Pool.QueryRow(context.Background(), `SELECT m.id, m.uid FROM messages m JOIN folders f ON f.id = m.folder_id
		WHERE f.account_id = $1 AND f.name = 'INBOX' AND m.has_attachments ORDER BY m.uid LIMIT 1`, info.ID).Scan(&id, &uid); err != nil {
		t.Fatal(err)
	}
	c := office.Client(t, "marco@studio.test")
	get := func(path string) (*http.Response, []byte) {
		resp, err := c.Get(office.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	resp, raw := get(fmt.Sprintf("/a/%d/m/%d/raw", info.ID, id))
	want := serverBytes(t, office, "info@studio.test", demo.Mailboxes[0].Password, uint32(uid))
	if resp.StatusCode != 200 || !bytes.Equal(raw, want) {
		t.Fatalf(".eml: status %d, %d bytes, server has %d", resp.StatusCode, len(raw), len(want))
	}
	if cd := resp.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment;") || !strings.Contains(cd, ".eml") {
		t.Fatalf(".eml disposition %q", cd)
	}
	resp, pdf := get(fmt.Sprintf("/a/%d/m/%d/part/2", info.ID, id))
	if resp.StatusCode != 200 || !bytes.HasPrefix(pdf, []byte("%PDF-1.4")) {
		t.Fatalf("attachment: status %d, starts %q", resp.StatusCode, pdf[:min(len(pdf), 20)])
	}
	if cd := resp.Header.Get("Content-Disposition"); !strings.Contains(cd, "filename*=utf-8''Documento%20firmato%20%C3%A8.pdf") {
		t.Errorf("attachment filename lost its accent: %q", cd)
	}
	if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("Content-Type") != "application/pdf" {
		t.Errorf("attachment headers: %v", resp.Header)
	}
	// Opening never set \Seen on the server: reading is per person.
	seen := serverFlags(t, office, uint32(uid))
	if strings.Contains(seen, `\Seen`) && !strings.Contains(seenBefore(t, office, uint32(uid)), `\Seen`) {
		t.Fatalf("downloading set the shared \\Seen flag")
	}
}

func serverFlags(t *testing.T, office *testrig.Office, uid uint32) string {
	c, err := imapclient.DialInsecure(office.Mail.IMAPAddr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login("info@studio.test", demo.Mailboxes[0].Password).Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		t.Fatal(err)
	}
	msgs, err := c.Fetch(imap.UIDSetNum(imap.UID(uid)), &imap.FetchOptions{Flags: true}).Collect()
	if err != nil || len(msgs) != 1 {
		t.Fatal(err)
	}
	return fmt.Sprint(msgs[0].Flags)
}

func seenBefore(t *testing.T, office *testrig.Office, uid uint32) string {
	var flags []string
	_ = office.Store.Pool.QueryRow(context.Background(), `SELECT m.flags FROM messages m JOIN folders f ON f.id = m.folder_id
		WHERE f.name = 'INBOX' AND m.uid = $1 AND f.account_id = (SELECT id FROM accounts WHERE address = 'info@studio.test')`, uid).Scan(&flags)
	return fmt.Sprint(flags)
}

func TestSearchBySubjectWordAndPartOfAddress(t *testing.T) {
	office := testrig.NewOffice(t)
	info := office.Account(t, "info@studio.test")
	ctx := testrig.Browser(t, 1280, 900)
	if err := office.SignIn(ctx, "marco@studio.test"); err != nil {
		t.Fatal(err)
	}
	search := func(q string) []string {
		if err := chromedp.Do(ctx,
			chromedp.Navigate(fmt.Sprintf("%s/a/%d/f/INBOX", office.URL, info.ID)),
			chromedp.WaitVisible(chromedp.ID("q")),
			chromedp.SendKeys(chromedp.ID("q"), q),
			chromedp.Submit(chromedp.ID("q")),
			chromedp.WaitVisible(chromedp.CSS(".list h1")),
		); err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
		return run(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll(".messages .row")].map(r => r.innerText)`))
	}
	// A word of a subject, in another case.
	rows := search("newsletter")
	if len(rows) == 0 {
		rows = search("novità")
	}
	if len(rows) == 0 || !strings.Contains(strings.Join(rows, "\n"), "Novità fiscali") {
		t.Fatalf("subject word search found %v", rows)
	}
	// Part of the sender's address.
	rows = search("colombo-srl")
	if len(rows) == 0 {
		t.Fatal("no result for part of an address")
	}
	for _, r := range rows {
		if !strings.Contains(r, "Anna Colombo") {
			t.Fatalf("search for part of Anna's address found another sender: %q", r)
		}
	}
	if got := search("zzzznotthere"); len(got) != 0 {
		t.Fatalf("nonsense search found %v", got)
	}
}

func TestNewMailAppearsWithoutReload(t *testing.T) {
	office := testrig.NewOffice(t)
	info := office.Account(t, "info@studio.test")
	ctx := testrig.Browser(t, 1280, 900)
	if err := office.SignIn(ctx, "marco@studio.test"); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx,
		chromedp.Navigate(fmt.Sprintf("%s/a/%d/f/INBOX", office.URL, info.ID)),
		chromedp.WaitVisible(chromedp.CSS(".messages")),
		chromedp.Evaluate[chromedp.Void](`window.__sameDocument = true`),
	); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond) // the event stream connects
	msg := "From: Nuovo Cliente <nuovo@example.it>\r\nTo: info@studio.test\r\nSubject: Arrivata adesso\r\nMessage-ID: <live@example.it>\r\n\r\nCiao!\r\n"
	if err := office.Mail.Deliver("info@studio.test", "INBOX", []byte(msg)); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, "Arrivata adesso", 10*time.Second)
	if same := run(t, ctx, chromedp.Evaluate[bool](`window.__sameDocument === true`)); !same {
		t.Fatal("the page reloaded instead of updating")
	}
}

func TestPhoneShowsOneColumnWithoutHorizontalScroll(t *testing.T) {
	office := testrig.NewOffice(t)
	info := office.Account(t, "info@studio.test")
	ctx := testrig.Browser(t, 375, 812)
	if err := office.SignIn(ctx, "giulia@studio.test"); err != nil {
		t.Fatal(err)
	}
	check := func(name string) {
		t.Helper()
		testrig.Screenshot(t, ctx, "phone-"+name)
		sw := run(t, ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
		cw := run(t, ctx, chromedp.Evaluate[int](`document.documentElement.clientWidth`))
		if sw > cw {
			t.Errorf("%s: horizontal scroll on a phone (%d > %d)", name, sw, cw)
		}
		small := run(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("a, button, input, select, summary")].filter(e => {
			const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0 && r.right > 0 && r.height < 44 && !e.closest(".shortcuts") && !(e.type === "checkbox")
		}).map(e => e.outerHTML.slice(0, 80))`))
		if len(small) > 0 {
			t.Errorf("%s: tap targets under 44 px: %v", name, small)
		}
		tiny := run(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("body *")].filter(e => e.childNodes.length && [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim()) && parseFloat(getComputedStyle(e).fontSize) < 12 && e.getBoundingClientRect().width > 0).map(e => e.outerHTML.slice(0, 60))`))
		if len(tiny) > 0 {
			t.Errorf("%s: text under 12 px: %v", name, tiny)
		}
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(fmt.Sprintf("%s/a/%d/f/INBOX", office.URL, info.ID)), chromedp.WaitVisible(chromedp.CSS(".messages"))); err != nil {
		t.Fatal(err)
	}
	check("inbox")
	// One column: the list spans the screen, the folders come below it.
	listW := run(t, ctx, chromedp.Evaluate[float64](`document.querySelector(".list").getBoundingClientRect().width`))
	if listW < 330 {
		t.Errorf("the list is %.0f px wide on a 375-px phone: not one column", listW)
	}
	openMessage(t, ctx, "Novità fiscali")
	check("message")
	hidden := run(t, ctx, chromedp.Evaluate[bool](`getComputedStyle(document.querySelector(".list")).display === "none"`))
	if !hidden {
		t.Error("reading a message on a phone still shows the list beside it")
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("a.back")), chromedp.WaitVisible(chromedp.CSS(".messages"))); err != nil {
		t.Fatalf("back navigation: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(office.URL+"/all"), chromedp.WaitVisible(chromedp.CSS(".messages"))); err != nil {
		t.Fatal(err)
	}
	check("all-inboxes")
	// Every row carries its account; PEC and ordinary mail sit side by side.
	untagged := run(t, ctx, chromedp.Evaluate[int](`[...document.querySelectorAll(".messages .row:not(.pager)")].filter(r => !r.querySelector(".badge.account")).length`))
	if untagged > 0 {
		t.Errorf("%d rows of All inboxes do not say their account", untagged)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(office.URL+"/all?pec=any"), chromedp.WaitVisible(chromedp.CSS(".messages"))); err != nil {
		t.Fatal(err)
	}
	text := run(t, ctx, chromedp.Evaluate[string](`document.querySelector(".messages").innerText`))
	if !strings.Contains(text, "Studio Rossi – PEC") {
		t.Error("All inboxes has no PEC mail")
	}
}
