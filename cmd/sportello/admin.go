package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"

	"sportello/store"
)

func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

func parseFlags(fs *flag.FlagSet, args []string, required ...string) error {
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%s: %v", fs.Name(), err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%s: unexpected argument %q", fs.Name(), fs.Arg(0))
	}
	for _, name := range required {
		if fs.Lookup(name).Value.String() == "" {
			return fmt.Errorf("%s: --%s is required", fs.Name(), name)
		}
	}
	return nil
}

func userAdd(ctx context.Context, cfg config, args []string, stdin io.Reader, stdout io.Writer) error {
	fs := newFlags("user add")
	email := fs.String("email", "", "")
	name := fs.String("name", "", "")
	admin := fs.Bool("admin", false, "")
	if err := parseFlags(fs, args, "email", "name"); err != nil {
		return err
	}
	password, err := readSecret(stdin, "password")
	if err != nil {
		return err
	}
	db, err := openDatabase(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.close(ctx)
	u, err := db.store.Users.Create(ctx, *email, *name, password, *admin)
	if errors.Is(err, store.ErrDuplicate) {
		return fmt.Errorf("a user with the e-mail %s already exists", *email)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "user %d added: %s\n", u.ID, u.Email)
	return nil
}

func accountAdd(ctx context.Context, cfg config, args []string, stdin io.Reader, stdout io.Writer) error {
	fs := newFlags("account add")
	var n store.NewAccount
	fs.StringVar(&n.Name, "name", "", "")
	fs.StringVar(&n.Address, "address", "", "")
	fs.StringVar(&n.IMAPAddr, "imap", "", "")
	fs.StringVar(&n.SMTPAddr, "smtp", "", "")
	fs.StringVar(&n.TLS, "tls", store.TLSImplicit, "")
	fs.StringVar(&n.Username, "username", "", "")
	fs.BoolVar(&n.IsPEC, "pec", false, "")
	fs.BoolVar(&n.InsecureSkipVerify, "insecure-skip-verify", false, "")
	if err := parseFlags(fs, args, "name", "address", "imap", "smtp"); err != nil {
		return err
	}
	password, err := readSecret(stdin, "mailbox password")
	if err != nil {
		return err
	}
	n.Password = password
	db, err := openDatabase(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.close(ctx)
	a, err := db.store.Accounts.Create(ctx, n)
	if errors.Is(err, store.ErrDuplicate) {
		return fmt.Errorf("an account for %s already exists", n.Address)
	}
	if err != nil {
		return err
	}
	id := a.ID
	if _, err := db.store.Activity.Append(ctx, store.Entry{Actor: "cli", Action: store.ActionAccountChange, AccountID: &id, Detail: "account added: " + a.Address}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "account %d added: %s\n", a.ID, a.Address)
	return nil
}

type accountJSON struct {
	ID                 int64  `json:"id"`
	Name               string `json:"name"`
	Address            string `json:"address"`
	PEC                bool   `json:"pec"`
	IMAP               string `json:"imap"`
	SMTP               string `json:"smtp"`
	TLS                string `json:"tls"`
	Username           string `json:"username"`
	InsecureSkipVerify bool   `json:"insecure_skip_verify"`
}

func accountList(ctx context.Context, cfg config, args []string, stdout io.Writer) error {
	fs := newFlags("account list")
	asJSON := fs.Bool("json", false, "")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	db, err := openDatabase(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.close(ctx)
	accounts, err := db.store.Accounts.List(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		out := make([]accountJSON, 0, len(accounts))
		for _, a := range accounts {
			out = append(out, accountJSON{a.ID, a.Name, a.Address, a.IsPEC, a.IMAPAddr, a.SMTPAddr, a.TLS, a.Username, a.InsecureSkipVerify})
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tADDRESS\tPEC")
	for _, a := range accounts {
		pec := "no"
		if a.IsPEC {
			pec = "yes"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", a.ID, a.Name, a.Address, pec)
	}
	return tw.Flush()
}

func grant(ctx context.Context, cfg config, args []string, stdout io.Writer) error {
	fs := newFlags("grant")
	email := fs.String("user", "", "")
	acct := fs.String("account", "", "")
	role := fs.String("role", "", "")
	if err := parseFlags(fs, args, "user", "account", "role"); err != nil {
		return err
	}
	if *role != store.RoleReader && *role != store.RoleManager {
		return fmt.Errorf("grant: --role must be reader or manager, not %q", *role)
	}
	db, err := openDatabase(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.close(ctx)
	u, err := db.store.Users.ByEmail(ctx, *email)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("there is no user %s", *email)
	}
	if err != nil {
		return err
	}
	a, err := findAccount(ctx, db.store, *acct)
	if err != nil {
		return err
	}
	if err := db.store.Users.Grant(ctx, u.ID, a.ID, *role); err != nil {
		return err
	}
	if _, err := db.store.Activity.Append(ctx, store.Entry{Actor: "cli", Action: store.ActionGrant, AccountID: &a.ID, Detail: fmt.Sprintf("%s is now %s", u.Email, *role)}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s is now %s of %s\n", u.Email, *role, a.Address)
	return nil
}

// findAccount takes the numeric id that `account list` prints, or the address.
func findAccount(ctx context.Context, s *store.Store, ref string) (store.Account, error) {
	var a store.Account
	var err error
	if id, perr := strconv.ParseInt(ref, 10, 64); perr == nil {
		a, err = s.Accounts.ByID(ctx, id)
	} else {
		a, err = s.Accounts.ByAddress(ctx, ref)
	}
	if errors.Is(err, store.ErrNotFound) {
		return a, fmt.Errorf("there is no account %s (see `sportello account list`)", ref)
	}
	return a, err
}

func auditVerify(ctx context.Context, cfg config, stdout io.Writer) error {
	db, err := openDatabase(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.close(ctx)
	n, brk, err := db.store.Activity.Verify(ctx)
	if err != nil {
		return err
	}
	if brk != nil {
		return fmt.Errorf("the activity log is broken at row %d: %s (%d rows before it are intact)", brk.Seq, brk.Reason, n)
	}
	fmt.Fprintf(stdout, "activity log intact: %d rows\n", n)
	return nil
}

func auditHead(ctx context.Context, cfg config, stdout io.Writer) error {
	db, err := openDatabase(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.close(ctx)
	seq, hash, err := db.store.Activity.Head(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d %x\n", seq, hash)
	return nil
}
