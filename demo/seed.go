package demo

import (
	"context"
	"errors"
	"fmt"

	"sportello/store"
)

// Users are the people of the demo office; all sign in with Password.
var Users = []struct {
	Email, Name string
	Admin       bool
	Roles       map[string]string // mailbox address → role
}{
	{"admin@studio.test", "Amministratore", true, nil},
	{"giulia@studio.test", "Giulia Rossi", false, map[string]string{info: store.RoleManager, pec: store.RoleManager}},
	{"marco@studio.test", "Marco Neri", false, map[string]string{info: store.RoleReader}},
}

// Password is every demo user's password (the demo listens on loopback).
const Password = "demo"

// Seed creates the demo users, accounts and roles on first run and points
// the accounts at this run's mail server. The mail server starts fresh each
// time, so the accounts' cache does too.
func Seed(ctx context.Context, s *store.Store, srv *Server) error {
	accounts := map[string]int64{}
	for _, mb := range Mailboxes {
		n := store.NewAccount{Name: mb.Name, Address: mb.Address, IMAPAddr: srv.IMAPAddr, SMTPAddr: srv.SMTPAddr,
			TLS: store.TLSNone, Username: mb.Address, Password: mb.Password, IsPEC: mb.PEC}
		a, err := s.Accounts.ByAddress(ctx, mb.Address)
		switch {
		case errors.Is(err, store.ErrNotFound):
			a, err = s.Accounts.Create(ctx, n)
		case err == nil:
			if err = s.Folders.DeleteAll(ctx, a.ID); err == nil {
				a, err = s.Accounts.Update(ctx, a.ID, n)
			}
		}
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		accounts[mb.Address] = a.ID
	}
	for _, du := range Users {
		u, err := s.Users.ByEmail(ctx, du.Email)
		if errors.Is(err, store.ErrNotFound) {
			u, err = s.Users.Create(ctx, du.Email, du.Name, Password, du.Admin)
		}
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		for addr, role := range du.Roles {
			if err := s.Users.Grant(ctx, u.ID, accounts[addr], role); err != nil {
				return err
			}
		}
	}
	return nil
}
