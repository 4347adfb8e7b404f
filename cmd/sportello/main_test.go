package main_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"sportello/store/storetest"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "sportello-bin-*")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "sportello")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		panic(fmt.Sprintf("build: %v\n%s", err, out))
	}
	storetest.Main(m) // exits
}

type result struct {
	stdout, stderr string
	err            error
}

// sportello runs the binary with env added to a clean environment.
func sportello(t *testing.T, env []string, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}, env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return result{out.String(), errb.String(), err}
}

func dbEnv(t *testing.T) []string {
	return []string{"DATABASE_URL=" + storetest.NewDSN(t), "SPORTELLO_DATA=" + t.TempDir()}
}

func TestTwoMigrationsAtOnce(t *testing.T) {
	env := []string{"DATABASE_URL=" + freshDatabase(t), "SPORTELLO_DATA=" + t.TempDir()}
	var wg sync.WaitGroup
	results := make([]result, 2)
	for i := range results {
		wg.Add(1)
		go func(i int) { defer wg.Done(); results[i] = sportello(t, env, "", "migrate") }(i)
	}
	wg.Wait()
	for i, r := range results {
		if r.err != nil {
			t.Fatalf("migrate %d failed: %v\n%s", i, r.err, r.stderr)
		}
	}
}

// freshDatabase is an empty database with no schema at all.
func freshDatabase(t *testing.T) string {
	c := storetest.Cluster(t)
	name := fmt.Sprintf("empty_%d", time.Now().UnixNano())
	conn, err := pgx.Connect(context.Background(), c.DSN("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(context.Background(), c.DSN("postgres"))
		if err == nil {
			conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			conn.Close(context.Background())
		}
	})
	return c.DSN(name)
}

func TestSchemaNewerThanBinaryStopsStartup(t *testing.T) {
	dsn := storetest.NewDSN(t)
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(context.Background(), "UPDATE schema_version SET version = 999"); err != nil {
		t.Fatal(err)
	}
	conn.Close(context.Background())
	r := sportello(t, []string{"DATABASE_URL=" + dsn, "SPORTELLO_DATA=" + t.TempDir()}, "", "account", "list")
	if r.err == nil || !strings.Contains(r.stderr, "newer than this Sportello") {
		t.Fatalf("want a clear refusal, got %v: %s", r.err, r.stderr)
	}
}

func TestUsersAccountsGrantsFromTheCommandLine(t *testing.T) {
	env := dbEnv(t)
	if r := sportello(t, env, "s3cret\n", "user", "add", "--email", "giulia@studio.test", "--name", "Giulia"); r.err != nil {
		t.Fatalf("user add: %v %s", r.err, r.stderr)
	}
	if r := sportello(t, env, "again\n", "user", "add", "--email", "giulia@studio.test", "--name", "Giulia"); r.err == nil || !strings.Contains(r.stderr, "already exists") {
		t.Fatalf("duplicate user: %v %s", r.err, r.stderr)
	}
	if r := sportello(t, env, "", "user", "add", "--email", "x@studio.test", "--name", "X"); r.err == nil || !strings.Contains(r.stderr, "standard input") {
		t.Fatalf("no password: %v %s", r.err, r.stderr)
	}
	add := []string{"account", "add", "--name", "PEC", "--address", "pec@studio.test", "--imap", "127.0.0.1:993", "--smtp", "127.0.0.1:465", "--pec"}
	if r := sportello(t, env, "mailbox-pw\n", add...); r.err != nil {
		t.Fatalf("account add: %v %s", r.err, r.stderr)
	}
	if r := sportello(t, env, "mailbox-pw\n", add...); r.err == nil || !strings.Contains(r.stderr, "already exists") {
		t.Fatalf("duplicate account: %v %s", r.err, r.stderr)
	}
	r := sportello(t, env, "", "account", "list", "--json")
	if r.err != nil || !strings.Contains(r.stdout, `"address": "pec@studio.test"`) || !strings.Contains(r.stdout, `"pec": true`) || !strings.Contains(r.stdout, `"id": 1`) {
		t.Fatalf("account list --json: %v %s %s", r.err, r.stdout, r.stderr)
	}
	if strings.Contains(r.stdout, "mailbox-pw") {
		t.Fatal("the mailbox password is printed")
	}
	if r := sportello(t, env, "", "grant", "--user", "giulia@studio.test", "--account", "1", "--role", "manager"); r.err != nil {
		t.Fatalf("grant: %v %s", r.err, r.stderr)
	}
	if r := sportello(t, env, "", "grant", "--user", "giulia@studio.test", "--account", "7", "--role", "manager"); r.err == nil || !strings.Contains(r.stderr, "no account 7") {
		t.Fatalf("grant on a missing account: %v %s", r.err, r.stderr)
	}
	if r := sportello(t, env, "", "audit", "verify"); r.err != nil || !strings.Contains(r.stdout, "intact") {
		t.Fatalf("audit verify: %v %s", r.err, r.stdout)
	}
}

func TestChangedSecretKeyIsReportedNotGarbage(t *testing.T) {
	dsn := storetest.NewDSN(t)
	env := []string{"DATABASE_URL=" + dsn, "SPORTELLO_DATA=" + t.TempDir(), "SPORTELLO_SECRET_KEY=first key"}
	if r := sportello(t, env, "mailbox-pw\n", "account", "add", "--name", "Info", "--address", "info@studio.test", "--imap", "127.0.0.1:1", "--smtp", "127.0.0.1:1", "--tls", "none"); r.err != nil {
		t.Fatal(r.stderr)
	}
	// Serve with another key: the account is reported unreadable, not dialed
	// with garbage.
	port := freePort(t)
	env2 := []string{"DATABASE_URL=" + dsn, "SPORTELLO_DATA=" + t.TempDir(), "SPORTELLO_SECRET_KEY=another key", "SPORTELLO_ADDR=127.0.0.1:" + port}
	stop := startServe(t, env2)
	defer stop()
	body := waitForBody(t, "http://127.0.0.1:"+port+"/readyz", "auth_failed")
	if !strings.Contains(body, "cannot be decrypted") {
		t.Fatalf("readyz: %s", body)
	}
}

func TestBadInputAnswersOneSentence(t *testing.T) {
	cases := []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"unreachable database", []string{"DATABASE_URL=postgres://nobody@127.0.0.1:1/none?connect_timeout=2", "SPORTELLO_DATA=" + t.TempDir()}, []string{"migrate"}, "the database does not answer"},
		{"data folder not writable", []string{"SPORTELLO_DATA=/dev/null/sportello"}, []string{"migrate"}, "/dev/null/sportello"},
		{"unknown command", nil, []string{"frobnicate"}, "Usage"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := sportello(t, c.env, "", c.args...)
			if r.err == nil || !strings.Contains(r.stderr, c.want) {
				t.Fatalf("want a failure mentioning %q, got %v: %s", c.want, r.err, r.stderr)
			}
			if strings.Contains(r.stderr, "panic") || strings.Count(strings.TrimSpace(r.stderr), "\n") > 40 {
				t.Fatalf("not one clear sentence: %s", r.stderr)
			}
		})
	}
}

func TestPortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	env := append(dbEnv(t), "SPORTELLO_ADDR="+ln.Addr().String())
	r := sportello(t, env, "", "serve")
	if r.err == nil || !strings.Contains(r.stderr, "already in use") {
		t.Fatalf("want 'already in use', got %v: %s", r.err, r.stderr)
	}
}

// The embedded cluster: `user add` joins the cluster a running `serve`
// started, and works the same when nothing runs.
func TestEmbeddedClusterSharedWithRunningServer(t *testing.T) {
	data := filepath.Join(storetest.Cluster(t).Dir(), "..", fmt.Sprintf("embedded-%d", time.Now().UnixNano()))
	t.Cleanup(func() { os.RemoveAll(data) })
	env := []string{"SPORTELLO_DATA=" + data}
	if r := sportello(t, env, "pw\n", "user", "add", "--email", "first@studio.test", "--name", "First"); r.err != nil {
		t.Fatalf("user add without a server: %v %s", r.err, r.stderr)
	}
	if fi, err := os.Stat(filepath.Join(data, "secret.key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi, err)
	}
	port := freePort(t)
	stop := startServe(t, append(env, "SPORTELLO_ADDR=127.0.0.1:"+port))
	waitForBody(t, "http://127.0.0.1:"+port+"/readyz", `"database":"ok"`)
	if r := sportello(t, env, "pw\n", "user", "add", "--email", "second@studio.test", "--name", "Second"); r.err != nil {
		t.Fatalf("user add beside a running server: %v %s", r.err, r.stderr)
	}
	// The server still answers: user add did not stop its database.
	waitForBody(t, "http://127.0.0.1:"+port+"/readyz", `"database":"ok"`)
	stop()
	if _, err := os.Stat(filepath.Join(data, "pg", "data", "postmaster.pid")); err == nil {
		t.Fatal("PostgreSQL still runs after the last user stopped")
	}
}

func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)
}

func startServe(t *testing.T, env []string) (stop func()) {
	t.Helper()
	cmd := exec.Command(binary, "serve")
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, env...)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			_ = cmd.Process.Signal(os.Interrupt)
			done := make(chan struct{})
			go func() { _ = cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				_ = cmd.Process.Kill()
				t.Errorf("serve did not stop on Ctrl-C:\n%s", errb.String())
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func waitForBody(t *testing.T, url, want string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err == nil {
			var b bytes.Buffer
			_, _ = b.ReadFrom(resp.Body)
			resp.Body.Close()
			last = b.String()
			if strings.Contains(last, want) {
				return last
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s never contained %q; last: %s", url, want, last)
	return ""
}

func TestAuditVerifyFindsTampering(t *testing.T) {
	dsn := storetest.NewDSN(t)
	env := []string{"DATABASE_URL=" + dsn, "SPORTELLO_DATA=" + t.TempDir()}
	sportello(t, env, "pw\n", "user", "add", "--email", "giulia@studio.test", "--name", "Giulia")
	for _, addr := range []string{"info@studio.test", "pec@studio.test"} {
		if r := sportello(t, env, "pw\n", "account", "add", "--name", addr, "--address", addr, "--imap", "127.0.0.1:1", "--smtp", "127.0.0.1:1"); r.err != nil {
			t.Fatal(r.stderr)
		}
	}
	sportello(t, env, "", "grant", "--user", "giulia@studio.test", "--account", "1", "--role", "manager")
	r := sportello(t, env, "", "audit", "verify")
	if r.err != nil || !strings.Contains(r.stdout, "intact: 3 rows") {
		t.Fatalf("audit verify on an intact log: %v %q %q", r.err, r.stdout, r.stderr)
	}
	head := sportello(t, env, "", "audit", "head")
	if head.err != nil || !strings.HasPrefix(head.stdout, "3 ") {
		t.Fatalf("audit head: %q", head.stdout)
	}
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), `ALTER TABLE activity DISABLE TRIGGER activity_append_only;
		UPDATE activity SET detail = 'account added: someone-else@studio.test' WHERE seq = 2;
		ALTER TABLE activity ENABLE TRIGGER activity_append_only`); err != nil {
		t.Fatal(err)
	}
	r = sportello(t, env, "", "audit", "verify")
	if r.err == nil || !strings.Contains(r.stderr, "broken at row 2") {
		t.Fatalf("audit verify after tampering: %v %q", r.err, r.stderr)
	}
}
