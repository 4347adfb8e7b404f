package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Folder is a cached IMAP mailbox of an account.
type Folder struct {
	ID            int64
	AccountID     int64
	Name          string
	Delimiter     string
	SpecialUse    string // \Sent, \Trash, ... or empty
	UIDValidity   uint32
	UIDNext       uint32
	HighestModSeq uint64
	SyncedAt      *time.Time
	Total         int64
	Unread        int64
}

// Folders is the folder cache aggregate.
type Folders struct {
	pool *pgxpool.Pool
}

const folderColumns = "f.id, f.account_id, f.name, f.delimiter, f.special_use, f.uidvalidity, f.uidnext, f.highest_modseq, f.synced_at"

func scanFolder(row pgx.Row, withCounts bool) (Folder, error) {
	var f Folder
	var uidvalidity, uidnext, modseq int64
	dest := []any{&f.ID, &f.AccountID, &f.Name, &f.Delimiter, &f.SpecialUse, &uidvalidity, &uidnext, &modseq, &f.SyncedAt}
	if withCounts {
		dest = append(dest, &f.Total, &f.Unread)
	}
	if err := row.Scan(dest...); err != nil {
		return f, notFound(err)
	}
	f.UIDValidity, f.UIDNext, f.HighestModSeq = uint32(uidvalidity), uint32(uidnext), uint64(modseq)
	return f, nil
}

// Ensure returns the folder named name, creating it when new, and records
// its delimiter and special use.
func (s *Folders) Ensure(ctx context.Context, accountID int64, name, delimiter, specialUse string) (Folder, error) {
	f, err := scanFolder(s.pool.QueryRow(ctx, `INSERT INTO folders AS f (account_id, name, delimiter, special_use)
		VALUES ($1, $2, $3, $4)
		ON CONFLICT (account_id, name) DO UPDATE SET delimiter = excluded.delimiter, special_use = excluded.special_use
		RETURNING `+folderColumns, accountID, name, delimiter, specialUse), false)
	if err != nil {
		return f, fmt.Errorf("store: unable to record folder %s: %w", name, err)
	}
	return f, nil
}

// List returns an account's folders with message and unread counts.
func (s *Folders) List(ctx context.Context, accountID int64) ([]Folder, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+folderColumns+`, f.total,
		(SELECT count(*) FROM messages m WHERE m.folder_id = f.id AND NOT m.seen)
		FROM folders f WHERE f.account_id = $1 ORDER BY f.name`, accountID)
	if err != nil {
		return nil, fmt.Errorf("store: unable to list folders: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Folder, error) { return scanFolder(r, true) })
}

// ByName returns one folder of an account.
func (s *Folders) ByName(ctx context.Context, accountID int64, name string) (Folder, error) {
	return scanFolder(s.pool.QueryRow(ctx, "SELECT "+folderColumns+" FROM folders f WHERE f.account_id = $1 AND f.name = $2", accountID, name), false)
}

// Delete forgets a folder that no longer exists on the server.
func (s *Folders) Delete(ctx context.Context, id int64) error {
	_, err := s.pool.Exec(ctx, "DELETE FROM folders WHERE id = $1", id)
	return err
}

// Rename records a folder renamed on the server, keeping its messages.
func (s *Folders) Rename(ctx context.Context, id int64, newName string) error {
	_, err := s.pool.Exec(ctx, "UPDATE folders SET name = $2 WHERE id = $1", id, newName)
	return err
}

// SaveState records how far the folder is synced.
func (s *Folders) SaveState(ctx context.Context, id int64, uidValidity, uidNext uint32, modSeq uint64) error {
	_, err := s.pool.Exec(ctx, `UPDATE folders SET uidvalidity = $2, uidnext = $3, highest_modseq = $4, synced_at = now()
		WHERE id = $1`, id, int64(uidValidity), int64(uidNext), int64(modSeq))
	if err != nil {
		return fmt.Errorf("store: unable to save folder state: %w", err)
	}
	return nil
}

// Reset drops a folder's cached messages after a UIDVALIDITY change and
// records the new UIDVALIDITY. It returns how many messages were dropped.
func (s *Folders) Reset(ctx context.Context, id int64, uidValidity uint32) (int64, error) {
	var n int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, "DELETE FROM messages WHERE folder_id = $1", id)
		if err != nil {
			return err
		}
		n = tag.RowsAffected()
		_, err = tx.Exec(ctx, "UPDATE folders SET uidvalidity = $2, uidnext = 0, highest_modseq = 0 WHERE id = $1", id, int64(uidValidity))
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: unable to reset folder: %w", err)
	}
	return n, nil
}

// DeleteAll forgets an account's whole cache (its mail server was replaced).
func (s *Folders) DeleteAll(ctx context.Context, accountID int64) error {
	_, err := s.pool.Exec(ctx, "DELETE FROM folders WHERE account_id = $1", accountID)
	return err
}

// unreadFor counts, per folder, what userID has not read: neither the
// shared \Seen flag nor their own opening.
const unreadFor = `(SELECT count(*) FROM messages m WHERE m.folder_id = f.id AND NOT m.seen
	AND NOT EXISTS (SELECT 1 FROM message_reads r WHERE r.user_id = $2 AND r.message_id = m.id))`

// ListFor returns an account's folders with their totals and what userID
// has not read.
func (s *Folders) ListFor(ctx context.Context, accountID, userID int64) ([]Folder, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+folderColumns+`, f.total, `+unreadFor+`
		FROM folders f WHERE f.account_id = $1 ORDER BY f.name`, accountID, userID)
	if err != nil {
		return nil, fmt.Errorf("store: unable to list folders: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Folder, error) { return scanFolder(r, true) })
}
