package web_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"sportello/store"
	"sportello/testrig"
)

func sample(i int, to string) []byte {
	return []byte(fmt.Sprintf("From: Cliente %d <c%d@example.it>\r\nTo: %s\r\nSubject: Pratica %d\r\nMessage-ID: <pratica-%d@example.it>\r\nDate: Mon, 02 Mar 2026 10:%02d:00 +0100\r\n\r\nTesto %d.\r\n", i, i, to, i, i, i%60, i))
}

func actionsOffice(t *testing.T) *testrig.Office {
	msgs := map[string][][]byte{}
	for i := 0; i < 8; i++ {
		msgs["info@studio.test"] = append(msgs["info@studio.test"], sample(i, "info@studio.test"))
		msgs["studio.rossi@pec.studio.test"] = append(msgs["studio.rossi@pec.studio.test"], sample(100+i, "studio.rossi@pec.studio.test"))
	}
	return testrig.NewDovecotOffice(t, msgs, testrig.Options{UndoWindow: 700 * time.Millisecond})
}

// onServer lists a folder on Dovecot as another client sees it:
// subject → flags.
func onServer(t *testing.T, o *testrig.Office, address, folder string) map[string]string {
	t.Helper()
	c := o.Dovecot.Dial(address)
	defer c.Logout()
	if _, err := c.Select(folder, &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		t.Fatal(err)
	}
	var all imap.UIDSet
	all.AddRange(1, 0)
	msgs, err := c.Fetch(all, &imap.FetchOptions{Envelope: true, Flags: true}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, m := range msgs {
		var flags []string
		for _, f := range m.Flags {
			if f != `\Recent` {
				flags = append(flags, string(f))
			}
		}
		sort.Strings(flags)
		out[m.Envelope.Subject] = strings.Join(flags, " ")
	}
	return out
}

// cached returns the cached message id of a subject in a folder, waiting
// for sync to bring it.
func cachedID(t *testing.T, o *testrig.Office, accountID int64, folder, subject string) int64 {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var id int64
		err := o.Store.Pool.QueryRow(context.Background(), `SELECT m.id FROM messages m JOIN folders f ON f.id = m.folder_id
			WHERE f.account_id = $1 AND f.name = $2 AND m.subject = $3`, accountID, folder, subject).Scan(&id)
		if err == nil {
			return id
		}
		if time.Now().After(deadline) {
			t.Fatalf("%q never appeared in the cache of %s", subject, folder)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func post(t *testing.T, c *http.Client, url string, form url.Values) *http.Response {
	t.Helper()
	resp, err := c.PostForm(url, form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func actionRows(t *testing.T, o *testrig.Office, accountID int64) []store.Action {
	list, err := o.Store.Activity.Actions(context.Background(), store.ActionFilter{AccountID: accountID})
	if err != nil {
		t.Fatal(err)
	}
	return list
}

func TestReaderCannotChangeTheMailbox(t *testing.T) {
	o := actionsOffice(t)
	info := o.Account(t, "info@studio.test")
	id := cachedID(t, o, info.ID, "INBOX", "Pratica 1")
	before := onServer(t, o, "info@studio.test", "INBOX")
	marco := o.Client(t, "marco@studio.test")
	base := fmt.Sprintf("%s/a/%d", o.URL, info.ID)
	forms := map[string]url.Values{
		fmt.Sprintf("%s/m/%d/delete", base, id):  {},
		fmt.Sprintf("%s/m/%d/restore", base, id): {},
		fmt.Sprintf("%s/m/%d/expunge", base, id): {"confirm": {"yes"}},
		fmt.Sprintf("%s/m/%d/move", base, id):    {"folder": {"Archive"}},
		fmt.Sprintf("%s/m/%d/flag", base, id):    {"flag": {"seen"}, "on": {"1"}},
		base + "/bulk":                           {"ids": {fmt.Sprint(id)}, "action": {"delete"}},
		base + "/undo/1":                         {},
		base + "/members":                        {"email": {"marco@studio.test"}, "role": {"manager"}},
		base + "/members/1/revoke":               {},
	}
	for u, form := range forms {
		if got := post(t, marco, u, form).StatusCode; got != http.StatusForbidden {
			t.Errorf("reader POST %s answered %d, want 403", u, got)
		}
	}
	time.Sleep(1500 * time.Millisecond) // past any undo window
	if after := onServer(t, o, "info@studio.test", "INBOX"); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("a reader changed the server:\nbefore %v\nafter  %v", before, after)
	}
	for _, a := range actionRows(t, o, info.ID) {
		if a.Actor == "marco@studio.test" {
			t.Errorf("a refused request left an activity row: %+v", a.Entry)
		}
	}
	if role, _ := o.Store.Users.RoleOn(context.Background(), 3, info.ID); role == store.RoleManager {
		t.Fatal("a reader made themselves manager")
	}
}

func TestManagerDeleteRestoreExpungeMoveFlag(t *testing.T) {
	o := actionsOffice(t)
	info := o.Account(t, "info@studio.test")
	giulia := o.Client(t, "giulia@studio.test")
	base := fmt.Sprintf("%s/a/%d", o.URL, info.ID)

	// Delete: hidden at once, in Dovecot's Trash after the undo window.
	id := cachedID(t, o, info.ID, "INBOX", "Pratica 1")
	resp := post(t, giulia, fmt.Sprintf("%s/m/%d/delete", base, id), nil)
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "undo=") {
		t.Fatalf("delete answered %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	waitFor(t, "the move to Trash", 10*time.Second, func() bool {
		_, inInbox := onServer(t, o, "info@studio.test", "INBOX")["Pratica 1"]
		_, inTrash := onServer(t, o, "info@studio.test", "Trash")["Pratica 1"]
		return !inInbox && inTrash
	})

	// Restore: back to the folder it came from.
	trashID := cachedID(t, o, info.ID, "Trash", "Pratica 1")
	if code := post(t, giulia, fmt.Sprintf("%s/m/%d/restore", base, trashID), nil).StatusCode; code != http.StatusSeeOther {
		t.Fatalf("restore answered %d", code)
	}
	if _, ok := onServer(t, o, "info@studio.test", "INBOX")["Pratica 1"]; !ok {
		t.Fatal("restore did not bring the message back to INBOX")
	}

	// Delete forever removes exactly that message, even though a phone has
	// another one marked \Deleted (not yet expunged).
	phone := o.Dovecot.Dial("info@studio.test")
	if _, err := phone.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	uids, err := phone.UIDSearch(&imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "Subject", Value: "Pratica 2"}}}, nil).Wait()
	if err != nil || len(uids.AllUIDs()) != 1 {
		t.Fatalf("phone search: %v", err)
	}
	if err := phone.Store(imap.UIDSetNum(uids.AllUIDs()[0]), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	id3 := cachedID(t, o, info.ID, "INBOX", "Pratica 3")
	if code := post(t, giulia, fmt.Sprintf("%s/m/%d/expunge", base, id3), nil).StatusCode; code != http.StatusBadRequest {
		t.Fatalf("expunge without confirm answered %d, want 400", code)
	}
	if code := post(t, giulia, fmt.Sprintf("%s/m/%d/expunge", base, id3), url.Values{"confirm": {"yes"}}).StatusCode; code != http.StatusSeeOther {
		t.Fatalf("expunge answered %d", code)
	}
	inbox := onServer(t, o, "info@studio.test", "INBOX")
	if _, ok := inbox["Pratica 3"]; ok {
		t.Fatal("the expunged message is still on the server")
	}
	if flags, ok := inbox["Pratica 2"]; !ok || !strings.Contains(flags, `\Deleted`) {
		t.Fatalf("the phone's \\Deleted message was expunged too (%q, %v)", flags, ok)
	}

	// Move and flag.
	id4 := cachedID(t, o, info.ID, "INBOX", "Pratica 4")
	post(t, giulia, fmt.Sprintf("%s/m/%d/move", base, id4), url.Values{"folder": {"Archive"}})
	if _, ok := onServer(t, o, "info@studio.test", "Archive")["Pratica 4"]; !ok {
		t.Fatal("move did not reach Archive")
	}
	id5 := cachedID(t, o, info.ID, "INBOX", "Pratica 5")
	post(t, giulia, fmt.Sprintf("%s/m/%d/flag", base, id5), url.Values{"flag": {"seen"}, "on": {"1"}})
	if flags := onServer(t, o, "info@studio.test", "INBOX")["Pratica 5"]; !strings.Contains(flags, `\Seen`) {
		t.Fatalf("flag: %q", flags)
	}

	// Undo: the message never leaves INBOX.
	id6 := cachedID(t, o, info.ID, "INBOX", "Pratica 6")
	resp = post(t, giulia, fmt.Sprintf("%s/m/%d/delete", base, id6), nil)
	undo, _ := url.Parse(resp.Header.Get("Location"))
	if code := post(t, giulia, fmt.Sprintf("%s/undo/%s", base, undo.Query().Get("undo")), nil).StatusCode; code != http.StatusSeeOther {
		t.Fatalf("undo answered %d", code)
	}
	time.Sleep(1500 * time.Millisecond)
	if _, ok := onServer(t, o, "info@studio.test", "INBOX")["Pratica 6"]; !ok {
		t.Fatal("an undone delete still reached the server")
	}

	// Every action left its row, with its outcome.
	got := map[string]string{}
	for _, a := range actionRows(t, o, info.ID) {
		if a.Actor == "giulia@studio.test" {
			got[a.Action+" "+a.Subject] = a.Outcome
		}
	}
	want := map[string]string{
		"delete Pratica 1": "ok", "restore Pratica 1": "ok", "expunge Pratica 3": "ok", "move Pratica 4": "ok",
		"flag Pratica 5": "ok", "delete Pratica 6": "failed",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("activity %q: outcome %q, want %q (all: %v)", k, got[k], v, got)
		}
	}
	// Sportello's own removals are not reported as another client's.
	for _, a := range actionRows(t, o, info.ID) {
		if a.Action == store.ActionExternalDelete && (a.Subject == "Pratica 1" || a.Subject == "Pratica 3" || a.Subject == "Pratica 4") {
			t.Errorf("Sportello's own action logged as external: %+v", a.Entry)
		}
	}
	if n, brk, err := o.Store.Activity.Verify(context.Background()); err != nil || brk != nil || n == 0 {
		t.Fatalf("audit verify: %d rows, break %+v, %v", n, brk, err)
	}
}

func TestPECDeleteNeedsAReason(t *testing.T) {
	o := actionsOffice(t)
	pec := o.Account(t, "studio.rossi@pec.studio.test")
	giulia := o.Client(t, "giulia@studio.test")
	id := cachedID(t, o, pec.ID, "INBOX", "Pratica 101")
	resp, err := giulia.PostForm(fmt.Sprintf("%s/a/%d/m/%d/delete", o.URL, pec.ID, id), nil)
	if err != nil {
		t.Fatal(err)
	}
	var body strings.Builder
	buf := make([]byte, 64<<10)
	for {
		n, err := resp.Body.Read(buf)
		body.Write(buf[:n])
		if err != nil {
			break
		}
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body.String(), `name="reason"`) {
		t.Fatalf("PEC delete without reason: %d, reason field shown: %v", resp.StatusCode, strings.Contains(body.String(), `name="reason"`))
	}
	if code := post(t, giulia, fmt.Sprintf("%s/a/%d/m/%d/move", o.URL, pec.ID, id), url.Values{"folder": {"Archive"}}).StatusCode; code != http.StatusUnprocessableEntity {
		t.Fatalf("PEC move out of INBOX without reason answered %d", code)
	}
	if code := post(t, giulia, fmt.Sprintf("%s/a/%d/m/%d/delete", o.URL, pec.ID, id), url.Values{"reason": {"Duplicato protocollato"}}).StatusCode; code != http.StatusSeeOther {
		t.Fatalf("PEC delete with reason answered %d", code)
	}
	rows := actionRows(t, o, pec.ID)
	if len(rows) == 0 || rows[0].Action != "delete" || rows[0].Reason != "Duplicato protocollato" {
		t.Fatalf("the reason is not in the log: %+v", rows)
	}
}

func TestDowngradedManagerIsRefusedAtOnce(t *testing.T) {
	o := actionsOffice(t)
	info := o.Account(t, "info@studio.test")
	giulia := o.Client(t, "giulia@studio.test")
	id := cachedID(t, o, info.ID, "INBOX", "Pratica 1")
	u, _ := o.Store.Users.ByEmail(context.Background(), "giulia@studio.test")
	if err := o.Store.Users.Grant(context.Background(), u.ID, info.ID, store.RoleReader); err != nil {
		t.Fatal(err)
	}
	if code := post(t, giulia, fmt.Sprintf("%s/a/%d/m/%d/delete", o.URL, info.ID, id), nil).StatusCode; code != http.StatusForbidden {
		t.Fatalf("delete after the downgrade answered %d, want 403", code)
	}
	if err := o.Store.Users.Revoke(context.Background(), u.ID, info.ID); err != nil {
		t.Fatal(err)
	}
	if code := post(t, giulia, fmt.Sprintf("%s/a/%d/m/%d/delete", o.URL, info.ID, id), nil).StatusCode; code != http.StatusNotFound {
		t.Fatalf("delete after the revocation answered %d, want 404", code)
	}
}

func TestActivityCSV(t *testing.T) {
	o := actionsOffice(t)
	info := o.Account(t, "info@studio.test")
	giulia := o.Client(t, "giulia@studio.test")
	id := cachedID(t, o, info.ID, "INBOX", "Pratica 5")
	post(t, giulia, fmt.Sprintf("%s/a/%d/m/%d/flag", o.URL, info.ID, id), url.Values{"flag": {"flagged"}, "on": {"1"}})
	if _, err := giulia.Get(fmt.Sprintf("%s/a/%d/m/%d/raw", o.URL, info.ID, id)); err != nil {
		t.Fatal(err)
	}
	marco := o.Client(t, "marco@studio.test") // readers see the log too
	resp, err := marco.Get(fmt.Sprintf("%s/a/%d/activity?format=csv", o.URL, info.ID))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	records, err := csv.NewReader(resp.Body).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(records[0], ",") != "time,actor,remote_addr,user_agent,action,account,folder,uid,uidvalidity,message_id,subject,sender,reason,outcome,detail" {
		t.Fatalf("CSV header %v", records[0])
	}
	if len(records) < 3 || records[1][4] != "download" || records[2][4] != "flag" || records[2][13] != "ok" || records[2][10] != "Pratica 5" {
		t.Fatalf("CSV rows (newest first) %v", records[1:])
	}
}

func TestEmptyTrash(t *testing.T) {
	o := actionsOffice(t)
	info := o.Account(t, "info@studio.test")
	giulia := o.Client(t, "giulia@studio.test")
	base := fmt.Sprintf("%s/a/%d", o.URL, info.ID)
	for _, subject := range []string{"Pratica 1", "Pratica 2"} {
		post(t, giulia, fmt.Sprintf("%s/m/%d/delete", base, cachedID(t, o, info.ID, "INBOX", subject)), nil)
	}
	waitFor(t, "two messages in Trash", 10*time.Second, func() bool { return len(onServer(t, o, "info@studio.test", "Trash")) == 2 })
	cachedID(t, o, info.ID, "Trash", "Pratica 2")
	cachedID(t, o, info.ID, "Trash", "Pratica 1")
	if code := post(t, giulia, base+"/empty-trash", nil).StatusCode; code != http.StatusBadRequest {
		t.Fatalf("empty trash without confirm answered %d", code)
	}
	if code := post(t, o.Client(t, "marco@studio.test"), base+"/empty-trash", url.Values{"confirm": {"yes"}}).StatusCode; code != http.StatusForbidden {
		t.Fatalf("a reader emptying the Trash got %d", code)
	}
	if code := post(t, giulia, base+"/empty-trash", url.Values{"confirm": {"yes"}}).StatusCode; code != http.StatusSeeOther {
		t.Fatalf("empty trash answered %d", code)
	}
	if left := onServer(t, o, "info@studio.test", "Trash"); len(left) != 0 {
		t.Fatalf("the Trash still holds %v", left)
	}
	if inbox := onServer(t, o, "info@studio.test", "INBOX"); len(inbox) != 6 {
		t.Fatalf("emptying the Trash touched INBOX: %v", inbox)
	}
	n := 0
	for _, a := range actionRows(t, o, info.ID) {
		if a.Action == "expunge" && a.Outcome == "ok" {
			n++
		}
	}
	if n != 2 {
		t.Fatalf("%d expunge rows, want one per message", n)
	}
}
