package web_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"sportello/testrig"
)

// No page has a critical accessibility violation (axe-core, WCAG 2.1 A/AA).
func TestPagesHaveNoCriticalAccessibilityViolation(t *testing.T) {
	o := actionsOffice(t)
	info := o.Account(t, "info@studio.test")
	id := cachedID(t, o, info.ID, "INBOX", "Pratica 1")
	ctx := testrig.Browser(t, 1280, 900)
	check := func(path string) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Navigate(o.URL+path), chromedp.WaitVisible(chromedp.CSS("main"))); err != nil {
			t.Fatal(err)
		}
		var critical []string
		for _, v := range testrig.AxeViolations(t, ctx) {
			if strings.HasPrefix(v, "critical") {
				critical = append(critical, v)
			} else {
				t.Logf("%s: %s", path, v)
			}
		}
		if len(critical) > 0 {
			t.Errorf("%s: %v", path, critical)
		}
	}
	check("/login")
	if err := o.SignIn(ctx, "giulia@studio.test"); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/", "/all", fmt.Sprintf("/a/%d/f/INBOX", info.ID), fmt.Sprintf("/a/%d/m/%d", info.ID, id),
		fmt.Sprintf("/a/%d/activity", info.ID), fmt.Sprintf("/a/%d/compose", info.ID), fmt.Sprintf("/a/%d/outbox", info.ID),
		fmt.Sprintf("/a/%d/members", info.ID)} {
		check(path)
	}
}
