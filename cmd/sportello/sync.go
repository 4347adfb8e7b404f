package main

import (
	"context"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"sportello/imapclient"
)

// syncRunner owns the mailbox sync of this process.
type syncRunner struct {
	sup    *imapclient.Supervisor
	cancel context.CancelFunc
	done   chan struct{}
}

func startSync(ctx context.Context, db *database, registry *prometheus.Registry) *syncRunner {
	ctx, cancel := context.WithCancel(ctx)
	r := &syncRunner{
		sup:    imapclient.NewSupervisor(db.store, slog.Default(), registry, imapclient.DefaultTiming),
		cancel: cancel,
		done:   make(chan struct{}),
	}
	go func() {
		defer close(r.done)
		r.sup.Run(ctx)
	}()
	return r
}

func (r *syncRunner) stop() {
	r.cancel()
	<-r.done
}
