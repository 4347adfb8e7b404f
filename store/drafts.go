package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Draft is a message being written.
type Draft struct {
	ID             int64
	AccountID      int64
	UpdatedBy      int64
	UpdatedByName  string
	UpdatedAt      time.Time
	Version        int
	To, Cc, Bcc    string
	Subject, Body  string
	InReplyTo      *int64
	Mode           string
	IdempotencyKey string
}

// ErrDraftConflict means someone else saved the draft since it was loaded.
var ErrDraftConflict = errors.New("store: someone else changed this draft")

// Drafts is the drafts aggregate.
type Drafts struct{ s *Store }

// Drafts returns the drafts aggregate.
func (s *Store) Drafts() *Drafts { return &Drafts{s: s} }

const draftColumns = `d.id, d.account_id, coalesce(d.updated_by, 0), coalesce(u.name, ''), d.updated_at, d.version, d.to_addrs, d.cc_addrs,
	d.bcc_addrs, d.subject, d.body, d.in_reply_to, d.mode, d.idempotency_key`

func scanDraft(r pgx.Row) (Draft, error) {
	var d Draft
	err := r.Scan(&d.ID, &d.AccountID, &d.UpdatedBy, &d.UpdatedByName, &d.UpdatedAt, &d.Version, &d.To, &d.Cc, &d.Bcc,
		&d.Subject, &d.Body, &d.InReplyTo, &d.Mode, &d.IdempotencyKey)
	return d, notFound(err)
}

// Save creates a draft (ID 0) or updates it if it is still at d.Version;
// otherwise it returns the draft as it now is and ErrDraftConflict.
func (b *Drafts) Save(ctx context.Context, userID int64, d Draft) (Draft, error) {
	if d.ID == 0 {
		return scanDraft(b.s.Pool.QueryRow(ctx, `WITH d AS (INSERT INTO drafts (account_id, created_by, updated_by, to_addrs, cc_addrs, bcc_addrs,
			subject, body, in_reply_to, mode, idempotency_key) VALUES ($1, $2, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING *)
			SELECT `+draftColumns+` FROM d LEFT JOIN users u ON u.id = d.updated_by`,
			d.AccountID, userID, clean(d.To), clean(d.Cc), clean(d.Bcc), clean(d.Subject), clean(d.Body), d.InReplyTo, d.Mode, d.IdempotencyKey))
	}
	saved, err := scanDraft(b.s.Pool.QueryRow(ctx, `WITH d AS (UPDATE drafts SET to_addrs = $4, cc_addrs = $5, bcc_addrs = $6, subject = $7, body = $8,
			updated_by = $3, updated_at = now(), version = version + 1
			WHERE id = $1 AND account_id = $2 AND (version = $9 OR updated_by = $3) RETURNING *)
		SELECT `+draftColumns+` FROM d LEFT JOIN users u ON u.id = d.updated_by`,
		d.ID, d.AccountID, userID, clean(d.To), clean(d.Cc), clean(d.Bcc), clean(d.Subject), clean(d.Body), d.Version))
	if errors.Is(err, ErrNotFound) {
		current, gerr := b.ByID(ctx, d.AccountID, d.ID)
		if gerr != nil {
			return Draft{}, gerr
		}
		return current, ErrDraftConflict
	}
	if err != nil {
		return Draft{}, fmt.Errorf("store: unable to save the draft: %w", err)
	}
	return saved, nil
}

// ByID returns a draft of an account.
func (b *Drafts) ByID(ctx context.Context, accountID, id int64) (Draft, error) {
	return scanDraft(b.s.Pool.QueryRow(ctx, "SELECT "+draftColumns+" FROM drafts d LEFT JOIN users u ON u.id = d.updated_by WHERE d.account_id = $1 AND d.id = $2", accountID, id))
}

// List returns an account's drafts, latest first.
func (b *Drafts) List(ctx context.Context, accountID int64) ([]Draft, error) {
	rows, err := b.s.Pool.Query(ctx, "SELECT "+draftColumns+" FROM drafts d LEFT JOIN users u ON u.id = d.updated_by WHERE d.account_id = $1 ORDER BY d.updated_at DESC", accountID)
	if err != nil {
		return nil, fmt.Errorf("store: unable to list drafts: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Draft, error) { return scanDraft(r) })
}

// Delete removes a draft (it was sent or thrown away).
func (b *Drafts) Delete(ctx context.Context, accountID, id int64) error {
	_, err := b.s.Pool.Exec(ctx, "DELETE FROM drafts WHERE account_id = $1 AND id = $2", accountID, id)
	return err
}
