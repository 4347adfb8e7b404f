// Package store is Sportello's PostgreSQL access: one file per aggregate,
// plain SQL through pgx. It imports no other package of the project.
package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

var (
	// ErrNotFound is returned when a row does not exist (or is not visible to
	// the caller).
	ErrNotFound = errors.New("store: not found")
	// ErrDuplicate is returned when a unique value is already taken.
	ErrDuplicate = errors.New("store: already exists")
)

// Store groups the aggregates over one connection pool.
type Store struct {
	Pool     *pgxpool.Pool
	Users    *Users
	Accounts *Accounts
	Activity *Activity
	Folders  *Folders
	Messages *Messages
}

// New wires the aggregates to pool. sealer encrypts mailbox credentials.
func New(pool *pgxpool.Pool, sealer *Sealer) *Store {
	return &Store{
		Pool:     pool,
		Users:    &Users{pool: pool},
		Accounts: &Accounts{pool: pool, sealer: sealer},
		Activity: &Activity{pool: pool},
		Folders:  &Folders{pool: pool},
		Messages: &Messages{pool: pool},
	}
}

// Connect opens a pool on dsn and checks that the server answers.
func Connect(ctx context.Context, dsn string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("store: the database address is not valid: %w", err)
	}
	if cfg.ConnConfig.RuntimeParams["application_name"] == "" {
		cfg.ConnConfig.RuntimeParams["application_name"] = "sportello"
	}
	// pgx's default (4 on this machine) queues a busy office's requests;
	// each request holds a connection only for a few short queries.
	if !strings.Contains(dsn, "pool_max_conns") {
		cfg.MaxConns = 24
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("store: the database at %s does not answer: %w", describeDSN(cfg), err)
	}
	return pool, nil
}

// describeDSN names the server without its password, for messages and logs.
func describeDSN(cfg *pgxpool.Config) string {
	return fmt.Sprintf("%s:%d/%s", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database)
}

func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505"
}

func notFound(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrNotFound
	}
	return err
}
