package main

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"

	"sportello/web"
)

// syncRunner owns the mailbox sync of this process.
type syncRunner struct {
	cancel context.CancelFunc
	done   chan struct{}
	st     web.SyncStatus
}

func startSync(ctx context.Context, db *database, registry *prometheus.Registry) (*syncRunner, error) {
	_, cancel := context.WithCancel(ctx)
	r := &syncRunner{cancel: cancel, done: make(chan struct{})}
	close(r.done)
	return r, nil
}

func (r *syncRunner) stop() {
	r.cancel()
	<-r.done
}

func (r *syncRunner) status() web.SyncStatus { return r.st }
