package views

import (
	"fmt"
	"net/url"
	"strings"

	"sportello/store"
)

// FolderLink is one line of the folder navigation.
type FolderLink struct {
	Name   string // IMAP name
	Label  string // what a person reads
	Depth  int
	Unread int64
	Total  int64
	Href   string
}

// ListFilters are the search form's values.
type ListFilters struct {
	Q           string
	Scope       string // "" (this folder) or "account"
	Unread      bool
	Attachments bool
	From        string
	Since       string // yyyy-mm-dd
	Until       string
	PEC         string
	Server      bool // also search on the IMAP server
}

// Active reports whether any filter narrows the list.
func (f ListFilters) Active() bool {
	return f.Q != "" || f.Unread || f.Attachments || f.From != "" || f.Since != "" || f.Until != "" || f.PEC != ""
}

// Mailbox is what the mailbox pages show: folders, a list, and maybe a
// message being read.
type Mailbox struct {
	Account    *store.AccountSummary // nil for All inboxes
	Folders    []FolderLink
	Folder     string // current folder (IMAP name)
	Title      string
	Rows       []store.Row
	Next       string // URL of the next (older) page, or ""
	ListURL    string // this list's URL, for live refresh
	Filters    ListFilters
	AllInboxes bool
	Reading    *Reading
	Notice     string
	CanManage  bool
	UndoURL    string // POST here to undo the delete just made
	InTrash    bool
}

// Reading is the message being read.
type Reading struct {
	Msg           *store.Message
	BodyURL       string
	RawURL        string
	PartURL       func(path string) string
	Attachments   []store.Attachment
	BlockedImages int
	ShowImages    bool
	ImagesURL     string
	Problems      []string
	CanManage     bool
	BackURL       string
	IsPEC         bool
	InTrash       bool
	ActionURL     string // POST ActionURL/{action}
	MoveTargets   []FolderLink
	Error         string // why the last action was refused
	Reason        string // the reason typed before a refusal
	HistoryURL    string
}

// MessageURL is the page of one message.
func MessageURL(accountID, id int64) string { return fmt.Sprintf("/a/%d/m/%d", accountID, id) }

// FolderURL is the list of a folder.
func FolderURL(accountID int64, folder string) string {
	return fmt.Sprintf("/a/%d/f/%s", accountID, url.PathEscape(folder))
}

// FolderLabel names well-known folders in the page's language.
func FolderLabel(name, specialUse string) string {
	switch {
	case name == "INBOX":
		return "Inbox"
	case specialUse == `\Sent`:
		return "Sent"
	case specialUse == `\Drafts`:
		return "Drafts"
	case specialUse == `\Trash`:
		return "Trash"
	case specialUse == `\Junk`:
		return "Junk"
	case specialUse == `\Archive`:
		return "Archive"
	}
	return name
}

// sender is what a list shows as who sent a message.
func sender(r store.Row) string {
	if r.FromName != "" {
		return r.FromName
	}
	if r.FromAddr != "" {
		return r.FromAddr
	}
	return "—"
}

func subjectOr(ctx interface{ Value(any) any }, s string) string {
	if strings.TrimSpace(s) == "" {
		return "(no subject)"
	}
	return s
}

// PECLabel names a PEC kind for the badge.
func PECLabel(kind string) string {
	switch kind {
	case "posta-certificata":
		return "PEC"
	case "accettazione":
		return "PEC ✓ accettazione"
	case "avvenuta-consegna":
		return "PEC ✓ consegna"
	case "errore-consegna", "non-accettazione", "preavviso-errore-consegna", "rilevazione-virus":
		return "PEC ✗ " + kind
	case "errore":
		return "PEC anomalia"
	}
	return "PEC " + kind
}

func pecClass(kind string) string {
	switch kind {
	case "errore-consegna", "non-accettazione", "preavviso-errore-consegna", "rilevazione-virus", "errore":
		return "badge pec bad"
	}
	return "badge pec"
}

func rowClass(r store.Row) string {
	c := "row"
	if r.Unread {
		c += " unread"
	}
	return c
}

func attachmentName(a store.Attachment) string {
	if a.Filename != "" {
		return a.Filename
	}
	if a.Type == "message/rfc822" {
		return "message.eml"
	}
	return "part " + a.Part + " (" + a.Type + ")"
}

func bulkURL(mb Mailbox) string {
	if mb.Account == nil {
		return ""
	}
	return fmt.Sprintf("/a/%d/bulk", mb.Account.ID)
}

func hasFlag(flags []string, flag string) bool {
	for _, f := range flags {
		if strings.EqualFold(f, flag) {
			return true
		}
	}
	return false
}
