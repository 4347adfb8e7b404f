package web_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"sportello/testrig"
)

func TestManagerDeletesAndUndoesInTheBrowser(t *testing.T) {
	o := actionsOffice(t)
	info := o.Account(t, "info@studio.test")
	id := cachedID(t, o, info.ID, "INBOX", "Pratica 2")
	ctx := testrig.Browser(t, 1280, 900)
	if err := o.SignIn(ctx, "giulia@studio.test"); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx,
		chromedp.Navigate(fmt.Sprintf("%s/a/%d/m/%d", o.URL, info.ID, id)),
		chromedp.WaitVisible(chromedp.CSS("form.delete button")),
	); err != nil {
		t.Fatal(err)
	}
	testrig.Screenshot(t, ctx, "desktop-manager-message")
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("form.delete button")),
		chromedp.WaitVisible(chromedp.CSS("form.undo button")),
	); err != nil {
		t.Fatal(err)
	}
	testrig.Screenshot(t, ctx, "desktop-undo")
	rows := run(t, ctx, chromedp.Evaluate[string](`document.querySelector(".messages").innerText`))
	if strings.Contains(rows, "Pratica 2") {
		t.Fatal("the deleted message is still listed")
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("form.undo button")), chromedp.WaitVisible(chromedp.CSS(".messages"))); err != nil {
		t.Fatal(err)
	}
	waitText(t, ctx, "Pratica 2", 10*time.Second)
	time.Sleep(1500 * time.Millisecond)
	if _, ok := onServer(t, o, "info@studio.test", "INBOX")["Pratica 2"]; !ok {
		t.Fatal("the undone delete reached the server")
	}
}

func TestReaderSeesNoDeleteAndForgeryFails(t *testing.T) {
	o := actionsOffice(t)
	info := o.Account(t, "info@studio.test")
	id := cachedID(t, o, info.ID, "INBOX", "Pratica 2")
	ctx := testrig.Browser(t, 1280, 900)
	if err := o.SignIn(ctx, "marco@studio.test"); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(fmt.Sprintf("%s/a/%d/m/%d", o.URL, info.ID, id)), chromedp.WaitVisible(chromedp.CSS("article.message-view"))); err != nil {
		t.Fatal(err)
	}
	controls := run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll("form.delete, .manage, input[name=ids], form.bulk").length`))
	if controls != 0 {
		t.Fatalf("a reader sees %d mailbox controls", controls)
	}
	// A forged delete from the reader's own page, same origin, with the
	// session cookie: refused all the same.
	status := run(t, ctx, chromedp.Evaluate[int](fmt.Sprintf(`(async () => (await fetch("/a/%d/m/%d/delete", {method: "POST", body: new URLSearchParams({reason: "x"}), redirect: "manual"})).status)()`, info.ID, id), chromedp.EvalAwaitPromise))
	if status != 403 {
		t.Fatalf("forged delete answered %d, want 403", status)
	}
	time.Sleep(1500 * time.Millisecond)
	if _, ok := onServer(t, o, "info@studio.test", "INBOX")["Pratica 2"]; !ok {
		t.Fatal("the forged delete reached the server")
	}
}
