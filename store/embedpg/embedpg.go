// Package embedpg runs a private PostgreSQL cluster from the machine's own
// PostgreSQL binaries, listening on a Unix socket inside its folder only.
//
// Several processes may use one cluster: the first one starts it, the last
// one out stops it. A shared file lock marks each user; start and stop happen
// under an exclusive launch lock. It imports no other package of the project.
package embedpg

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ErrNoBinaries is returned when no PostgreSQL server binaries can be found.
var ErrNoBinaries = errors.New("no PostgreSQL server binaries found (looked at `pg_config --bindir` and /usr/lib/postgresql/*/bin): install them with `apt-get install postgresql`, or set DATABASE_URL to an existing server")

// Cluster is a running (or reachable) private cluster.
type Cluster struct {
	dir     string // the cluster folder: data/, the socket and the locks
	bin     string
	started bool
	users   *os.File
	owner   *user.User // non-nil when the server runs as another OS user
}

// Dir is the folder holding the cluster.
func (c *Cluster) Dir() string { return c.dir }

// DSN is the connection string for database dbname.
func (c *Cluster) DSN(dbname string) string {
	return fmt.Sprintf("host=%s port=5432 user=postgres dbname=%s sslmode=disable", c.dir, dbname)
}

// FindBinaries returns the folder holding initdb, pg_ctl and postgres.
func FindBinaries() (string, error) {
	var candidates []string
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		candidates = append(candidates, strings.TrimSpace(string(out)))
	}
	globbed, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(globbed, func(i, j int) bool { return versionOf(globbed[i]) > versionOf(globbed[j]) })
	candidates = append(candidates, globbed...)
	for _, dir := range candidates {
		if isExecutable(filepath.Join(dir, "initdb")) && isExecutable(filepath.Join(dir, "pg_ctl")) && isExecutable(filepath.Join(dir, "postgres")) {
			return dir, nil
		}
	}
	return "", ErrNoBinaries
}

func versionOf(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// Start makes sure the cluster under dir exists and runs, creating it on
// first use, and registers this process as one of its users. Stop releases it.
func Start(ctx context.Context, dir string) (*Cluster, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("the data folder %s cannot be created: %w", dir, err)
	}
	if err := checkWritable(dir); err != nil {
		return nil, err
	}
	c := &Cluster{dir: dir}
	if os.Geteuid() == 0 {
		c.owner, err = user.Lookup("postgres")
		if err != nil {
			return nil, errors.New("PostgreSQL refuses to run as root and there is no `postgres` system user: install the postgresql package, or run Sportello as an ordinary user")
		}
		// The folder itself; what PostgreSQL made inside is its own already.
		if err := c.chown(dir); err != nil {
			return nil, err
		}
		if err := c.checkReachable(); err != nil {
			return nil, err
		}
	}

	launch, err := lockFile(filepath.Join(dir, "launch.lock"), syscall.LOCK_EX)
	if err != nil {
		return nil, err
	}
	defer unlockFile(launch)

	if c.users, err = lockFile(filepath.Join(dir, "users.lock"), syscall.LOCK_SH); err != nil {
		return nil, err
	}
	if c.running() {
		return c, nil
	}
	if c.bin, err = FindBinaries(); err != nil {
		unlockFile(c.users)
		return nil, err
	}
	if err := c.initdb(ctx); err != nil {
		unlockFile(c.users)
		return nil, err
	}
	if err := c.start(ctx); err != nil {
		unlockFile(c.users)
		return nil, err
	}
	c.started = true
	return c, nil
}

func checkWritable(dir string) error {
	f, err := os.CreateTemp(dir, ".write-test-*")
	if err != nil {
		return fmt.Errorf("the data folder %s is not writable: %w", dir, err)
	}
	f.Close()
	return os.Remove(f.Name())
}

// checkReachable fails clearly when the postgres user cannot traverse the
// path to the cluster (a checkout under /root, say).
func (c *Cluster) checkReachable() error {
	uid, _ := strconv.Atoi(c.owner.Uid)
	gid, _ := strconv.Atoi(c.owner.Gid)
	for p := filepath.Dir(c.dir); ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		mode := fi.Mode().Perm()
		if p == filepath.Dir(c.dir) && int(st.Uid) == os.Geteuid() && mode&0o001 == 0 {
			// Our own data folder: let the postgres user pass through it
			// (not list it) to reach the cluster.
			if err := os.Chmod(p, mode|0o001); err == nil {
				continue
			}
		}
		ok := mode&0o001 != 0 || (int(st.Uid) == uid && mode&0o100 != 0) || (int(st.Gid) == gid && mode&0o010 != 0)
		if !ok {
			return fmt.Errorf("PostgreSQL runs as the postgres system user, which cannot enter %s: set SPORTELLO_DATA to a folder it can reach (for example /var/lib/sportello)", p)
		}
		if p == "/" {
			return nil
		}
	}
}

func (c *Cluster) chown(path string) error {
	uid, _ := strconv.Atoi(c.owner.Uid)
	gid, _ := strconv.Atoi(c.owner.Gid)
	return os.Lchown(path, uid, gid)
}

func (c *Cluster) dataDir() string { return filepath.Join(c.dir, "data") }

// running reports whether a server answers on the cluster's socket.
func (c *Cluster) running() bool {
	conn, err := dialSocket(filepath.Join(c.dir, ".s.PGSQL.5432"))
	if err != nil {
		return false
	}
	conn.Close()
	return true
}

func (c *Cluster) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(c.bin, name), args...)
	cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8", "TZ=UTC")
	// The server must outlive a Ctrl-C sent to our process group: we stop it
	// ourselves, cleanly, on the way out.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if c.owner != nil {
		uid, _ := strconv.Atoi(c.owner.Uid)
		gid, _ := strconv.Atoi(c.owner.Gid)
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		cmd.Dir = "/"
	}
	return cmd
}

func (c *Cluster) initdb(ctx context.Context) error {
	if _, err := os.Stat(filepath.Join(c.dataDir(), "PG_VERSION")); err == nil {
		return nil
	}
	if err := os.MkdirAll(c.dataDir(), 0o700); err != nil {
		return err
	}
	if c.owner != nil {
		if err := c.chown(c.dataDir()); err != nil {
			return err
		}
	}
	out, err := c.command(ctx, "initdb", "-D", c.dataDir(), "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--no-instructions").CombinedOutput()
	if err != nil {
		return fmt.Errorf("initdb failed: %w\n%s", err, out)
	}
	conf := fmt.Sprintf(`
listen_addresses = ''
unix_socket_directories = '%s'
unix_socket_permissions = 0700
fsync = on
max_connections = 200
shared_buffers = 128MB
log_min_messages = warning
`, c.dir)
	f, err := os.OpenFile(filepath.Join(c.dataDir(), "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.WriteString(conf)
	return err
}

func (c *Cluster) start(ctx context.Context) error {
	logFile := filepath.Join(c.dir, "postgres.log")
	if c.owner != nil {
		// pg_ctl writes the log as the postgres user.
		f, err := os.OpenFile(logFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err == nil {
			f.Close()
			_ = c.chown(logFile)
		}
	}
	out, err := c.command(ctx, "pg_ctl", "start", "-w", "-t", "60", "-D", c.dataDir(), "-l", logFile).CombinedOutput()
	if err != nil {
		return fmt.Errorf("PostgreSQL did not start (see %s): %w\n%s", logFile, err, out)
	}
	deadline := time.Now().Add(30 * time.Second)
	for !c.running() {
		if time.Now().After(deadline) {
			return fmt.Errorf("PostgreSQL started but its socket in %s does not answer", c.dir)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil
}

// Stop releases this process's use of the cluster and stops the server when
// no other process uses it.
func (c *Cluster) Stop(ctx context.Context) error {
	if c.users == nil {
		return nil
	}
	launch, err := lockFile(filepath.Join(c.dir, "launch.lock"), syscall.LOCK_EX)
	if err != nil {
		return err
	}
	defer unlockFile(launch)
	unlockFile(c.users)
	c.users = nil

	last, err := lockFile(filepath.Join(c.dir, "users.lock"), syscall.LOCK_EX|syscall.LOCK_NB)
	if err != nil {
		return nil // another process still uses the cluster
	}
	defer unlockFile(last)
	if !c.running() {
		return nil
	}
	if c.bin == "" {
		if c.bin, err = FindBinaries(); err != nil {
			return err
		}
	}
	out, err := c.command(ctx, "pg_ctl", "stop", "-w", "-m", "fast", "-D", c.dataDir()).CombinedOutput()
	if err != nil {
		return fmt.Errorf("PostgreSQL did not stop: %w\n%s", err, out)
	}
	return nil
}

func lockFile(path string, how int) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), how); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

func unlockFile(f *os.File) {
	_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	f.Close()
}
