package store_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"sportello/store"
	"sportello/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

func TestActivityIsAppendOnly(t *testing.T) {
	s := storetest.New(t)
	ctx := context.Background()
	if _, err := s.Activity.Append(ctx, store.Entry{Actor: "giulia@studio.test", Action: store.ActionLogin}); err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		"UPDATE activity SET actor = 'someone-else'",
		"DELETE FROM activity",
		"TRUNCATE activity",
	} {
		_, err := s.Pool.Exec(ctx, stmt)
		if err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: want the trigger to refuse it, got %v", stmt, err)
		}
	}
	entries, err := s.Activity.List(ctx, store.ListFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Actor != "giulia@studio.test" {
		t.Fatalf("the log changed: %+v", entries)
	}
}

func TestActivityChainHoldsWithConcurrentWriters(t *testing.T) {
	s := storetest.New(t)
	ctx := context.Background()
	// Writers on separate pools stand in for separate processes.
	other := store.New(s.Pool, nil)
	var wg sync.WaitGroup
	errs := make(chan error, 80)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				act := s.Activity
				if w%2 == 1 {
					act = other.Activity
				}
				acct := int64(w)
				if _, err := act.Append(ctx, store.Entry{Actor: "w", Action: store.ActionOpen, AccountID: &acct, Subject: "àèì 📨"}); err != nil {
					errs <- err
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	n, brk, err := s.Activity.Verify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if brk != nil || n != 80 {
		t.Fatalf("want an unbroken chain of 80 rows, got %d rows, break %+v", n, brk)
	}
}

func TestActivityVerifyFindsTampering(t *testing.T) {
	s := storetest.New(t)
	ctx := context.Background()
	for _, subj := range []string{"uno", "due", "tre"} {
		if _, err := s.Activity.Append(ctx, store.Entry{Actor: "giulia@studio.test", Action: store.ActionDelete, Subject: subj}); err != nil {
			t.Fatal(err)
		}
	}
	if _, brk, err := s.Activity.Verify(ctx); err != nil || brk != nil {
		t.Fatalf("fresh chain: break %+v, err %v", brk, err)
	}
	// A superuser edits row 2 behind the trigger's back.
	err := pgx.BeginFunc(ctx, s.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "ALTER TABLE activity DISABLE TRIGGER activity_append_only"); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE activity SET actor = 'marco@studio.test' WHERE seq = 2"); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "ALTER TABLE activity ENABLE TRIGGER activity_append_only")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	_, brk, err := s.Activity.Verify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if brk == nil || brk.Seq != 2 {
		t.Fatalf("want the break at row 2, got %+v", brk)
	}
}

func TestUsersAuthenticate(t *testing.T) {
	s := storetest.New(t)
	ctx := context.Background()
	if _, err := s.Users.Create(ctx, "Giulia@Studio.test", "Giulia", "s3cret", false); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Users.Create(ctx, "giulia@studio.test", "Again", "x", false); !errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("duplicate user: want ErrDuplicate, got %v", err)
	}
	if u, err := s.Users.Authenticate(ctx, "giulia@studio.TEST", "s3cret"); err != nil || u.Name != "Giulia" {
		t.Fatalf("right password: %v %v", u, err)
	}
	_, wrong := s.Users.Authenticate(ctx, "giulia@studio.test", "nope")
	_, unknown := s.Users.Authenticate(ctx, "nobody@studio.test", "s3cret")
	if !errors.Is(wrong, store.ErrBadCredentials) || !errors.Is(unknown, store.ErrBadCredentials) || wrong.Error() != unknown.Error() {
		t.Fatalf("wrong password and unknown user must answer alike: %v / %v", wrong, unknown)
	}
}

func TestAccountPasswordIsSealed(t *testing.T) {
	s := storetest.New(t)
	ctx := context.Background()
	a, err := s.Accounts.Create(ctx, store.NewAccount{Name: "Info", Address: "info@studio.test", IMAPAddr: "127.0.0.1:993", SMTPAddr: "127.0.0.1:465", Password: "mailbox-pw"})
	if err != nil {
		t.Fatal(err)
	}
	var raw []byte
	if err := s.Pool.QueryRow(ctx, "SELECT password_sealed FROM accounts WHERE id = $1", a.ID).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), "mailbox-pw") {
		t.Fatal("the password is stored in clear")
	}
	if pw, err := s.Accounts.Password(ctx, a.ID); err != nil || pw != "mailbox-pw" {
		t.Fatalf("Password: %q %v", pw, err)
	}
	if _, err := s.Accounts.Create(ctx, store.NewAccount{Name: "Dup", Address: "INFO@studio.test", IMAPAddr: "127.0.0.1:993", SMTPAddr: "127.0.0.1:465", Password: "x"}); !errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("duplicate account: %v", err)
	}
	// Another key: the password is reported unreadable, never garbage.
	otherSealer, _ := store.NewSealer([]byte("ffffffffffffffffffffffffffffffff"))
	other := store.New(s.Pool, otherSealer)
	if _, err := other.Accounts.Password(ctx, a.ID); !errors.Is(err, store.ErrUnreadableSecret) {
		t.Fatalf("changed key: want ErrUnreadableSecret, got %v", err)
	}
}
