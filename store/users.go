package store

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/crypto/argon2"
)

// User is a person who logs in to Sportello.
type User struct {
	ID       int64
	Email    string
	Name     string
	IsAdmin  bool
	Locale   string
	TimeZone string
}

// Users is the users aggregate.
type Users struct {
	pool *pgxpool.Pool
}

const userColumns = "id, email, name, is_admin, locale, time_zone"

func scanUser(row pgx.Row) (*User, error) {
	var u User
	if err := row.Scan(&u.ID, &u.Email, &u.Name, &u.IsAdmin, &u.Locale, &u.TimeZone); err != nil {
		return nil, notFound(err)
	}
	return &u, nil
}

// Create adds a user with the given password.
func (s *Users) Create(ctx context.Context, email, name, password string, admin bool) (*User, error) {
	email = strings.TrimSpace(email)
	if email == "" || !strings.Contains(email, "@") {
		return nil, fmt.Errorf("store: %q is not an e-mail address", email)
	}
	if password == "" {
		return nil, errors.New("store: the password is empty")
	}
	row := s.pool.QueryRow(ctx, `INSERT INTO users (email, name, password_hash, is_admin)
		VALUES ($1, $2, $3, $4) RETURNING `+userColumns, email, name, HashPassword(password), admin)
	u, err := scanUser(row)
	if isUniqueViolation(err) {
		return nil, fmt.Errorf("%w: a user with the e-mail %s", ErrDuplicate, email)
	}
	if err != nil {
		return nil, fmt.Errorf("store: unable to create user: %w", err)
	}
	return u, nil
}

// ByID returns one user.
func (s *Users) ByID(ctx context.Context, id int64) (*User, error) {
	return scanUser(s.pool.QueryRow(ctx, "SELECT "+userColumns+" FROM users WHERE id = $1", id))
}

// ByEmail returns one user, matching the address case-insensitively.
func (s *Users) ByEmail(ctx context.Context, email string) (*User, error) {
	return scanUser(s.pool.QueryRow(ctx, "SELECT "+userColumns+" FROM users WHERE lower(email) = lower($1)", strings.TrimSpace(email)))
}

// Authenticate checks an e-mail and password. An unknown user and a wrong
// password take the same time and return the same error.
func (s *Users) Authenticate(ctx context.Context, email, password string) (*User, error) {
	var hash string
	u := &User{}
	err := s.pool.QueryRow(ctx, "SELECT "+userColumns+", password_hash FROM users WHERE lower(email) = lower($1)", strings.TrimSpace(email)).
		Scan(&u.ID, &u.Email, &u.Name, &u.IsAdmin, &u.Locale, &u.TimeZone, &hash)
	if errors.Is(err, pgx.ErrNoRows) {
		CheckPassword(dummyHash, password)
		return nil, ErrBadCredentials
	}
	if err != nil {
		return nil, fmt.Errorf("store: unable to look up user: %w", err)
	}
	if !CheckPassword(hash, password) {
		return nil, ErrBadCredentials
	}
	return u, nil
}

// ErrBadCredentials is the one answer to an unknown user or a wrong password.
var ErrBadCredentials = errors.New("store: wrong e-mail or password")

// argon2id parameters (RFC 9106's second recommended option, lighter memory).
const (
	argonTime    = 3
	argonMemory  = 64 * 1024
	argonThreads = 2
	argonKeyLen  = 32
)

var dummyHash = HashPassword("sportello-no-such-user")

// HashPassword returns an argon2id hash in the PHC string format.
func HashPassword(password string) string {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		panic(err)
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// CheckPassword compares password with a hash made by HashPassword in
// constant time.
func CheckPassword(hash, password string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var memory uint32
	var time uint32
	var threads uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &memory, &time, &threads); err != nil {
		return false
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[4])
	want, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, time, memory, threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// SetLocale records the user's language ("it", "en", or "" for the
// browser's).
func (s *Users) SetLocale(ctx context.Context, id int64, locale string) error {
	_, err := s.pool.Exec(ctx, "UPDATE users SET locale = $2 WHERE id = $1", id, locale)
	if err != nil {
		return fmt.Errorf("store: unable to save the language: %w", err)
	}
	return nil
}
