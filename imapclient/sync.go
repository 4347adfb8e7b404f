package imapclient

import (
	"context"
	"fmt"
	netmail "net/mail"
	"slices"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"sportello/mail"
	"sportello/store"
)

// batchSize is how many messages one FETCH asks for during a large sync:
// big enough to keep the pipe full, small enough that the newest mail is
// usable within a moment.
const batchSize = 1000

// writeBatch is how many headers go to PostgreSQL in one transaction.
const writeBatch = 500

// syncer keeps the cache of one account's folders equal to the server,
// over one connection.
type syncer struct {
	acct    store.Account
	store   *store.Store
	c       *imapclient.Client
	log     logger
	metrics *metrics
}

type logger interface {
	Info(msg string, args ...any)
	Warn(msg string, args ...any)
}

func (s *syncer) condstore() bool {
	return s.c.Caps().Has(imap.CapCondStore)
}

// syncFolder brings one folder's cache up to date: new messages by UID,
// expunges by UID-list diff, flag changes by CONDSTORE or a refetch, and a
// full reset when UIDVALIDITY changed.
func (s *syncer) syncFolder(ctx context.Context, f store.Folder) error {
	start := time.Now()
	defer func() { s.metrics.syncTime.WithLabelValues(s.acct.Name).Observe(time.Since(start).Seconds()) }()

	condstore := s.condstore()
	sel, err := s.c.Select(f.Name, &imap.SelectOptions{ReadOnly: true, CondStore: condstore}).Wait()
	if err != nil {
		return fmt.Errorf("imapclient: cannot open folder %s: %w", f.Name, err)
	}
	if f.UIDValidity != 0 && f.UIDValidity != sel.UIDValidity {
		n, err := s.store.Folders.Reset(ctx, f.ID, sel.UIDValidity)
		if err != nil {
			return err
		}
		s.log.Warn("UIDVALIDITY changed: dropped the folder's cache and resyncing it",
			"account", s.acct.Name, "folder", f.Name, "old", f.UIDValidity, "new", sel.UIDValidity, "dropped", n)
		f.UIDValidity, f.UIDNext, f.HighestModSeq = sel.UIDValidity, 0, 0
	}

	cached, maxUID, err := s.store.Messages.FolderStats(ctx, f.ID)
	if err != nil {
		return err
	}
	complete := f.UIDNext != 0 && f.UIDValidity == sel.UIDValidity
	switch {
	case complete && sel.UIDNext == imap.UID(f.UIDNext) && uint32(cached) == sel.NumMessages:
		// Nothing added or removed since the last complete sync.
	case complete && sel.UIDNext > imap.UID(f.UIDNext) && uint32(cached) <= sel.NumMessages:
		n, err := s.fetchNew(ctx, f, condstore, maxUID)
		if err != nil {
			return err
		}
		if uint32(cached)+uint32(n) != sel.NumMessages {
			if err := s.diff(ctx, f, condstore); err != nil {
				return err
			}
		}
	default:
		if err := s.diff(ctx, f, condstore); err != nil {
			return err
		}
	}

	if f.HighestModSeq == 0 || !condstore || sel.HighestModSeq != f.HighestModSeq {
		if err := s.syncFlags(ctx, f, condstore, complete); err != nil {
			return err
		}
	}
	return s.store.Folders.SaveState(ctx, f.ID, sel.UIDValidity, uint32(sel.UIDNext), sel.HighestModSeq)
}

// fetchNew fetches the messages above the highest cached UID.
func (s *syncer) fetchNew(ctx context.Context, f store.Folder, condstore bool, maxUID uint32) (int, error) {
	var set imap.UIDSet
	set.AddRange(imap.UID(maxUID+1), 0) // maxUID+1:*
	// "n:*" also matches the highest message when it is below n: fetch
	// skips what is already cached.
	return s.fetch(ctx, f, set, condstore, maxUID, false)
}

// diff compares the server's UID list with the cache: fetches what is new,
// newest first in batches, and drops what is gone.
func (s *syncer) diff(ctx context.Context, f store.Folder, condstore bool) error {
	data, err := s.c.UIDSearch(&imap.SearchCriteria{}, &imap.SearchOptions{ReturnAll: true}).Wait()
	if err != nil {
		return fmt.Errorf("imapclient: cannot list %s: %w", f.Name, err)
	}
	server := data.AllUIDs()
	slices.Sort(server)
	cached, err := s.store.Messages.UIDs(ctx, f.ID)
	if err != nil {
		return err
	}
	var missing []imap.UID
	var gone []uint32
	i, j := 0, 0
	for i < len(server) || j < len(cached) {
		switch {
		case j == len(cached) || (i < len(server) && uint32(server[i]) < cached[j]):
			missing = append(missing, server[i])
			i++
		case i == len(server) || cached[j] < uint32(server[i]):
			gone = append(gone, cached[j])
			j++
		default:
			i++
			j++
		}
	}
	if len(gone) > 0 {
		if err := s.dropGone(ctx, f, gone); err != nil {
			return err
		}
	}
	// Newest first, so today's mail is there while last year's still syncs.
	for end := len(missing); end > 0; end -= batchSize {
		begin := max(0, end-batchSize)
		var set imap.UIDSet
		for _, uid := range missing[begin:end] {
			set.AddNum(uid)
		}
		if _, err := s.fetch(ctx, f, set, condstore, 0, true); err != nil {
			return err
		}
	}
	return nil
}

// fetch streams the headers of set above UID floor into the cache and
// returns how many it stored. Parsing IMAP and writing PostgreSQL overlap:
// batches go to a writer goroutine while the next ones arrive. fresh says
// the UIDs are known to be absent from the cache (COPY is then used).
func (s *syncer) fetch(ctx context.Context, f store.Folder, set imap.UIDSet, condstore bool, floor uint32, fresh bool) (int, error) {
	batches := make(chan []store.Header, 2)
	written := make(chan error, 1)
	total := 0
	go func() {
		var err error
		for batch := range batches {
			if err != nil {
				continue // drain: the reader stops at the next batch
			}
			if fresh {
				err = s.store.Messages.Insert(ctx, f, batch)
			} else {
				err = s.store.Messages.Upsert(ctx, f, batch)
			}
			if err == nil {
				s.metrics.fetched.WithLabelValues(s.acct.Name).Add(float64(len(batch)))
				err = s.store.Contacts().Collect(ctx, senders(batch, s.acct.IsPEC))
			}
		}
		written <- err
	}()

	cmd := s.c.Fetch(set, headerFetchOptions(condstore))
	batch := make([]store.Header, 0, writeBatch)
	var readErr error
	for {
		msg := cmd.Next()
		if msg == nil {
			break
		}
		buf, err := msg.Collect()
		if err != nil {
			readErr = fmt.Errorf("imapclient: reading %s: %w", f.Name, err)
			break
		}
		if uint32(buf.UID) <= floor {
			continue
		}
		batch = append(batch, toHeader(buf))
		if len(batch) == writeBatch {
			batches <- batch
			total += len(batch)
			batch = make([]store.Header, 0, writeBatch)
		}
	}
	if err := cmd.Close(); err != nil && readErr == nil {
		readErr = fmt.Errorf("imapclient: fetching %s: %w", f.Name, err)
	}
	if len(batch) > 0 && readErr == nil {
		batches <- batch
		total += len(batch)
	}
	close(batches)
	if err := <-written; err != nil {
		return 0, err
	}
	return total, readErr
}

// syncFlags applies flag changes: with CONDSTORE only what changed since the
// last known modseq, otherwise every message's flags.
func (s *syncer) syncFlags(ctx context.Context, f store.Folder, condstore, complete bool) error {
	opts := &imap.FetchOptions{UID: true, Flags: true, ModSeq: condstore}
	if condstore && complete && f.HighestModSeq > 0 {
		opts.ChangedSince = f.HighestModSeq
	} else if !complete {
		return nil // the full fetch just brought every flag
	}
	_, err := s.applyFlags(ctx, f, opts)
	return err
}

// applyFlags fetches flags as opts says, writes the changes to the cache
// and returns the highest modseq seen (or opts.ChangedSince).
func (s *syncer) applyFlags(ctx context.Context, f store.Folder, opts *imap.FetchOptions) (uint64, error) {
	cmd := s.c.Fetch(uidsFrom(1), opts)
	defer cmd.Close()
	var updates []store.FlagUpdate
	highest := opts.ChangedSince
	for {
		msg := cmd.Next()
		if msg == nil {
			break
		}
		buf, err := msg.Collect()
		if err != nil {
			return 0, fmt.Errorf("imapclient: reading flags of %s: %w", f.Name, err)
		}
		highest = max(highest, buf.ModSeq)
		if buf.UID != 0 {
			updates = append(updates, store.FlagUpdate{UID: uint32(buf.UID), ModSeq: buf.ModSeq, Flags: flagStrings(buf.Flags)})
		}
	}
	if err := cmd.Close(); err != nil {
		return 0, fmt.Errorf("imapclient: fetching flags of %s: %w", f.Name, err)
	}
	return highest, s.store.Messages.UpdateFlags(ctx, f, updates)
}

// dropGone removes messages the server no longer has and records each in
// the activity log, so the team learns that something vanished.
func (s *syncer) dropGone(ctx context.Context, f store.Folder, uids []uint32) error {
	removed, err := s.store.Messages.DeleteUIDs(ctx, f, uids)
	if err != nil {
		return err
	}
	ours, err := s.store.Messages.Expected(ctx, f.ID, uids)
	if err != nil {
		return err
	}
	uidValidity := int64(f.UIDValidity)
	for _, m := range removed {
		if ours[m.UID] {
			continue // Sportello's own action, logged by whoever did it
		}
		uid := int64(m.UID)
		acct := s.acct.ID
		if _, err := s.store.Activity.Append(ctx, store.Entry{
			Actor: store.ActorExternal, Action: store.ActionExternalDelete, AccountID: &acct,
			Folder: f.Name, UID: &uid, UIDValidity: &uidValidity, MessageID: m.MessageID,
			Subject: m.Subject, Sender: m.Sender, Outcome: store.OutcomeOK,
			Detail: "removed on the server by another client",
		}); err != nil {
			return err
		}
	}
	return nil
}

// syncSelected brings the cache of the folder this connection has selected
// up to date without selecting it again (the IDLE connection's INBOX): the
// server has already told the connection how many messages there are, and
// UIDVALIDITY cannot change under a selected mailbox.
func (s *syncer) syncSelected(ctx context.Context, f store.Folder) error {
	mbox := s.c.Mailbox()
	if mbox == nil || mbox.Name != f.Name || f.UIDNext == 0 {
		return s.syncFolder(ctx, f)
	}
	start := time.Now()
	defer func() { s.metrics.syncTime.WithLabelValues(s.acct.Name).Observe(time.Since(start).Seconds()) }()
	condstore := s.condstore()
	cached, maxUID, err := s.store.Messages.FolderStats(ctx, f.ID)
	if err != nil {
		return err
	}
	n, err := s.fetch(ctx, f, uidsFrom(maxUID+1), condstore, maxUID, false)
	if err != nil {
		return err
	}
	if uint32(cached)+uint32(n) != s.c.Mailbox().NumMessages {
		if err := s.diff(ctx, f, condstore); err != nil {
			return err
		}
	}
	modSeq := f.HighestModSeq
	if !condstore || modSeq == 0 {
		if err := s.syncFlags(ctx, f, false, true); err != nil {
			return err
		}
	} else if modSeq, err = s.applyFlags(ctx, f, &imap.FetchOptions{UID: true, Flags: true, ModSeq: true, ChangedSince: modSeq}); err != nil {
		return err
	}
	_, maxUID, err = s.store.Messages.FolderStats(ctx, f.ID)
	if err != nil {
		return err
	}
	return s.store.Folders.SaveState(ctx, f.ID, f.UIDValidity, max(f.UIDNext, maxUID+1), modSeq)
}

func uidsFrom(first uint32) imap.UIDSet {
	var set imap.UIDSet
	set.AddRange(imap.UID(first), 0)
	return set
}

// senders are the people who wrote these messages, for the address book.
// A PEC envelope comes from the provider: its Reply-To is the person.
func senders(batch []store.Header, pec bool) []store.Seen {
	out := make([]store.Seen, 0, len(batch))
	for _, h := range batch {
		if h.PECKind == mail.PECEnvelope {
			if a, err := netmail.ParseAddress(h.ReplyTo); err == nil {
				out = append(out, store.Seen{Email: a.Address, Name: a.Name, PEC: true})
			}
			continue
		}
		if h.PECKind != "" {
			continue // receipts come from the provider
		}
		out = append(out, store.Seen{Email: h.FromAddr, Name: h.FromName, PEC: pec})
	}
	return out
}
