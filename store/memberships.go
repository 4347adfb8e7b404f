package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Roles a user may hold on a shared account.
const (
	RoleReader  = "reader"
	RoleManager = "manager"
)

// Grant gives userID the role on accountID, replacing any earlier role.
func (s *Users) Grant(ctx context.Context, userID, accountID int64, role string) error {
	if role != RoleReader && role != RoleManager {
		return fmt.Errorf("store: role %q is not reader or manager", role)
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO memberships (user_id, account_id, role) VALUES ($1, $2, $3)
		ON CONFLICT (user_id, account_id) DO UPDATE SET role = excluded.role`, userID, accountID, role)
	if err != nil {
		return fmt.Errorf("store: unable to grant role: %w", err)
	}
	return nil
}

// Revoke removes any role userID has on accountID.
func (s *Users) Revoke(ctx context.Context, userID, accountID int64) error {
	_, err := s.pool.Exec(ctx, "DELETE FROM memberships WHERE user_id = $1 AND account_id = $2", userID, accountID)
	if err != nil {
		return fmt.Errorf("store: unable to revoke role: %w", err)
	}
	return nil
}

// RoleOn returns the user's role on an account, or ErrNotFound when the user
// may not see it.
func (s *Users) RoleOn(ctx context.Context, userID, accountID int64) (string, error) {
	var role string
	err := s.pool.QueryRow(ctx, "SELECT role FROM memberships WHERE user_id = $1 AND account_id = $2", userID, accountID).Scan(&role)
	return role, notFound(err)
}

// accountRoleDest is where a row of accountColumns followed by the role
// (and any extra columns) is scanned.
func accountRoleDest(s *AccountSummary, extra ...any) []any {
	a := &s.Account
	return append([]any{&a.ID, &a.Name, &a.Address, &a.IMAPAddr, &a.SMTPAddr, &a.TLS, &a.Username, &a.IsPEC,
		&a.InsecureSkipVerify, &a.TrashFolder, &a.UpdatedAt, &s.Role}, extra...)
}

// AccountSummary is one line of "your shared accounts".
type AccountSummary struct {
	Account
	Role   string
	Unread int64
	Total  int64
}

// AccountsOf lists the accounts userID may see, with their INBOX counts.
func (s *Users) AccountsOf(ctx context.Context, userID int64) ([]AccountSummary, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT `+prefixed("a.", accountColumns)+`, m.role,
		       coalesce(c.unread, 0), coalesce(c.total, 0)
		FROM memberships m
		JOIN accounts a ON a.id = m.account_id
		LEFT JOIN LATERAL (
			SELECT (SELECT count(*) FROM messages msg WHERE msg.folder_id = f.id AND NOT msg.seen
					AND NOT EXISTS (SELECT 1 FROM message_reads r WHERE r.user_id = $1 AND r.message_id = msg.id)) AS unread,
				f.total
			FROM folders f WHERE f.account_id = a.id AND f.name = 'INBOX'
		) c ON true
		WHERE m.user_id = $1
		ORDER BY a.name, a.id`, userID)
	if err != nil {
		return nil, fmt.Errorf("store: unable to list the user's accounts: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (AccountSummary, error) {
		var s AccountSummary
		err := r.Scan(accountRoleDest(&s, &s.Unread, &s.Total)...)
		return s, err
	})
}

// AccountFor returns the account and the user's role on it in one query,
// or ErrNotFound when the user holds no role there.
func (s *Users) AccountFor(ctx context.Context, userID, accountID int64) (AccountSummary, error) {
	var sum AccountSummary
	err := s.pool.QueryRow(ctx, `SELECT `+prefixed("a.", accountColumns)+`, m.role
		FROM memberships m JOIN accounts a ON a.id = m.account_id
		WHERE m.user_id = $1 AND m.account_id = $2`, userID, accountID).Scan(accountRoleDest(&sum)...)
	return sum, notFound(err)
}

// Member is a user's role on an account.
type Member struct {
	User
	Role string
}

// Members lists who holds a role on an account.
func (s *Users) Members(ctx context.Context, accountID int64) ([]Member, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+prefixed("u.", userColumns)+`, m.role FROM memberships m JOIN users u ON u.id = m.user_id
		WHERE m.account_id = $1 ORDER BY lower(u.email)`, accountID)
	if err != nil {
		return nil, fmt.Errorf("store: unable to list members: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Member, error) {
		var m Member
		err := r.Scan(&m.ID, &m.Email, &m.Name, &m.IsAdmin, &m.Locale, &m.TimeZone, &m.Role)
		return m, err
	})
}

// NavAccounts lists the accounts userID may see, without counts: what the
// navigation of every page needs.
func (s *Users) NavAccounts(ctx context.Context, userID int64) ([]AccountSummary, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+prefixed("a.", accountColumns)+`, m.role
		FROM memberships m JOIN accounts a ON a.id = m.account_id WHERE m.user_id = $1 ORDER BY a.name, a.id`, userID)
	if err != nil {
		return nil, fmt.Errorf("store: unable to list the user's accounts: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (AccountSummary, error) {
		var s AccountSummary
		err := r.Scan(accountRoleDest(&s)...)
		return s, err
	})
}
