package imapclient

import (
	"context"
	"fmt"
	"strings"

	"github.com/emersion/go-imap/v2"

	"sportello/store"
)

// specialUses are the SPECIAL-USE attributes Sportello gives a meaning to.
var specialUses = []imap.MailboxAttr{imap.MailboxAttrSent, imap.MailboxAttrDrafts, imap.MailboxAttrTrash, imap.MailboxAttrJunk, imap.MailboxAttrArchive}

// wellKnownNames guess a folder's use on servers without SPECIAL-USE.
var wellKnownNames = map[string]imap.MailboxAttr{
	"sent": imap.MailboxAttrSent, "sent messages": imap.MailboxAttrSent, "sent items": imap.MailboxAttrSent,
	"posta inviata": imap.MailboxAttrSent, "inviata": imap.MailboxAttrSent,
	"drafts": imap.MailboxAttrDrafts, "bozze": imap.MailboxAttrDrafts,
	"trash": imap.MailboxAttrTrash, "deleted items": imap.MailboxAttrTrash, "deleted messages": imap.MailboxAttrTrash,
	"cestino": imap.MailboxAttrTrash, "posta eliminata": imap.MailboxAttrTrash,
	"junk": imap.MailboxAttrJunk, "spam": imap.MailboxAttrJunk, "posta indesiderata": imap.MailboxAttrJunk,
	"archive": imap.MailboxAttrArchive, "archivio": imap.MailboxAttrArchive,
}

func specialUseOf(l *imap.ListData) string {
	for _, attr := range l.Attrs {
		for _, su := range specialUses {
			if strings.EqualFold(string(attr), string(su)) {
				return string(su)
			}
		}
	}
	if su, ok := wellKnownNames[strings.ToLower(l.Mailbox)]; ok {
		return string(su)
	}
	return ""
}

func selectable(l *imap.ListData) bool {
	for _, attr := range l.Attrs {
		if strings.EqualFold(string(attr), string(imap.MailboxAttrNoSelect)) || strings.EqualFold(string(attr), string(imap.MailboxAttrNonExistent)) {
			return false
		}
	}
	return true
}

// listed is a folder as the server lists it, with its STATUS when the
// server returns it with LIST.
type listed struct {
	folder store.Folder
	status *imap.StatusData
}

// syncFolderList mirrors the server's folder list into the cache: new
// folders appear, renamed ones keep their messages (same UIDVALIDITY), and
// deleted ones disappear.
func (s *syncer) syncFolderList(ctx context.Context) (map[string]listed, error) {
	// The cache as it was before this LIST: listFolders records new names.
	cached, err := s.store.Folders.List(ctx, s.acct.ID)
	if err != nil {
		return nil, err
	}
	found, err := s.listFolders(ctx)
	if err != nil {
		return nil, err
	}
	for _, old := range cached {
		if _, still := found[old.Name]; still {
			continue
		}
		if renamed := s.findRename(old, found, cached); renamed != "" {
			// The new name's empty row made by listFolders gives way to
			// the old folder, messages and all.
			if err := s.store.Folders.Delete(ctx, found[renamed].folder.ID); err != nil {
				return nil, err
			}
			if err := s.store.Folders.Rename(ctx, old.ID, renamed); err != nil {
				return nil, err
			}
			l := found[renamed]
			if l.folder, err = s.store.Folders.Ensure(ctx, s.acct.ID, renamed, l.folder.Delimiter, l.folder.SpecialUse); err != nil {
				return nil, err
			}
			found[renamed] = l
			s.log.Info("folder renamed on the server", "account", s.acct.Name, "from", old.Name, "to", renamed)
			continue
		}
		s.log.Info("folder deleted on the server", "account", s.acct.Name, "folder", old.Name, "messages", old.Total)
		if err := s.store.Folders.Delete(ctx, old.ID); err != nil {
			return nil, err
		}
	}
	for _, l := range found {
		if l.folder.SpecialUse == string(imap.MailboxAttrTrash) && s.acct.TrashFolder != l.folder.Name {
			if err := s.store.Accounts.SetTrashFolder(ctx, s.acct.ID, l.folder.Name); err != nil {
				return nil, err
			}
			s.acct.TrashFolder = l.folder.Name
		}
	}
	return found, nil
}

// findRename looks for a folder new on the server with the UIDVALIDITY of
// one that vanished.
func (s *syncer) findRename(old store.Folder, found map[string]listed, cached []store.Folder) string {
	if old.UIDValidity == 0 {
		return ""
	}
	for name, l := range found {
		if isCached(name, cached) {
			continue
		}
		st := l.status
		if st == nil {
			var err error
			if st, err = s.c.Status(name, &imap.StatusOptions{UIDValidity: true}).Wait(); err != nil {
				continue
			}
		}
		if st.UIDValidity == old.UIDValidity {
			return name
		}
	}
	return ""
}

func isCached(name string, cached []store.Folder) bool {
	for _, f := range cached {
		if f.Name == name {
			return true
		}
	}
	return false
}

func (s *syncer) listFolders(ctx context.Context) (map[string]listed, error) {
	caps := s.c.Caps()
	opts := &imap.ListOptions{}
	if caps.Has(imap.CapSpecialUse) {
		opts.ReturnSpecialUse = true
	}
	if caps.Has(imap.CapListStatus) {
		opts.ReturnStatus = s.statusOptions()
	}
	list, err := s.c.List("", "*", opts).Collect()
	if err != nil {
		return nil, fmt.Errorf("imapclient: cannot list folders: %w", err)
	}
	out := map[string]listed{}
	for _, l := range list {
		if !selectable(l) {
			continue
		}
		name := l.Mailbox
		if strings.EqualFold(name, "INBOX") {
			name = "INBOX"
		}
		delim := ""
		if l.Delim != 0 {
			delim = string(l.Delim)
		}
		f, err := s.store.Folders.Ensure(ctx, s.acct.ID, name, delim, specialUseOf(l))
		if err != nil {
			return nil, err
		}
		out[name] = listed{folder: f, status: l.Status}
	}
	return out, nil
}

func (s *syncer) statusOptions() *imap.StatusOptions {
	return &imap.StatusOptions{NumMessages: true, UIDNext: true, UIDValidity: true, HighestModSeq: s.condstore()}
}

// pollFolders syncs every folder but INBOX (the IDLE connection owns it)
// whose STATUS differs from the cache; all of them the first time.
func (s *syncer) pollFolders(ctx context.Context, all bool) error {
	// A server answers STATUS for the selected mailbox from the session's
	// own, possibly stale, view (Dovecot does): leave it first.
	if err := s.leaveSelected(); err != nil {
		return err
	}
	folders, err := s.syncFolderList(ctx)
	if err != nil {
		return err
	}
	for name, l := range folders {
		if name == "INBOX" {
			continue
		}
		if !all {
			changed, err := s.changed(ctx, l)
			if err != nil {
				return err
			}
			if !changed {
				continue
			}
		}
		if err := s.syncFolder(ctx, l.folder); err != nil {
			return err
		}
	}
	return nil
}

func (s *syncer) changed(ctx context.Context, l listed) (bool, error) {
	f := l.folder
	st := l.status
	if st == nil {
		var err error
		if st, err = s.c.Status(f.Name, s.statusOptions()).Wait(); err != nil {
			return false, fmt.Errorf("imapclient: STATUS %s: %w", f.Name, err)
		}
	}
	if f.UIDNext == 0 || st.UIDValidity != f.UIDValidity || uint32(st.UIDNext) != f.UIDNext {
		return true, nil
	}
	if st.HighestModSeq != 0 && st.HighestModSeq != f.HighestModSeq {
		return true, nil
	}
	count, _, err := s.store.Messages.FolderStats(ctx, f.ID)
	if err != nil {
		return false, err
	}
	return st.NumMessages != nil && uint32(count) != *st.NumMessages, nil
}

func (s *syncer) leaveSelected() error {
	if s.c.Mailbox() == nil {
		return nil
	}
	caps := s.c.Caps()
	if caps.Has(imap.CapUnselect) || caps.Has(imap.CapIMAP4rev2) {
		if err := s.c.Unselect().Wait(); err != nil {
			return fmt.Errorf("imapclient: UNSELECT: %w", err)
		}
		return nil
	}
	// Without UNSELECT, a NOOP at least brings the session's view up to date.
	if err := s.c.Noop().Wait(); err != nil {
		return fmt.Errorf("imapclient: NOOP: %w", err)
	}
	return nil
}
