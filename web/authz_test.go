package web_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"sportello/testrig"
)

// firstMessage returns the id of some message of an account's INBOX.
func firstMessage(t *testing.T, o *testrig.Office, accountID int64) int64 {
	var id int64
	if err := o.Store.Pool.QueryRow(context.Background(), `SELECT m.id FROM messages m JOIN folders f ON f.id = m.folder_id
		WHERE f.account_id = $1 AND f.name = 'INBOX' ORDER BY m.id LIMIT 1`, accountID).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

func TestEveryReadRouteChecksTheAccountAndTheMessage(t *testing.T) {
	office := testrig.NewOffice(t)
	info := office.Account(t, "info@studio.test")
	pec := office.Account(t, "studio.rossi@pec.studio.test")
	infoMsg, pecMsg := firstMessage(t, office, info.ID), firstMessage(t, office, pec.ID)
	marco := office.Client(t, "marco@studio.test") // reader of info@ only

	status := func(c *http.Client, path string) int {
		resp, err := c.Get(office.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	hidden := []string{
		fmt.Sprintf("/a/%d/f/INBOX", pec.ID),
		fmt.Sprintf("/a/%d/m/%d", pec.ID, pecMsg),
		fmt.Sprintf("/a/%d/m/%d/body", pec.ID, pecMsg),
		fmt.Sprintf("/a/%d/m/%d/raw", pec.ID, pecMsg),
		fmt.Sprintf("/a/%d/m/%d/part/2", pec.ID, pecMsg),
		// Another account's message through an account marco may see.
		fmt.Sprintf("/a/%d/m/%d", info.ID, pecMsg),
		fmt.Sprintf("/a/%d/m/%d/body", info.ID, pecMsg),
		fmt.Sprintf("/a/%d/m/%d/raw", info.ID, pecMsg),
		fmt.Sprintf("/a/%d/m/%d/part/2", info.ID, pecMsg),
		// A folder that is not this account's, and accounts that do not exist.
		fmt.Sprintf("/a/%d/f/NoSuchFolder", info.ID),
		"/a/99999/f/INBOX",
		"/a/nonsense/f/INBOX",
		fmt.Sprintf("/a/%d/m/99999999", info.ID),
	}
	for _, path := range hidden {
		if got := status(marco, path); got != http.StatusNotFound {
			t.Errorf("GET %s as a stranger to it answered %d, want 404", path, got)
		}
	}
	allowed := []string{
		fmt.Sprintf("/a/%d/f/INBOX", info.ID),
		fmt.Sprintf("/a/%d/m/%d", info.ID, infoMsg),
		fmt.Sprintf("/a/%d/m/%d/body", info.ID, infoMsg),
		fmt.Sprintf("/a/%d/m/%d/raw", info.ID, infoMsg),
		"/all", "/",
	}
	for _, path := range allowed {
		if got := status(marco, path); got != http.StatusOK {
			t.Errorf("GET %s as a reader answered %d, want 200", path, got)
		}
	}
	anonymous := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, path := range append(allowed, "/events") {
		if got := status(anonymous, path); got != http.StatusSeeOther {
			t.Errorf("GET %s signed out answered %d, want a redirect to the login", path, got)
		}
	}
	// Nothing a reader of info@ is shown names the PEC account.
	for _, path := range []string{"/", "/all", "/all?pec=any"} {
		resp, err := marco.Get(office.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		bufio.NewReader(resp.Body).WriteTo(&b)
		resp.Body.Close()
		if strings.Contains(b.String(), "Studio Rossi – PEC") || strings.Contains(b.String(), "pec.studio.test") {
			t.Errorf("%s shows the PEC account to a reader of info@ only", path)
		}
	}
}

// sseReader reads events from a stream.
type sseEvent struct{ id, name, data string }

func readEvents(t *testing.T, resp *http.Response, out chan<- sseEvent) {
	sc := bufio.NewScanner(resp.Body)
	var e sseEvent
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "id: "):
			e.id = line[4:]
		case strings.HasPrefix(line, "event: "):
			e.name = line[7:]
		case strings.HasPrefix(line, "data: "):
			e.data = line[6:]
		case line == "":
			if e.name != "" {
				out <- e
			}
			e = sseEvent{}
		}
	}
	close(out)
}

func openStream(t *testing.T, c *http.Client, url, lastID string) chan sseEvent {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	resp, err := c.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("/events content type %q", ct)
	}
	ch := make(chan sseEvent, 100)
	go readEvents(t, resp, ch)
	return ch
}

// waitEvent returns the first event about subject's account matching
// name, failing after timeout; events of other kinds are skipped.
func waitEvent(t *testing.T, ch chan sseEvent, name string, account int64, timeout time.Duration) (sseEvent, bool) {
	deadline := time.After(timeout)
	for {
		select {
		case e, ok := <-ch:
			if !ok {
				return e, false
			}
			if e.name == name && strings.Contains(e.data, fmt.Sprintf(`"account":%d`, account)) {
				return e, true
			}
		case <-deadline:
			return sseEvent{}, false
		}
	}
}

func TestEventsFollowTheUsersAccountsOnly(t *testing.T) {
	office := testrig.NewOffice(t)
	info := office.Account(t, "info@studio.test")
	pec := office.Account(t, "studio.rossi@pec.studio.test")
	marco := office.Client(t, "marco@studio.test")
	stream := openStream(t, marco, office.URL+"/events", "")
	time.Sleep(300 * time.Millisecond)

	deliver := func(to, subject string) {
		msg := fmt.Sprintf("From: x@example.org\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: <%s@example.org>\r\n\r\nhi\r\n", to, subject, strings.ReplaceAll(subject, " ", "-"))
		if err := office.Mail.Deliver(to, "INBOX", []byte(msg)); err != nil {
			t.Fatal(err)
		}
	}
	deliver("studio.rossi@pec.studio.test", "for the PEC box")
	deliver("info@studio.test", "for info")
	e, ok := waitEvent(t, stream, "message", info.ID, 10*time.Second)
	if !ok {
		t.Fatal("no message event for info@")
	}
	if e.id == "" || !strings.Contains(e.data, `"ids":[`) {
		t.Fatalf("event lacks id or message ids: %+v", e)
	}
	// Collect a moment more: nothing about the PEC account may arrive.
	if _, leaked := waitEvent(t, stream, "message", pec.ID, 2*time.Second); leaked {
		t.Fatal("a reader of info@ received an event of the PEC account")
	}

	// Resume: a stream opened with Last-Event-ID gets what came after it.
	deliver("info@studio.test", "while away")
	if _, ok := waitEvent(t, stream, "message", info.ID, 10*time.Second); !ok {
		t.Fatal("no event for the second message")
	}
	resumed := openStream(t, marco, office.URL+"/events", e.id)
	if _, ok := waitEvent(t, resumed, "message", info.ID, 3*time.Second); !ok {
		t.Fatal("Last-Event-ID did not replay the missed event")
	}

	// Revoked: the open stream stops carrying info@ events at once.
	u, _ := office.Store.Users.ByEmail(context.Background(), "marco@studio.test")
	if err := office.Store.Users.Revoke(context.Background(), u.ID, info.ID); err != nil {
		t.Fatal(err)
	}
	deliver("info@studio.test", "after revocation")
	if _, leaked := waitEvent(t, stream, "message", info.ID, 3*time.Second); leaked {
		t.Fatal("events still flow after the role was revoked")
	}
}
