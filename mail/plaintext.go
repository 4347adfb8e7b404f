package mail

import (
	"html"
	"regexp"
	"strings"
)

// Unflow joins the soft-broken lines of a format=flowed body (RFC 3676).
func Unflow(text string, delSp bool) string {
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	var out []string
	var cur strings.Builder
	curDepth := -1
	flush := func() {
		if curDepth >= 0 {
			out = append(out, strings.Repeat(">", curDepth)+maybeSpace(curDepth)+cur.String())
		}
		cur.Reset()
		curDepth = -1
	}
	for _, line := range lines {
		depth := 0
		for depth < len(line) && line[depth] == '>' {
			depth++
		}
		content := line[depth:]
		content = strings.TrimPrefix(content, " ") // space-stuffing
		if curDepth >= 0 && depth != curDepth {
			flush()
		}
		curDepth = depth
		soft := strings.HasSuffix(content, " ") && content != "-- "
		if soft && delSp {
			content = strings.TrimSuffix(content, " ")
		}
		cur.WriteString(content)
		if !soft {
			flush()
		}
	}
	flush()
	return strings.Join(out, "\n")
}

func maybeSpace(depth int) string {
	if depth > 0 {
		return " "
	}
	return ""
}

var linkRE = regexp.MustCompile(`\bhttps?://[^\s<>"']+[^\s<>"'.,;:!?)\]]`)

// TextToHTML renders a plain-text body: escaped, links clickable (opening
// in a new tab without a referrer), quoted blocks folded.
func TextToHTML(text string) string {
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	var b strings.Builder
	b.WriteString(`<div class="plain">`)
	inQuote := false
	for _, line := range lines {
		quoted := strings.HasPrefix(line, ">")
		if quoted && !inQuote {
			b.WriteString(`<details class="quote"><summary>…</summary><blockquote>`)
			inQuote = true
		} else if !quoted && inQuote {
			b.WriteString("</blockquote></details>")
			inQuote = false
		}
		if quoted {
			line = strings.TrimLeft(strings.TrimPrefix(line, ">"), " >")
		}
		b.WriteString(linkify(line))
		b.WriteString("\n")
	}
	if inQuote {
		b.WriteString("</blockquote></details>")
	}
	b.WriteString("</div>")
	return b.String()
}

func linkify(line string) string {
	var b strings.Builder
	last := 0
	for _, loc := range linkRE.FindAllStringIndex(line, -1) {
		b.WriteString(html.EscapeString(line[last:loc[0]]))
		u := line[loc[0]:loc[1]]
		b.WriteString(`<a href="` + html.EscapeString(u) + `" target="_blank" rel="noopener noreferrer nofollow">` + html.EscapeString(u) + `</a>`)
		last = loc[1]
	}
	b.WriteString(html.EscapeString(line[last:]))
	return b.String()
}

// SearchText is what search indexes of a body: the plain text, else the
// HTML's text, squeezed.
func (m *Message) SearchText() string {
	t := m.Text
	if strings.TrimSpace(t) == "" && m.HTML != "" {
		t = tagRE.ReplaceAllString(m.HTML, " ")
		t = html.UnescapeString(t)
	}
	return strings.Join(strings.Fields(t), " ")
}

var tagRE = regexp.MustCompile(`(?s)<style.*?</style>|<script.*?</script>|<[^>]*>`)
