package imapclient_test

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	goimapclient "github.com/emersion/go-imap/v2/imapclient"

	"sportello/imapclient"
	"sportello/imapclient/dovecottest"
	"sportello/store"
	"sportello/store/storetest"
)

// Benchmarks print figures against the budgets of DESIGN.md; they assert
// nothing. Run them with `make bench`.

func benchWorld(b *testing.B, users map[string]string) (*store.Store, *dovecottest.Server) {
	return storetest.New(b), dovecottest.Start(b, users)
}

func report(format string, args ...any) {
	fmt.Printf("BUDGET  "+format+"\n", args...)
}

func benchInitialSync(b *testing.B, n int) {
	for i := 0; i < b.N; i++ {
		st, dc := benchWorld(b, map[string]string{mailbox: password})
		dc.SeedMaildir(mailbox, "INBOX", messages(n), seededFlags)
		// Let Dovecot index the folder first: the budget is Sportello's.
		c := dc.Dial(mailbox)
		if _, err := c.Select("INBOX", nil).Wait(); err != nil {
			b.Fatal(err)
		}
		c.Logout()
		acct, err := st.Accounts.Create(context.Background(), store.NewAccount{Name: "bench", Address: mailbox, IMAPAddr: dc.Addr, SMTPAddr: "127.0.0.1:25", TLS: store.TLSNone, Password: password})
		if err != nil {
			b.Fatal(err)
		}
		sup := imapclient.NewSupervisor(st, quietLogger(), nil, imapclient.DefaultTiming)
		ctx, cancel := context.WithCancel(context.Background())
		start := time.Now()
		go sup.Run(ctx)
		var firstBatch time.Duration
		for {
			var count int
			_ = st.Pool.QueryRow(context.Background(), "SELECT count(*) FROM messages WHERE account_id = $1", acct.ID).Scan(&count)
			if count > 0 && firstBatch == 0 {
				firstBatch = time.Since(start)
			}
			if count >= n {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		elapsed := time.Since(start)
		cancel()
		rate := float64(n) / elapsed.Seconds()
		b.ReportMetric(rate, "msgs/s")
		report("initial header sync, %d messages from a local Dovecot: %.0f messages/s in %s; newest mail usable after %s (budget ≥ 5,000 messages/s; 100,000 in < 30 s)",
			n, rate, elapsed.Round(time.Millisecond), firstBatch.Round(time.Millisecond))
	}
}

func BenchmarkInitialSync10k(b *testing.B)  { benchInitialSync(b, 10_000) }
func BenchmarkInitialSync100k(b *testing.B) { benchInitialSync(b, 100_000) }

// BenchmarkNewMailLatency measures delivery → row in PostgreSQL, beside a
// bare IDLE client on the same Dovecot (which waits 500 ms itself).
func BenchmarkNewMailLatency(b *testing.B) {
	st, dc := benchWorld(b, map[string]string{mailbox: password})
	acct, err := st.Accounts.Create(context.Background(), store.NewAccount{Name: "bench", Address: mailbox, IMAPAddr: dc.Addr, SMTPAddr: "127.0.0.1:25", TLS: store.TLSNone, Password: password})
	if err != nil {
		b.Fatal(err)
	}
	sup := imapclient.NewSupervisor(st, quietLogger(), nil, imapclient.DefaultTiming)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go sup.Run(ctx)
	for sup.Statuses()[acct.ID].State != imapclient.StateIdle {
		time.Sleep(10 * time.Millisecond)
	}
	// The bare IDLE client, on INBOX read-only as Sportello's is. Dovecot
	// waits ~500 ms before it tells any IDLE session; deliveries a second
	// apart keep its timers from lining up by chance.
	bare := make(chan time.Time, 100)
	idler, err := goimapclient.DialInsecure(dc.Addr, &goimapclient.Options{UnilateralDataHandler: &goimapclient.UnilateralDataHandler{
		Mailbox: func(d *goimapclient.UnilateralDataMailbox) {
			if d.NumMessages != nil {
				bare <- time.Now()
			}
		},
	}})
	if err != nil {
		b.Fatal(err)
	}
	defer idler.Close()
	if err := idler.Login(mailbox, password).Wait(); err != nil {
		b.Fatal(err)
	}
	if _, err := idler.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		b.Fatal(err)
	}
	idleCmd, err := idler.Idle()
	if err != nil {
		b.Fatal(err)
	}
	defer idleCmd.Close()
	phone := dc.Dial(mailbox)
	const rounds = 30
	var ours, theirs, internal []time.Duration
	for i := 0; i < rounds; i++ {
		before := count(st, acct.ID)
		msg := message(100000 + i)
		start := time.Now()
		app := phone.Append("INBOX", int64(len(msg)), nil)
		app.Write(msg)
		app.Close()
		if _, err := app.Wait(); err != nil {
			b.Fatal(err)
		}
		applied := sup.Statuses()[acct.ID].EventsApplied
		for count(st, acct.ID) == before {
			time.Sleep(time.Millisecond)
		}
		got := time.Since(start)
		for sup.Statuses()[acct.ID].EventsApplied == applied {
			time.Sleep(time.Millisecond)
		}
		var bareAt time.Time
		select {
		case bareAt = <-bare:
		case <-time.After(5 * time.Second):
		}
		ours = append(ours, got)
		theirs = append(theirs, bareAt.Sub(start))
		internal = append(internal, sup.Statuses()[acct.ID].LastEventToCache)
		time.Sleep(time.Second)
	}
	report("new mail: IDLE EXISTS received → row in PostgreSQL: p50 %s, p99 %s (budget p50 < 100 ms, p99 < 500 ms); delivery → row: p50 %s, p99 %s; a bare IDLE client on the same Dovecot is told after p50 %s (budget: within 100 ms p50 of the bare client; issue 3 asks delivery → row p50 < 300 ms, below Dovecot's own 500 ms IDLE delay)",
		pct(internal, 50), pct(internal, 99), pct(ours, 50), pct(ours, 99), pct(theirs, 50))
}

func count(st *store.Store, accountID int64) int {
	var n int
	_ = st.Pool.QueryRow(context.Background(), "SELECT count(*) FROM messages WHERE account_id = $1", accountID).Scan(&n)
	return n
}

func pct(d []time.Duration, p int) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s) == 0 {
		return 0
	}
	return s[min(len(s)-1, len(s)*p/100)].Round(100 * time.Microsecond)
}

// BenchmarkIdleAccountsMemory runs 100 idle accounts and reports the RSS of
// the process.
func BenchmarkIdleAccountsMemory(b *testing.B) {
	const n = 100
	users := map[string]string{}
	for i := 0; i < n; i++ {
		users[fmt.Sprintf("box%d@studio.test", i)] = password
	}
	st, dc := benchWorld(b, users)
	for i := 0; i < n; i++ {
		dc.SeedMaildir(fmt.Sprintf("box%d@studio.test", i), "INBOX", messages(20), nil)
	}
	base := rss()
	for i := 0; i < n; i++ {
		addr := fmt.Sprintf("box%d@studio.test", i)
		if _, err := st.Accounts.Create(context.Background(), store.NewAccount{Name: addr, Address: addr, IMAPAddr: dc.Addr, SMTPAddr: "127.0.0.1:25", TLS: store.TLSNone, Password: password}); err != nil {
			b.Fatal(err)
		}
	}
	sup := imapclient.NewSupervisor(st, quietLogger(), nil, imapclient.DefaultTiming)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go sup.Run(ctx)
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		idle := 0
		for _, s := range sup.Statuses() {
			if s.State == imapclient.StateIdle {
				idle++
			}
		}
		if idle == n {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(2 * time.Second)
	total := rss()
	report("memory with %d idle accounts: process RSS %d MB, %.2f MB per account above the %d MB before them (budget < 2 MB per idle account; 100 accounts < 300 MB RSS)",
		n, total>>20, float64(total-base)/float64(n)/(1<<20), base>>20)
}

// rss reads the resident set size of this process.
func rss() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			f := strings.Fields(line)
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

var _ = imap.FlagSeen
