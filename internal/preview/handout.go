package preview

// A handout piece is one person's key-kit insert as nudge handouts makes
// it (handout.Maker), in the group's language: its print HTML, which is
// what the PDF is printed from. The preview starts no browser, so text
// that runs past its box is only reported when printing. Directory values
// reach the insert through package handout's escaping.

import (
	"fmt"
	"math"

	"github.com/nudge-passkeys/nudge/internal/campaign"
	"github.com/nudge-passkeys/nudge/internal/directory"
	"github.com/nudge-passkeys/nudge/internal/handout"
	"github.com/nudge-passkeys/nudge/internal/render"
)

// handoutLayout is the campaign's handout layout and its template.
func handoutLayout(c *campaign.Campaign) (handout.Layout, error) {
	name := c.Handouts.Layout
	if name == "" {
		name = "a6"
	}
	return handout.FindLayout(name)
}

// hasHandout: the audience has an insert in the group's language when
// the layout's handout template exists in it.
func hasHandout(p *Project, g *group) bool {
	l, err := handoutLayout(p.Campaign)
	return err == nil && p.Engine.HandoutExists(l.Template, g.locale)
}

type makerResult struct {
	m   *handout.Maker
	err error
}

// maker is the handout maker of locale, made once per load.
func (p *Project) maker(layout, locale string) (*handout.Maker, error) {
	now := p.clock()
	d := p.cache()
	d.mu.Lock()
	defer d.mu.Unlock()
	if r, ok := d.makers[locale]; ok {
		return r.m, r.err
	}
	m, err := handout.New(p.Campaign, p.Engine, handout.Options{Layout: layout, Locale: locale, Now: now})
	if d.makers == nil {
		d.makers = map[string]makerResult{}
	}
	d.makers[locale] = makerResult{m, err}
	return m, err
}

// renderHandout renders person's insert for audience in locale.
func renderHandout(p *Project, _ *campaign.Wave, audience, locale string, person *directory.Person) (*piece, error) {
	l, err := handoutLayout(p.Campaign)
	if err != nil {
		return nil, err
	}
	m, err := p.maker(l.Name, locale)
	if err != nil {
		return nil, err
	}
	batches, err := m.Personal([]handout.Member{{Person: person, Audience: audience}})
	if err != nil {
		return nil, err
	}
	b := batches[0]
	// The page's width in CSS pixels (96 per inch), and room around it.
	width := int(math.Ceil(b.Paper.W*96/25.4)) + 40
	return &piece{
		headers: []header{
			{"Template", render.HandoutPath(l.Template, locale)},
			{"Layout", fmt.Sprintf("%s, %g × %g mm paper, %d pages with the site's cover page", l.Name, b.Paper.W, b.Paper.H, b.Pages)},
			{"Site", b.Site},
			{"Registration link", registerLink(p.Campaign, b.Site)},
			{"PDF", fmt.Sprintf("nudge handouts --audience %s prints it; this is its print HTML", audience)},
		},
		frames: []frame{{ID: "print", Label: "Print", Width: width, HTML: string(b.HTML)}},
	}, nil
}

// registerLink is the link printed on site's inserts, as handout.Maker
// picks it.
func registerLink(c *campaign.Campaign, site string) string {
	if site == "" || site == handout.Unassigned {
		return c.Links.Register
	}
	return c.RegisterLink(site)
}
