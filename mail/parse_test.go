package mail

import (
	"os"

	"golang.org/x/net/html"

	"path/filepath"
	"strings"
	"testing"
)

func TestSanitizeRemovesEverythingThatRuns(t *testing.T) {
	hostile := `<html><head><script>document.title='pwned'</script><style>body{background:url(https://x.example/a.png)}</style></head>
<body onload="alert(1)"><p style="color:red;background-image:url(https://x.example/t.png)">Hi</p>
<a href="javascript:alert(2)">js</a><a href="https://ok.example/page">ok</a>
<img src="x" onerror="alert(3)"><form action="https://phish.example/"><input name="password"></form>
<iframe src="https://phish.example"></iframe><object data="x.swf"></object><svg onload="alert(4)"></svg>
<img src="https://tracker.example/p.png" alt="logo"><img src="cid:logo@studio"><img src="data:image/png;base64,iVBORw0KGgo=">
<table bgcolor="#eee"><tr><td style="padding: 4px; font-weight: bold">cell</td></tr></table></body></html>`
	parts := []Part{{Path: "2", ContentID: "logo@studio", ContentType: "image/png", Inline: true}}
	res := SanitizeHTML(hostile, parts, func(p string) string { return "/a/1/m/9/part/" + p }, false)
	for _, bad := range []string{"<script", "onload", "onerror", "javascript:", "<form", "<iframe", "<object", "<svg", "url(", "tracker.example/p.png\"", "<style"} {
		if strings.Contains(strings.ToLower(res.HTML), bad) && !(bad == `tracker.example/p.png"` && strings.Contains(res.HTML, `data-blocked-src="https://tracker.example/p.png"`)) {
			t.Errorf("sanitized HTML still contains %q:\n%s", bad, res.HTML)
		}
	}
	if strings.Contains(res.HTML, ` src="https://tracker.example`) {
		t.Error("a remote image is still loaded")
	}
	if res.BlockedImages != 1 || !res.HasRemoteImage {
		t.Errorf("blocked %d remote images, want 1", res.BlockedImages)
	}
	for _, good := range []string{`src="/a/1/m/9/part/2"`, `src="data:image/png;base64,`, `href="https://ok.example/page"`, `rel="nofollow noreferrer noopener"`, `target="_blank"`, "<table", "padding: 4px", "cell"} {
		if !strings.Contains(res.HTML, good) {
			t.Errorf("sanitized HTML lost %q:\n%s", good, res.HTML)
		}
	}
	shown := SanitizeHTML(hostile, parts, func(p string) string { return "/p/" + p }, true)
	if !strings.Contains(shown.HTML, `src="https://tracker.example/p.png"`) || shown.BlockedImages != 0 {
		t.Errorf("show images: remote image not shown:\n%s", shown.HTML)
	}
}

func TestParseBrokenMIMEShowsWhatCanBeRead(t *testing.T) {
	raw := "From: a@example.org\r\nSubject: broken\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"XYZ\"\r\n\r\n" +
		"--XYZ\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe first part is fine.\r\n" +
		"--XYZ\r\nContent-Type: application/pdf; name=\"cut.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK!!!not base64!!!\r\n"
	m := Parse([]byte(raw))
	if !strings.Contains(m.Text, "The first part is fine.") {
		t.Fatalf("text lost: %q", m.Text)
	}
	if len(m.Problems) == 0 {
		t.Fatal("the damaged attachment is not reported")
	}
}

func TestParseCharsetsAndFlowed(t *testing.T) {
	latin := "From: a@example.es\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=ISO-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nEl a=F1o pasado, caf=E9.\r\n"
	if m := Parse([]byte(latin)); !strings.Contains(m.Text, "El año pasado, café.") {
		t.Fatalf("Latin-1 body: %q", m.Text)
	}
	unknown := "From: a@example.es\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=x-nonsense\r\n\r\nplain ascii anyway\r\n"
	if m := Parse([]byte(unknown)); !strings.Contains(m.Text, "plain ascii anyway") || len(m.Problems) == 0 {
		t.Fatalf("unknown charset: %q %v", m.Text, m.Problems)
	}
	flowed := "From: a@example.org\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8; format=flowed\r\n\r\nThis paragraph is \r\nflowed.\r\n> quoted \r\n> text\r\n"
	m := Parse([]byte(flowed))
	if !m.Flowed {
		t.Fatal("format=flowed not noticed")
	}
	if got := Unflow(m.Text, m.DelSp); !strings.Contains(got, "This paragraph is flowed.") || !strings.Contains(got, "> quoted text") {
		t.Fatalf("unflowed: %q", got)
	}
}

func TestTextToHTMLLinksAndQuotes(t *testing.T) {
	out := TextToHTML("See https://example.org/a?b=1&c=2.\n> old <b>text</b>\n> more\nend")
	for _, want := range []string{`<a href="https://example.org/a?b=1&amp;c=2" target="_blank" rel="noopener noreferrer nofollow">`, "<details class=\"quote\">", "old &lt;b&gt;text&lt;/b&gt;", "</details>end"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in %s", want, out)
		}
	}
}

func TestPECFixturePartsAndAttachments(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "shared", "fixtures", "pec", "03-avvenuta-consegna.eml"))
	if err != nil {
		t.Fatal(err)
	}
	m := Parse(raw)
	names := map[string]string{}
	for _, p := range m.Parts {
		names[strings.ToLower(p.Filename)] = p.Path
	}
	for _, want := range []string{"daticert.xml", "postacert.eml", "smime.p7s"} {
		if names[want] == "" {
			t.Errorf("part %s not found: %+v", want, m.Parts)
		}
	}
	part, data, err := PartContent(raw, names["daticert.xml"])
	if err != nil || !strings.Contains(string(data), "avvenuta-consegna") || part.Filename != "daticert.xml" {
		t.Fatalf("daticert.xml: %v %q", err, data)
	}
	if m.Text == "" && m.HTML == "" {
		t.Fatal("no readable body in a PEC receipt")
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("From: a@b\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nhi\r\n--x--\r\n"))
	f.Add([]byte("Subject: =?utf-8?B?broken\r\n\r\nbody"))
	f.Add([]byte("Content-Type: text/html; charset=unknown\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		m := Parse(raw)
		for _, p := range m.Parts {
			_, _, _ = PartContent(raw, p.Path)
		}
		_ = SanitizeHTML(m.HTML, m.Parts, func(p string) string { return p }, false)
		_ = TextToHTML(Unflow(m.Text, m.DelSp))
	})
}

func FuzzSanitizeHTML(f *testing.F) {
	f.Add(`<img src=x onerror=alert(1)><a href="javascript:x">y</a>`)
	f.Add(`<p style="background:url(javascript:alert(1))">x</p>`)
	f.Fuzz(func(t *testing.T, in string) {
		out := SanitizeHTML(in, nil, func(p string) string { return p }, false).HTML
		z := html.NewTokenizer(strings.NewReader(out))
		for {
			tt := z.Next()
			if tt == html.ErrorToken {
				return
			}
			tok := z.Token()
			if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
				continue
			}
			switch tok.Data {
			case "script", "style", "iframe", "object", "embed", "form", "input", "svg", "math", "base", "meta", "link":
				t.Fatalf("<%s> survived in %q", tok.Data, out)
			}
			for _, a := range tok.Attr {
				v := strings.ToLower(strings.TrimSpace(a.Val))
				if strings.HasPrefix(a.Key, "on") || strings.HasPrefix(v, "javascript:") || strings.HasPrefix(v, "vbscript:") ||
					(a.Key == "style" && strings.Contains(v, "url(")) || (a.Key == "src" && strings.HasPrefix(v, "http")) {
					t.Fatalf("attribute %s=%q survived in %q", a.Key, a.Val, out)
				}
			}
		}
	})
}

func TestFormattedToHTML(t *testing.T) {
	out := FormattedToHTML("Ciao **Mario**, *grazie*.\n- uno\n- due\n1. primo\nVedi [il sito](https://example.org/a) <script>x</script>")
	for _, want := range []string{"<strong>Mario</strong>", "<em>grazie</em>", "<ul><li>uno</li><li>due</li></ul>", "<ol><li>primo</li></ol>", `<a href="https://example.org/a"`, "&lt;script&gt;"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in %s", want, out)
		}
	}
	if strings.Contains(out, "<script") {
		t.Fatal("script survived")
	}
}
