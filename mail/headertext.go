package mail

import (
	"mime"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message/charset"
	"golang.org/x/text/encoding/charmap"
)

var wordDecoder = &mime.WordDecoder{CharsetReader: charset.Reader}

// HeaderText makes a header value readable: RFC 2047 words decoded in any
// charset, and raw 8-bit bytes that are not UTF-8 read as Windows-1252 (what
// old Italian and Western European mailers send). It never fails.
func HeaderText(s string) string {
	if strings.Contains(s, "=?") {
		if d, err := wordDecoder.DecodeHeader(s); err == nil {
			s = d
		}
	}
	if utf8.ValidString(s) {
		return s
	}
	if d, err := charmap.Windows1252.NewDecoder().String(s); err == nil {
		return d
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}
