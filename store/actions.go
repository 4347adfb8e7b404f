package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// PendingAction is a delete waiting out its undo window.
type PendingAction struct {
	ID          int64
	AccountID   int64
	MessageID   int64
	Folder      string
	UIDValidity uint32
	UID         uint32
	Action      string
	Actor       string
	ActivitySeq int64
	RunAt       time.Time
}

// Schedule hides the message and queues the action to run at runAt.
func (s *Messages) Schedule(ctx context.Context, a PendingAction) (int64, error) {
	var id int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO pending_actions (account_id, message_id, folder, uidvalidity, uid, action, actor, activity_seq, run_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`, a.AccountID, a.MessageID, a.Folder, int64(a.UIDValidity), int64(a.UID),
			a.Action, a.Actor, a.ActivitySeq, a.RunAt).Scan(&id); err != nil {
			return err
		}
		return s.setHidden(ctx, tx, a.AccountID, a.Folder, a.MessageID, true)
	})
	if err != nil {
		return 0, fmt.Errorf("store: unable to schedule the action: %w", err)
	}
	return id, nil
}

func (s *Messages) setHidden(ctx context.Context, tx pgx.Tx, accountID int64, folder string, messageID int64, hidden bool) error {
	if _, err := tx.Exec(ctx, "UPDATE messages SET hidden = $2 WHERE id = $1", messageID, hidden); err != nil {
		return err
	}
	return notify(ctx, tx, Change{Account: accountID, Folder: folder, Kind: ChangeExpunge, IDs: []int64{messageID}})
}

// Cancel takes back a pending action that has not started, shows the
// message again and returns the action; ErrNotFound when it is too late.
func (s *Messages) Cancel(ctx context.Context, accountID, id int64) (PendingAction, error) {
	var a PendingAction
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var uidValidity, uid int64
		err := tx.QueryRow(ctx, `DELETE FROM pending_actions WHERE id = $1 AND account_id = $2 AND started_at IS NULL
			RETURNING id, account_id, message_id, folder, uidvalidity, uid, action, actor, activity_seq, run_at`, id, accountID).Scan(
			&a.ID, &a.AccountID, &a.MessageID, &a.Folder, &uidValidity, &uid, &a.Action, &a.Actor, &a.ActivitySeq, &a.RunAt)
		if err != nil {
			return notFound(err)
		}
		a.UIDValidity, a.UID = uint32(uidValidity), uint32(uid)
		return s.setHidden(ctx, tx, a.AccountID, a.Folder, a.MessageID, false)
	})
	return a, err
}

// ClaimDue marks up to n due actions started and returns them. An action
// started long ago by a process that died is claimed again.
func (s *Messages) ClaimDue(ctx context.Context, n int) ([]PendingAction, error) {
	rows, err := s.pool.Query(ctx, `UPDATE pending_actions SET started_at = now()
		WHERE id IN (SELECT id FROM pending_actions
			WHERE run_at <= now() AND (started_at IS NULL OR started_at < now() - interval '2 minutes')
			ORDER BY run_at LIMIT $1 FOR UPDATE SKIP LOCKED)
		RETURNING id, account_id, message_id, folder, uidvalidity, uid, action, actor, activity_seq, run_at`, n)
	if err != nil {
		return nil, fmt.Errorf("store: unable to claim actions: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (PendingAction, error) {
		var a PendingAction
		var uidValidity, uid int64
		err := r.Scan(&a.ID, &a.AccountID, &a.MessageID, &a.Folder, &uidValidity, &uid, &a.Action, &a.Actor, &a.ActivitySeq, &a.RunAt)
		a.UIDValidity, a.UID = uint32(uidValidity), uint32(uid)
		return a, err
	})
}

// Done removes a finished action.
func (s *Messages) Done(ctx context.Context, id int64) error {
	_, err := s.pool.Exec(ctx, "DELETE FROM pending_actions WHERE id = $1", id)
	return err
}

// Unhide shows a message again (its action failed).
func (s *Messages) Unhide(ctx context.Context, accountID int64, folder string, messageID int64) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		return s.setHidden(ctx, tx, accountID, folder, messageID, false)
	})
}

// ExpectRemoval records that Sportello is about to remove these UIDs from
// a folder, so sync does not report them as removed by another client.
func (s *Messages) ExpectRemoval(ctx context.Context, folderID int64, uids []uint32) error {
	batch := &pgx.Batch{}
	for _, u := range uids {
		batch.Queue(`INSERT INTO expected_removals (folder_id, uid, until) VALUES ($1, $2, now() + interval '10 minutes')
			ON CONFLICT (folder_id, uid) DO UPDATE SET until = excluded.until`, folderID, int64(u))
	}
	return s.pool.SendBatch(ctx, batch).Close()
}

// Expected filters uids down to those Sportello removed itself, forgetting
// them, and drops stale expectations.
func (s *Messages) Expected(ctx context.Context, folderID int64, uids []uint32) (map[uint32]bool, error) {
	list := make([]int64, len(uids))
	for i, u := range uids {
		list[i] = int64(u)
	}
	rows, err := s.pool.Query(ctx, `DELETE FROM expected_removals WHERE folder_id = $1 AND (uid = ANY($2) OR until < now()) RETURNING uid, until >= now()`, folderID, list)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[uint32]bool{}
	for rows.Next() {
		var uid int64
		var live bool
		if err := rows.Scan(&uid, &live); err != nil {
			return nil, err
		}
		if live {
			out[uint32(uid)] = true
		}
	}
	return out, rows.Err()
}

// RememberOrigin records where a message moved to Trash came from.
func (s *Messages) RememberOrigin(ctx context.Context, accountID int64, trash string, uidValidity, uid uint32, origin string) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO trash_origins (account_id, trash_folder, uidvalidity, uid, origin_folder) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (account_id, trash_folder, uidvalidity, uid) DO UPDATE SET origin_folder = excluded.origin_folder`,
		accountID, trash, int64(uidValidity), int64(uid), origin)
	return err
}

// Origin returns the folder a trashed message came from, or "".
func (s *Messages) Origin(ctx context.Context, accountID int64, trash string, uidValidity, uid uint32) (string, error) {
	var origin string
	err := s.pool.QueryRow(ctx, `SELECT origin_folder FROM trash_origins WHERE account_id = $1 AND trash_folder = $2 AND uidvalidity = $3 AND uid = $4`,
		accountID, trash, int64(uidValidity), int64(uid)).Scan(&origin)
	if err == pgx.ErrNoRows {
		return "", nil
	}
	return origin, err
}
