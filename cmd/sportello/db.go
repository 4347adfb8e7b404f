package main

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"sportello/migrations"
	"sportello/store"
	"sportello/store/embedpg"
)

// database is an open, migrated database and what must be closed after it.
type database struct {
	pool    *pgxpool.Pool
	store   *store.Store
	cluster *embedpg.Cluster
}

// openDatabase connects to DATABASE_URL or to the embedded cluster under
// the data folder (joining it when a server already runs it, starting it
// otherwise), applies the migrations and returns a store.
func openDatabase(ctx context.Context, cfg config) (*database, error) {
	key, err := cfg.secretKey()
	if err != nil {
		return nil, err
	}
	sealer, err := store.NewSealer(key)
	if err != nil {
		return nil, err
	}
	db := &database{}
	dsn := cfg.DatabaseURL
	if dsn == "" {
		if db.cluster, err = embedpg.Start(ctx, cfg.DataDir+"/pg"); err != nil {
			return nil, err
		}
		if err := ensureDatabase(ctx, db.cluster, "sportello"); err != nil {
			db.close(ctx)
			return nil, err
		}
		dsn = db.cluster.DSN("sportello")
	}
	if err := migrate(ctx, dsn); err != nil {
		db.close(ctx)
		return nil, err
	}
	if db.pool, err = store.Connect(ctx, dsn); err != nil {
		db.close(ctx)
		return nil, err
	}
	db.store = store.New(db.pool, sealer)
	return db, nil
}

func (db *database) close(ctx context.Context) {
	if db.pool != nil {
		db.pool.Close()
	}
	if db.cluster != nil {
		if err := db.cluster.Stop(context.WithoutCancel(ctx)); err != nil {
			fmt.Printf("sportello: %v\n", err)
		}
	}
}

func ensureDatabase(ctx context.Context, c *embedpg.Cluster, name string) error {
	conn, err := pgx.Connect(ctx, c.DSN("postgres"))
	if err != nil {
		return fmt.Errorf("the embedded PostgreSQL does not answer: %w", err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	if err != nil && !isDuplicateDatabase(err) {
		return fmt.Errorf("unable to create the database %s: %w", name, err)
	}
	return nil
}

func migrate(ctx context.Context, dsn string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return fmt.Errorf("the database does not answer (check DATABASE_URL): %w", err)
	}
	defer conn.Close(ctx)
	return migrations.Apply(ctx, conn)
}

func migrateCmd(ctx context.Context, cfg config, stdout interface{ Write([]byte) (int, error) }) error {
	db, err := openDatabase(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.close(ctx)
	fmt.Fprintf(stdout, "schema at version %d\n", migrations.Latest())
	return nil
}
