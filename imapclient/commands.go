package imapclient

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"sportello/store"
)

// ErrGone means the message is no longer on the server (or its folder's
// UIDVALIDITY changed since it was cached).
var ErrGone = errors.New("imapclient: the message is no longer on the server")

// Commands runs on-demand IMAP commands for the web side: fetching a
// message's bytes, searching the server. Each account gets one connection,
// dialed on first use, used by one command at a time and closed after a
// while unused. It works in any process, whoever owns the account's sync.
type Commands struct {
	store *store.Store
	log   *slog.Logger
	// IdleClose closes a connection unused this long.
	IdleClose time.Duration

	mu    sync.Mutex
	conns map[int64]*commandConn
}

type commandConn struct {
	mu       sync.Mutex // one command at a time: they share the selected folder
	c        *imapclient.Client
	account  store.Account
	lastUsed time.Time
}

// NewCommands prepares on-demand connections; Close releases them.
func NewCommands(st *store.Store, log *slog.Logger) *Commands {
	if log == nil {
		log = slog.Default()
	}
	return &Commands{store: st, log: log, IdleClose: 2 * time.Minute, conns: map[int64]*commandConn{}}
}

// Close logs out of every connection.
func (c *Commands) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, cc := range c.conns {
		cc.mu.Lock()
		if cc.c != nil {
			cc.c.Close()
		}
		cc.mu.Unlock()
		delete(c.conns, id)
	}
}

// with runs fn on the account's connection, dialing it when needed and
// redialing once if the old one died.
func (c *Commands) with(ctx context.Context, accountID int64, fn func(*imapclient.Client) error) error {
	c.mu.Lock()
	cc, ok := c.conns[accountID]
	if !ok {
		cc = &commandConn{}
		c.conns[accountID] = cc
	}
	c.mu.Unlock()

	cc.mu.Lock()
	defer cc.mu.Unlock()
	acct, err := c.store.Accounts.ByID(ctx, accountID)
	if err != nil {
		return err
	}
	// Settings changed, idle too long, or dead: start afresh.
	if cc.c != nil && (!acct.UpdatedAt.Equal(cc.account.UpdatedAt) || time.Since(cc.lastUsed) > c.IdleClose || isClosed(cc.c)) {
		cc.c.Close()
		cc.c = nil
	}
	for attempt := 0; ; attempt++ {
		if cc.c == nil {
			password, err := c.store.Accounts.Password(ctx, accountID)
			if err != nil {
				return err
			}
			// The connection outlives this request: it is closed by Close,
			// by the idle check, or when it fails.
			cl, err := dial(context.WithoutCancel(ctx), acct, password, nil)
			if err != nil {
				return err
			}
			cc.c, cc.account = cl, acct
		}
		cc.lastUsed = time.Now()
		err := fn(cc.c)
		if err == nil || attempt > 0 || !isClosed(cc.c) {
			return err
		}
		cc.c = nil // the connection died under us: one more try
	}
}

func isClosed(c *imapclient.Client) bool {
	select {
	case <-c.Closed():
		return true
	default:
		return false
	}
}

// examine opens a folder read-only and checks that UIDs still mean what
// the cache thinks.
func examine(c *imapclient.Client, folder string, uidValidity uint32) error {
	sel, err := c.Select(folder, &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		var imapErr *imap.Error
		if errors.As(err, &imapErr) && imapErr.Type == imap.StatusResponseTypeNo {
			return ErrGone
		}
		return fmt.Errorf("imapclient: cannot open %s: %w", folder, err)
	}
	if uidValidity != 0 && sel.UIDValidity != uidValidity {
		return ErrGone
	}
	return nil
}

// FetchRaw returns a message's bytes exactly as the server stores them,
// with BODY.PEEK so the shared \Seen flag does not change.
func (c *Commands) FetchRaw(ctx context.Context, accountID int64, folder string, uidValidity, uid uint32) ([]byte, error) {
	var raw []byte
	err := c.with(ctx, accountID, func(cl *imapclient.Client) error {
		if err := examine(cl, folder, uidValidity); err != nil {
			return err
		}
		section := &imap.FetchItemBodySection{Peek: true}
		msgs, err := cl.Fetch(imap.UIDSetNum(imap.UID(uid)), &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{section}}).Collect()
		if err != nil {
			return fmt.Errorf("imapclient: fetching the message: %w", err)
		}
		if len(msgs) == 0 {
			return ErrGone
		}
		raw = msgs[0].FindBodySection(section)
		if raw == nil {
			return ErrGone
		}
		return nil
	})
	return raw, err
}

// Search asks the server for messages of a folder containing text (in
// headers or body) and returns their UIDs.
func (c *Commands) Search(ctx context.Context, accountID int64, folder string, text string) ([]uint32, error) {
	var uids []uint32
	err := c.with(ctx, accountID, func(cl *imapclient.Client) error {
		if err := examine(cl, folder, 0); err != nil {
			return err
		}
		data, err := cl.UIDSearch(&imap.SearchCriteria{Text: []string{text}}, nil).Wait()
		if err != nil {
			return fmt.Errorf("imapclient: server search: %w", err)
		}
		for _, u := range data.AllUIDs() {
			uids = append(uids, uint32(u))
		}
		return nil
	})
	return uids, err
}
