// Package testrig builds the standard test world so each test reads as a
// story: a real PostgreSQL, the demo office (users, mailboxes, sample mail)
// served by the built-in mail server, the sync supervisor, Sportello's HTTP
// server, and a headless Chromium to drive it.
package testrig

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"sportello/demo"
	"sportello/imapclient"
	"sportello/imapclient/dovecottest"
	"sportello/store"
	"sportello/store/storetest"
	"sportello/web"
)

// Office is a running demo office.
type Office struct {
	URL     string
	Store   *store.Store
	Mail    *demo.Server        // the demo office's mail server
	Dovecot *dovecottest.Server // the Dovecot office's
	Sync    *imapclient.Supervisor

	opts     Options
	stopWeb  func()
	commands *imapclient.Commands
}

// Logger is quiet unless the test runs verbose.
func Logger() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// Office options.
type Options struct {
	// UndoWindow shortens the delete undo window (default 5 s).
	UndoWindow time.Duration
	// RetryBase shortens the SMTP retry delay.
	RetryBase time.Duration
}

// NewOffice starts the demo office and waits until both mailboxes are
// synced.
func NewOffice(t testing.TB) *Office {
	t.Helper()
	st := storetest.New(t)
	mailSrv, err := demo.Start(Logger(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(mailSrv.Close)
	if err := demo.Seed(context.Background(), st, mailSrv); err != nil {
		t.Fatal(err)
	}
	o := &Office{Store: st, Mail: mailSrv}
	o.run(t, Options{})
	o.WaitSynced(t, 12)
	return o
}

// Passwords of the Dovecot office's mailboxes.
var DovecotPasswords = map[string]string{"info@studio.test": "info-pw", "studio.rossi@pec.studio.test": "pec-pw"}

// NewDovecotOffice is the demo office's people and roles on a real Dovecot,
// each INBOX seeded with messages; the "phone" is Dovecot's Dial.
func NewDovecotOffice(t testing.TB, messages map[string][][]byte, opts Options) *Office {
	t.Helper()
	st := storetest.New(t)
	dc := dovecottest.Start(t, DovecotPasswords)
	for addr, msgs := range messages {
		dc.SeedMaildir(addr, "INBOX", msgs, nil)
	}
	ctx := context.Background()
	ids := map[string]int64{}
	for _, mb := range demo.Mailboxes {
		a, err := st.Accounts.Create(ctx, store.NewAccount{Name: mb.Name, Address: mb.Address, IMAPAddr: dc.Addr, SMTPAddr: "127.0.0.1:25",
			TLS: store.TLSNone, Password: DovecotPasswords[mb.Address], IsPEC: mb.PEC})
		if err != nil {
			t.Fatal(err)
		}
		ids[mb.Address] = a.ID
	}
	for _, du := range demo.Users {
		u, err := st.Users.Create(ctx, du.Email, du.Name, demo.Password, du.Admin)
		if err != nil {
			t.Fatal(err)
		}
		for addr, role := range du.Roles {
			if err := st.Users.Grant(ctx, u.ID, ids[addr], role); err != nil {
				t.Fatal(err)
			}
		}
	}
	o := &Office{Store: st, Dovecot: dc}
	o.run(t, opts)
	o.WaitSynced(t, 12)
	return o
}

// run starts the sync supervisor and the web server.
func (o *Office) run(t testing.TB, opts Options) {
	sup := imapclient.NewSupervisor(o.Store, Logger(), nil, imapclient.Timing{
		Poll: 500 * time.Millisecond, IdleRestart: time.Minute, BackoffMin: 100 * time.Millisecond,
		BackoffMax: time.Second, AuthRetry: time.Second,
	})
	sup.Rescan = 500 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); sup.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	o.commands = imapclient.NewCommands(o.Store, Logger())
	t.Cleanup(o.commands.Close)
	o.Sync, o.opts = sup, opts
	o.startWeb(t)
}

func (o *Office) startWeb(t testing.TB) {
	srv := web.New(web.Options{Store: o.Store, Logger: Logger(), Sync: web.SupervisorStatus{Supervisor: o.Sync}, IMAP: o.commands, UndoWindow: o.opts.UndoWindow,
		SenderTick: 100 * time.Millisecond, RetryBase: o.opts.RetryBase})
	hs := httptest.NewServer(srv.Handler())
	var once sync.Once
	o.stopWeb = func() { once.Do(func() { hs.Close(); srv.Close() }) }
	t.Cleanup(o.stopWeb)
	o.URL = hs.URL
}

// RestartWeb stops the HTTP server and starts a fresh one on the same
// database, as a restart of Sportello would (URL changes).
func (o *Office) RestartWeb(t testing.TB) {
	o.stopWeb()
	o.startWeb(t)
}

// WaitSynced waits until every account is idle with its folders cached.
func (o *Office) WaitSynced(t testing.TB, folders int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		st := o.Sync.Statuses()
		idle := 0
		for _, s := range st {
			if s.State == imapclient.StateIdle {
				idle++
			}
		}
		var synced int
		_ = o.Store.Pool.QueryRow(context.Background(), "SELECT count(*) FROM folders WHERE synced_at IS NOT NULL").Scan(&synced)
		if idle == len(demo.Mailboxes) && synced >= folders {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("testrig: the demo mailboxes did not sync: %+v", o.Sync.Statuses())
}

// Account returns the demo account with this address.
func (o *Office) Account(t testing.TB, address string) store.Account {
	a, err := o.Store.Accounts.ByAddress(context.Background(), address)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// Chromium is the browser binary the tests drive.
const Chromium = "/usr/bin/chromium"

// Browser starts a headless Chromium (Debian's) with a viewport of width ×
// height and returns its context. In CI a missing Chromium fails the test.
func Browser(t testing.TB, width, height int) context.Context {
	t.Helper()
	if _, err := os.Stat(Chromium); err != nil {
		storetest.Missing(t, "Chromium ("+Chromium+", apt-get install chromium)", err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(Chromium),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, height),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(int64(width), int64(height))); err != nil {
		t.Fatalf("testrig: Chromium did not start: %v", err)
	}
	return ctx
}

// SignIn logs a demo user in through the login form.
func (o *Office) SignIn(ctx context.Context, email string) error {
	return chromedp.Do(ctx,
		chromedp.Navigate(o.URL+"/login"),
		chromedp.WaitVisible(chromedp.ID("email")),
		chromedp.SendKeys(chromedp.ID("email"), email),
		chromedp.SendKeys(chromedp.ID("password"), demo.Password),
		chromedp.Submit(chromedp.ID("password")),
		chromedp.WaitVisible(chromedp.CSS("header.topbar")),
	)
}

// Client is an HTTP client signed in as a demo user.
func (o *Office) Client(t testing.TB, email string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.PostForm(o.URL+"/login", url.Values{"email": {email}, "password": {demo.Password}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("testrig: sign-in of %s answered %d", email, resp.StatusCode)
	}
	return c
}

// Screenshot saves a PNG of the page in $SPORTELLO_SCREENSHOTS (if set)
// so a person can look at it.
func Screenshot(t testing.TB, ctx context.Context, name string) {
	dir := os.Getenv("SPORTELLO_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return
	}
	_ = os.MkdirAll(dir, 0o755)
	_ = os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644)
}

// axeSource is axe-core's script, installed from the npm registry by
// `make test` (package.json's devDependencies).
func axeSource(t testing.TB) string {
	dir, _ := os.Getwd()
	for d := dir; d != "/"; d = filepath.Dir(d) {
		if b, err := os.ReadFile(filepath.Join(d, "node_modules", "axe-core", "axe.min.js")); err == nil {
			return string(b)
		}
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			break
		}
	}
	storetest.Missing(t, "axe-core (npm ci installs it)", os.ErrNotExist)
	return ""
}

// AxeViolations runs axe-core on the current page and returns its
// critical and serious violations, one line each.
func AxeViolations(t testing.TB, ctx context.Context) []string {
	t.Helper()
	src := axeSource(t)
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](src+";true")); err != nil {
		t.Fatalf("testrig: loading axe-core: %v", err)
	}
	out, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`(async () => {
		const r = await axe.run(document, {iframes: false, resultTypes: ["violations"], runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}});
		return r.violations.filter(v => v.impact === "critical" || v.impact === "serious")
			.map(v => v.impact + " " + v.id + ": " + v.nodes.map(n => n.target.join(" ")).slice(0, 3).join(", "));
	})()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("testrig: running axe-core: %v", err)
	}
	return out
}
