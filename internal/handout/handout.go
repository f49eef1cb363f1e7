// Package handout lays out printed key-kit inserts: print HTML with page
// sizes in mm, n-up sheets with crop marks, a QR code to the registration
// link, personal inserts grouped by site.
//
// Escaping policy: directory values (names, UPNs, office locations) are
// untrusted text. In the Markdown body they go through package render's
// escaping; in the page around it (name, UPN, cover page) html/template
// escapes them, with control characters folded to spaces first, so a
// name that is HTML, a URL or Markdown prints as itself. Office locations
// become file names only through Slug.
package handout

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/nudge-passkeys/nudge/internal/campaign"
	"github.com/nudge-passkeys/nudge/internal/directory"
	"github.com/nudge-passkeys/nudge/internal/qr"
	"github.com/nudge-passkeys/nudge/internal/render"
	"github.com/nudge-passkeys/nudge/internal/untrusted"
)

// Unassigned is the site of people with no office location.
const Unassigned = "unassigned"

// ErrNoPeople means a batch would be empty.
var ErrNoPeople = errors.New("handout: nobody to print for")

// Options say what to print.
type Options struct {
	// Layout is a name from Layouts.
	Layout string
	// Template is the handout template's name; empty means the layout's.
	Template string
	// Locale forces one locale; empty means each person's own (personal
	// inserts) or the campaign default (generic ones).
	Locale string
	// Now dates the cover pages.
	Now time.Time
}

// Maker renders inserts for one campaign, layout and template.
type Maker struct {
	c       *campaign.Campaign
	eng     *render.Engine
	opt     Options
	layout  Layout
	geo     *geometry
	base    *Front // the default locale's front matter, which sets the paper
	name    string // template name
	mu      sync.Mutex
	parsed  map[string]*parsed // by locale
	codes   map[string]template.HTML
	modules int
}

type parsed struct {
	front Front
	h     *render.Handout
}

// New prepares a Maker: it checks the layout, the template in the
// campaign's default locale and the geometry before anything is rendered.
func New(c *campaign.Campaign, eng *render.Engine, opt Options) (*Maker, error) {
	l, err := FindLayout(opt.Layout)
	if err != nil {
		return nil, err
	}
	m := &Maker{c: c, eng: eng, opt: opt, layout: l, name: opt.Template, parsed: map[string]*parsed{}, codes: map[string]template.HTML{}}
	if m.name == "" {
		m.name = l.Template
	}
	if opt.Locale != "" && !slicesContains(c.Defaults.Locales, opt.Locale) && opt.Locale != c.Defaults.Locale {
		return nil, fmt.Errorf("handout: locale %q is not one of the campaign's (%s)", opt.Locale, strings.Join(c.Defaults.Locales, ", "))
	}
	// Every link is checked, and the largest code sizes the layout: a
	// per-site link may need more modules than the default one.
	for _, link := range m.links() {
		if err := campaign.CheckHTTPS(link); err != nil {
			return nil, fmt.Errorf("handout: registration link: %w (it is printed and encoded in the QR code)", err)
		}
		code, err := qr.Encode(link, qr.Medium)
		if err != nil {
			return nil, fmt.Errorf("handout: %w", err)
		}
		m.modules = max(m.modules, code.Size())
	}
	p, err := m.template(c.Defaults.Locale)
	if err != nil {
		return nil, err
	}
	m.base = &p.front
	if m.geo, err = plan(l, m.base, p.h.File, m.modules); err != nil {
		return nil, err
	}
	if opt.Locale != "" {
		if _, err := m.template(opt.Locale); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func slicesContains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// links are every registration link the campaign prints.
func (m *Maker) links() []string {
	out := []string{m.c.Links.Register}
	sites := make([]string, 0, len(m.c.Handouts.SiteLinks))
	for s := range m.c.Handouts.SiteLinks {
		sites = append(sites, s)
	}
	sort.Strings(sites)
	for _, s := range sites {
		out = append(out, m.c.Handouts.SiteLinks[s])
	}
	return out
}

// template parses the handout template in locale once.
func (m *Maker) template(locale string) (*parsed, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if p, ok := m.parsed[locale]; ok {
		return p, nil
	}
	p := &parsed{}
	h, err := m.eng.ParseHandout(m.name, locale, &p.front, frontKeys)
	if err != nil {
		return nil, err
	}
	if p.front.Kind != render.KindHandout {
		return nil, fmt.Errorf("%s:2: kind: %q: a handout template needs kind: handout", h.File, p.front.Kind)
	}
	if strings.TrimSpace(p.front.Title) == "" {
		return nil, fmt.Errorf("%s: front matter: title: missing (it heads every insert)", h.File)
	}
	if m.base != nil && !sameGeometry(m.base, &p.front) {
		return nil, fmt.Errorf("%s: qr, margin, bleed and sizes must be the same as in the %s template: inserts of every language share the same sheets", h.File, m.c.Defaults.Locale)
	}
	p.h = h
	m.parsed[locale] = p
	return p, nil
}

// locale picks the locale of p's insert: --locale, else their preferred
// language when the campaign ships it and the template exists in it, else
// the campaign default.
func (m *Maker) locale(p *directory.Person) string {
	if m.opt.Locale != "" {
		return m.opt.Locale
	}
	if p != nil {
		lang := strings.ToLower(p.PreferredLanguage)
		if i := strings.IndexAny(lang, "-_"); i >= 0 {
			lang = lang[:i]
		}
		if lang != "" && slicesContains(m.c.Defaults.Locales, lang) && m.eng.HandoutExists(m.name, lang) {
			return lang
		}
	}
	return m.c.Defaults.Locale
}

// qrFor returns the SVG of the code for link, drawn once.
func (m *Maker) qrFor(link string) (template.HTML, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if s, ok := m.codes[link]; ok {
		return s, nil
	}
	code, err := qr.Encode(link, qr.Medium)
	if err != nil {
		return "", fmt.Errorf("handout: %w", err)
	}
	// The symbol prints at the front matter's width whatever the link;
	// the layout left room for the largest code's quiet zone.
	svg, err := code.SVG(m.geo.QRSymbol)
	if err != nil {
		return "", err
	}
	m.codes[link] = template.HTML(svg)
	return m.codes[link], nil
}

// Member is a person in an audience.
type Member struct {
	Person   *directory.Person
	Audience string
}

// Batch is one print job: one HTML document, one PDF.
type Batch struct {
	// Site is the office location as the directory spells it (untrusted),
	// or Unassigned; empty for generic inserts.
	Site string
	// Slug names the batch's files.
	Slug string
	// Inserts is how many inserts the batch holds; Pages how many pages
	// it prints, cover included.
	Inserts, Pages int
	// Paper is the page size in mm.
	Paper Size
	// HTML is the whole print document.
	HTML []byte
	// Boxes are the parts of the document that must fit their page, by
	// the value of their printpdf.FitAttr attribute (the index here).
	Boxes []Box
}

// Box is a part of a batch that must fit its page or box: an insert, a
// letter, a cover or handover page.
type Box struct {
	// Page is the page it prints on, from 1, cover included.
	Page int
	// What names it for people ("insert for Ann Lee <ann@…>").
	What string
}

// Overflowing returns the boxes that fit values (as printpdf reports
// them) name, in document order; values it does not know are left out.
func (b *Batch) Overflowing(fit []string) []Box {
	var out []Box
	for _, v := range fit {
		if i, err := strconv.Atoi(v); err == nil && i >= 0 && i < len(b.Boxes) {
			out = append(out, b.Boxes[i])
		}
	}
	return out
}

// who names a person in a warning: name and sign-in name, printable.
func who(name, upn string) string {
	switch {
	case name == "":
		return "<" + upn + ">"
	case upn == "":
		return name
	}
	return name + " <" + upn + ">"
}

// Personal renders the inserts of people, one batch per site (office
// location, Unassigned when missing), sites in name order with Unassigned
// last, people by name within a site. Each batch starts with a cover page.
func (m *Maker) Personal(people []Member) ([]*Batch, error) {
	if len(people) == 0 {
		return nil, ErrNoPeople
	}
	slugs := map[string]bool{}
	var out []*Batch
	for _, s := range groupBySite(people, func(m Member) *directory.Person { return m.Person }) {
		slug := uniqueSlug(Slug(s.name), slugs)
		b, err := m.batch(s.name, slug, s.items, true)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// sortName is how a person sorts: surname then given name when both are
// known, else the display name.
func sortName(p *directory.Person) string {
	if strings.TrimSpace(p.Surname) != "" && strings.TrimSpace(p.GivenName) != "" {
		return p.Surname + " " + p.GivenName
	}
	return strings.TrimSpace(p.DisplayName)
}

// Generic renders copies identical inserts for audience (which picks the
// steps; empty for everyone) in one batch, without a cover page.
func (m *Maker) Generic(audience string, copies int) (*Batch, error) {
	if copies < 1 {
		return nil, fmt.Errorf("handout: copies: %d: print at least one", copies)
	}
	members := make([]Member, copies)
	for i := range members {
		members[i].Audience = audience
	}
	slug := "generic"
	if audience != "" {
		slug += "-" + Slug(audience)
	}
	slug += "-" + m.locale(nil) + "-" + m.layout.Name
	return m.batch("", slug, members, false)
}

// insertData is what the page template sees of one insert.
type insertData struct {
	Title string
	Name  string
	UPN   string
	// NamePt and UPNPt are font sizes that keep a long name or UPN on
	// one line where they can: a line broken inside a word prints fine
	// but no longer reads back as the name.
	NamePt, UPNPt float64
	Body          template.HTML
	QR            template.HTML
	Link          string
	Lang          string
	X, Y          float64
	Content       Size
	// Fit names the insert in the batch's Boxes.
	Fit int
}

type sheetData struct {
	Inserts []insertData
}

type pageData struct {
	Lang   string
	Title  string
	G      *geometry
	Cover  *coverData
	Sheets []sheetData
	// CoverFit names the cover page in the batch's Boxes.
	CoverFit int
}

type coverData struct {
	Lang, Site, Summary, Campaign, Audiences string
	Printed, Date                            string
}

func (m *Maker) batch(site, slug string, members []Member, cover bool) (*Batch, error) {
	link := m.c.RegisterLink(site)
	if site == "" || site == Unassigned {
		link = m.c.Links.Register
	}
	code, err := m.qrFor(link)
	if err != nil {
		return nil, err
	}
	g := m.geo
	var sheets []sheetData
	var boxes []Box
	first := 1 // the page of the first sheet
	if cover {
		boxes = append(boxes, Box{Page: 1, What: "cover page"})
		first = 2
	}
	audiences := map[string]int{}
	var generic *insertData // generic inserts are all the same
	for i, mem := range members {
		if i%g.PerSheet == 0 {
			sheets = append(sheets, sheetData{})
		}
		slot := i % g.PerSheet
		var d insertData
		if mem.Person == nil && generic != nil {
			d = *generic
		} else {
			locale := m.locale(mem.Person)
			t, err := m.template(locale)
			if err != nil {
				return nil, err
			}
			ctx := render.Context{Audience: mem.Audience}
			body, err := t.h.HTML(mem.Person, ctx)
			if err != nil {
				return nil, err
			}
			d = insertData{Title: t.front.Title, Body: template.HTML(body), QR: code, Link: link, Lang: locale}
			if p := mem.Person; p != nil {
				d.Name = printable(p.DisplayName)
				if d.Name == "" {
					d.Name = printable(p.GivenName + " " + p.Surname)
				}
				d.UPN = printable(p.UserPrincipalName)
				w := g.Insert.W - 2*g.Margin
				base := 11.0
				if g.Card {
					w -= g.QRTotal + 3
					base = 8
				}
				d.NamePt = fit(d.Name, w, base, 0.62)
				d.UPNPt = fit(d.UPN, w, base*0.85, 0.55)
			} else {
				generic = &d
			}
		}
		audiences[mem.Audience]++
		d.Fit = len(boxes)
		what := "generic insert"
		if mem.Person != nil {
			what = "insert for " + who(d.Name, d.UPN)
		}
		boxes = append(boxes, Box{Page: first + i/g.PerSheet, What: what})
		o := g.Origins[slot]
		d.X, d.Y = o.W+g.Margin, o.H+g.Margin
		d.Content = Size{g.Insert.W - 2*g.Margin, g.Insert.H - 2*g.Margin}
		sheets[len(sheets)-1].Inserts = append(sheets[len(sheets)-1].Inserts, d)
	}
	pd := pageData{Lang: m.c.Defaults.Locale, Title: m.c.Name, G: g, Sheets: sheets}
	pages := len(sheets)
	if cover {
		var names []string
		for a := range audiences {
			names = append(names, a)
		}
		sort.Strings(names)
		w := wordsFor(m.c.Defaults.Locale)
		pd.Cover = &coverData{
			Lang: w.lang, Site: w.site(site), Summary: w.coverSummary(len(members), len(sheets), m.layout.Name),
			Campaign: m.c.Name, Audiences: strings.Join(names, ", "), Printed: w.printed, Date: render.FormatDate(m.opt.Now, w.lang),
		}
		pd.Title = m.c.Name + " — " + w.site(site)
		pages++
	}
	var buf bytes.Buffer
	buf.Grow(len(members) * (len(code) + 4096))
	if err := pageTemplate.Execute(&buf, pd); err != nil {
		return nil, fmt.Errorf("handout: %w", err)
	}
	return &Batch{Site: site, Slug: slug, Inserts: len(members), Pages: pages, Paper: g.Page, HTML: buf.Bytes(), Boxes: boxes}, nil
}

// fit returns the font size in points, from base down to 60% of it, at
// which s fits on a line w mm wide, given the font's average character
// width as a fraction of its size.
func fit(s string, w, base, avg float64) float64 {
	n := float64(utf8.RuneCountInString(s))
	if n == 0 {
		return base
	}
	pt := w / (n * avg * 25.4 / 72)
	return math.Round(math.Max(math.Min(pt, base), base*0.6)*10) / 10
}

// printable folds control characters and runs of space, so a name with a
// line break prints on one line, and drops bidirectional controls, so
// "Ann\u202egnp.exe" prints in the order it is stored instead of as
// "Annexe.png"; what is left is printed as text.
func printable(s string) string {
	s = strings.Map(func(r rune) rune {
		if r >= 0x202A && r <= 0x202E || r >= 0x2066 && r <= 0x2069 || r == 0x200E || r == 0x200F || r == 0x061C {
			return -1
		}
		return r
	}, s)
	return strings.Join(strings.Fields(untrusted.OneLine(s)), " ")
}

// Slug turns a site name into a file name: lower-case ASCII letters,
// digits and dashes, never empty, never a path.
func Slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case r >= 0xC0 && r <= 0x17F:
			// Latin letters with accents: keep the base letter where
			// it is obvious, else a dash.
			if base, ok := latin[r]; ok {
				b.WriteByte(base)
				dash = false
				continue
			}
			fallthrough
		default:
			if !dash && b.Len() > 0 {
				b.WriteByte('-')
				dash = true
			}
		}
		if b.Len() >= 60 {
			break
		}
	}
	out := strings.Trim(b.String(), "-")
	if out == "" {
		return "site"
	}
	return out
}

var latin = func() map[rune]byte {
	m := map[rune]byte{}
	for base, rs := range map[byte]string{'a': "àáâãäåā", 'c': "çćč", 'e': "èéêëēė", 'i': "ìíîïī", 'n': "ñń", 'o': "òóôõöøō", 'u': "ùúûüū", 'y': "ýÿ", 's': "śš", 'z': "źżž"} {
		for _, r := range rs {
			m[r] = base
		}
	}
	return m
}()

func uniqueSlug(s string, taken map[string]bool) string {
	out := s
	for i := 2; taken[out]; i++ {
		out = fmt.Sprintf("%s-%d", s, i)
	}
	taken[out] = true
	return out
}
