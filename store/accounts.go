package store

import (
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// TLS modes for the IMAP and SMTP connections of an account.
const (
	TLSImplicit = "implicit"
	TLSStartTLS = "starttls"
	TLSNone     = "none"
)

// ChannelAccounts is the NOTIFY channel announcing that the set of accounts
// or their settings changed; the payload is the account id.
const ChannelAccounts = "accounts_changed"

// Account is a shared mailbox. Its password is never part of it: ask
// Accounts.Password when dialing.
type Account struct {
	ID                 int64
	Name               string
	Address            string
	IMAPAddr           string
	SMTPAddr           string
	TLS                string
	Username           string
	IsPEC              bool
	InsecureSkipVerify bool
	TrashFolder        string
	UpdatedAt          time.Time
}

// NewAccount is what creating an account takes.
type NewAccount struct {
	Name, Address, IMAPAddr, SMTPAddr, TLS, Username, Password string
	IsPEC, InsecureSkipVerify                                  bool
}

// Accounts is the shared-accounts aggregate.
type Accounts struct {
	pool   *pgxpool.Pool
	sealer *Sealer
}

const accountColumns = "id, name, address, imap_addr, smtp_addr, tls_mode, username, is_pec, insecure_skip_verify, trash_folder, updated_at"

func scanAccount(row pgx.Row) (Account, error) {
	var a Account
	err := row.Scan(&a.ID, &a.Name, &a.Address, &a.IMAPAddr, &a.SMTPAddr, &a.TLS, &a.Username, &a.IsPEC, &a.InsecureSkipVerify, &a.TrashFolder, &a.UpdatedAt)
	return a, notFound(err)
}

func (n *NewAccount) validate() error {
	if strings.TrimSpace(n.Name) == "" {
		return fmt.Errorf("store: the account needs a name")
	}
	if !strings.Contains(n.Address, "@") {
		return fmt.Errorf("store: %q is not an e-mail address", n.Address)
	}
	for _, hp := range []string{n.IMAPAddr, n.SMTPAddr} {
		if _, _, err := net.SplitHostPort(hp); err != nil {
			return fmt.Errorf("store: %q is not HOST:PORT", hp)
		}
	}
	switch n.TLS {
	case "":
		n.TLS = TLSImplicit
	case TLSImplicit, TLSStartTLS, TLSNone:
	default:
		return fmt.Errorf("store: TLS mode %q is not one of implicit, starttls, none", n.TLS)
	}
	if n.Username == "" {
		n.Username = n.Address
	}
	return nil
}

// Create stores a new account, its password sealed, and announces it.
func (s *Accounts) Create(ctx context.Context, n NewAccount) (Account, error) {
	if err := n.validate(); err != nil {
		return Account{}, err
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return Account{}, fmt.Errorf("store: %w", err)
	}
	defer tx.Rollback(ctx)
	a, err := scanAccount(tx.QueryRow(ctx, `INSERT INTO accounts
		(name, address, imap_addr, smtp_addr, tls_mode, username, password_sealed, is_pec, insecure_skip_verify, send_per_minute)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, CASE WHEN $8 THEN 6 ELSE 0 END) RETURNING `+accountColumns,
		n.Name, n.Address, n.IMAPAddr, n.SMTPAddr, n.TLS, n.Username, s.sealer.Seal([]byte(n.Password)), n.IsPEC, n.InsecureSkipVerify))
	if isUniqueViolation(err) {
		return Account{}, fmt.Errorf("%w: an account for %s", ErrDuplicate, n.Address)
	}
	if err != nil {
		return Account{}, fmt.Errorf("store: unable to create account: %w", err)
	}
	if _, err := tx.Exec(ctx, "SELECT pg_notify($1, $2)", ChannelAccounts, fmt.Sprint(a.ID)); err != nil {
		return Account{}, fmt.Errorf("store: %w", err)
	}
	return a, tx.Commit(ctx)
}

// ByID returns one account.
func (s *Accounts) ByID(ctx context.Context, id int64) (Account, error) {
	return scanAccount(s.pool.QueryRow(ctx, "SELECT "+accountColumns+" FROM accounts WHERE id = $1", id))
}

// ByAddress returns the account with this address (case-insensitive).
func (s *Accounts) ByAddress(ctx context.Context, address string) (Account, error) {
	return scanAccount(s.pool.QueryRow(ctx, "SELECT "+accountColumns+" FROM accounts WHERE lower(address) = lower($1)", address))
}

// List returns every account by id.
func (s *Accounts) List(ctx context.Context) ([]Account, error) {
	rows, err := s.pool.Query(ctx, "SELECT "+accountColumns+" FROM accounts ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("store: unable to list accounts: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Account, error) { return scanAccount(r) })
}

// Password decrypts the mailbox password of an account.
func (s *Accounts) Password(ctx context.Context, id int64) (string, error) {
	var sealed []byte
	if err := s.pool.QueryRow(ctx, "SELECT password_sealed FROM accounts WHERE id = $1", id).Scan(&sealed); err != nil {
		return "", notFound(err)
	}
	plain, err := s.sealer.Open(sealed)
	if err != nil {
		return "", err
	}
	return string(plain), nil
}

// Delete removes an account and its cache, and announces it.
func (s *Accounts) Delete(ctx context.Context, id int64) error {
	tag, err := s.pool.Exec(ctx, "WITH d AS (DELETE FROM accounts WHERE id = $1 RETURNING id) SELECT pg_notify($2, $1::text) FROM d", id, ChannelAccounts)
	if err != nil {
		return fmt.Errorf("store: unable to delete account: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}

// SetTrashFolder remembers which folder is the account's Trash.
func (s *Accounts) SetTrashFolder(ctx context.Context, id int64, folder string) error {
	_, err := s.pool.Exec(ctx, "UPDATE accounts SET trash_folder = $2 WHERE id = $1 AND trash_folder <> $2", id, folder)
	return err
}

// Update replaces an account's settings (and its password, when given) and
// announces the change so the running sync reconnects.
func (s *Accounts) Update(ctx context.Context, id int64, n NewAccount) (Account, error) {
	if err := n.validate(); err != nil {
		return Account{}, err
	}
	var sealed []byte
	if n.Password != "" {
		sealed = s.sealer.Seal([]byte(n.Password))
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return Account{}, fmt.Errorf("store: %w", err)
	}
	defer tx.Rollback(ctx)
	a, err := scanAccount(tx.QueryRow(ctx, `UPDATE accounts SET name = $2, address = $3, imap_addr = $4, smtp_addr = $5,
		tls_mode = $6, username = $7, password_sealed = coalesce($8, password_sealed), is_pec = $9,
		insecure_skip_verify = $10, updated_at = now()
		WHERE id = $1 RETURNING `+accountColumns,
		id, n.Name, n.Address, n.IMAPAddr, n.SMTPAddr, n.TLS, n.Username, sealed, n.IsPEC, n.InsecureSkipVerify))
	if isUniqueViolation(err) {
		return Account{}, fmt.Errorf("%w: an account for %s", ErrDuplicate, n.Address)
	}
	if err != nil {
		return Account{}, err
	}
	if _, err := tx.Exec(ctx, "SELECT pg_notify($1, $2)", ChannelAccounts, fmt.Sprint(a.ID)); err != nil {
		return Account{}, err
	}
	return a, tx.Commit(ctx)
}

// ChannelSyncRequests asks the process that syncs an account to check its
// folders now (after Sportello moved mail there); the payload is the id.
const ChannelSyncRequests = "sync_requested"

// RequestSync asks for an early sync of an account's folders.
func (s *Accounts) RequestSync(ctx context.Context, id int64) error {
	_, err := s.pool.Exec(ctx, "SELECT pg_notify($1, $2)", ChannelSyncRequests, fmt.Sprint(id))
	return err
}

// Signature returns an account's signature.
func (s *Accounts) Signature(ctx context.Context, id int64) (string, error) {
	var sig string
	err := s.pool.QueryRow(ctx, "SELECT signature FROM accounts WHERE id = $1", id).Scan(&sig)
	return sig, notFound(err)
}

// SetSignature changes an account's signature (not an account change the
// sync must react to: updated_at stays).
func (s *Accounts) SetSignature(ctx context.Context, id int64, sig string) error {
	_, err := s.pool.Exec(ctx, "UPDATE accounts SET signature = $2 WHERE id = $1", id, clean(sig))
	return err
}
