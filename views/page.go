package views

import (
	"fmt"
	"time"

	"sportello/store"
)

// Page is what every full page needs: who is looking and the title.
type Page struct {
	Title string
	User  *store.User
	// Accounts feed the navigation; nil on pages without it.
	Accounts []store.AccountSummary
	// CurrentAccount highlights an account in the navigation.
	CurrentAccount int64
	Location       *time.Location
}

// FormatSize prints a byte count for people.
func FormatSize(n int64) string {
	switch {
	case n < 1024:
		return fmt.Sprintf("%d B", n)
	case n < 1024*1024:
		return fmt.Sprintf("%.0f KB", float64(n)/1024)
	default:
		return fmt.Sprintf("%.1f MB", float64(n)/(1024*1024))
	}
}

func (p Page) loc() *time.Location {
	if p.Location != nil {
		return p.Location
	}
	return time.Local
}

// FormatListDate prints a date as a list shows it: the time today, the day
// otherwise.
func (p Page) FormatListDate(t time.Time) string {
	t = t.In(p.loc())
	now := time.Now().In(p.loc())
	if t.Year() == now.Year() && t.YearDay() == now.YearDay() {
		return t.Format("15:04")
	}
	if t.Year() == now.Year() {
		return t.Format("02 Jan")
	}
	return t.Format("02/01/2006")
}

// FormatFullDate prints a date in full, in the user's time zone.
func (p Page) FormatFullDate(t time.Time) string {
	return t.In(p.loc()).Format("Mon 02 Jan 2006 15:04 MST")
}
