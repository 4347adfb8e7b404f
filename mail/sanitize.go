package mail

import (
	"strings"
	"sync"

	"github.com/microcosm-cc/bluemonday"
	"golang.org/x/net/html"
)

var (
	policyOnce sync.Once
	policy     *bluemonday.Policy
)

// mailPolicy is bluemonday's user-content policy widened for what mail
// layouts use (tables, fonts, inline styles on a list of harmless
// properties) and nothing that runs: no script, no form, no frame, no event
// handler, no javascript: URL, no CSS url().
func mailPolicy() *bluemonday.Policy {
	policyOnce.Do(func() {
		p := bluemonday.UGCPolicy()
		p.AllowElements("table", "thead", "tbody", "tfoot", "tr", "td", "th", "caption", "colgroup", "col",
			"center", "font", "span", "div", "hr", "br", "small", "big", "u", "s", "strike", "sub", "sup")
		p.AllowAttrs("align", "valign", "width", "height", "bgcolor", "border", "cellpadding", "cellspacing", "colspan", "rowspan", "dir").Globally()
		p.AllowAttrs("color", "face", "size").OnElements("font")
		p.AllowStyles("color", "background-color", "font-family", "font-size", "font-weight", "font-style",
			"text-align", "text-decoration", "vertical-align", "line-height", "letter-spacing", "white-space",
			"padding", "padding-top", "padding-right", "padding-bottom", "padding-left",
			"margin", "margin-top", "margin-right", "margin-bottom", "margin-left",
			"border", "border-top", "border-right", "border-bottom", "border-left", "border-color", "border-style",
			"border-width", "border-collapse", "border-radius", "width", "max-width", "min-width", "height", "display").
			MatchingHandler(safeCSSValue).
			Globally()
		p.AllowImages()
		p.AllowDataURIImages()
		p.AllowURLSchemes("http", "https", "mailto", "cid", "tel")
		p.RequireNoReferrerOnLinks(true)
		p.RequireNoFollowOnLinks(true)
		p.AddTargetBlankToFullyQualifiedLinks(true)
		policy = p
	})
	return policy
}

// safeCSSValue refuses what could fetch or run: url(), expression(),
// escapes that hide them, and anything with markup characters.
func safeCSSValue(v string) bool {
	l := strings.ToLower(v)
	return !strings.ContainsAny(l, "\\<>\"'") && !strings.Contains(l, "url(") && !strings.Contains(l, "expression") &&
		!strings.Contains(l, "javascript:") && !strings.Contains(l, "@import")
}

// SanitizedHTML is a message's HTML made safe to show.
type SanitizedHTML struct {
	HTML           string
	BlockedImages  int // remote images left out
	HasRemoteImage bool
}

// SanitizeHTML cleans hostile mail HTML. Images by Content-ID are pointed
// at partURL(path); remote images are left out unless showRemote.
func SanitizeHTML(src string, parts []Part, partURL func(path string) string, showRemote bool) SanitizedHTML {
	clean := mailPolicy().Sanitize(src)
	byCID := map[string]string{}
	for _, p := range parts {
		if p.ContentID != "" {
			byCID[strings.ToLower(p.ContentID)] = p.Path
		}
	}
	var out strings.Builder
	res := SanitizedHTML{}
	z := html.NewTokenizer(strings.NewReader(clean))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			break
		}
		tok := z.Token()
		if (tt == html.StartTagToken || tt == html.SelfClosingTagToken) && tok.Data == "img" {
			tok.Attr = rewriteImage(tok.Attr, byCID, partURL, showRemote, &res)
		}
		out.WriteString(tok.String())
	}
	res.HTML = out.String()
	return res
}

func rewriteImage(attrs []html.Attribute, byCID map[string]string, partURL func(string) string, showRemote bool, res *SanitizedHTML) []html.Attribute {
	out := attrs[:0]
	for _, a := range attrs {
		if a.Key != "src" {
			out = append(out, a)
			continue
		}
		v := strings.TrimSpace(a.Val)
		lower := strings.ToLower(v)
		switch {
		case strings.HasPrefix(lower, "cid:"):
			if path, ok := byCID[strings.ToLower(strings.Trim(v[4:], "<>"))]; ok {
				out = append(out, html.Attribute{Key: "src", Val: partURL(path)})
			}
		case strings.HasPrefix(lower, "data:image/"):
			out = append(out, a)
		case strings.HasPrefix(lower, "http://") || strings.HasPrefix(lower, "https://") || strings.HasPrefix(lower, "//"):
			res.HasRemoteImage = true
			if showRemote {
				out = append(out, a)
			} else {
				res.BlockedImages++
				out = append(out, html.Attribute{Key: "data-blocked-src", Val: v})
			}
		}
	}
	return out
}
