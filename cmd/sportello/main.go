// Command sportello runs the shared inbox and its administration commands.
// This package only reads configuration, wires the packages together and
// speaks to the operator; everything else lives in the packages it calls.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

const usage = `Sportello: a shared inbox for the team.

Usage:
  sportello serve      HTTP server and mailbox sync
  sportello demo       serve with a built-in mail server and sample mail
  sportello migrate    bring the database schema up to date
  sportello user add --email E --name N [--admin]          (password on stdin)
  sportello account list [--json]
  sportello account add --name N --address A --imap HOST:PORT --smtp HOST:PORT
                        [--tls implicit|starttls|none] [--username U] [--pec]
                        [--insecure-skip-verify]             (password on stdin)
  sportello grant --user E --account A --role reader|manager
  sportello audit verify | head

Environment:
  SPORTELLO_ADDR        listen address (default 127.0.0.1:8080)
  DATABASE_URL          PostgreSQL; without it, an embedded cluster under SPORTELLO_DATA
  SPORTELLO_DATA        data folder (default ./data)
  SPORTELLO_SECRET_KEY  key for stored mailbox passwords (default: SPORTELLO_DATA/secret.key)
  SPORTELLO_BODY_CACHE_MB  largest message kept in the body cache, in MB (default 10)
`

// errUsage marks a command line that does not parse; usage was printed.
var errUsage = errors.New("see `sportello help`")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	slog.SetDefault(logger)
	if err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "sportello: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	cfg := loadConfig()
	sub := func(n int) string {
		if len(args) > n {
			return args[n]
		}
		return ""
	}
	switch args[0] {
	case "serve":
		return serve(ctx, cfg, stdout)
	case "demo":
		return demoCmd(ctx, cfg, stdout)
	case "migrate":
		return migrateCmd(ctx, cfg, stdout)
	case "user":
		if sub(1) == "add" {
			return userAdd(ctx, cfg, args[2:], stdin, stdout)
		}
	case "account":
		switch sub(1) {
		case "list":
			return accountList(ctx, cfg, args[2:], stdout)
		case "add":
			return accountAdd(ctx, cfg, args[2:], stdin, stdout)
		}
	case "grant":
		return grant(ctx, cfg, args[1:], stdout)
	case "audit":
		switch sub(1) {
		case "verify":
			return auditVerify(ctx, cfg, stdout)
		case "head":
			return auditHead(ctx, cfg, stdout)
		}
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return errUsage
}
