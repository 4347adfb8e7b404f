package imapclient

import (
	"context"
	"errors"
	"fmt"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// ErrNoUIDPlus means the server cannot expunge single messages (no UIDPLUS):
// Sportello then refuses, rather than run a bare EXPUNGE that would also
// remove messages other people marked \Deleted.
var ErrNoUIDPlus = errors.New("imapclient: the mail server cannot remove single messages (no UIDPLUS), so Sportello will not expunge")

// selectRW opens a folder read-write and checks its UIDVALIDITY.
func selectRW(c *imapclient.Client, folder string, uidValidity uint32) error {
	sel, err := c.Select(folder, nil).Wait()
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

func uidSet(uids []uint32) imap.UIDSet {
	var set imap.UIDSet
	for _, u := range uids {
		set.AddNum(imap.UID(u))
	}
	return set
}

// Moved tells where moved messages went, when the server says (UIDPLUS):
// the destination's UIDVALIDITY and each source UID's new UID.
type Moved struct {
	UIDValidity uint32
	UIDs        map[uint32]uint32
}

// Move moves messages to another folder: MOVE where the server has it,
// else COPY, \Deleted and UID EXPUNGE of exactly those messages.
func (c *Commands) Move(ctx context.Context, accountID int64, folder string, uidValidity uint32, uids []uint32, dest string) (Moved, error) {
	moved := Moved{UIDs: map[uint32]uint32{}}
	err := c.with(ctx, accountID, func(cl *imapclient.Client) error {
		if err := selectRW(cl, folder, uidValidity); err != nil {
			return err
		}
		set := uidSet(uids)
		var data *imapclient.MoveData
		var err error
		if cl.Caps().Has(imap.CapMove) || cl.Caps().Has(imap.CapIMAP4rev2) {
			data, err = cl.Move(set, dest).Wait()
			if err != nil {
				return fmt.Errorf("imapclient: move to %s: %w", dest, err)
			}
		} else {
			if !cl.Caps().Has(imap.CapUIDPlus) {
				return ErrNoUIDPlus
			}
			copyData, err := cl.Copy(set, dest).Wait()
			if err != nil {
				return fmt.Errorf("imapclient: copy to %s: %w", dest, err)
			}
			if err := cl.Store(set, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
				return fmt.Errorf("imapclient: marking moved messages: %w", err)
			}
			if err := cl.UIDExpunge(set).Close(); err != nil {
				return fmt.Errorf("imapclient: removing moved messages: %w", err)
			}
			data = &imapclient.MoveData{UIDValidity: copyData.UIDValidity, SourceUIDs: copyData.SourceUIDs, DestUIDs: copyData.DestUIDs}
		}
		if data != nil {
			moved.UIDValidity = data.UIDValidity
			src, _ := data.SourceUIDs.(imap.UIDSet)
			dst, _ := data.DestUIDs.(imap.UIDSet)
			srcList, ok1 := src.Nums()
			dstList, ok2 := dst.Nums()
			if ok1 && ok2 && len(srcList) == len(dstList) {
				for i := range srcList {
					moved.UIDs[uint32(srcList[i])] = uint32(dstList[i])
				}
			}
		}
		return nil
	})
	return moved, err
}

// Expunge deletes messages for good: \Deleted, then UID EXPUNGE of exactly
// them (UIDPLUS), so nobody else's \Deleted message goes with them.
func (c *Commands) Expunge(ctx context.Context, accountID int64, folder string, uidValidity uint32, uids []uint32) error {
	return c.with(ctx, accountID, func(cl *imapclient.Client) error {
		if !cl.Caps().Has(imap.CapUIDPlus) && !cl.Caps().Has(imap.CapIMAP4rev2) {
			return ErrNoUIDPlus
		}
		if err := selectRW(cl, folder, uidValidity); err != nil {
			return err
		}
		set := uidSet(uids)
		if err := cl.Store(set, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
			return fmt.Errorf("imapclient: marking messages deleted: %w", err)
		}
		if err := cl.UIDExpunge(set).Close(); err != nil {
			return fmt.Errorf("imapclient: expunging: %w", err)
		}
		return nil
	})
}

// SetFlag sets or clears a flag on messages.
func (c *Commands) SetFlag(ctx context.Context, accountID int64, folder string, uidValidity uint32, uids []uint32, flag imap.Flag, on bool) error {
	return c.with(ctx, accountID, func(cl *imapclient.Client) error {
		if err := selectRW(cl, folder, uidValidity); err != nil {
			return err
		}
		op := imap.StoreFlagsDel
		if on {
			op = imap.StoreFlagsAdd
		}
		if err := cl.Store(uidSet(uids), &imap.StoreFlags{Op: op, Silent: true, Flags: []imap.Flag{flag}}, nil).Close(); err != nil {
			return fmt.Errorf("imapclient: changing flags: %w", err)
		}
		return nil
	})
}

// Append stores a message in a folder (the Sent copy) with flags, and
// returns its UID when the server says (UIDPLUS).
func (c *Commands) Append(ctx context.Context, accountID int64, folder string, raw []byte, flags ...imap.Flag) error {
	return c.with(ctx, accountID, func(cl *imapclient.Client) error {
		cmd := cl.Append(folder, int64(len(raw)), &imap.AppendOptions{Flags: flags})
		if _, err := cmd.Write(raw); err != nil {
			return fmt.Errorf("imapclient: append to %s: %w", folder, err)
		}
		if err := cmd.Close(); err != nil {
			return fmt.Errorf("imapclient: append to %s: %w", folder, err)
		}
		if _, err := cmd.Wait(); err != nil {
			return fmt.Errorf("imapclient: append to %s: %w", folder, err)
		}
		return nil
	})
}
