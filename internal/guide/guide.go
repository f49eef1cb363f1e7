// Package guide builds the how-to guide mini-site: every guide page, for
// every audience and language, as static HTML with relative links only.
package guide

// Site policy: the site is copied as-is to an intranet, a SharePoint
// library or any static host, so every page stands alone: CSS in the page,
// no script, no external asset, links relative to the page. Each audience
// gets its own copy per language (<locale>/<audience>/<page>.html) so that
// pages can speak to that audience, and emails link to their reader's
// copy. A page the site does not have is an error at build time, never a
// broken link after publication: Build checks every link it produced.

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/nudge-passkeys/nudge/internal/campaign"
	"github.com/nudge-passkeys/nudge/internal/render"
)

// Index is the page every site starts at.
const Index = "index"

// order is where the pages Microsoft's methods need go in the navigation;
// other pages follow in name order.
var order = []string{
	Index, "authenticator", "authenticator-ios", "authenticator-android", "security-key",
	"windows-hello", "temporary-access-pass", "troubleshooting", SessionsPage, "faq", "helpdesk",
}

// Site is a built guide site: file contents by slash-separated path
// relative to the site's root.
type Site struct {
	Files map[string][]byte
	// Pages are the page names every audience and language has.
	Pages []string
	// Warnings are problems that do not stop a build, such as a missing
	// translation.
	Warnings []string
	// from names the template each page was rendered from, for messages.
	from map[string]string
	// pages are the rendered pages of each site, by locale/audience, and
	// c the campaign, for the printed guide.
	pages map[string][]*render.Page
	c     *campaign.Campaign
}

// Paths returns the site's files in name order.
func (s *Site) Paths() []string {
	out := make([]string, 0, len(s.Files))
	for p := range s.Files {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// Options say what to build.
type Options struct {
	FS   fs.FS  // the template folder
	Root string // how to name FS in messages
	// Campaign gives the languages, the organisation and the helpdesk.
	Campaign *campaign.Campaign
	Engine   *render.Engine
	// Audiences to build a site for; all of the campaign's when empty.
	Audiences []string
	// Now dates the "add to calendar" files (DTSTAMP) and leaves out the
	// Q&A sessions already over; zero lists every session and stamps
	// the files with the current time.
	Now time.Time
}

// Exists reports whether the template folder has guide pages at all. A
// campaign without guides/ publishes its guides elsewhere.
func Exists(fsys fs.FS, c *campaign.Campaign) bool {
	_, err := fs.Stat(fsys, path.Join("guides", c.Defaults.Locale))
	return err == nil
}

// Build renders the whole site in memory.
func Build(o Options) (*Site, error) {
	c := o.Campaign
	names, err := pageNames(o.FS, c.Defaults.Locale)
	if err != nil {
		return nil, err
	}
	if len(names) == 0 || names[0] != Index {
		return nil, fmt.Errorf("%s: no %s.md: every guide site starts at an index page", path.Join(o.Root, "guides", c.Defaults.Locale), Index)
	}
	// The Q&A sessions page is there when the campaign has sessions,
	// written from sessions.md or not, and only then.
	names = slices.DeleteFunc(names, func(n string) bool { return n == SessionsPage })
	var sessions []listed
	if len(c.Sessions.List) > 0 {
		names = sortPages(append(names, SessionsPage))
		sessions = upcoming(c, o.Now)
	}
	_, err = fs.Stat(o.FS, render.GuidePath(SessionsPage, c.Defaults.Locale))
	sessionsTemplate := err == nil
	lay, err := loadLayout(o.FS, o.Root)
	if err != nil {
		return nil, err
	}
	audiences := o.Audiences
	if len(audiences) == 0 {
		for _, a := range c.Audiences {
			audiences = append(audiences, a.Name)
		}
	}
	s := &Site{Files: map[string][]byte{}, Pages: names, from: map[string]string{}, pages: map[string][]*render.Page{}, c: c}
	// Which language each page is written in: a missing translation falls
	// back to the default language, and the page says so in its lang.
	from := map[string]string{} // locale/page → locale of the template
	for _, l := range c.Defaults.Locales {
		for _, n := range names {
			if n == SessionsPage && !sessionsTemplate {
				from[l+"/"+n] = "" // the page is generated
				continue
			}
			from[l+"/"+n] = c.Defaults.Locale
			if _, err := fs.Stat(o.FS, render.GuidePath(n, l)); err == nil {
				from[l+"/"+n] = l
			} else if l != c.Defaults.Locale {
				s.Warnings = append(s.Warnings, fmt.Sprintf("%s: missing translation: readers of %s get %s", path.Join(o.Root, render.GuidePath(n, l)), l, c.Defaults.Locale))
			}
		}
		if extra, err := pageNames(o.FS, l); err == nil {
			for _, n := range extra {
				if _, ok := from[l+"/"+n]; !ok && n != SessionsPage {
					s.Warnings = append(s.Warnings, fmt.Sprintf("%s: not in %s: only pages of the default language are built", path.Join(o.Root, render.GuidePath(n, l)), c.Defaults.Locale))
				}
			}
		}
	}
	var sites []siteRef
	for _, l := range c.Defaults.Locales {
		for _, a := range audiences {
			if !render.ValidGuideName(a) {
				return nil, fmt.Errorf("audience %q: guide sites need audience names of lower-case letters, digits and -", a)
			}
			sites = append(sites, siteRef{l, a})
			if err := buildOne(o, lay, s, names, from, sessions, l, a); err != nil {
				return nil, err
			}
		}
	}
	if len(sessions) > 0 {
		stamp := o.Now
		if stamp.IsZero() {
			stamp = time.Now()
		}
		if err := calendarFiles(s, c, sessions, stamp); err != nil {
			return nil, err
		}
	}
	root, err := lay.rootIndex(c, sites)
	if err != nil {
		return nil, err
	}
	s.Files["index.html"] = root
	if err := s.checkLinks(); err != nil {
		return nil, err
	}
	return s, nil
}

type siteRef struct{ locale, audience string }

func buildOne(o Options, lay *layout, s *Site, names []string, from map[string]string, sessions []listed, locale, aud string) error {
	c := o.Campaign
	pages := make([]*render.Page, len(names))
	for i, n := range names {
		src := from[locale+"/"+n]
		link := func(page string) (string, error) {
			if !contains(names, page) {
				return "", fmt.Errorf("guide %q: no such page (pages: %s)", page, strings.Join(names, ", "))
			}
			return page + ".html", nil
		}
		var (
			p   *render.Page
			err error
		)
		if n == SessionsPage {
			p, err = sessionsPage(o, sessions, src, locale, aud, link)
		} else {
			p, err = o.Engine.GuidePage(n, src, render.Context{Audience: aud}, link)
		}
		if err != nil {
			return fmt.Errorf("guide for audience %s, %s: %w", aud, locale, err)
		}
		pages[i] = p
	}
	for i, p := range pages {
		html, err := lay.page(c, pages, i, locale, aud)
		if err != nil {
			return fmt.Errorf("%s: %w", p.File, err)
		}
		if err := checkPage(html, p.Locale); err != nil {
			return fmt.Errorf("%s (audience %s, %s): %w", p.File, aud, locale, err)
		}
		s.Files[render.GuideFile(locale, aud, p.Name)] = html
		s.from[render.GuideFile(locale, aud, p.Name)] = p.File
	}
	s.pages[locale+"/"+aud] = pages
	return nil
}

// pageNames lists the guide pages of locale, index first, then in the
// navigation's order.
func pageNames(fsys fs.FS, locale string) ([]string, error) {
	entries, err := fs.ReadDir(fsys, path.Join("guides", locale))
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		n, ok := strings.CutSuffix(e.Name(), ".md")
		if e.IsDir() || !ok {
			continue
		}
		if !render.ValidGuideName(n) {
			return nil, fmt.Errorf("guides/%s/%s: name guide pages with lower-case letters, digits and - only", locale, e.Name())
		}
		names = append(names, n)
	}
	return sortPages(names), nil
}

// sortPages puts the index first, then the pages of the navigation's
// order, then the others in name order.
func sortPages(names []string) []string {
	rank := map[string]int{}
	for i, n := range order {
		rank[n] = i + 1
	}
	sort.SliceStable(names, func(i, j int) bool {
		ri, rj := rank[names[i]], rank[names[j]]
		switch {
		case ri != 0 && rj != 0:
			return ri < rj
		case ri != 0 || rj != 0:
			return ri != 0
		}
		return names[i] < names[j]
	})
	return names
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// ui holds the few words the layout needs in each language.
type ui struct {
	Skip, Nav, Help, Phone, Web, Sources, Languages, Home string
	// The Q&A sessions page.
	Sessions, When, Host, Room, Join, AddToCalendar, NoSessions string
	// The printed guide: where the guides are online.
	Online string
	lang   string
}

var words = map[string]ui{
	"en": {Skip: "Skip to main content", Nav: "Guides", Help: "Need help? Contact", Phone: "Phone", Web: "Help portal", Languages: "Guides by language and audience", Home: "All guides",
		Sessions: "Q&A sessions", When: "When", Host: "Host", Room: "Room", Join: "Join online", AddToCalendar: "Add to calendar",
		NoSessions: "No Q&A session in this language is planned at the moment.", Online: "These guides online:", lang: "en"},
	"fr": {Skip: "Aller au contenu principal", Nav: "Guides", Help: "Besoin d'aide ? Contactez", Phone: "Téléphone", Web: "Portail d'assistance", Languages: "Guides par langue et par public", Home: "Tous les guides",
		Sessions: "Sessions de questions-réponses", When: "Quand", Host: "Animation", Room: "Salle", Join: "Rejoindre en ligne", AddToCalendar: "Ajouter à mon agenda",
		NoSessions: "Aucune session de questions-réponses n'est prévue dans cette langue pour le moment.", Online: "Ces guides en ligne :", lang: "fr"},
	"de": {Skip: "Zum Hauptinhalt springen", Nav: "Anleitungen", Help: "Sie brauchen Hilfe? Wenden Sie sich an", Phone: "Telefon", Web: "Hilfeportal", Languages: "Anleitungen nach Sprache und Zielgruppe", Home: "Alle Anleitungen",
		Sessions: "Fragestunden", When: "Wann", Host: "Moderation", Room: "Raum", Join: "Online teilnehmen", AddToCalendar: "Zum Kalender hinzufügen",
		NoSessions: "Zurzeit ist keine Fragestunde in dieser Sprache geplant.", Online: "Diese Anleitungen online:", lang: "de"},
}

func wordsFor(locale string) ui {
	if w, ok := words[locale]; ok {
		return w
	}
	return words["en"]
}

var languageNames = map[string]string{"en": "English", "fr": "Français", "de": "Deutsch", "es": "Español", "it": "Italiano", "nl": "Nederlands", "pt": "Português"}

type layout struct{ t *template.Template }

type navItem struct {
	Href, Label string
	Current     bool
}

type layoutData struct {
	Lang, Title string
	Org         string
	Nav         []navItem
	Body        template.HTML
	Home        string
	Helpdesk    campaign.Helpdesk
	UI          ui
}

func loadLayout(fsys fs.FS, root string) (*layout, error) {
	rel := "layouts/guide.html"
	data, err := fs.ReadFile(fsys, rel)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s: not found: guide pages need a layout", path.Join(root, rel))
		}
		return nil, err
	}
	t, err := template.New(path.Join(root, rel)).Option("missingkey=error").Parse(string(data))
	if err != nil {
		return nil, err
	}
	return &layout{t: t}, nil
}

func (l *layout) page(c *campaign.Campaign, pages []*render.Page, cur int, locale, aud string) ([]byte, error) {
	p := pages[cur]
	d := layoutData{Lang: p.Locale, Title: p.Title, Org: c.Organisation.Name, Body: template.HTML(p.Body),
		Home: "../../index.html", Helpdesk: c.Helpdesk, UI: wordsFor(p.Locale)}
	for i, q := range pages {
		d.Nav = append(d.Nav, navItem{Href: q.Name + ".html", Label: q.Title, Current: i == cur})
	}
	var b bytes.Buffer
	if err := l.t.Execute(&b, d); err != nil {
		return nil, err
	}
	return withSources(b.Bytes(), p.Sources), nil
}

// withSources names the public documents the page's steps follow in an
// HTML comment after <head>: html/template drops comments, so it goes in
// afterwards. Sources are checked https URLs without "--" or ">".
func withSources(page []byte, sources []string) []byte {
	if len(sources) == 0 {
		return page
	}
	i := bytes.Index(page, []byte("<head>"))
	if i < 0 {
		return page
	}
	i += len("<head>")
	var b bytes.Buffer
	b.Grow(len(page) + 200)
	b.Write(page[:i])
	b.WriteString("\n<!-- The steps on this page follow Microsoft's public documentation:\n")
	for _, s := range sources {
		b.WriteString("     " + s + "\n")
	}
	b.WriteString("-->")
	b.Write(page[i:])
	return b.Bytes()
}

var rootBody = template.Must(template.New("root").Parse(`<ul class="sites">
{{ range .Locales }}<li lang="{{ .Lang }}"><span class="lang">{{ .Name }}</span><ul>
{{ range .Audiences }}<li><a href="{{ .Href }}">{{ .Label }}</a></li>
{{ end }}</ul></li>
{{ end }}</ul>
`))

// rootIndex is the page at the site's root: every language and audience.
func (l *layout) rootIndex(c *campaign.Campaign, sites []siteRef) ([]byte, error) {
	type aud struct{ Href, Label string }
	type loc struct {
		Lang, Name string
		Audiences  []aud
	}
	var locs []loc
	for _, s := range sites {
		if len(locs) == 0 || locs[len(locs)-1].Lang != s.locale {
			name := languageNames[s.locale]
			if name == "" {
				name = s.locale
			}
			locs = append(locs, loc{Lang: s.locale, Name: name})
		}
		label := s.audience
		for _, a := range c.Audiences {
			if a.Name == s.audience && strings.TrimSpace(a.Description) != "" {
				label = s.audience + ": " + strings.TrimSpace(a.Description)
			}
		}
		locs[len(locs)-1].Audiences = append(locs[len(locs)-1].Audiences, aud{Href: render.GuideFile(s.locale, s.audience, Index), Label: label})
	}
	var body bytes.Buffer
	if err := rootBody.Execute(&body, struct{ Locales []loc }{locs}); err != nil {
		return nil, err
	}
	w := wordsFor(c.Defaults.Locale)
	title := w.Languages
	if c.Name != "" {
		title = c.Name + ": " + w.Languages
	}
	d := layoutData{Lang: c.Defaults.Locale, Title: title, Org: c.Organisation.Name, Body: template.HTML(body.String()),
		Home: "index.html", Helpdesk: c.Helpdesk, UI: w}
	var b bytes.Buffer
	if err := l.t.Execute(&b, d); err != nil {
		return nil, err
	}
	if err := checkPage(b.Bytes(), c.Defaults.Locale); err != nil {
		return nil, fmt.Errorf("guide site index: %w", err)
	}
	return b.Bytes(), nil
}
