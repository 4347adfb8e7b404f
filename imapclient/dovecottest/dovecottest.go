// Package dovecottest starts a real Dovecot for tests: loopback only, a
// private configuration and mail folder per server, CONDSTORE and
// SPECIAL-USE on, plaintext login allowed (there is no network to protect).
package dovecottest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"
)

// Server is a running Dovecot.
type Server struct {
	Addr string // 127.0.0.1:port

	t       testing.TB
	dir     string
	port    int
	cmd     *exec.Cmd
	mailUID int
	mailGID int
	mu      sync.Mutex
	users   map[string]string
}

// Binary returns the path of dovecot, or an error saying what to install.
func Binary() (string, error) {
	for _, p := range []string{"/usr/sbin/dovecot", "/usr/local/sbin/dovecot"} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if p, err := exec.LookPath("dovecot"); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("dovecot not found: apt-get install dovecot-imapd")
}

// Start runs a Dovecot with the given users (address → password) and
// stops it when the test ends. In CI a missing Dovecot fails the test.
func Start(t testing.TB, users map[string]string) *Server {
	t.Helper()
	bin, err := Binary()
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("Dovecot is required in CI: %v", err)
		}
		t.Skipf("Dovecot is not available: %v", err)
	}
	dir, err := os.MkdirTemp("", "sportello-dovecot-*")
	if err != nil {
		t.Fatal(err)
	}
	_ = os.Chmod(dir, 0o755)
	s := &Server{t: t, dir: dir, port: freePort(t), users: map[string]string{}}
	s.Addr = fmt.Sprintf("127.0.0.1:%d", s.port)
	if err := os.MkdirAll(filepath.Join(dir, "mail"), 0o755); err != nil {
		t.Fatal(err)
	}
	mailUser, loginUser, internalUser := "dovecot", "dovenull", "dovecot"
	if os.Geteuid() != 0 {
		me, _ := user.Current()
		mailUser, loginUser, internalUser = me.Username, me.Username, me.Username
	}
	mu, err := user.Lookup(mailUser)
	if err != nil {
		t.Fatalf("dovecottest: %v", err)
	}
	s.mailUID, _ = strconv.Atoi(mu.Uid)
	s.mailGID, _ = strconv.Atoi(mu.Gid)
	_ = os.Chown(filepath.Join(dir, "mail"), s.mailUID, s.mailGID)
	for u, p := range users {
		s.users[u] = p
	}
	s.writeUsers()
	conf := fmt.Sprintf(config, dir, s.port, mailUser, loginUser, internalUser)
	if err := os.WriteFile(filepath.Join(dir, "dovecot.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	s.cmd = nil
	s.start(bin)
	t.Cleanup(func() {
		s.Kill()
		os.RemoveAll(dir)
	})
	return s
}

func (s *Server) start(bin string) {
	s.t.Helper()
	cmd := exec.Command(bin, "-F", "-c", filepath.Join(s.dir, "dovecot.conf"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("dovecottest: %v", err)
	}
	s.cmd = cmd
	go func() { _ = cmd.Wait() }()
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", s.Addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(s.dir, "dovecot.log"))
			s.t.Fatalf("dovecottest: Dovecot did not start on %s: %v\n%s", s.Addr, err, log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Kill stops Dovecot at once, every process of it, as a crash would.
func (s *Server) Kill() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	s.cmd = nil
	// Wait until the port is free again.
	for i := 0; i < 100; i++ {
		c, err := net.DialTimeout("tcp", s.Addr, 50*time.Millisecond)
		if err != nil {
			return
		}
		c.Close()
		time.Sleep(20 * time.Millisecond)
	}
}

// Restart starts Dovecot again on the same port and mail.
func (s *Server) Restart() {
	s.t.Helper()
	s.Kill()
	_ = os.RemoveAll(filepath.Join(s.dir, "run"))
	bin, _ := Binary()
	s.start(bin)
}

// SetPassword adds a user or changes a password, and returns once Dovecot
// accepts it (it rereads its password file on its own schedule).
func (s *Server) SetPassword(user, password string) {
	s.t.Helper()
	s.mu.Lock()
	s.users[user] = password
	s.mu.Unlock()
	s.writeUsers()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := imapclient.DialInsecure(s.Addr, nil)
		if err == nil {
			err = c.Login(user, password).Wait()
			c.Close()
		}
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("dovecottest: Dovecot never accepted the new password of %s: %v", user, err)
		}
		// Touch the file so its change is seen even within one second.
		later := time.Now().Add(time.Second)
		_ = os.Chtimes(filepath.Join(s.dir, "users"), later, later)
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *Server) writeUsers() {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b strings.Builder
	for u, p := range s.users {
		fmt.Fprintf(&b, "%s:{PLAIN}%s\n", u, p)
	}
	if err := os.WriteFile(filepath.Join(s.dir, "users"), []byte(b.String()), 0o644); err != nil {
		s.t.Fatal(err)
	}
}

// Dial logs in as user, like another mail client (a phone, Outlook).
func (s *Server) Dial(user string) *imapclient.Client {
	s.t.Helper()
	c, err := imapclient.DialInsecure(s.Addr, nil)
	if err != nil {
		s.t.Fatalf("dovecottest: %v", err)
	}
	s.mu.Lock()
	pw := s.users[user]
	s.mu.Unlock()
	if err := c.Login(user, pw).Wait(); err != nil {
		s.t.Fatalf("dovecottest: login %s: %v", user, err)
	}
	s.t.Cleanup(func() { c.Close() })
	return c
}

// SeedMaildir writes messages straight into a user's folder, far faster
// than APPEND for thousands of messages; Dovecot assigns UIDs (in order) when
// it next looks. flags is a Maildir info suffix such as "S" (seen) or "".
func (s *Server) SeedMaildir(user, folder string, msgs [][]byte, flags func(i int) string) {
	s.t.Helper()
	dir := filepath.Join(s.dir, "mail", user)
	if folder != "INBOX" {
		dir = filepath.Join(dir, "."+folder)
	}
	for _, sub := range []string{"cur", "new", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			s.t.Fatal(err)
		}
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	prefix := hex.EncodeToString(b)
	base := time.Now().Unix() - int64(len(msgs))
	for i, m := range msgs {
		f := ""
		if flags != nil {
			f = flags(i)
		}
		name := fmt.Sprintf("%d.M%dP%s.sportello:2,%s", base+int64(i), i, prefix, f)
		path := filepath.Join(dir, "cur", name)
		if err := os.WriteFile(path, m, 0o600); err != nil {
			s.t.Fatal(err)
		}
		mtime := time.Unix(base+int64(i), 0)
		_ = os.Chtimes(path, mtime, mtime)
	}
	_ = filepath.Walk(filepath.Join(s.dir, "mail", user), func(p string, _ os.FileInfo, err error) error {
		if err == nil {
			_ = os.Lchown(p, s.mailUID, s.mailGID)
		}
		return err
	})
}

func freePort(t testing.TB) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

const config = `base_dir = %[1]s/run
state_dir = %[1]s/run/state
instance_name = sportello-test-%[2]d
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
log_path = %[1]s/dovecot.log
mail_location = maildir:%[1]s/mail/%%u
mail_uid = %[3]s
mail_gid = %[3]s
first_valid_uid = 1
first_valid_gid = 1
default_login_user = %[4]s
default_internal_user = %[5]s
imap_idle_notify_interval = 2 mins
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%%u %[1]s/users
}
userdb {
  driver = static
  args = uid=%[3]s gid=%[3]s home=%[1]s/mail/%%u
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = %[2]d
  }
  inet_listener imaps {
    port = 0
  }
}
service stats {
  unix_listener stats-reader {
    mode = 0666
  }
  unix_listener stats-writer {
    mode = 0666
  }
}
namespace inbox {
  inbox = yes
  mailbox Sent {
    special_use = \Sent
    auto = subscribe
  }
  mailbox Trash {
    special_use = \Trash
    auto = subscribe
  }
  mailbox Drafts {
    special_use = \Drafts
    auto = subscribe
  }
  mailbox Junk {
    special_use = \Junk
    auto = subscribe
  }
  mailbox Archive {
    special_use = \Archive
    auto = subscribe
  }
}
`

// MailDir is the Maildir root of a user (INBOX lives there).
func (s *Server) MailDir(user string) string {
	return filepath.Join(s.dir, "mail", user)
}
