package web_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"sportello/store"
	"sportello/store/storetest"
	"sportello/web"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// site is one test's Sportello: a real database behind a real HTTP server.
type site struct {
	t     *testing.T
	store *store.Store
	srv   *httptest.Server
}

func newSite(t *testing.T) *site {
	t.Helper()
	st := storetest.New(t)
	w := web.New(web.Options{Store: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	t.Cleanup(w.Close)
	srv := httptest.NewServer(w.Handler())
	t.Cleanup(srv.Close)
	return &site{t: t, store: st, srv: srv}
}

func (s *site) user(email string, admin bool) *store.User {
	u, err := s.store.Users.Create(context.Background(), email, strings.Split(email, "@")[0], "right-password", admin)
	if err != nil {
		s.t.Fatal(err)
	}
	return u
}

// browser is a client with a cookie jar that does not follow redirects.
func (s *site) browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func (s *site) login(c *http.Client, email, password string) *http.Response {
	s.t.Helper()
	resp, err := c.PostForm(s.srv.URL+"/login", url.Values{"email": {email}, "password": {password}})
	if err != nil {
		s.t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func (s *site) get(c *http.Client, path string) (*http.Response, string) {
	s.t.Helper()
	resp, err := c.Get(s.srv.URL + path)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func (s *site) actions(actor string) []string {
	entries, err := s.store.Activity.List(context.Background(), store.ListFilter{Actor: actor})
	if err != nil {
		s.t.Fatal(err)
	}
	var out []string
	for i := len(entries) - 1; i >= 0; i-- {
		out = append(out, entries[i].Action+"/"+entries[i].Outcome)
	}
	return out
}

func TestLoginShowsAccountsAndIsLogged(t *testing.T) {
	s := newSite(t)
	u := s.user("giulia@studio.test", false)
	a, err := s.store.Accounts.Create(context.Background(), store.NewAccount{Name: "Info", Address: "info@studio.test", IMAPAddr: "127.0.0.1:993", SMTPAddr: "127.0.0.1:465", Password: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.store.Users.Grant(context.Background(), u.ID, a.ID, store.RoleManager); err != nil {
		t.Fatal(err)
	}
	c := s.browser()

	// Not signed in: the home page sends you to the login form.
	if resp, _ := s.get(c, "/"); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
		t.Fatalf("anonymous home: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp := s.login(c, "giulia@studio.test", "right-password")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %d", resp.StatusCode)
	}
	var sessionCookie *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "sportello_session" {
			sessionCookie = ck
		}
	}
	if sessionCookie == nil || !sessionCookie.HttpOnly || sessionCookie.SameSite != http.SameSiteLaxMode {
		t.Fatalf("session cookie: %+v", sessionCookie)
	}
	_, body := s.get(c, "/")
	for _, want := range []string{"info@studio.test", "All inboxes", "Sign out"} {
		if !strings.Contains(body, want) {
			t.Errorf("home page lacks %q", want)
		}
	}
	logout, err := c.PostForm(s.srv.URL+"/logout", nil)
	if err != nil {
		t.Fatal(err)
	}
	logout.Body.Close()
	if resp, _ := s.get(c, "/"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("after logout the home page answered %d", resp.StatusCode)
	}
	if got := strings.Join(s.actions("giulia@studio.test"), " "); got != "login/ok logout/ok" {
		t.Fatalf("activity: %s", got)
	}
}

func TestWrongPasswordAndUnknownUserAnswerAlike(t *testing.T) {
	s := newSite(t)
	s.user("giulia@studio.test", false)
	c := s.browser()
	wrong, err := c.PostForm(s.srv.URL+"/login", url.Values{"email": {"giulia@studio.test"}, "password": {"nope"}})
	if err != nil {
		t.Fatal(err)
	}
	wb, _ := io.ReadAll(wrong.Body)
	wrong.Body.Close()
	unknown, err := c.PostForm(s.srv.URL+"/login", url.Values{"email": {"nobody@studio.test"}, "password": {"nope"}})
	if err != nil {
		t.Fatal(err)
	}
	ub, _ := io.ReadAll(unknown.Body)
	unknown.Body.Close()
	if wrong.StatusCode != http.StatusUnauthorized || unknown.StatusCode != http.StatusUnauthorized {
		t.Fatalf("statuses %d %d", wrong.StatusCode, unknown.StatusCode)
	}
	if !strings.Contains(string(wb), "Wrong e-mail or password.") || strings.ReplaceAll(string(wb), "giulia", "") != strings.ReplaceAll(string(ub), "nobody", "") {
		t.Fatal("the answers differ between a wrong password and an unknown user")
	}
	if got := s.actions("giulia@studio.test"); len(got) != 1 || got[0] != "login_failed/failed" {
		t.Fatalf("activity: %v", got)
	}
}

func TestLoginRateLimitEngages(t *testing.T) {
	s := newSite(t)
	s.user("giulia@studio.test", false)
	c := s.browser()
	var last int
	for i := 0; i < 6; i++ {
		last = s.login(c, "giulia@studio.test", "guess").StatusCode
	}
	if last != http.StatusTooManyRequests {
		t.Fatalf("6th guess on one account answered %d, want 429", last)
	}
	// Even the right password waits now: the limit is not a hint.
	if code := s.login(c, "giulia@studio.test", "right-password").StatusCode; code != http.StatusTooManyRequests {
		t.Fatalf("right password during the lockout answered %d", code)
	}
	// Guessing across many accounts from one address hits the per-IP limit.
	for i := 0; i < 10; i++ {
		last = s.login(c, "user"+string(rune('a'+i))+"@studio.test", "guess").StatusCode
	}
	if last != http.StatusTooManyRequests {
		t.Fatalf("spraying accounts from one IP answered %d, want 429", last)
	}
}

func TestCrossOriginPostIsRefused(t *testing.T) {
	s := newSite(t)
	s.user("giulia@studio.test", false)
	c := s.browser()
	s.login(c, "giulia@studio.test", "right-password")

	req, _ := http.NewRequest(http.MethodPost, s.srv.URL+"/logout", nil)
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-origin POST answered %d, want 403", resp.StatusCode)
	}
	// Still signed in: the forged logout changed nothing.
	if resp, _ := s.get(c, "/"); resp.StatusCode != http.StatusOK {
		t.Fatalf("after the refused POST the home page answered %d", resp.StatusCode)
	}
	if got := s.actions("giulia@studio.test"); len(got) != 1 {
		t.Fatalf("the forged request was logged as an action: %v", got)
	}
	// A cross-site login form post is refused too (login CSRF).
	req, _ = http.NewRequest(http.MethodPost, s.srv.URL+"/login", strings.NewReader("email=giulia%40studio.test&password=right-password"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site login answered %d", resp.StatusCode)
	}
}

func TestSecurityHeaders(t *testing.T) {
	s := newSite(t)
	resp, _ := s.get(s.browser(), "/login")
	h := resp.Header
	csp := h.Get("Content-Security-Policy")
	if !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP: %q", csp)
	}
	if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") == "" {
		t.Errorf("headers: %v", h)
	}
}

func TestReadyzAndHealthz(t *testing.T) {
	s := newSite(t)
	if _, err := s.store.Accounts.Create(context.Background(), store.NewAccount{Name: "Info", Address: "info@studio.test", IMAPAddr: "127.0.0.1:993", SMTPAddr: "127.0.0.1:465", Password: "x"}); err != nil {
		t.Fatal(err)
	}
	resp, body := s.get(s.browser(), "/readyz")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("readyz: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var r struct {
		Database string `json:"database"`
		Accounts []struct {
			ID         int64  `json:"id"`
			Name       string `json:"name"`
			State      string `json:"state"`
			Messages   int64  `json:"messages"`
			LastChange string `json:"last_change"`
		} `json:"accounts"`
	}
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatal(err)
	}
	if r.Database != "ok" || len(r.Accounts) != 1 || r.Accounts[0].Name != "Info" || r.Accounts[0].LastChange == "" {
		t.Fatalf("readyz: %s", body)
	}
	if resp, _ := s.get(s.browser(), "/healthz"); resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz: %d", resp.StatusCode)
	}
}

func TestLoginRedirectStaysOnSite(t *testing.T) {
	s := newSite(t)
	s.user("giulia@studio.test", false)
	c := s.browser()
	resp, err := c.PostForm(s.srv.URL+"/login", url.Values{"email": {"giulia@studio.test"}, "password": {"right-password"}, "next": {"//evil.example/"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); loc != "/" {
		t.Fatalf("open redirect to %q", loc)
	}
}
