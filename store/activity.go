package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Activity actions, as the CSV export and scripts name them.
const (
	ActionLogin          = "login"
	ActionLogout         = "logout"
	ActionLoginFailed    = "login_failed"
	ActionOpen           = "open"
	ActionDownload       = "download"
	ActionDelete         = "delete"
	ActionExpunge        = "expunge"
	ActionRestore        = "restore"
	ActionMove           = "move"
	ActionFlag           = "flag"
	ActionSend           = "send"
	ActionExport         = "export"
	ActionGrant          = "grant"
	ActionRevoke         = "revoke"
	ActionAccountChange  = "account_change"
	ActionExternalDelete = "external_delete"
	ActionExternalMove   = "external_move"
)

// Outcomes of an activity row.
const (
	OutcomePending = "pending"
	OutcomeOK      = "ok"
	OutcomeFailed  = "failed"
)

// ActorExternal is the actor of changes made by another mail client.
const ActorExternal = "external"

// Entry is one activity row. Seq, At, PrevHash and Hash are set by Append.
type Entry struct {
	Seq         int64
	At          time.Time
	Actor       string
	RemoteAddr  string
	UserAgent   string
	Action      string
	AccountID   *int64
	Folder      string
	UID         *int64
	UIDValidity *int64
	MessageID   string
	Subject     string
	Sender      string
	Reason      string
	Outcome     string
	Detail      string
	Completes   *int64 // the pending row this one closes
	PrevHash    []byte
	Hash        []byte
}

// Activity is the append-only, hash-chained activity log.
type Activity struct {
	pool *pgxpool.Pool
}

// Append writes e at the head of the chain and returns its sequence number.
// Writers from any process serialize on the chain head row.
func (s *Activity) Append(ctx context.Context, e Entry) (int64, error) {
	var seq int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		seq, err = appendTx(ctx, tx, e)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: unable to append to the activity log: %w", err)
	}
	return seq, nil
}

// appendTx appends within the caller's transaction, so the row and the
// change it records commit together.
func appendTx(ctx context.Context, tx pgx.Tx, e Entry) (int64, error) {
	if e.Outcome == "" {
		e.Outcome = OutcomeOK
	}
	var seq int64
	err := func() error {
		var prev []byte
		if err := tx.QueryRow(ctx, "SELECT seq, hash FROM activity_head FOR UPDATE").Scan(&seq, &prev); err != nil {
			return err
		}
		seq++
		e.Seq = seq
		e.At = time.Now().UTC().Truncate(time.Microsecond)
		e.PrevHash = prev
		e.Hash = e.chainHash()
		if _, err := tx.Exec(ctx, `INSERT INTO activity (seq, at, actor, remote_addr, user_agent, action, account_id,
			folder, uid, uidvalidity, message_id, subject, sender, reason, outcome, detail, completes, prev_hash, hash)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)`,
			e.Seq, e.At, e.Actor, e.RemoteAddr, e.UserAgent, e.Action, e.AccountID, e.Folder, e.UID, e.UIDValidity,
			e.MessageID, e.Subject, e.Sender, e.Reason, e.Outcome, e.Detail, e.Completes, e.PrevHash, e.Hash); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "UPDATE activity_head SET seq = $1, hash = $2", e.Seq, e.Hash)
		return err
	}()
	return seq, err
}

// chainHash is SHA-256(previous hash || canonical content). The canonical
// content is every field, length-prefixed, so no two rows encode alike.
func (e *Entry) chainHash() []byte {
	var b bytes.Buffer
	b.Write(e.PrevHash)
	field := func(s string) {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(s)))
		b.Write(n[:])
		b.WriteString(s)
	}
	optional := func(p *int64) {
		if p == nil {
			field("")
			return
		}
		field(strconv.FormatInt(*p, 10))
	}
	field(strconv.FormatInt(e.Seq, 10))
	field(strconv.FormatInt(e.At.UnixMicro(), 10))
	for _, s := range []string{e.Actor, e.RemoteAddr, e.UserAgent, e.Action} {
		field(s)
	}
	optional(e.AccountID)
	field(e.Folder)
	optional(e.UID)
	optional(e.UIDValidity)
	for _, s := range []string{e.MessageID, e.Subject, e.Sender, e.Reason, e.Outcome, e.Detail} {
		field(s)
	}
	optional(e.Completes)
	sum := sha256.Sum256(b.Bytes())
	return sum[:]
}

const activityColumns = `seq, at, actor, remote_addr, user_agent, action, account_id, folder, uid, uidvalidity,
	message_id, subject, sender, reason, outcome, detail, completes, prev_hash, hash`

func scanEntry(row pgx.Row) (Entry, error) {
	var e Entry
	err := row.Scan(&e.Seq, &e.At, &e.Actor, &e.RemoteAddr, &e.UserAgent, &e.Action, &e.AccountID, &e.Folder, &e.UID,
		&e.UIDValidity, &e.MessageID, &e.Subject, &e.Sender, &e.Reason, &e.Outcome, &e.Detail, &e.Completes, &e.PrevHash, &e.Hash)
	return e, err
}

// ChainBreak describes the first row whose hash does not follow.
type ChainBreak struct {
	Seq    int64
	Reason string
}

// Verify walks the whole chain in order and returns the number of rows
// checked and the first break, if any.
func (s *Activity) Verify(ctx context.Context) (int64, *ChainBreak, error) {
	rows, err := s.pool.Query(ctx, "SELECT "+activityColumns+" FROM activity ORDER BY seq")
	if err != nil {
		return 0, nil, fmt.Errorf("store: unable to read the activity log: %w", err)
	}
	defer rows.Close()
	prev := make([]byte, sha256.Size)
	var n, wantSeq int64 = 0, 1
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return n, nil, fmt.Errorf("store: unable to read the activity log: %w", err)
		}
		switch {
		case e.Seq != wantSeq:
			return n, &ChainBreak{Seq: e.Seq, Reason: fmt.Sprintf("row %d is missing", wantSeq)}, nil
		case !bytes.Equal(e.PrevHash, prev):
			return n, &ChainBreak{Seq: e.Seq, Reason: "its previous-hash does not match the row before it"}, nil
		}
		e.At = e.At.UTC()
		if !bytes.Equal(e.chainHash(), e.Hash) {
			return n, &ChainBreak{Seq: e.Seq, Reason: "its content does not match its hash (the row was changed)"}, nil
		}
		prev = e.Hash
		wantSeq++
		n++
	}
	if err := rows.Err(); err != nil {
		return n, nil, err
	}
	var headSeq int64
	var headHash []byte
	if err := s.pool.QueryRow(ctx, "SELECT seq, hash FROM activity_head").Scan(&headSeq, &headHash); err != nil {
		return n, nil, err
	}
	if headSeq != wantSeq-1 || !bytes.Equal(headHash, prev) {
		return n, &ChainBreak{Seq: headSeq, Reason: "the chain head does not match the last row (rows were removed at the end)"}, nil
	}
	return n, nil, nil
}

// Head returns the latest sequence number and hash, for keeping elsewhere.
func (s *Activity) Head(ctx context.Context) (int64, []byte, error) {
	var seq int64
	var hash []byte
	err := s.pool.QueryRow(ctx, "SELECT seq, hash FROM activity_head").Scan(&seq, &hash)
	return seq, hash, err
}

// ListFilter narrows an activity listing.
type ListFilter struct {
	AccountID *int64
	Actor     string
	Action    string
	Limit     int
}

// List returns rows newest first.
func (s *Activity) List(ctx context.Context, f ListFilter) ([]Entry, error) {
	if f.Limit <= 0 {
		f.Limit = 200
	}
	rows, err := s.pool.Query(ctx, "SELECT "+activityColumns+` FROM activity
		WHERE ($1::bigint IS NULL OR account_id = $1) AND ($2 = '' OR actor = $2) AND ($3 = '' OR action = $3)
		ORDER BY seq DESC LIMIT $4`, f.AccountID, f.Actor, f.Action, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("store: unable to list activity: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Entry, error) { return scanEntry(r) })
}

// Action is one logged action with its final outcome: the row written
// before it, completed by the row written after (if any).
type Action struct {
	Entry
	AccountName string
}

// ActionFilter narrows the account's log.
type ActionFilter struct {
	AccountID int64
	Actor     string
	Action    string
	Since     *time.Time
	Until     *time.Time
	// One message: by Message-ID when it has one, else by folder and UID.
	MessageID   string
	Folder      string
	UID         *int64
	UIDValidity *int64
	Limit       int
}

// Actions returns the log of an account, newest first, one row per action.
func (s *Activity) Actions(ctx context.Context, f ActionFilter) ([]Action, error) {
	if f.Limit <= 0 {
		f.Limit = 500
	}
	rows, err := s.pool.Query(ctx, `SELECT a.seq, a.at, a.actor, a.remote_addr, a.user_agent, a.action, a.account_id, a.folder, a.uid,
			a.uidvalidity, a.message_id, a.subject, a.sender, a.reason, coalesce(c.outcome, a.outcome),
			coalesce(nullif(c.detail, ''), a.detail), coalesce(acc.name, '')
		FROM activity a
		LEFT JOIN LATERAL (SELECT outcome, detail FROM activity c WHERE c.completes = a.seq ORDER BY c.seq DESC LIMIT 1) c ON true
		LEFT JOIN accounts acc ON acc.id = a.account_id
		WHERE a.completes IS NULL AND a.account_id = $1
			AND ($2 = '' OR a.actor ILIKE '%' || $2 || '%')
			AND ($3 = '' OR a.action = $3)
			AND ($4::timestamptz IS NULL OR a.at >= $4)
			AND ($5::timestamptz IS NULL OR a.at < $5)
			AND ($6 = '' OR a.message_id = $6)
			AND ($7::bigint IS NULL OR (a.folder = $8 AND a.uid = $7 AND a.uidvalidity = $9))
		ORDER BY a.seq DESC LIMIT $10`,
		f.AccountID, f.Actor, f.Action, f.Since, f.Until, f.MessageID, f.UID, f.Folder, f.UIDValidity, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("store: unable to read the activity log: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Action, error) {
		var a Action
		e := &a.Entry
		err := r.Scan(&e.Seq, &e.At, &e.Actor, &e.RemoteAddr, &e.UserAgent, &e.Action, &e.AccountID, &e.Folder, &e.UID,
			&e.UIDValidity, &e.MessageID, &e.Subject, &e.Sender, &e.Reason, &e.Outcome, &e.Detail, &a.AccountName)
		return a, err
	})
}

// Size returns how many rows the whole log has and its size on disk.
func (s *Activity) Size(ctx context.Context) (rows int64, bytes int64, err error) {
	err = s.pool.QueryRow(ctx, "SELECT (SELECT seq FROM activity_head), pg_total_relation_size('activity')").Scan(&rows, &bytes)
	return rows, bytes, err
}
