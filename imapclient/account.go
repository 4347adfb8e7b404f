package imapclient

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"

	"sportello/store"
)

// Timing of an account's connections. Tests shorten them.
type Timing struct {
	// Poll is how often the other folders are checked with STATUS.
	Poll time.Duration
	// IdleRestart ends an IDLE round (a NOOP follows) well before the
	// 29 minutes after which servers may drop an idle client.
	IdleRestart time.Duration
	// BackoffMin and BackoffMax bound the reconnect delay after an error.
	BackoffMin, BackoffMax time.Duration
	// AuthRetry is the delay after a refused password.
	AuthRetry time.Duration
}

// DefaultTiming is what production uses.
var DefaultTiming = Timing{
	Poll:        30 * time.Second,
	IdleRestart: 10 * time.Minute,
	BackoffMin:  time.Second,
	BackoffMax:  5 * time.Minute,
	AuthRetry:   10 * time.Minute,
}

// Account keeps one shared account's cache current: an IDLE connection on
// INBOX and a command connection that polls the other folders.
type Account struct {
	acct   store.Account
	store  *store.Store
	log    *slog.Logger
	board  *statusBoard
	m      *metrics
	timing Timing
	poke   chan struct{} // a request to poll now
}

func (a *Account) setState(state string, err error) {
	a.board.set(a.acct.ID, a.acct.Name, state, err)
}

// Run keeps the account in sync until ctx ends, reconnecting after any
// error with exponential backoff and jitter.
func (a *Account) Run(ctx context.Context) {
	backoff := a.timing.BackoffMin
	for ctx.Err() == nil {
		started := time.Now()
		err := a.session(ctx)
		if ctx.Err() != nil {
			return
		}
		delay := backoff
		if errors.Is(err, ErrAuthFailed) || errors.Is(err, store.ErrUnreadableSecret) {
			a.setState(StateAuthFailed, err)
			delay = a.timing.AuthRetry
		} else {
			a.setState(StateError, err)
			if time.Since(started) > time.Minute {
				backoff = a.timing.BackoffMin // it worked for a while: start over
			}
			delay = backoff + time.Duration(rand.Int64N(int64(backoff)/2+1))
			backoff = min(backoff*2, a.timing.BackoffMax)
		}
		a.log.Warn("account connection ended; retrying", "account", a.acct.Name, "err", err, "retry_in", delay.Round(time.Millisecond))
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
	}
}

// session runs one connected period: both connections, until either fails.
func (a *Account) session(ctx context.Context) error {
	a.setState(StateConnecting, nil)
	password, err := a.store.Accounts.Password(ctx, a.acct.ID)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	cmdConn, err := dial(ctx, a.acct, password, nil)
	if err != nil {
		return err
	}
	defer cmdConn.Close()
	cmd := &syncer{acct: a.acct, store: a.store, c: cmdConn, log: a.log, metrics: a.m}

	a.setState(StateSyncing, nil)
	folders, err := cmd.syncFolderList(ctx)
	if err != nil {
		return err
	}
	inboxListed, ok := folders["INBOX"]
	inbox := inboxListed.folder
	if !ok {
		return fmt.Errorf("imapclient: %s has no INBOX", a.acct.Address)
	}

	events := make(chan struct{}, 1)
	signal := func() {
		select {
		case events <- struct{}{}:
		default:
		}
	}
	// The handler runs on go-imap's reader: it must never block or send a
	// command, so it only raises a flag for the IDLE loop.
	handler := &imapclient.UnilateralDataHandler{
		Expunge: func(uint32) { signal() },
		Mailbox: func(*imapclient.UnilateralDataMailbox) { signal() },
		Fetch: func(msg *imapclient.FetchMessageData) {
			_, _ = msg.Collect()
			signal()
		},
	}
	idleConn, err := dial(ctx, a.acct, password, handler)
	if err != nil {
		return err
	}
	defer idleConn.Close()
	idle := &syncer{acct: a.acct, store: a.store, c: idleConn, log: a.log, metrics: a.m}

	// INBOX first, so today's mail is there before the other folders.
	if err := idle.syncFolder(ctx, inbox); err != nil {
		return err
	}
	errc := make(chan error, 2)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); errc <- a.idleLoop(ctx, idle, events) }()
	go func() { defer wg.Done(); errc <- a.pollLoop(ctx, cmd) }()
	err = <-errc
	cancel()
	idleConn.Close()
	cmdConn.Close()
	wg.Wait()
	return err
}

// idleLoop waits in IDLE on INBOX and resyncs it whenever the server
// reports something.
func (a *Account) idleLoop(ctx context.Context, s *syncer, events chan struct{}) error {
	a.setState(StateIdle, nil)
	for {
		idleCmd, err := s.c.Idle()
		if err != nil {
			return fmt.Errorf("imapclient: IDLE refused: %w", err)
		}
		timer := time.NewTimer(a.timing.IdleRestart)
		var woke, timedOut bool
		var wokeAt time.Time
		select {
		case <-ctx.Done():
		case <-s.c.Closed():
		case <-events:
			woke, wokeAt = true, time.Now()
		case <-timer.C:
			timedOut = true
		}
		timer.Stop()
		if err := idleCmd.Close(); err != nil {
			return fmt.Errorf("imapclient: ending IDLE: %w", err)
		}
		if err := idleCmd.Wait(); err != nil {
			return fmt.Errorf("imapclient: IDLE: %w", err)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !woke && !timedOut {
			return errors.New("imapclient: the IDLE connection closed")
		}
		if timedOut {
			if err := s.c.Noop().Wait(); err != nil {
				return fmt.Errorf("imapclient: NOOP: %w", err)
			}
		}
		// The folder's sync state moved on since the last round: read it anew.
		inbox, err := a.store.Folders.ByName(ctx, a.acct.ID, "INBOX")
		if err != nil {
			return err
		}
		// Drain a signal raised during the previous sync: this one covers it.
		select {
		case <-events:
		default:
		}
		if err := s.syncSelected(ctx, inbox); err != nil {
			return err
		}
		if woke {
			a.board.eventApplied(a.acct.ID, time.Since(wokeAt))
		}
		a.setState(StateIdle, nil)
	}
}

// pollLoop checks the other folders every Poll: LIST for folders created,
// renamed or deleted, STATUS for each, and a sync of those that changed.
func (a *Account) pollLoop(ctx context.Context, s *syncer) error {
	first := true
	for {
		if err := s.pollFolders(ctx, first); err != nil {
			return err
		}
		first = false
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.c.Closed():
			return errors.New("imapclient: the command connection closed")
		case <-a.poke:
		case <-time.After(a.timing.Poll):
		}
	}
}
