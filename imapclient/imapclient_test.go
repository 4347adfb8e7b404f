package imapclient_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"

	"github.com/emersion/go-imap/v2"

	"sportello/imapclient"
	"sportello/imapclient/dovecottest"
	"sportello/store"
	"sportello/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

const (
	mailbox  = "info@studio.test"
	password = "mailbox-secret"
)

var fastTiming = imapclient.Timing{
	Poll:        200 * time.Millisecond,
	IdleRestart: 5 * time.Second,
	BackoffMin:  50 * time.Millisecond,
	BackoffMax:  500 * time.Millisecond,
	AuthRetry:   500 * time.Millisecond,
}

// world is one test's Postgres, Dovecot and shared account.
type world struct {
	t       *testing.T
	store   *store.Store
	dovecot *dovecottest.Server
	account store.Account
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{t: t, store: storetest.New(t), dovecot: dovecottest.Start(t, map[string]string{mailbox: password})}
	w.account = w.addAccount(mailbox, password)
	return w
}

func (w *world) addAccount(address, pw string) store.Account {
	a, err := w.store.Accounts.Create(context.Background(), store.NewAccount{
		Name: address, Address: address, IMAPAddr: w.dovecot.Addr, SMTPAddr: "127.0.0.1:25", TLS: store.TLSNone, Password: pw,
	})
	if err != nil {
		w.t.Fatal(err)
	}
	return a
}

func quietLogger() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// runSupervisor starts a supervisor on its own pool (as another process
// would have) and returns a stop function.
func (w *world) runSupervisor() (*imapclient.Supervisor, func()) {
	sup := imapclient.NewSupervisor(w.store, quietLogger(), nil, fastTiming)
	sup.Rescan = 200 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); sup.Run(ctx) }()
	stop := func() { cancel(); <-done }
	w.t.Cleanup(stop)
	return sup, stop
}

func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (w *world) count(folder string) int {
	var n int
	err := w.store.Pool.QueryRow(context.Background(), `SELECT count(*) FROM messages m JOIN folders f ON f.id = m.folder_id
		WHERE f.account_id = $1 AND f.name = $2`, w.account.ID, folder).Scan(&n)
	if err != nil {
		w.t.Fatal(err)
	}
	return n
}

type cached struct {
	Subject string
	Flags   string
}

// cache returns the cached messages of a folder by UID.
func (w *world) cache(folder string) map[uint32]cached {
	rows, err := w.store.Pool.Query(context.Background(), `SELECT m.uid, m.subject, m.flags FROM messages m
		JOIN folders f ON f.id = m.folder_id WHERE f.account_id = $1 AND f.name = $2`, w.account.ID, folder)
	if err != nil {
		w.t.Fatal(err)
	}
	defer rows.Close()
	out := map[uint32]cached{}
	for rows.Next() {
		var uid int64
		var subj string
		var flags []string
		if err := rows.Scan(&uid, &subj, &flags); err != nil {
			w.t.Fatal(err)
		}
		out[uint32(uid)] = cached{subj, normFlags(flags)}
	}
	return out
}

func normFlags(flags []string) string {
	var keep []string
	for _, f := range flags {
		if f != `\Recent` {
			keep = append(keep, f)
		}
	}
	sort.Strings(keep)
	return strings.Join(keep, " ")
}

// server returns what Dovecot has in a folder, by UID, read by a separate
// client.
func (w *world) server(folder string) map[uint32]cached {
	c := w.dovecot.Dial(mailbox)
	defer c.Logout()
	if _, err := c.Select(folder, &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		w.t.Fatal(err)
	}
	var all imap.UIDSet
	all.AddRange(1, 0)
	msgs, err := c.Fetch(all, &imap.FetchOptions{UID: true, Flags: true, Envelope: true}).Collect()
	if err != nil {
		w.t.Fatal(err)
	}
	out := map[uint32]cached{}
	for _, m := range msgs {
		flags := make([]string, len(m.Flags))
		for i, f := range m.Flags {
			flags[i] = string(f)
		}
		out[uint32(m.UID)] = cached{latin1Fallback(m.Envelope.Subject), normFlags(flags)}
	}
	return out
}

// latin1Fallback reads raw 8-bit text as Windows-1252, as a user would
// want a raw "Caff\xe8" shown.
func latin1Fallback(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	d, _ := charmap.Windows1252.NewDecoder().String(s)
	return d
}

func (w *world) assertCacheEqualsServer(folder string) {
	w.t.Helper()
	got, want := w.cache(folder), w.server(folder)
	if len(got) != len(want) {
		w.t.Fatalf("%s: cache has %d messages, server %d", folder, len(got), len(want))
	}
	for uid, m := range want {
		if got[uid] != m {
			w.t.Fatalf("%s UID %d: cache %+v, server %+v", folder, uid, got[uid], m)
		}
	}
}

// message builds the i-th test message; some are deliberately awkward.
func message(i int) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: Cliente %d <cliente%d@example.com>\r\n", i, i)
	b.WriteString("To: info@studio.test\r\n")
	switch i % 5 {
	case 0:
		fmt.Fprintf(&b, "Subject: =?UTF-8?B?%s?=\r\n", b64(fmt.Sprintf("Fattura n. %d — perché", i)))
	case 1:
		fmt.Fprintf(&b, "Subject: =?ISO-8859-1?Q?Preventivo_=E0_%d?=\r\n", i) // à in Latin-1
	case 2:
		fmt.Fprintf(&b, "Subject: Richiesta %d\r\n", i) // and no Message-ID, no Date
	case 3:
		fmt.Fprintf(&b, "Subject: Caff\xe8 %d\r\n", i) // raw 8-bit, not UTF-8
	default:
		fmt.Fprintf(&b, "Subject: Message %d\r\n", i)
	}
	if i%5 != 2 {
		fmt.Fprintf(&b, "Message-ID: <msg-%d@example.com>\r\nDate: Mon, 02 Mar 2026 10:%02d:00 +0100\r\n", i, i%60)
	}
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n")
	fmt.Fprintf(&b, "Body of message %d.\r\n", i)
	return b.Bytes()
}

func b64(s string) string {
	const enc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	in := []byte(s)
	var out strings.Builder
	for i := 0; i < len(in); i += 3 {
		var n uint32
		k := copy(make([]byte, 3), in[i:])
		chunk := make([]byte, 3)
		copy(chunk, in[i:])
		n = uint32(chunk[0])<<16 | uint32(chunk[1])<<8 | uint32(chunk[2])
		for j := 0; j < 4; j++ {
			if j <= k {
				out.WriteByte(enc[(n>>(18-6*j))&63])
			} else {
				out.WriteByte('=')
			}
		}
	}
	return out.String()
}

func messages(n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = message(i)
	}
	return out
}

func seededFlags(i int) string {
	switch {
	case i%7 == 0:
		return "FS"
	case i%3 == 0:
		return "S"
	}
	return ""
}

func TestInitialSyncIsExact(t *testing.T) {
	w := newWorld(t)
	const n = 5000
	w.dovecot.SeedMaildir(mailbox, "INBOX", messages(n), seededFlags)
	w.dovecot.SeedMaildir(mailbox, "Archive", messages(30), nil)
	w.runSupervisor()
	waitFor(t, 60*time.Second, "5,000 messages in the cache", func() bool { return w.count("INBOX") == n })
	w.assertCacheEqualsServer("INBOX")
	waitFor(t, 20*time.Second, "the Archive folder", func() bool { return w.count("Archive") == 30 })

	// Awkward headers still give a readable row.
	var subj, msgID string
	err := w.store.Pool.QueryRow(context.Background(), `SELECT subject, message_id FROM messages WHERE subject LIKE 'Preventivo%' LIMIT 1`).Scan(&subj, &msgID)
	if err != nil || !strings.HasPrefix(subj, "Preventivo à") {
		t.Fatalf("Latin-1 subject decoded as %q (%v)", subj, err)
	}
	var noID int
	if err := w.store.Pool.QueryRow(context.Background(), `SELECT count(*) FROM messages m JOIN folders f ON f.id = m.folder_id
		WHERE f.name = 'INBOX' AND m.message_id = '' AND m.subject LIKE 'Richiesta %'`).Scan(&noID); err != nil || noID != n/5 {
		t.Fatalf("messages without Message-ID listed: %d, want %d (%v)", noID, n/5, err)
	}
}

func TestChangesByAnotherClientReachTheCache(t *testing.T) {
	w := newWorld(t)
	w.dovecot.SeedMaildir(mailbox, "INBOX", messages(20), nil)
	sup, _ := w.runSupervisor()
	waitFor(t, 20*time.Second, "initial sync", func() bool {
		return w.count("INBOX") == 20 && sup.Statuses()[w.account.ID].State == imapclient.StateIdle
	})

	phone := w.dovecot.Dial(mailbox)
	if _, err := phone.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}

	// New mail while idling.
	msg := message(1000)
	app := phone.Append("INBOX", int64(len(msg)), nil)
	app.Write(msg)
	app.Close()
	if _, err := app.Wait(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 15*time.Second, "the new message", func() bool { return w.count("INBOX") == 21 })

	// A flag set on the phone.
	uid5 := imap.UIDSetNum(5)
	if err := phone.Store(uid5, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagFlagged}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 15*time.Second, "the flag change", func() bool { return strings.Contains(w.cache("INBOX")[5].Flags, `\Flagged`) })

	// A move to Archive on the phone.
	if _, err := phone.Move(imap.UIDSetNum(6), "Archive").Wait(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 15*time.Second, "the move", func() bool { return w.count("INBOX") == 20 && w.count("Archive") == 1 })

	// A deletion on the phone: gone from the cache, and the log says so.
	if err := phone.Store(imap.UIDSetNum(7), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	if err := phone.UIDExpunge(imap.UIDSetNum(7)).Close(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 15*time.Second, "the deletion", func() bool { _, ok := w.cache("INBOX")[7]; return !ok })
	w.assertCacheEqualsServer("INBOX")
	// The activity row follows the cache within moments.
	var entries []store.Entry
	waitFor(t, 15*time.Second, "the external_delete row for UID 7", func() bool {
		var err error
		entries, err = w.store.Activity.List(context.Background(), store.ListFilter{AccountID: &w.account.ID, Action: store.ActionExternalDelete})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if e.Folder == "INBOX" && e.UID != nil && *e.UID == 7 && e.Actor == store.ActorExternal && e.MessageID == "msg-6@example.com" {
				return true
			}
		}
		return false
	})

	// A folder created on the server appears.
	if err := phone.Create("Clienti", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 15*time.Second, "the new folder", func() bool {
		_, err := w.store.Folders.ByName(context.Background(), w.account.ID, "Clienti")
		return err == nil
	})
	// Renamed on the server: same folder, its messages kept.
	if _, err := phone.Move(imap.UIDSetNum(8), "Clienti").Wait(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 15*time.Second, "the message filed in Clienti", func() bool { return w.count("Clienti") == 1 })
	before, _ := w.store.Folders.ByName(context.Background(), w.account.ID, "Clienti")
	if err := phone.Rename("Clienti", "Clienti attivi", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 15*time.Second, "the rename", func() bool {
		f, err := w.store.Folders.ByName(context.Background(), w.account.ID, "Clienti attivi")
		return err == nil && f.ID == before.ID && w.count("Clienti attivi") == 1
	})
	// Deleted on the server: gone from the cache.
	if err := phone.Delete("Clienti attivi").Wait(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 15*time.Second, "the deleted folder to go", func() bool {
		_, err := w.store.Folders.ByName(context.Background(), w.account.ID, "Clienti attivi")
		return err == store.ErrNotFound
	})
}

func TestUIDValidityChangeDropsAndResyncs(t *testing.T) {
	w := newWorld(t)
	w.dovecot.SeedMaildir(mailbox, "INBOX", messages(50), nil)
	sup, _ := w.runSupervisor()
	var before store.Folder
	waitFor(t, 20*time.Second, "initial sync", func() bool {
		before, _ = w.store.Folders.ByName(context.Background(), w.account.ID, "INBOX")
		return w.count("INBOX") == 50 && before.UIDValidity != 0
	})

	// The server is restored from a backup: new UIDVALIDITY, new UIDs, and
	// fewer messages than before.
	w.dovecot.Kill()
	userDir := w.dovecot.MailDir(mailbox)
	// dovecot-uidvalidity stays: Dovecot then issues the next UIDVALIDITY
	// instead of one from the clock, which may equal the old one.
	for _, pattern := range []string{"dovecot-uidlist", "dovecot.index*", "dovecot.list.index*"} {
		files, _ := filepath.Glob(filepath.Join(userDir, pattern))
		for _, f := range files {
			os.Remove(f)
		}
	}
	cur, _ := filepath.Glob(filepath.Join(userDir, "cur", "*"))
	sort.Strings(cur)
	for _, f := range cur[:10] {
		os.Remove(f)
	}
	w.dovecot.Restart()

	waitFor(t, 20*time.Second, "the resync after UIDVALIDITY changed", func() bool {
		f, err := w.store.Folders.ByName(context.Background(), w.account.ID, "INBOX")
		return err == nil && f.UIDValidity != before.UIDValidity && w.count("INBOX") == 40 && sup.Statuses()[w.account.ID].State == imapclient.StateIdle
	})
	w.assertCacheEqualsServer("INBOX")
}

func TestServerKilledMidSyncConverges(t *testing.T) {
	w := newWorld(t)
	const n = 20000
	w.dovecot.SeedMaildir(mailbox, "INBOX", messages(n), seededFlags)
	w.runSupervisor()
	waitFor(t, 60*time.Second, "the sync to start", func() bool { return w.count("INBOX") > 0 })
	if got := w.count("INBOX"); got >= n {
		t.Fatalf("the sync finished before the server could be killed (%d messages)", got)
	}
	w.dovecot.Kill()
	time.Sleep(300 * time.Millisecond)
	w.dovecot.Restart()
	waitFor(t, 120*time.Second, "convergence after the restart", func() bool { return w.count("INBOX") == n })
	w.assertCacheEqualsServer("INBOX")
	var distinct int
	if err := w.store.Pool.QueryRow(context.Background(), "SELECT count(DISTINCT uid) FROM messages m JOIN folders f ON f.id = m.folder_id WHERE f.name = 'INBOX'").Scan(&distinct); err != nil || distinct != n {
		t.Fatalf("duplicates or losses: %d distinct UIDs (%v)", distinct, err)
	}
}

func TestWrongPasswordIsAuthFailed(t *testing.T) {
	w := newWorld(t)
	bad := w.addAccount("pec@studio.test", "wrong")
	w.dovecot.SetPassword("pec@studio.test", "right")
	sup, _ := w.runSupervisor()
	waitFor(t, 20*time.Second, "auth_failed", func() bool {
		st := sup.Statuses()[bad.ID]
		return st.State == imapclient.StateAuthFailed && strings.Contains(st.LastError, "refused")
	})
	// The good account is not held back by the broken one.
	waitFor(t, 20*time.Second, "the good account idle", func() bool { return sup.Statuses()[w.account.ID].State == imapclient.StateIdle })
}

func TestOneOwnerAcrossProcessesAndTakeover(t *testing.T) {
	w := newWorld(t)
	first, stopFirst := w.runSupervisor()
	waitFor(t, 20*time.Second, "the first process to own the account", func() bool { return first.Statuses()[w.account.ID].State == imapclient.StateIdle })
	second, _ := w.runSupervisor()
	waitFor(t, 15*time.Second, "the second process to stand by", func() bool { return second.Statuses()[w.account.ID].State == imapclient.StateStandby })
	time.Sleep(500 * time.Millisecond) // a few rescans: still only one owner
	if st := second.Statuses()[w.account.ID].State; st != imapclient.StateStandby {
		t.Fatalf("two owners: second is %s", st)
	}
	stopFirst()
	waitFor(t, 20*time.Second, "the takeover", func() bool { return second.Statuses()[w.account.ID].State == imapclient.StateIdle })
}

func TestAccountsComeAndGoLive(t *testing.T) {
	w := newWorld(t)
	sup, _ := w.runSupervisor()
	waitFor(t, 20*time.Second, "the first account", func() bool { return sup.Statuses()[w.account.ID].State == imapclient.StateIdle })
	w.dovecot.SetPassword("desk@studio.test", "pw")
	desk := w.addAccount("desk@studio.test", "pw")
	waitFor(t, 20*time.Second, "the added account", func() bool { return sup.Statuses()[desk.ID].State == imapclient.StateIdle })
	if err := w.store.Accounts.Delete(context.Background(), desk.ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "the removed account to stop", func() bool { _, ok := sup.Statuses()[desk.ID]; return !ok })
}
