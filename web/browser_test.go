package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"sportello/testrig"
)

func TestEachDemoUserSeesTheirAccounts(t *testing.T) {
	office := testrig.NewOffice(t)
	cases := []struct {
		email   string
		see     []string
		notSee  []string
		noneMsg bool
	}{
		{"giulia@studio.test", []string{"info@studio.test", "studio.rossi@pec.studio.test", "PEC", "manager"}, nil, false},
		{"marco@studio.test", []string{"info@studio.test", "reader"}, []string{"studio.rossi@pec.studio.test"}, false},
		{"admin@studio.test", nil, []string{"info@studio.test"}, true},
	}
	for _, c := range cases {
		t.Run(c.email, func(t *testing.T) {
			ctx := testrig.Browser(t, 375, 812)
			if err := office.SignIn(ctx, c.email); err != nil {
				t.Fatal(err)
			}
			heading := run(t, ctx, chromedp.Text(chromedp.CSS("h1")))
			text := run(t, ctx, chromedp.Text(chromedp.CSS("main")))
			scrollWidth := run(t, ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
			clientWidth := run(t, ctx, chromedp.Evaluate[int](`document.documentElement.clientWidth`))
			if heading != "Your shared accounts" {
				t.Fatalf("heading %q", heading)
			}
			for _, want := range c.see {
				if !strings.Contains(text, want) {
					t.Errorf("%s does not see %q in %q", c.email, want, text)
				}
			}
			for _, not := range c.notSee {
				if strings.Contains(text, not) {
					t.Errorf("%s sees %q", c.email, not)
				}
			}
			if c.noneMsg && !strings.Contains(text, "No shared account yet") {
				t.Errorf("admin without mailboxes gets no explanation: %q", text)
			}
			if scrollWidth > clientWidth {
				t.Errorf("horizontal scroll on a 375-px phone: %d > %d", scrollWidth, clientWidth)
			}
		})
	}
}

// run runs one browser action and returns its value, failing the test on
// error.
func run[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
