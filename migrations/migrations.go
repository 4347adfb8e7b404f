// Package migrations holds the database schema as numbered SQL files,
// embedded in the binary and applied with tern under an advisory lock.
package migrations

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/tern/v2/migrate"
)

//go:embed *.sql
var files embed.FS

const versionTable = "schema_version"

// lockKey serializes migrations across processes (any constant will do; this
// one spells "sportell").
const lockKey = 0x73706f7274656c6c

// ErrSchemaTooNew means the database was migrated by a newer Sportello.
var ErrSchemaTooNew = errors.New("migrations: the database schema is newer than this Sportello")

// Latest is the schema version this binary knows.
func Latest() int32 {
	entries, _ := fs.Glob(files, "*.sql")
	return int32(len(entries))
}

// Apply brings the database up to the latest schema. Two processes may call
// it at once: the second waits for the first and then finds nothing to do.
func Apply(ctx context.Context, conn *pgx.Conn) error {
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", int64(lockKey)); err != nil {
		return fmt.Errorf("migrations: unable to take the migration lock: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", int64(lockKey))

	m, err := migrate.NewMigrator(ctx, conn, versionTable)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	if err := m.LoadMigrations(files); err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	current, err := m.GetCurrentVersion(ctx)
	if err != nil {
		return fmt.Errorf("migrations: unable to read the schema version: %w", err)
	}
	if current > int32(len(m.Migrations)) {
		return fmt.Errorf("%w: the database is at version %d, this binary knows up to %d; upgrade Sportello before starting it on this database", ErrSchemaTooNew, current, len(m.Migrations))
	}
	if err := m.Migrate(ctx); err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	return nil
}

// FS exposes the migration files (for tests that fingerprint the schema).
func FS() fs.FS { return files }
