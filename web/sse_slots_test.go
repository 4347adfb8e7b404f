package web_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"sportello/testrig"
)

// Every signed-in page holds an event stream. Pages the browser keeps for
// back/forward navigation once kept theirs open, and after six of them the
// seventh page hung for a minute waiting for a connection.
func TestBrowsingManyPagesNeverStalls(t *testing.T) {
	o := actionsOffice(t)
	info := o.Account(t, "info@studio.test")
	id := cachedID(t, o, info.ID, "INBOX", "Pratica 1")
	ctx := testrig.Browser(t, 1280, 900)
	if err := o.SignIn(ctx, "giulia@studio.test"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/", "/all", fmt.Sprintf("/a/%d/f/INBOX", info.ID), fmt.Sprintf("/a/%d/m/%d", info.ID, id),
		fmt.Sprintf("/a/%d/activity", info.ID), fmt.Sprintf("/a/%d/compose", info.ID), fmt.Sprintf("/a/%d/outbox", info.ID),
		fmt.Sprintf("/a/%d/members", info.ID), "/", "/all"} {
		pageCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
		err := chromedp.Do(pageCtx, chromedp.Navigate(o.URL+p), chromedp.WaitVisible(chromedp.CSS("main")))
		cancel()
		if err != nil {
			t.Fatalf("opening %s: %v", p, err)
		}
	}
}
