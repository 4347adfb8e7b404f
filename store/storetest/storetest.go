// Package storetest builds the test world's database: a real PostgreSQL
// started with the same launcher as the embedded default, shared by every
// test process, and a freshly migrated database per test.
package storetest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"sportello/migrations"
	"sportello/store"
	"sportello/store/embedpg"
)

var (
	once    sync.Once
	cluster *embedpg.Cluster
	tmpl    string
	initErr error
)

// Main runs a package's tests and stops the shared cluster afterwards.
// Call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	if cluster != nil {
		_ = cluster.Stop(context.Background())
	}
	os.Exit(code)
}

// Missing fails the test in CI (CI=true) and skips it elsewhere: in CI a
// server a test needs is never optional.
func Missing(t testing.TB, what string, err error) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is required in CI: %v", what, err)
	}
	t.Skipf("%s is not available: %v", what, err)
}

func start() {
	ctx := context.Background()
	dir := os.Getenv("SPORTELLO_TEST_PG")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "sportello-test-pg")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		initErr = err
		return
	}
	cluster, initErr = embedpg.Start(ctx, dir)
	if initErr != nil {
		return
	}
	tmpl, initErr = ensureTemplate(ctx)
}

// ensureTemplate creates, once per schema, a migrated template database
// that each test's database is copied from.
func ensureTemplate(ctx context.Context) (string, error) {
	name := "tmpl_" + schemaHash()
	conn, err := pgx.Connect(ctx, cluster.DSN("postgres"))
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock(4242)"); err != nil {
		return "", err
	}
	defer conn.Exec(ctx, "SELECT pg_advisory_unlock(4242)")
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", err
	}
	tc, err := pgx.Connect(ctx, cluster.DSN(name))
	if err != nil {
		return "", err
	}
	defer tc.Close(ctx)
	if err := migrations.Apply(ctx, tc); err != nil {
		return "", err
	}
	return name, nil
}

func schemaHash() string {
	h := sha256.New()
	_ = fs.WalkDir(migrations.FS(), ".", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := fs.ReadFile(migrations.FS(), path)
			h.Write([]byte(path))
			h.Write(b)
		}
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))[:12]
}

// Cluster returns the shared test cluster, starting it on first use.
func Cluster(t testing.TB) *embedpg.Cluster {
	t.Helper()
	once.Do(start)
	if initErr != nil {
		if errors.Is(initErr, embedpg.ErrNoBinaries) {
			Missing(t, "PostgreSQL", initErr)
		}
		t.Fatalf("storetest: %v", initErr)
	}
	return cluster
}

// NewDSN creates an empty migrated database for this test, dropped when the
// test ends, and returns its connection string.
func NewDSN(t testing.TB) string {
	t.Helper()
	c := Cluster(t)
	ctx := context.Background()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "t_" + hex.EncodeToString(b)
	conn, err := pgx.Connect(ctx, c.DSN("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	// Two tests copying the template at the same instant collide
	// ("source database is being accessed by other users"): try again.
	for try := 0; ; try++ {
		_, err = conn.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", name, tmpl))
		if err == nil {
			break
		}
		if try == 50 {
			t.Fatalf("storetest: %v", err)
		}
		time.Sleep(time.Duration(20+try*10) * time.Millisecond)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, c.DSN("postgres"))
		if err != nil {
			return
		}
		defer conn.Close(ctx)
		_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	return c.DSN(name)
}

// TestKey is the secret key of test stores.
var TestKey = []byte("0123456789abcdef0123456789abcdef")

// New returns a Store on a fresh database.
func New(t testing.TB) *store.Store {
	t.Helper()
	pool, err := store.Connect(context.Background(), NewDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	sealer, err := store.NewSealer(TestKey)
	if err != nil {
		t.Fatal(err)
	}
	return store.New(pool, sealer)
}
