package preview

import (
	"fmt"
	"strings"
	"time"

	"github.com/nudge-passkeys/nudge/internal/campaign"
	"github.com/nudge-passkeys/nudge/internal/directory"
	"github.com/nudge-passkeys/nudge/internal/guide"
	"github.com/nudge-passkeys/nudge/internal/render"
	"github.com/nudge-passkeys/nudge/internal/untrusted"
)

// A kind is one kind of piece a wave produces. The index, the piece page
// and proofs work from this table, so adding a kind is one entry in
// kinds and its render function.
type kind struct {
	name, title string
	// personal pieces differ by reader: their page has a person picker.
	personal bool
	// has reports whether the project has this piece for the group; nil
	// means always.
	has func(p *Project, g *group) bool
	// render renders the piece of w in locale for person.
	render func(p *Project, w *campaign.Wave, audience, locale string, person *directory.Person) (*piece, error)
}

// kinds are the pieces the preview shows, in index order.
var kinds = []kind{
	{name: "email", title: "Email", personal: true, has: hasEmail, render: renderEmail},
	{name: "guide", title: "Guide", has: hasGuide, render: renderGuide},
	{name: "invite", title: "Invite", personal: true, has: hasInvite, render: renderInvite},
	{name: "handout", title: "Handout", personal: true, has: hasHandout, render: renderHandout},
}

func kindNamed(name string) (kind, bool) {
	for _, k := range kinds {
		if k.name == name {
			return k, true
		}
	}
	return kind{}, false
}

// piece is one rendered piece, as the piece page shows it.
type piece struct {
	headers  []header
	frames   []frame // HTML views at given widths
	text     string  // the plain-text version
	findings []render.Finding
	// doc is what a proof sends; nil when the kind is not mailed.
	doc *render.Document
	// calendar is the invite's .ics, shown as text and downloadable.
	calendar []byte
}

type header struct{ Name, Value string }

// frame is the piece's HTML shown in a sandboxed iframe Width pixels wide:
// HTML itself (srcdoc), or the page at Src when it links to others.
type frame struct {
	ID, Label string
	Width     int
	HTML      string
	Src       string
}

// Widths of the views: a desktop mail client's reading pane, a desktop
// browser (for guide pages) and a phone.
const (
	desktopWidth = 600
	guideWidth   = 1000
	mobileWidth  = 375
)

// hasEmail: a locale without a translation has no email of its own.
func hasEmail(_ *Project, g *group) bool { return !g.missing }

func renderEmail(p *Project, w *campaign.Wave, audience, locale string, person *directory.Person) (*piece, error) {
	return emailPiece(p, w, locale, person, render.Context{WaveID: w.ID, WaveName: w.Name, Audience: audience})
}

// emailPiece renders w's email in locale for person with ctx, with its
// headers, views and findings.
func emailPiece(p *Project, w *campaign.Wave, locale string, person *directory.Person, ctx render.Context) (*piece, error) {
	doc, err := p.Engine.EmailIn(w.Template, locale, person, ctx)
	if err != nil {
		return nil, err
	}
	c := p.Campaign
	from := c.Sender.Address
	if c.Sender.Name != "" {
		from = fmt.Sprintf("%s <%s>", c.Sender.Name, c.Sender.Address)
	}
	headers := []header{{"From", from}}
	if c.Sender.ReplyTo != "" {
		headers = append(headers, header{"Reply-To", c.Sender.ReplyTo})
	}
	headers = append(headers,
		header{"To", fmt.Sprintf("%s <%s>", untrusted.OneLine(person.DisplayName), person.Mail)},
		header{"Subject", doc.Subject},
		header{"Preheader", doc.Preheader},
	)
	pc := &piece{
		headers: headers,
		frames: []frame{
			{ID: "desktop", Label: "Desktop", Width: desktopWidth, HTML: doc.HTML},
			{ID: "mobile", Label: "Mobile", Width: mobileWidth, HTML: doc.HTML},
		},
		text: doc.Text,
		doc:  doc,
	}
	pc.findings = render.Lint(doc, render.AllowedHosts(c))
	// Placeholders are looked for in the sample person's rendering: a real
	// or hostile name may legitimately contain braces.
	if sample, err := p.Engine.EmailIn(w.Template, locale, render.SamplePerson(), ctx); err == nil {
		pc.findings = append(pc.findings, render.Placeholders(sample)...)
	}
	pc.findings = append(pc.findings, missingTranslations(p, w)...)
	pc.findings = append(pc.findings, guideFindings(p, doc)...)
	return pc, nil
}

// guideFindings are the email's links to guide pages the guide site does
// not have, as nudge check reports them.
func guideFindings(p *Project, doc *render.Document) []render.Finding {
	if p.GuidesErr != nil {
		return []render.Finding{{Error: true, Msg: "guide site: " + p.GuidesErr.Error()}}
	}
	if p.Guides == nil {
		return nil
	}
	var fs []render.Finding
	for _, m := range p.Guides.MissingPages([]byte(doc.HTML), p.Campaign.Links.Guides) {
		fs = append(fs, render.Finding{Error: true, Msg: fmt.Sprintf("links to guide page %s, which the guide site does not have (pages: %s)", m, strings.Join(p.Guides.Pages, ", "))})
	}
	return fs
}

// guideRoot is where the preview serves the guide site.
const guideRoot = "/guides/"

func hasGuide(p *Project, g *group) bool {
	return p.Guides != nil && p.Guides.Has(render.GuideFile(g.locale, g.audience, guide.Index))
}

// renderGuide shows the audience's guide site in its language, from its
// index page; the site is the same whoever reads it.
func renderGuide(p *Project, w *campaign.Wave, audience, locale string, _ *directory.Person) (*piece, error) {
	file := render.GuideFile(locale, audience, guide.Index)
	if p.Guides == nil || !p.Guides.Has(file) {
		if p.GuidesErr != nil {
			return nil, p.GuidesErr
		}
		return nil, fmt.Errorf("the guide site has no %s", file)
	}
	pc := &piece{
		headers: []header{{"Pages", strings.Join(p.Guides.Pages, ", ")}, {"Published as", p.Campaign.Links.Guides + file}},
		frames: []frame{
			{ID: "desktop", Label: "Desktop", Width: guideWidth, Src: guideRoot + file},
			{ID: "mobile", Label: "Mobile", Width: mobileWidth, Src: guideRoot + file},
		},
	}
	for _, warn := range p.Guides.Warnings {
		if strings.Contains(warn, "/"+locale+"/") {
			pc.findings = append(pc.findings, render.Finding{Msg: warn})
		}
	}
	return pc, nil
}

// missingTranslations are warnings for the campaign's locales that have no
// translation of w's template: their readers get the default locale.
func missingTranslations(p *Project, w *campaign.Wave) []render.Finding {
	var fs []render.Finding
	def := p.Campaign.Defaults.Locale
	for _, l := range p.Campaign.Defaults.Locales {
		if l == def || p.Engine.Exists(w.Template, l) {
			continue
		}
		fs = append(fs, render.Finding{Msg: fmt.Sprintf("missing translation %s: readers of %s get %s", render.EmailPath(w.Template, l), l, def)})
	}
	return fs
}

// group is one (wave, audience, locale) and the people it reaches.
type group struct {
	wave     *campaign.Wave
	audience string
	locale   string
	people   []*directory.Person
	// missing is set when the locale has no translation of the wave's
	// template: its readers are in the default locale's group.
	missing bool
}

func (g *group) path(k string) string {
	return "/piece/" + k + "/" + g.wave.ID + "/" + g.audience + "/" + g.locale
}

// state is a loaded project with its people grouped for the index.
type state struct {
	p      *Project
	groups []*group
}

// newState groups the project's members by wave, audience and locale, in
// campaign order; every locale of the campaign gets a row, with or without
// people, so that authors see every piece.
func newState(p *Project, now func() time.Time) *state {
	p.derived = &derived{now: now}
	st := &state{p: p}
	c := p.Campaign
	for i := range c.Waves {
		w := &c.Waves[i]
		for _, a := range w.Audiences {
			byLocale := map[string]*group{}
			for _, l := range c.Defaults.Locales {
				g := &group{wave: w, audience: a, locale: l, missing: l != c.Defaults.Locale && !p.Engine.Exists(w.Template, l)}
				byLocale[l] = g
				st.groups = append(st.groups, g)
			}
			for _, person := range p.Members[Key{w.ID, a}] {
				l := p.Engine.Locale(w.Template, person)
				g := byLocale[l]
				if g == nil { // not one of the campaign's locales: cannot happen, but keep them
					g = &group{wave: w, audience: a, locale: l}
					byLocale[l] = g
					st.groups = append(st.groups, g)
				}
				g.people = append(g.people, person)
			}
		}
	}
	return st
}

func (st *state) group(wave, audience, locale string) *group {
	for _, g := range st.groups {
		if g.wave.ID == wave && g.audience == audience && g.locale == locale {
			return g
		}
	}
	return nil
}

// person finds who to render for: a member of g by ID, a built-in sample
// ("sample:long"), or by default g's first member (the sample person when
// g has none).
func (g *group) person(id string) (*directory.Person, bool) {
	if id == "" {
		if len(g.people) > 0 {
			return g.people[0], true
		}
		return render.SamplePerson(), true
	}
	if s, ok := strings.CutPrefix(id, samplePrefix); ok {
		return samplePerson(s)
	}
	for _, p := range g.people {
		if p.ID == id {
			return p, true
		}
	}
	return nil, false
}

// search returns up to limit members of g whose name, UPN or mail contains
// q (case-insensitively), and how many matched in all.
func (g *group) search(q string, limit int) ([]*directory.Person, int) {
	q = strings.ToLower(strings.TrimSpace(q))
	var out []*directory.Person
	n := 0
	for _, p := range g.people {
		if q != "" && !strings.Contains(strings.ToLower(p.DisplayName), q) &&
			!strings.Contains(strings.ToLower(p.UserPrincipalName), q) &&
			!strings.Contains(strings.ToLower(p.Mail), q) {
			continue
		}
		n++
		if len(out) < limit {
			out = append(out, p)
		}
	}
	return out, n
}
