package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"

	"sportello/demo"
)

func demoCmd(ctx context.Context, cfg config, stdout io.Writer) error {
	host, _, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return fmt.Errorf("SPORTELLO_ADDR %q is not HOST:PORT", cfg.Addr)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("the demo's passwords are public, so it listens on loopback only: set SPORTELLO_ADDR to 127.0.0.1:PORT, not %s", cfg.Addr)
	}
	ln, err := listen(cfg.Addr)
	if err != nil {
		return err
	}
	defer ln.Close()

	mailSrv, err := demo.Start(slog.Default(), pecFixtures())
	if err != nil {
		return err
	}
	defer mailSrv.Close()

	db, err := openDatabase(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.close(ctx)
	if err := demo.Seed(ctx, db.store, mailSrv); err != nil {
		return err
	}
	return runServer(ctx, cfg, db, ln, func(url string) {
		fmt.Fprintf(stdout, `
Sportello demo is running: %s

  Sign in as             password  rights
  admin@studio.test      demo      administrator
  giulia@studio.test     demo      manager of both shared mailboxes
  marco@studio.test      demo      reader of info@studio.test

  Built-in mail server (plain, no TLS; point Thunderbird or a phone at it
  and watch Sportello follow):
    IMAP %s   SMTP %s
    info@studio.test / %s
    %s / %s

Press Ctrl-C to stop.
`, url, mailSrv.IMAPAddr, mailSrv.SMTPAddr, demo.Mailboxes[0].Password, demo.Mailboxes[1].Address, demo.Mailboxes[1].Password)
	})
}

// pecFixtures reads the shared PEC fixtures when they sit beside the
// checkout (../shared/fixtures/pec), so the demo shows real-format receipts.
func pecFixtures() [][]byte {
	dir := os.Getenv("SPORTELLO_PEC_FIXTURES")
	if dir == "" {
		dir = filepath.Join("..", "shared", "fixtures", "pec")
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
	var out [][]byte
	for _, f := range files {
		if b, err := os.ReadFile(f); err == nil {
			out = append(out, b)
		}
	}
	return out
}
