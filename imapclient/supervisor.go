// Package imapclient keeps Sportello's PostgreSQL cache equal to each shared
// account's IMAP mailbox: per account an IDLE connection on INBOX and a
// command connection that polls the other folders (and later serves user
// actions), under a supervisor that owns each account through a PostgreSQL
// advisory lock. It imports store and mail, never web.
package imapclient

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"

	"sportello/store"
)

// lockNamespace is the first key of the per-account advisory locks.
const lockNamespace = 0x5350 // "SP"

// Supervisor runs an Account for every configured account this process
// owns, and picks up accounts added, changed or removed while it runs.
type Supervisor struct {
	store  *store.Store
	log    *slog.Logger
	board  *statusBoard
	m      *metrics
	timing Timing
	// Rescan is how often ownership is retried for accounts another
	// process holds (a takeover happens within it).
	Rescan time.Duration

	mu      sync.Mutex
	running map[int64]*runner
}

type runner struct {
	acct   store.Account
	cancel context.CancelFunc
	done   chan struct{}
	poke   chan struct{}
}

// poke has an account's poller check its folders now.
func (s *Supervisor) poke(id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.running[id]; ok {
		select {
		case r.poke <- struct{}{}:
		default:
		}
	}
}

// NewSupervisor prepares a supervisor; Run starts it.
func NewSupervisor(st *store.Store, log *slog.Logger, reg prometheus.Registerer, timing Timing) *Supervisor {
	if log == nil {
		log = slog.Default()
	}
	m := newMetrics(reg)
	return &Supervisor{
		store:   st,
		log:     log,
		board:   newStatusBoard(m),
		m:       m,
		timing:  timing,
		Rescan:  5 * time.Second,
		running: map[int64]*runner{},
	}
}

// Statuses returns the sync state of every account this process knows of.
func (s *Supervisor) Statuses() map[int64]Status {
	return s.board.snapshot()
}

// Run supervises until ctx ends. A lost database connection stops every
// account (another process may take them over) and is retried.
func (s *Supervisor) Run(ctx context.Context) {
	backoff := time.Second
	for ctx.Err() == nil {
		err := s.runOwned(ctx)
		s.stopAll()
		if ctx.Err() != nil {
			return
		}
		s.log.Error("sync supervisor lost the database; retrying", "err", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, time.Minute)
	}
}

// dedicatedConn takes a connection out of the pool for good: advisory
// locks and LISTEN belong to one session.
func (s *Supervisor) dedicatedConn(ctx context.Context) (*pgx.Conn, error) {
	c, err := s.store.Pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	return c.Hijack(), nil
}

func (s *Supervisor) runOwned(ctx context.Context) error {
	lockConn, err := s.dedicatedConn(ctx)
	if err != nil {
		return err
	}
	defer lockConn.Close(context.WithoutCancel(ctx))
	listenConn, err := s.dedicatedConn(ctx)
	if err != nil {
		return err
	}
	defer listenConn.Close(context.WithoutCancel(ctx))
	if _, err := listenConn.Exec(ctx, "LISTEN "+store.ChannelAccounts+"; LISTEN "+store.ChannelSyncRequests); err != nil {
		return err
	}

	ctx, cancel := context.WithCancel(ctx)
	changed := make(chan struct{}, 1)
	listenErr := make(chan error, 1)
	listening := make(chan struct{})
	// Deferred after the Close above, so it runs first: the listener is
	// gone before its connection closes.
	defer func() { cancel(); <-listening }()
	go func() {
		defer close(listening)
		for {
			n, err := listenConn.WaitForNotification(ctx)
			if err != nil {
				listenErr <- err
				return
			}
			if n.Channel == store.ChannelSyncRequests {
				if id, err := strconv.ParseInt(n.Payload, 10, 64); err == nil {
					s.poke(id)
				}
				continue
			}
			select {
			case changed <- struct{}{}:
			default:
			}
		}
	}()

	ticker := time.NewTicker(s.Rescan)
	defer ticker.Stop()
	for {
		if err := s.reconcile(ctx, lockConn); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-listenErr:
			return fmt.Errorf("imapclient: listening for account changes: %w", err)
		case <-changed:
		case <-ticker.C:
		}
	}
}

// reconcile starts what this process may own and stops what was removed
// or changed.
func (s *Supervisor) reconcile(ctx context.Context, lockConn *pgx.Conn) error {
	accounts, err := s.store.Accounts.List(ctx)
	if err != nil {
		return err
	}
	want := make(map[int64]store.Account, len(accounts))
	for _, a := range accounts {
		want[a.ID] = a
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, r := range s.running {
		a, ok := want[id]
		if ok && a.UpdatedAt.Equal(r.acct.UpdatedAt) && a.Name == r.acct.Name {
			continue
		}
		r.stop()
		delete(s.running, id)
		if !ok {
			s.board.remove(id)
			if _, err := lockConn.Exec(ctx, "SELECT pg_advisory_unlock($1, $2)", lockNamespace, int32(id)); err != nil {
				return err
			}
			s.log.Info("account removed; its sync stopped", "account", r.acct.Name)
		} else {
			s.log.Info("account changed; restarting its sync", "account", a.Name)
		}
	}
	for id, a := range want {
		if _, ok := s.running[id]; ok {
			continue
		}
		var owned bool
		if err := lockConn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1, $2)", lockNamespace, int32(id)).Scan(&owned); err != nil {
			return err
		}
		if !owned {
			s.board.set(id, a.Name, StateStandby, nil)
			continue
		}
		s.running[id] = s.start(ctx, a)
	}
	// With nothing to lock, still prove the lock connection alive.
	if len(want) == 0 {
		return lockConn.Ping(ctx)
	}
	return nil
}

func (s *Supervisor) start(ctx context.Context, a store.Account) *runner {
	ctx, cancel := context.WithCancel(ctx)
	r := &runner{acct: a, cancel: cancel, done: make(chan struct{}), poke: make(chan struct{}, 1)}
	acct := &Account{acct: a, store: s.store, log: s.log, board: s.board, m: s.m, timing: s.timing, poke: r.poke}
	s.log.Info("syncing account", "account", a.Name, "imap", a.IMAPAddr)
	go func() {
		defer close(r.done)
		acct.Run(ctx)
	}()
	return r
}

func (r *runner) stop() {
	r.cancel()
	<-r.done
}

func (s *Supervisor) stopAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, r := range s.running {
		r.stop()
		delete(s.running, id)
		s.board.set(id, r.acct.Name, StateStandby, errors.New("sync stopped"))
	}
}
