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

	"sportello/web"
)

// serve runs the HTTP server and the mailbox sync until ctx ends. ready, if
// set, is called with the listening URL once requests are answered.
func serve(ctx context.Context, cfg config, stdout io.Writer, ready func(url string)) error {
	ln, err := net.Listen("tcp", cfg.Addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("the address %s is already in use: stop the other program or set SPORTELLO_ADDR", cfg.Addr)
	}
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %w", cfg.Addr, err)
	}
	defer ln.Close()

	db, err := openDatabase(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.close(ctx)

	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	sync := startSync(ctx, db, registry)
	defer sync.stop()

	srv := web.New(web.Options{Store: db.store, Logger: slog.Default(), Registry: registry, Sync: sync})
	defer srv.Close()
	httpServer := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	errc := make(chan error, 1)
	go func() { errc <- httpServer.Serve(ln) }()

	url := "http://" + ln.Addr().String() + "/"
	if ready != nil {
		ready(url)
	} else {
		fmt.Fprintf(stdout, "Sportello is listening on %s\n", url)
	}
	slog.Info("listening", "addr", ln.Addr().String())

	select {
	case <-ctx.Done():
	case err := <-errc:
		return err
	}
	slog.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return httpServer.Shutdown(shutdownCtx)
}
