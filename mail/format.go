package mail

import (
	"html"
	"regexp"
	"strings"
)

// Formatted text is plain text with a few marks people already type:
// **bold**, *italic*, lines starting "- " or "1. " for lists, and
// [text](https://…) links. FormattedToHTML turns it into the message's HTML
// part (sanitized); the text part stays as typed.

var (
	boldRE   = regexp.MustCompile(`\*\*([^*\n]+)\*\*`)
	italicRE = regexp.MustCompile(`(^|[^*])\*([^*\n]+)\*`)
	mdLinkRE = regexp.MustCompile(`\[([^\]\n]+)\]\((https?://[^)\s]+)\)`)
	olRE     = regexp.MustCompile(`^\d+[.)] `)
)

// FormattedToHTML renders formatted text as sanitized HTML.
func FormattedToHTML(text string) string {
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	var b strings.Builder
	list := ""
	closeList := func() {
		if list != "" {
			b.WriteString("</" + list + ">")
			list = ""
		}
	}
	for _, line := range lines {
		var kind, item string
		switch {
		case strings.HasPrefix(line, "- ") || strings.HasPrefix(line, "* "):
			kind, item = "ul", line[2:]
		case olRE.MatchString(line):
			kind, item = "ol", olRE.ReplaceAllString(line, "")
		}
		if kind != list {
			closeList()
			if kind != "" {
				b.WriteString("<" + kind + ">")
				list = kind
			}
		}
		if kind != "" {
			b.WriteString("<li>" + inline(item) + "</li>")
			continue
		}
		if strings.HasPrefix(line, ">") {
			b.WriteString("<blockquote>" + inline(strings.TrimLeft(line, "> ")) + "</blockquote>")
			continue
		}
		b.WriteString(inline(line) + "<br>")
	}
	closeList()
	return mailPolicy().Sanitize(b.String())
}

func inline(s string) string {
	s = html.EscapeString(s)
	s = mdLinkRE.ReplaceAllString(s, `<a href="$2">$1</a>`)
	s = boldRE.ReplaceAllString(s, "<strong>$1</strong>")
	s = italicRE.ReplaceAllString(s, "$1<em>$2</em>")
	if !strings.Contains(s, "<a ") {
		s = linkRE.ReplaceAllStringFunc(s, func(u string) string { return `<a href="` + u + `">` + u + `</a>` })
	}
	return s
}
