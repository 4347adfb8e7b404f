package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Row is one line of a message list, as a given user sees it.
type Row struct {
	ID             int64
	AccountID      int64
	AccountName    string
	Folder         string
	UID            uint32
	FromName       string
	FromAddr       string
	To             string
	Subject        string
	Date           time.Time // arrival on the server (INTERNALDATE)
	Size           int64
	HasAttachments bool
	PECKind        string
	Unread         bool // for this user: neither \Seen nor opened by them
	Flagged        bool
	ThreadCount    int
}

// Cursor marks a position in a newest-first list (keyset pagination).
type Cursor struct {
	Date time.Time
	ID   int64
}

// String encodes the cursor for a URL.
func (c Cursor) String() string {
	return strconv.FormatInt(c.Date.UnixMicro(), 10) + "_" + strconv.FormatInt(c.ID, 10)
}

// ParseCursor decodes Cursor.String; a malformed cursor is an error.
func ParseCursor(s string) (*Cursor, error) {
	d, id, ok := strings.Cut(s, "_")
	if !ok {
		return nil, fmt.Errorf("store: bad cursor %q", s)
	}
	us, err1 := strconv.ParseInt(d, 10, 64)
	n, err2 := strconv.ParseInt(id, 10, 64)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("store: bad cursor %q", s)
	}
	return &Cursor{Date: time.UnixMicro(us), ID: n}, nil
}

// ListQuery says which messages a list shows. Exactly one of FolderID,
// AccountID (the whole account) or InboxesOf (the INBOX of each account) is
// set.
type ListQuery struct {
	UserID    int64
	FolderID  int64
	AccountID int64
	InboxesOf []int64
	Before    *Cursor
	Limit     int

	Search      string
	Unread      bool
	Attachments bool
	From        string
	Since       *time.Time
	Until       *time.Time
	PEC         string // a PEC kind, or "any"
	Flagged     bool
	// OrIDs are messages that match the search by other means (the IMAP
	// server's own search of bodies not cached yet).
	OrIDs []int64
}

// List returns one page of messages, newest first, and the cursor of the
// next (older) page, or nil at the end. It never uses OFFSET: a folder of
// 100,000 messages pages as fast as one of ten.
func (s *Messages) List(ctx context.Context, q ListQuery) ([]Row, *Cursor, error) {
	if q.Limit <= 0 {
		q.Limit = 50
	}
	args := []any{q.UserID}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	where := []string{"NOT m.hidden"}
	switch {
	case q.FolderID != 0:
		where = append(where, "m.folder_id = "+arg(q.FolderID))
	case q.AccountID != 0:
		where = append(where, "m.account_id = "+arg(q.AccountID))
	default:
		where = append(where, "m.folder_id IN (SELECT id FROM folders WHERE name = 'INBOX' AND account_id = ANY("+arg(q.InboxesOf)+"))")
	}
	if q.Before != nil {
		where = append(where, "(m.internal_date, m.id) < ("+arg(q.Before.Date)+", "+arg(q.Before.ID)+")")
	}
	if term := strings.TrimSpace(q.Search); term != "" {
		cond := "m.search @@ (websearch_to_tsquery('simple', " + arg(term) + ") || websearch_to_tsquery('italian', $" + strconv.Itoa(len(args)) + "))"
		// Trigrams find parts of names and addresses ("ross", "@comune.");
		// below three characters they cannot use the index.
		if len([]rune(term)) >= 3 {
			like := arg("%" + escapeLike(term) + "%")
			cond += " OR (m.from_name || ' ' || m.from_addr || ' ' || m.to_addrs || ' ' || m.cc_addrs) ILIKE " + like + " OR m.subject ILIKE " + like
		}
		if len(q.OrIDs) > 0 {
			cond += " OR m.id = ANY(" + arg(q.OrIDs) + ")"
		}
		where = append(where, "("+cond+")")
	}
	if q.Unread {
		where = append(where, "NOT m.seen AND NOT EXISTS (SELECT 1 FROM message_reads r WHERE r.user_id = $1 AND r.message_id = m.id)")
	}
	if q.Flagged {
		where = append(where, "m.flagged")
	}
	if q.Attachments {
		where = append(where, "m.has_attachments")
	}
	if from := strings.TrimSpace(q.From); from != "" {
		where = append(where, "(m.from_name || ' ' || m.from_addr) ILIKE "+arg("%"+escapeLike(from)+"%"))
	}
	if q.Since != nil {
		where = append(where, "m.internal_date >= "+arg(*q.Since))
	}
	if q.Until != nil {
		where = append(where, "m.internal_date < "+arg(*q.Until))
	}
	switch q.PEC {
	case "":
	case "any":
		where = append(where, "m.pec_kind <> ''")
	default:
		where = append(where, "m.pec_kind = "+arg(q.PEC))
	}
	// The page's ids first, then what each row shows: the per-row
	// subqueries then run for 50 rows, not for every match.
	sql := `WITH page AS (
			SELECT m.id FROM messages m
			WHERE ` + strings.Join(where, " AND ") + `
			ORDER BY m.internal_date DESC, m.id DESC
			LIMIT ` + strconv.Itoa(q.Limit+1) + `)
		SELECT m.id, m.account_id, a.name, f.name, m.uid, m.from_name, m.from_addr, m.to_addrs, m.subject,
			m.internal_date, m.size, m.has_attachments, m.pec_kind,
			NOT m.seen AND NOT EXISTS (SELECT 1 FROM message_reads r WHERE r.user_id = $1 AND r.message_id = m.id),
			m.flagged,
			CASE WHEN m.thread_key = '' THEN 1 ELSE
				(SELECT count(*) FROM messages t WHERE t.account_id = m.account_id AND t.thread_key = m.thread_key AND t.thread_key <> '') END
		FROM page
		JOIN messages m ON m.id = page.id
		JOIN folders f ON f.id = m.folder_id
		JOIN accounts a ON a.id = m.account_id
		ORDER BY m.internal_date DESC, m.id DESC`
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, nil, fmt.Errorf("store: unable to list messages: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Row, error) {
		var m Row
		var uid int64
		err := r.Scan(&m.ID, &m.AccountID, &m.AccountName, &m.Folder, &uid, &m.FromName, &m.FromAddr, &m.To, &m.Subject,
			&m.Date, &m.Size, &m.HasAttachments, &m.PECKind, &m.Unread, &m.Flagged, &m.ThreadCount)
		m.UID = uint32(uid)
		return m, err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("store: unable to list messages: %w", err)
	}
	var next *Cursor
	if len(list) > q.Limit {
		list = list[:q.Limit]
		last := list[len(list)-1]
		next = &Cursor{Date: last.Date, ID: last.ID}
	}
	return list, next, nil
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// Message is one cached message in full, as the message page shows it.
type Message struct {
	Row
	FolderID    int64
	UIDValidity uint32
	Cc          string
	ReplyTo     string
	MessageID   string
	InReplyTo   string
	SentDate    *time.Time
	Flags       []string
	Attachments []Attachment
	PECRef      string
	ThreadKey   string
	References  []string
}

// ByID returns a message of an account. A message of another account is
// ErrNotFound: callers pass the account the user may see.
func (s *Messages) ByID(ctx context.Context, userID, accountID, id int64) (*Message, error) {
	var m Message
	var uid, uidValidity int64
	var atts []byte
	err := s.pool.QueryRow(ctx, `SELECT m.id, m.account_id, a.name, f.name, m.uid, m.from_name, m.from_addr, m.to_addrs,
			m.subject, m.internal_date, m.size, m.has_attachments, m.pec_kind,
			NOT m.seen AND NOT EXISTS (SELECT 1 FROM message_reads r WHERE r.user_id = $1 AND r.message_id = m.id),
			m.flagged, f.id, f.uidvalidity, m.cc_addrs, m.reply_to, m.message_id, m.in_reply_to, m.sent_date, m.flags,
			m.attachments, m.pec_ref, m.thread_key, m.refs
		FROM messages m JOIN folders f ON f.id = m.folder_id JOIN accounts a ON a.id = m.account_id
		WHERE m.account_id = $2 AND m.id = $3`, userID, accountID, id).Scan(
		&m.ID, &m.AccountID, &m.AccountName, &m.Folder, &uid, &m.FromName, &m.FromAddr, &m.To, &m.Subject, &m.Date,
		&m.Size, &m.HasAttachments, &m.PECKind, &m.Unread, &m.Flagged, &m.FolderID, &uidValidity, &m.Cc, &m.ReplyTo,
		&m.MessageID, &m.InReplyTo, &m.SentDate, &m.Flags, &atts, &m.PECRef, &m.ThreadKey, &m.References)
	if err != nil {
		return nil, notFound(err)
	}
	m.UID, m.UIDValidity = uint32(uid), uint32(uidValidity)
	_ = json.Unmarshal(atts, &m.Attachments)
	return &m, nil
}

// MarkRead records that userID opened the message; other people's read
// state and the shared \Seen flag are untouched.
func (s *Messages) MarkRead(ctx context.Context, userID, messageID int64) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO message_reads (user_id, message_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, userID, messageID)
	if err != nil {
		return fmt.Errorf("store: unable to mark read: %w", err)
	}
	return nil
}

// CachedBody returns the raw message if it is cached.
func (s *Messages) CachedBody(ctx context.Context, messageID int64) ([]byte, bool, error) {
	var raw []byte
	err := s.pool.QueryRow(ctx, "SELECT raw FROM message_bodies WHERE message_id = $1", messageID).Scan(&raw)
	if err == pgx.ErrNoRows {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("store: unable to read cached body: %w", err)
	}
	return raw, true, nil
}

// CacheBody keeps the raw message and its text for search.
func (s *Messages) CacheBody(ctx context.Context, messageID int64, raw []byte, sum []byte, text string) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO message_bodies (message_id, raw, sha256) VALUES ($1, $2, $3)
			ON CONFLICT (message_id) DO NOTHING`, messageID, raw, sum); err != nil {
			return fmt.Errorf("store: unable to cache body: %w", err)
		}
		if _, err := tx.Exec(ctx, "UPDATE messages SET body_text = $2 WHERE id = $1", messageID, clean(text)); err != nil {
			return fmt.Errorf("store: unable to index body: %w", err)
		}
		return nil
	})
}

// ByUID finds messages of a folder by UID (for results of a server search).
func (s *Messages) ByUIDs(ctx context.Context, folderID int64, uids []uint32) ([]int64, error) {
	list := make([]int64, len(uids))
	for i, u := range uids {
		list[i] = int64(u)
	}
	rows, err := s.pool.Query(ctx, "SELECT id FROM messages WHERE folder_id = $1 AND uid = ANY($2)", folderID, list)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}
