package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"sportello/imapclient"
	"sportello/web"
)

func listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil, fmt.Errorf("the address %s is already in use: stop the other program or set SPORTELLO_ADDR", addr)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot listen on %s: %w", addr, err)
	}
	return ln, nil
}

func serve(ctx context.Context, cfg config, stdout io.Writer) error {
	ln, err := listen(cfg.Addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	db, err := openDatabase(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.close(ctx)
	return runServer(ctx, cfg, db, ln, func(url string) {
		fmt.Fprintf(stdout, "Sportello is listening on %s\n", url)
	})
}

// runServer runs the HTTP server and the mailbox sync until ctx ends;
// ready is called with the URL once requests are answered.
func runServer(ctx context.Context, cfg config, db *database, ln net.Listener, ready func(url string)) error {
	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	sync := startSync(ctx, db, registry)
	defer sync.stop()

	commands := imapclient.NewCommands(db.store, slog.Default())
	defer commands.Close()
	srv := web.New(web.Options{Store: db.store, Logger: slog.Default(), Registry: registry, Sync: web.SupervisorStatus{Supervisor: sync.sup}, IMAP: commands,
		BodyCacheMax: cfg.BodyCacheMax})
	defer srv.Close()
	httpServer := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	httpServer.RegisterOnShutdown(srv.CloseStreams)
	errc := make(chan error, 1)
	go func() { errc <- httpServer.Serve(ln) }()

	ready("http://" + ln.Addr().String() + "/")
	slog.Info("listening", "addr", ln.Addr().String())

	select {
	case <-ctx.Done():
	case err := <-errc:
		return err
	}
	slog.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := httpServer.Shutdown(shutdownCtx); err != nil {
		return httpServer.Close()
	}
	return nil
}
