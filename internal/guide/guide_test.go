package guide_test

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"net/url"
	"os"
	"path"
	"strings"
	"testing"
	"testing/fstest"

	"golang.org/x/net/html"

	"github.com/nudge-passkeys/nudge/internal/campaign"
	"github.com/nudge-passkeys/nudge/internal/guide"
	"github.com/nudge-passkeys/nudge/internal/render"
	"github.com/nudge-passkeys/nudge/templates"
)

const campaignYAML = `
campaign: test
name: Passkeys
organisation: {name: Contoso, team: IT Security}
sender: {address: it-security@contoso.example}
links: {guides: "https://intranet.contoso.example/passkeys/", register: "https://aka.ms/mysecurityinfo", verify: "https://intranet.contoso.example/news"}
helpdesk: {name: IT Helpdesk, email: helpdesk@contoso.example, phone: "+44 20 7946 0000", url: "https://intranet.contoso.example/helpdesk"}
defaults: {locale: en, locales: [en, fr, de]}
audiences:
  - {name: ready, where: "true"}
  - {name: onboard, where: "true"}
  - {name: admins, where: "true"}
waves: [{id: announce, audiences: [ready], template: announce}]
`

func parseCampaign(t testing.TB, yml string) *campaign.Campaign {
	t.Helper()
	c, err := campaign.Parse("campaign.yaml", []byte(yml))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func build(t testing.TB, fsys fs.FS, c *campaign.Campaign) *guide.Site {
	t.Helper()
	s, err := guide.Build(guide.Options{FS: fsys, Root: "templates", Campaign: c, Engine: render.New(fsys, "templates", c)})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestShippedSite builds the shipped guides and checks every page the way
// a reader's browser and a screen reader would meet it, independently of
// the checks Build makes itself.
func TestShippedSite(t *testing.T) {
	c := parseCampaign(t, campaignYAML)
	s := build(t, templates.FS, c)
	pages := []string{"index", "authenticator", "authenticator-ios", "authenticator-android", "security-key",
		"windows-hello", "temporary-access-pass", "troubleshooting", "faq", "helpdesk"}
	for _, l := range []string{"en", "fr", "de"} {
		for _, a := range []string{"ready", "onboard", "admins"} {
			for _, p := range pages {
				if _, ok := s.Files[l+"/"+a+"/"+p+".html"]; !ok {
					t.Errorf("missing %s/%s/%s.html", l, a, p)
				}
			}
		}
	}
	if len(s.Warnings) > 0 {
		t.Errorf("warnings on the shipped guides: %q", s.Warnings)
	}
	for _, file := range s.Paths() {
		t.Run(file, func(t *testing.T) {
			checkStructure(t, s, file)
		})
	}
}

func checkStructure(t *testing.T, s *guide.Site, file string) {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(s.Files[file]))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	wantLang := strings.SplitN(file, "/", 2)[0]
	if file == "index.html" {
		wantLang = "en"
	}
	var (
		h1, last int
		sources  bool
	)
	var visit func(n *html.Node)
	visit = func(n *html.Node) {
		if n.Type == html.CommentNode && strings.Contains(n.Data, "https://learn.microsoft.com/") {
			sources = true
		}
		if n.Type == html.ElementNode {
			get := func(k string) (string, bool) {
				for _, a := range n.Attr {
					if a.Key == k {
						return a.Val, true
					}
				}
				return "", false
			}
			switch n.Data {
			case "html":
				if lang, _ := get("lang"); lang != wantLang {
					t.Errorf("<html lang=%q>, want %q", lang, wantLang)
				}
			case "h1", "h2", "h3", "h4", "h5", "h6":
				lv := int(n.Data[1] - '0')
				if lv == 1 {
					h1++
				}
				if lv > last+1 {
					t.Errorf("<%s> after <h%d>", n.Data, last)
				}
				last = lv
			case "img":
				if alt, ok := get("alt"); !ok || strings.TrimSpace(alt) == "" {
					t.Errorf("image without alt text")
				}
			case "script", "iframe":
				t.Errorf("<%s> in a guide page", n.Data)
			case "a", "link":
				href, _ := get("href")
				u, err := url.Parse(href)
				if err != nil {
					t.Errorf("bad href %q", href)
					break
				}
				if u.Scheme != "" || strings.HasPrefix(href, "#") {
					if n.Data == "link" {
						t.Errorf("external asset %s", href)
					}
					break
				}
				target := path.Join(path.Dir(file), u.Path)
				if _, ok := s.Files[target]; !ok {
					t.Errorf("link %q resolves to %s, which was not generated", href, target)
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			visit(c)
		}
	}
	visit(doc)
	if h1 != 1 {
		t.Errorf("%d h1 headings, want 1", h1)
	}
	if file != "index.html" && !strings.HasSuffix(file, "/helpdesk.html") && !strings.HasSuffix(file, "/sessions.html") && !sources {
		t.Errorf("no comment naming the Microsoft document the steps follow")
	}
}

// TestHostileHelpdesk: the organisation and helpdesk come from the campaign
// file; even so, markup in them is shown as text.
func TestHostileHelpdesk(t *testing.T) {
	var corpus []struct {
		DisplayName string `json:"displayName"`
	}
	data, err := os.ReadFile("/work/shared/corpus/hostile-names.json")
	if err != nil {
		// The corpus is shared with the other packages; these are its
		// kinds of attack.
		corpus = append(corpus, struct {
			DisplayName string `json:"displayName"`
		}{`<img src=x onerror=alert(1)>`}, struct {
			DisplayName string `json:"displayName"`
		}{`[win](https://evil.example) **x** {{ .Secret }}`})
	} else if err := json.Unmarshal(data, &corpus); err != nil {
		t.Skipf("corpus has another shape: %v", err)
	}
	tried := 0
	defer func() {
		if tried < 2 {
			t.Errorf("only %d hostile names could be tried", tried)
		}
	}()
	for _, h := range corpus {
		if strings.ContainsAny(h.DisplayName, "\r\n\"") || strings.TrimSpace(h.DisplayName) == "" {
			continue // the campaign file would not take it on one YAML line
		}
		yml := strings.Replace(campaignYAML, "name: Contoso,", "name: "+yamlString(h.DisplayName)+",", 1)
		yml = strings.Replace(yml, "{name: IT Helpdesk,", "{name: "+yamlString(h.DisplayName)+",", 1)
		c, err := campaign.Parse("campaign.yaml", []byte(yml))
		if err != nil {
			continue
		}
		tried++
		s := build(t, templates.FS, c)
		page := string(s.Files["en/ready/helpdesk.html"])
		if strings.Contains(page, h.DisplayName) && strings.ContainsAny(h.DisplayName, "<>&") {
			t.Errorf("%q appears unescaped", h.DisplayName)
		}
		if strings.Contains(page, `href="https://evil`) || strings.Contains(page, "<img") || strings.Contains(page, "<strong>x") {
			t.Errorf("%q became markup:\n%s", h.DisplayName, page)
		}
		doc, _ := html.Parse(strings.NewReader(page))
		if !strings.Contains(textOf(doc), h.DisplayName) && !strings.Contains(textOf(doc), strings.Join(strings.Fields(h.DisplayName), " ")) {
			t.Errorf("%q is not shown literally", h.DisplayName)
		}
	}
}

func yamlString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func textOf(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		if n.Type == html.ElementNode && (n.Data == "style" || n.Data == "title") {
			return
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}

const layout = `<!DOCTYPE html><html lang="{{ .Lang }}"><head><title>{{ .Title }}</title></head><body>` +
	`{{ range .Nav }}<a href="{{ .Href }}">{{ .Label }}</a>{{ end }}<main><h1>{{ .Title }}</h1>{{ .Body }}</main></body></html>`

func page(title, body string) *fstest.MapFile {
	return &fstest.MapFile{Data: []byte("---\nkind: guide\ntitle: " + title + "\n---\n" + body)}
}

// TestBuildErrors: a page that would fail a reader fails the build, naming
// its template.
func TestBuildErrors(t *testing.T) {
	c := parseCampaign(t, campaignYAML)
	for _, tc := range []struct {
		name  string
		files fstest.MapFS
		want  []string
	}{
		{"link to a missing page", fstest.MapFS{"guides/en/index.md": page("Home", `See {{ link "x" (guide "missing-page") }}.`)},
			[]string{"templates/guides/en/index.md", `guide "missing-page": no such page`}},
		{"hand-written relative link to a missing page", fstest.MapFS{"guides/en/index.md": page("Home", `See [x](nowhere.html).`)},
			[]string{"templates/guides/en/index.md", "links to nowhere.html, which the guide site does not have"}},
		{"image without alt text", fstest.MapFS{"guides/en/index.md": page("Home", `![](pic.png)`)},
			[]string{"templates/guides/en/index.md", "has no alt text"}},
		{"external image", fstest.MapFS{"guides/en/index.md": page("Home", `![a cat](https://cdn.example/cat.png)`)},
			[]string{"no external assets"}},
		{"a second h1", fstest.MapFS{"guides/en/index.md": page("Home", "# Again\n")},
			[]string{"templates/guides/en/index.md", "2 <h1> headings"}},
		{"skipped heading level", fstest.MapFS{"guides/en/index.md": page("Home", "### Deep\n")},
			[]string{"<h3> follows <h1>"}},
		{"a person's field", fstest.MapFS{"guides/en/index.md": page("Home", "Hi {{ .Person.GivenName }}\n")},
			[]string{"templates/guides/en/index.md:5", "never a person"}},
		{"no title", fstest.MapFS{"guides/en/index.md": {Data: []byte("---\nkind: guide\n---\nx\n")}},
			[]string{"title: missing"}},
		{"no index", fstest.MapFS{"guides/en/faq.md": page("FAQ", "x\n")},
			[]string{"no index.md"}},
		{"bad source", fstest.MapFS{"guides/en/index.md": {Data: []byte("---\nkind: guide\ntitle: x\nsources: [\"http://x.example/--\"]\n---\nx\n")}},
			[]string{"sources:"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.files["layouts/guide.html"] = &fstest.MapFile{Data: []byte(layout)}
			_, err := guide.Build(guide.Options{FS: tc.files, Root: "templates", Campaign: c, Engine: render.New(tc.files, "templates", c)})
			if err == nil {
				t.Fatal("built without error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

// TestFallbackLanguage: a missing translation is built from the default
// language, marked with that language, and reported.
func TestFallbackLanguage(t *testing.T) {
	c := parseCampaign(t, campaignYAML)
	fsys := fstest.MapFS{
		"layouts/guide.html": {Data: []byte(layout)},
		"guides/en/index.md": page("Home", `See the {{ link "FAQ" (guide "faq") }}.`),
		"guides/en/faq.md":   page("FAQ", "Answers.\n"),
		"guides/fr/index.md": page("Accueil", `Voir la {{ link "FAQ" (guide "faq") }}.`),
		"guides/de/index.md": page("Start", `Siehe {{ link "FAQ" (guide "faq") }}.`),
	}
	s := build(t, fsys, c)
	if got := string(s.Files["fr/ready/faq.html"]); !strings.Contains(got, `lang="en"`) {
		t.Errorf("fr/ready/faq.html from the English page: want lang=\"en\", got\n%s", got)
	}
	if got := string(s.Files["fr/ready/index.html"]); !strings.Contains(got, `lang="fr"`) || !strings.Contains(got, `href="faq.html"`) {
		t.Errorf("fr/ready/index.html:\n%s", got)
	}
	if len(s.Warnings) != 2 || !strings.Contains(s.Warnings[0], "templates/guides/fr/faq.md: missing translation") {
		t.Errorf("warnings = %q", s.Warnings)
	}
}

func TestMissingPages(t *testing.T) {
	c := parseCampaign(t, campaignYAML)
	s := build(t, templates.FS, c)
	base := c.Links.Guides
	email := []byte(`<p><a href="` + base + `en/ready/faq.html#lost">ok</a> <a href="` + base + `">root</a>
<a href="` + base + `missing-page.html">bad</a> <a href="` + base + `en/ready/nope.html?x=1">bad</a>
<a href="https://aka.ms/mysecurityinfo">other site</a></p>`)
	got := s.MissingPages(email, base)
	want := []string{"en/ready/nope.html", "missing-page.html"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("MissingPages = %q, want %q", got, want)
	}
}

// TestEmailGuideLinks: the shipped emails' {{ guide }} links land on pages
// of the built site for the reader's language and audience.
func TestEmailGuideLinks(t *testing.T) {
	c := parseCampaign(t, campaignYAML)
	s := build(t, templates.FS, c)
	e := render.New(templates.FS, "templates", c)
	for _, l := range []string{"en", "fr", "de"} {
		for _, name := range []string{"announce", "reminder", "onboard", "admins", "thanks"} {
			doc, err := e.EmailIn(name, l, render.SamplePerson(), render.Context{WaveID: name, Audience: "onboard"})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(doc.HTML, c.Links.Guides+l+"/onboard/") {
				t.Errorf("%s/%s links to no guide page", l, name)
			}
			if m := s.MissingPages([]byte(doc.HTML), c.Links.Guides); len(m) > 0 {
				t.Errorf("%s/%s links to missing guide pages %q", l, name, m)
			}
		}
	}
}

// BenchmarkBuild builds the shipped site for 3 audiences × 3 languages.
func BenchmarkBuild(b *testing.B) {
	c := parseCampaign(b, campaignYAML)
	for b.Loop() {
		e := render.New(templates.FS, "templates", c)
		if _, err := guide.Build(guide.Options{FS: templates.FS, Root: "templates", Campaign: c, Engine: e}); err != nil {
			b.Fatal(err)
		}
	}
}
