package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ChannelChanges is the NOTIFY channel on which every committed change to
// the message cache is announced; the payload is a Change in JSON.
const ChannelChanges = "account_changed"

// Change kinds, named as the SSE events that carry them to browsers.
const (
	ChangeMessage = "message"
	ChangeExpunge = "expunge"
	ChangeFlags   = "flags"
	ChangeCounts  = "counts"
)

// Change announces what changed in one folder of one account.
type Change struct {
	Account int64   `json:"account"`
	Folder  string  `json:"folder"`
	Kind    string  `json:"kind"`
	IDs     []int64 `json:"ids,omitempty"`
}

// maxNotifyIDs keeps a NOTIFY payload well under PostgreSQL's 8000 bytes;
// a listener that gets no ids re-reads the folder.
const maxNotifyIDs = 300

func notify(ctx context.Context, tx pgx.Tx, c Change) error {
	if len(c.IDs) > maxNotifyIDs {
		c.IDs = nil
	}
	payload, _ := json.Marshal(c)
	_, err := tx.Exec(ctx, "SELECT pg_notify($1, $2)", ChannelChanges, string(payload))
	return err
}

// Attachment describes one attachment part of a message.
type Attachment struct {
	Part     string `json:"part"`
	Filename string `json:"filename"`
	Type     string `json:"type"`
	Size     int64  `json:"size"`
}

// Header is what the cache keeps of a message: enough to list, count and
// search without asking the server.
type Header struct {
	UID          uint32
	ModSeq       uint64
	Flags        []string
	InternalDate time.Time
	SentDate     *time.Time
	Size         int64
	Subject      string
	FromName     string
	FromAddr     string
	To           string
	Cc           string
	ReplyTo      string
	MessageID    string
	InReplyTo    string
	References   []string
	Attachments  []Attachment
	PECKind      string
	PECRef       string
}

// threadKey names the thread: the root of References, else the message
// replied to, else the message itself.
func (h *Header) threadKey() string {
	switch {
	case len(h.References) > 0:
		return h.References[0]
	case h.InReplyTo != "":
		return h.InReplyTo
	}
	return h.MessageID
}

// Seen reports whether the shared \Seen flag is set.
func (h *Header) Seen() bool { return hasFlag(h.Flags, `\Seen`) }

func hasFlag(flags []string, flag string) bool {
	for _, f := range flags {
		if strings.EqualFold(f, flag) {
			return true
		}
	}
	return false
}

// clean makes a string storable: valid UTF-8 and no NUL byte, which
// PostgreSQL refuses in text. A hostile or 8-bit header must never stop a
// message from being listed.
func clean(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return strings.ReplaceAll(s, "\x00", "")
}

func cleanAll(ss []string) []string {
	out := make([]string, 0, len(ss))
	for _, s := range ss {
		out = append(out, clean(s))
	}
	return out
}

// headerColumns are the messages columns a Header fills, in headerRow's
// order.
var headerColumns = []string{"account_id", "folder_id", "uid", "modseq", "flags", "seen", "flagged",
	"internal_date", "sent_date", "size", "subject", "from_name", "from_addr", "to_addrs", "cc_addrs", "reply_to", "message_id",
	"in_reply_to", "refs", "has_attachments", "attachments", "pec_kind", "pec_ref", "thread_key"}

// upsertSQL inserts one header, or refreshes the flags of a message
// already cached.
var upsertSQL = func() string {
	ph := make([]string, len(headerColumns))
	for i := range ph {
		ph[i] = fmt.Sprintf("$%d", i+1)
	}
	return "INSERT INTO messages (" + strings.Join(headerColumns, ", ") + ") VALUES (" + strings.Join(ph, ", ") + `)
		ON CONFLICT (folder_id, uid) DO UPDATE SET modseq = excluded.modseq, flags = excluded.flags,
			seen = excluded.seen, flagged = excluded.flagged
		RETURNING id`
}()

// headerRow is a Header as the values of headerColumns, made storable.
func headerRow(f Folder, h *Header) []any {
	atts := []byte("[]")
	if h.Attachments != nil {
		atts, _ = json.Marshal(h.Attachments)
	}
	return []any{f.AccountID, f.ID, int64(h.UID), int64(h.ModSeq), cleanAll(h.Flags), h.Seen(), hasFlag(h.Flags, `\Flagged`),
		h.InternalDate, h.SentDate, h.Size, clean(h.Subject), clean(h.FromName), clean(h.FromAddr), clean(h.To),
		clean(h.Cc), clean(h.ReplyTo), clean(h.MessageID), clean(h.InReplyTo), cleanAll(h.References),
		len(h.Attachments) > 0, string(atts), h.PECKind, clean(h.PECRef), clean(h.threadKey())}
}

// Messages is the message cache aggregate.
type Messages struct {
	pool *pgxpool.Pool
}

// Upsert writes headers into a folder in one round trip and announces the
// new and changed rows.
func (s *Messages) Upsert(ctx context.Context, f Folder, headers []Header) error {
	if len(headers) == 0 {
		return nil
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		batch := &pgx.Batch{}
		for i := range headers {
			batch.Queue(upsertSQL, headerRow(f, &headers[i])...)
		}
		results := tx.SendBatch(ctx, batch)
		ids := make([]int64, 0, len(headers))
		for range headers {
			var id int64
			if err := results.QueryRow().Scan(&id); err != nil {
				results.Close()
				return fmt.Errorf("store: unable to cache messages: %w", err)
			}
			ids = append(ids, id)
		}
		if err := results.Close(); err != nil {
			return fmt.Errorf("store: unable to cache messages: %w", err)
		}
		return notify(ctx, tx, Change{Account: f.AccountID, Folder: f.Name, Kind: ChangeMessage, IDs: ids})
	})
}

// UIDs returns the cached UIDs of a folder in ascending order.
func (s *Messages) UIDs(ctx context.Context, folderID int64) ([]uint32, error) {
	rows, err := s.pool.Query(ctx, "SELECT uid FROM messages WHERE folder_id = $1 ORDER BY uid", folderID)
	if err != nil {
		return nil, fmt.Errorf("store: unable to list UIDs: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (uint32, error) {
		var uid int64
		err := r.Scan(&uid)
		return uint32(uid), err
	})
}

// FolderStats returns the number of cached messages and the highest UID.
func (s *Messages) FolderStats(ctx context.Context, folderID int64) (count int64, maxUID uint32, err error) {
	var max int64
	err = s.pool.QueryRow(ctx, "SELECT count(*), coalesce(max(uid), 0) FROM messages WHERE folder_id = $1", folderID).Scan(&count, &max)
	return count, uint32(max), err
}

// Removed is what was known of a message that disappeared from the server.
type Removed struct {
	ID        int64
	UID       uint32
	MessageID string
	Subject   string
	Sender    string
}

// DeleteUIDs drops messages that are gone from the server and returns what
// was known of them.
func (s *Messages) DeleteUIDs(ctx context.Context, f Folder, uids []uint32) ([]Removed, error) {
	if len(uids) == 0 {
		return nil, nil
	}
	list := make([]int64, len(uids))
	for i, u := range uids {
		list[i] = int64(u)
	}
	var removed []Removed
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `DELETE FROM messages WHERE folder_id = $1 AND uid = ANY($2)
			RETURNING id, uid, message_id, subject, from_addr`, f.ID, list)
		if err != nil {
			return err
		}
		removed, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Removed, error) {
			var m Removed
			var uid int64
			err := r.Scan(&m.ID, &uid, &m.MessageID, &m.Subject, &m.Sender)
			m.UID = uint32(uid)
			return m, err
		})
		if err != nil {
			return err
		}
		ids := make([]int64, len(removed))
		for i, m := range removed {
			ids[i] = m.ID
		}
		return notify(ctx, tx, Change{Account: f.AccountID, Folder: f.Name, Kind: ChangeExpunge, IDs: ids})
	})
	if err != nil {
		return nil, fmt.Errorf("store: unable to drop expunged messages: %w", err)
	}
	return removed, nil
}

// FlagUpdate is the new flag set of one message.
type FlagUpdate struct {
	UID    uint32
	ModSeq uint64
	Flags  []string
}

// UpdateFlags applies flag changes and announces the rows that changed.
func (s *Messages) UpdateFlags(ctx context.Context, f Folder, updates []FlagUpdate) error {
	if len(updates) == 0 {
		return nil
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		batch := &pgx.Batch{}
		for _, u := range updates {
			batch.Queue(`UPDATE messages SET flags = $3, seen = $4, flagged = $5, modseq = $6
				WHERE folder_id = $1 AND uid = $2 AND flags IS DISTINCT FROM $3 RETURNING id`,
				f.ID, int64(u.UID), cleanAll(u.Flags), hasFlag(u.Flags, `\Seen`), hasFlag(u.Flags, `\Flagged`), int64(u.ModSeq))
		}
		results := tx.SendBatch(ctx, batch)
		var ids []int64
		for range updates {
			var id int64
			err := results.QueryRow().Scan(&id)
			if err == nil {
				ids = append(ids, id)
			} else if err != pgx.ErrNoRows {
				results.Close()
				return fmt.Errorf("store: unable to update flags: %w", err)
			}
		}
		if err := results.Close(); err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		return notify(ctx, tx, Change{Account: f.AccountID, Folder: f.Name, Kind: ChangeFlags, IDs: ids})
	})
}

// CountByAccount returns the number of cached messages per account.
func (s *Messages) CountByAccount(ctx context.Context) (map[int64]int64, error) {
	rows, err := s.pool.Query(ctx, "SELECT account_id, count(*) FROM messages GROUP BY account_id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]int64{}
	for rows.Next() {
		var id, n int64
		if err := rows.Scan(&id, &n); err != nil {
			return nil, err
		}
		out[id] = n
	}
	return out, rows.Err()
}

// Insert writes headers known to be absent from the folder with COPY, the
// fastest path for an initial sync. It announces the folder without ids
// (listeners re-read it). On a conflict (the message arrived meanwhile) it
// falls back to Upsert.
func (s *Messages) Insert(ctx context.Context, f Folder, headers []Header) error {
	if len(headers) == 0 {
		return nil
	}
	rows := make([][]any, len(headers))
	for i := range headers {
		rows[i] = headerRow(f, &headers[i])
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"messages"}, headerColumns, pgx.CopyFromRows(rows))
		if err != nil {
			return err
		}
		return notify(ctx, tx, Change{Account: f.AccountID, Folder: f.Name, Kind: ChangeMessage})
	})
	if isUniqueViolation(err) {
		return s.Upsert(ctx, f, headers)
	}
	if err != nil {
		return fmt.Errorf("store: unable to cache messages: %w", err)
	}
	return nil
}
