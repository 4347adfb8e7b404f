package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Outbox states.
const (
	OutboxQueued    = "queued"
	OutboxSending   = "sending"
	OutboxSMTPDone  = "smtp_done"
	OutboxSent      = "sent"
	OutboxFailed    = "failed"
	OutboxDiscarded = "discarded"
)

// Outgoing is one message in the outbox.
type Outgoing struct {
	ID             int64
	AccountID      int64
	Actor          string
	IdempotencyKey string
	State          string
	MailFrom       string
	Rcpt           []string
	Raw            []byte
	MessageID      string
	Subject        string
	Recipients     string
	Attempts       int
	NextAttempt    time.Time
	LastAnswer     string
	ActivitySeq    int64
	CreatedAt      time.Time
	SentAt         *time.Time
}

// Outbox is the durable queue of outgoing mail.
type Outbox struct {
	s *Store
}

// Outbox returns the outbox aggregate.
func (s *Store) Outbox() *Outbox { return &Outbox{s: s} }

const outgoingColumns = `id, account_id, actor, idempotency_key, state, mail_from, rcpt, raw, message_id, subject, recipients,
	attempts, next_attempt, last_answer, activity_seq, created_at, sent_at`

func scanOutgoing(r pgx.Row) (Outgoing, error) {
	var o Outgoing
	err := r.Scan(&o.ID, &o.AccountID, &o.Actor, &o.IdempotencyKey, &o.State, &o.MailFrom, &o.Rcpt, &o.Raw, &o.MessageID,
		&o.Subject, &o.Recipients, &o.Attempts, &o.NextAttempt, &o.LastAnswer, &o.ActivitySeq, &o.CreatedAt, &o.SentAt)
	return o, notFound(err)
}

// Enqueue stores a message and its pending "send" activity row in one
// transaction. The same idempotency key twice returns the first message
// and created=false: pressing Send five times sends once.
func (b *Outbox) Enqueue(ctx context.Context, o Outgoing, userID int64, e Entry) (Outgoing, bool, error) {
	var out Outgoing
	created := false
	err := pgx.BeginFunc(ctx, b.s.Pool, func(tx pgx.Tx) error {
		// Serialize the same key: the second request waits, then finds
		// the first one's row.
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtext($1))", fmt.Sprint(o.AccountID, "/", o.IdempotencyKey)); err != nil {
			return err
		}
		existing, err := scanOutgoing(tx.QueryRow(ctx, "SELECT "+outgoingColumns+" FROM outbox WHERE account_id = $1 AND idempotency_key = $2", o.AccountID, o.IdempotencyKey))
		if err == nil {
			out = existing
			return nil
		}
		if err != ErrNotFound {
			return err
		}
		e.Outcome = OutcomePending
		seq, err := appendTx(ctx, tx, e)
		if err != nil {
			return err
		}
		out, err = scanOutgoing(tx.QueryRow(ctx, `INSERT INTO outbox (account_id, created_by, actor, idempotency_key, mail_from, rcpt, raw,
			message_id, subject, recipients, activity_seq) VALUES ($1, nullif($2::bigint, 0), $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING `+outgoingColumns,
			o.AccountID, userID, o.Actor, o.IdempotencyKey, o.MailFrom, o.Rcpt, o.Raw, o.MessageID, clean(o.Subject), clean(o.Recipients), seq))
		created = err == nil
		return err
	})
	if err != nil {
		return out, false, fmt.Errorf("store: unable to queue the message: %w", err)
	}
	return out, created, nil
}

// Claim takes up to n messages due for work (queued, or SMTP done but not
// yet in Sent), skipping accounts that reached their per-minute limit.
// A claim older than two minutes (its process died) is taken again.
func (b *Outbox) Claim(ctx context.Context, n int) ([]Outgoing, error) {
	rows, err := b.s.Pool.Query(ctx, `UPDATE outbox SET claimed_at = now(),
			state = CASE WHEN state = 'queued' THEN 'sending' ELSE state END,
			attempts = attempts + CASE WHEN state IN ('queued', 'sending') THEN 1 ELSE 0 END
		WHERE id IN (
			SELECT o.id FROM outbox o JOIN accounts a ON a.id = o.account_id
			WHERE o.state IN ('queued', 'sending', 'smtp_done') AND o.next_attempt <= now()
				AND (o.claimed_at IS NULL OR o.claimed_at < now() - interval '2 minutes' OR o.state = 'queued')
				AND (a.send_per_minute = 0 OR o.state = 'smtp_done' OR
					(SELECT count(*) FROM outbox s WHERE s.account_id = o.account_id AND s.sent_at > now() - interval '1 minute') < a.send_per_minute)
			ORDER BY o.id LIMIT $1 FOR UPDATE OF o SKIP LOCKED)
		RETURNING `+outgoingColumns, n)
	if err != nil {
		return nil, fmt.Errorf("store: unable to claim outgoing mail: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Outgoing, error) { return scanOutgoing(r) })
}

// SMTPDone records that the server accepted the message: whatever happens
// next, it is not submitted again.
func (b *Outbox) SMTPDone(ctx context.Context, id int64, answer string) error {
	_, err := b.s.Pool.Exec(ctx, `UPDATE outbox SET state = 'smtp_done', sent_at = now(), last_answer = $2, claimed_at = NULL WHERE id = $1`, id, clean(answer))
	return err
}

// Retry puts a message back in the queue after a transient failure.
func (b *Outbox) Retry(ctx context.Context, id int64, state string, after time.Duration, answer string) error {
	_, err := b.s.Pool.Exec(ctx, `UPDATE outbox SET state = $2, next_attempt = now() + $3::interval, last_answer = $4, claimed_at = NULL WHERE id = $1`,
		id, state, fmt.Sprintf("%d milliseconds", after.Milliseconds()), clean(answer))
	return err
}

// Finish closes a message (sent or failed) together with its activity
// row's outcome.
func (b *Outbox) Finish(ctx context.Context, o Outgoing, state, answer string, e Entry) error {
	return pgx.BeginFunc(ctx, b.s.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE outbox SET state = $2, last_answer = CASE WHEN $3 = '' THEN last_answer ELSE $3 END, claimed_at = NULL WHERE id = $1`,
			o.ID, state, clean(answer)); err != nil {
			return err
		}
		seq := o.ActivitySeq
		e.Completes = &seq
		_, err := appendTx(ctx, tx, e)
		return err
	})
}

// Requeue sends a failed message again (a manager's choice).
func (b *Outbox) Requeue(ctx context.Context, accountID, id int64) error {
	tag, err := b.s.Pool.Exec(ctx, `UPDATE outbox SET state = 'queued', next_attempt = now(), claimed_at = NULL WHERE id = $1 AND account_id = $2 AND state = 'failed'`, id, accountID)
	if err == nil && tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return err
}

// Discard drops a failed or queued message that was never accepted.
func (b *Outbox) Discard(ctx context.Context, accountID, id int64) error {
	tag, err := b.s.Pool.Exec(ctx, `UPDATE outbox SET state = 'discarded' WHERE id = $1 AND account_id = $2 AND state IN ('failed', 'queued')`, id, accountID)
	if err == nil && tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return err
}

// List returns an account's outgoing mail, newest first.
func (b *Outbox) List(ctx context.Context, accountID int64, limit int) ([]Outgoing, error) {
	rows, err := b.s.Pool.Query(ctx, "SELECT "+outgoingColumns+" FROM outbox WHERE account_id = $1 ORDER BY id DESC LIMIT $2", accountID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: unable to list the outbox: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Outgoing, error) { return scanOutgoing(r) })
}

// ByID returns one outgoing message of an account.
func (b *Outbox) ByID(ctx context.Context, accountID, id int64) (Outgoing, error) {
	return scanOutgoing(b.s.Pool.QueryRow(ctx, "SELECT "+outgoingColumns+" FROM outbox WHERE account_id = $1 AND id = $2", accountID, id))
}

// Waiting counts messages of an account held back by its send limit.
func (b *Outbox) Waiting(ctx context.Context, accountID int64) (int, error) {
	var n int
	err := b.s.Pool.QueryRow(ctx, "SELECT count(*) FROM outbox WHERE account_id = $1 AND state IN ('queued', 'sending')", accountID).Scan(&n)
	return n, err
}
