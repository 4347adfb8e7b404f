package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Contact is an entry of the shared address book.
type Contact struct {
	ID    int64
	Email string
	Name  string
	IsPEC bool
	Uses  int
	Note  string
}

// Contacts is the office's shared address book.
type Contacts struct{ s *Store }

// Contacts returns the address book.
func (s *Store) Contacts() *Contacts { return &Contacts{s: s} }

// Seen is an address met in mail, to collect.
type Seen struct {
	Email, Name string
	PEC         bool
}

// Collect adds addresses met in mail, counting their uses; names and PEC
// marks fill in what is missing, never overwrite what people typed.
func (c *Contacts) Collect(ctx context.Context, seen []Seen) error {
	if len(seen) == 0 {
		return nil
	}
	emails := make([]string, 0, len(seen))
	names := make([]string, 0, len(seen))
	pecs := make([]bool, 0, len(seen))
	for _, s := range seen {
		e := strings.ToLower(strings.TrimSpace(s.Email))
		if e == "" || !strings.Contains(e, "@") || strings.HasPrefix(e, "posta-certificata@") {
			continue
		}
		emails, names, pecs = append(emails, clean(e)), append(names, clean(s.Name)), append(pecs, s.PEC)
	}
	_, err := c.s.Pool.Exec(ctx, `INSERT INTO contacts (email, name, is_pec, uses, last_used)
		SELECT e, max(n), bool_or(p), count(*), now() FROM unnest($1::text[], $2::text[], $3::bool[]) AS t(e, n, p) GROUP BY e
		ON CONFLICT (lower(email)) DO UPDATE SET uses = contacts.uses + excluded.uses, last_used = now(),
			name = CASE WHEN contacts.name = '' THEN excluded.name ELSE contacts.name END,
			is_pec = contacts.is_pec OR excluded.is_pec`, emails, names, pecs)
	if err != nil {
		return fmt.Errorf("store: unable to collect contacts: %w", err)
	}
	return nil
}

// Suggest finds contacts by part of their name or address, most used
// first.
func (c *Contacts) Suggest(ctx context.Context, q string, limit int) ([]Contact, error) {
	q = strings.TrimSpace(q)
	if q == "" {
		return nil, nil
	}
	rows, err := c.s.Pool.Query(ctx, `SELECT id, email, name, is_pec, uses, note FROM contacts
		WHERE (name || ' ' || email) ILIKE $1 ORDER BY uses DESC, lower(email) LIMIT $2`, "%"+escapeLike(q)+"%", limit)
	if err != nil {
		return nil, fmt.Errorf("store: unable to search contacts: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[Contact])
}

// List returns the whole address book by name, or those matching q.
func (c *Contacts) List(ctx context.Context, q string) ([]Contact, error) {
	rows, err := c.s.Pool.Query(ctx, `SELECT id, email, name, is_pec, uses, note FROM contacts
		WHERE $1 = '' OR (name || ' ' || email) ILIKE '%' || $1 || '%' ORDER BY lower(coalesce(nullif(name, ''), email))`, escapeLike(strings.TrimSpace(q)))
	if err != nil {
		return nil, fmt.Errorf("store: unable to list contacts: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[Contact])
}

// Put adds or edits a contact by its address.
func (c *Contacts) Put(ctx context.Context, ct Contact) error {
	email := strings.ToLower(strings.TrimSpace(ct.Email))
	if !strings.Contains(email, "@") {
		return fmt.Errorf("store: %q is not an e-mail address", ct.Email)
	}
	_, err := c.s.Pool.Exec(ctx, `INSERT INTO contacts (email, name, is_pec, note) VALUES ($1, $2, $3, $4)
		ON CONFLICT (lower(email)) DO UPDATE SET name = excluded.name, is_pec = excluded.is_pec, note = excluded.note, updated_at = now()`,
		clean(email), clean(strings.TrimSpace(ct.Name)), ct.IsPEC, clean(ct.Note))
	return err
}

// Delete removes a contact.
func (c *Contacts) Delete(ctx context.Context, id int64) error {
	_, err := c.s.Pool.Exec(ctx, "DELETE FROM contacts WHERE id = $1", id)
	return err
}
