package mail

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"strconv"
	"strings"

	"github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset" // decode every charset go-message knows
)

// maxPart bounds what is read of one MIME part for display.
const maxPart = 25 << 20

// Part is an attachment or inline image, numbered as IMAP numbers it.
type Part struct {
	Path        string
	Filename    string
	ContentType string
	ContentID   string
	Size        int
	Inline      bool // an image the HTML body shows by Content-ID
}

// Message is what a person reads of a message.
type Message struct {
	Text     string // plain-text body (decoded to UTF-8)
	Flowed   bool   // format=flowed
	DelSp    bool
	HTML     string // HTML body (decoded to UTF-8), unsanitized
	Parts    []Part
	Problems []string // what could not be read, for the reader
}

// Parse reads a raw message. It never fails: what cannot be read is
// listed in Problems and the rest is shown.
func Parse(raw []byte) *Message {
	m := &Message{}
	e, err := message.Read(bytes.NewReader(raw))
	if e == nil {
		m.Problems = append(m.Problems, "The message could not be read: "+err.Error())
		m.Text = string(raw)
		return m
	}
	if err != nil && !message.IsUnknownCharset(err) && !message.IsUnknownEncoding(err) {
		m.Problems = append(m.Problems, "The message headers are damaged: "+err.Error())
	}
	walk(e, nil, err, func(path []int, e *message.Entity, err error) {
		m.addPart(path, e, err)
	})
	return m
}

// walk visits the leaves of a MIME tree with IMAP part numbers: the
// children of a multipart are 1, 2, …; a message that is not multipart is
// part 1. A forwarded message (message/rfc822) is a leaf.
// readErr is the error go-message reported when it read e's header.
func walk(e *message.Entity, path []int, readErr error, fn func([]int, *message.Entity, error)) {
	mr := e.MultipartReader()
	if mr == nil {
		if len(path) == 0 {
			path = []int{1}
		}
		fn(path, e, readErr)
		return
	}
	for i := 1; ; i++ {
		child, err := mr.NextPart()
		if err == io.EOF {
			return
		}
		p := append(append([]int(nil), path...), i)
		if child == nil {
			fn(p, nil, err)
			return // the rest of this multipart is unreadable
		}
		if err != nil && !message.IsUnknownCharset(err) && !message.IsUnknownEncoding(err) {
			fn(p, child, err)
			continue
		}
		walk(child, p, err, fn)
	}
}

func pathString(path []int) string {
	s := make([]string, len(path))
	for i, n := range path {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ".")
}

func (m *Message) addPart(path []int, e *message.Entity, err error) {
	if e == nil {
		m.Problems = append(m.Problems, fmt.Sprintf("Part %s and what follows could not be read (%v).", pathString(path), err))
		return
	}
	ctype, params, _ := e.Header.ContentType()
	if ctype == "" {
		ctype = "text/plain"
	}
	disp, dparams, _ := e.Header.ContentDisposition()
	filename := dparams["filename"]
	if filename == "" {
		filename = params["name"]
	}
	filename = HeaderText(filename)
	body, readErr := io.ReadAll(io.LimitReader(e.Body, maxPart))
	if readErr == nil && err != nil && (message.IsUnknownCharset(err) || message.IsUnknownEncoding(err)) {
		m.Problems = append(m.Problems, fmt.Sprintf("Part %s uses an unknown %s; it is shown as it came.", pathString(path), unknownWhat(err)))
	}
	isText := strings.HasPrefix(ctype, "text/plain") || strings.HasPrefix(ctype, "text/html")
	if isText && disp != "attachment" && filename == "" {
		if readErr != nil {
			m.Problems = append(m.Problems, fmt.Sprintf("Part %s (%s) is damaged; what could be read is shown.", pathString(path), ctype))
		}
		text := string(body)
		if ctype == "text/html" {
			if m.HTML == "" {
				m.HTML = text
			}
		} else if m.Text == "" {
			m.Text = text
			m.Flowed = strings.EqualFold(params["format"], "flowed")
			m.DelSp = strings.EqualFold(params["delsp"], "yes")
		}
		return
	}
	if readErr != nil {
		name := filename
		if name == "" {
			name = ctype
		}
		m.Problems = append(m.Problems, fmt.Sprintf("The attachment %q is damaged and cannot be opened.", name))
	}
	cid := strings.Trim(e.Header.Get("Content-Id"), "<> ")
	m.Parts = append(m.Parts, Part{
		Path:        pathString(path),
		Filename:    filename,
		ContentType: ctype,
		ContentID:   cid,
		Size:        len(body),
		Inline:      cid != "" && strings.HasPrefix(ctype, "image/") && disp != "attachment",
	})
}

func unknownWhat(err error) string {
	if message.IsUnknownCharset(err) {
		return "character set"
	}
	return "encoding"
}

// ErrNoPart means the message has no such part.
var ErrNoPart = errors.New("mail: no such part")

// PartContent returns one leaf part, decoded (transfer encoding only: the
// bytes of an attachment as its sender attached them).
func PartContent(raw []byte, path string) (Part, []byte, error) {
	e, err := message.Read(bytes.NewReader(raw))
	if e == nil {
		return Part{}, nil, err
	}
	var found *Part
	var data []byte
	var partErr error
	walk(e, nil, nil, func(p []int, e *message.Entity, err error) {
		if found != nil || pathString(p) != path || e == nil {
			return
		}
		ctype, params, _ := e.Header.ContentType()
		_, dparams, _ := e.Header.ContentDisposition()
		name := dparams["filename"]
		if name == "" {
			name = params["name"]
		}
		// go-message has decoded the transfer encoding, and for text the
		// charset too: what is served is UTF-8 and says so.
		data, partErr = io.ReadAll(io.LimitReader(e.Body, maxPart))
		found = &Part{Path: path, Filename: HeaderText(name), ContentType: ctype, Size: len(data)}
		if strings.HasPrefix(ctype, "text/") {
			found.ContentType = mime.FormatMediaType(ctype, map[string]string{"charset": "utf-8"})
		}
	})
	if found == nil {
		return Part{}, nil, ErrNoPart
	}
	return *found, data, partErr
}
