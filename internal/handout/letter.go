package handout

// Temporary Access Pass letters. A letter carries a secret: the pass. It
// is handed to this package only to be put in the print document, never
// to the Markdown template (which sees the person, as every template
// does, and so could be written to echo anything it is given): the page
// around the Markdown places the pass, with html/template escaping. The
// batch's HTML therefore holds passes, and the caller must treat it as
// it treats the PDF (see cmd/nudge/tap_letters.go). The handover sheet
// that starts each batch lists names and sign-in names, never passes.

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"strconv"
	"strings"
	"time"

	"github.com/nudge-passkeys/nudge/internal/campaign"
	"github.com/nudge-passkeys/nudge/internal/directory"
	"github.com/nudge-passkeys/nudge/internal/render"
)

// Papers a letter prints on, by --layout name.
var Papers = map[string]Size{"a4": {210, 297}, "letter": {215.9, 279.4}}

// LetterTemplate is the handout template of Temporary Access Pass letters.
const LetterTemplate = "tap-letter"

// Letter is one person's Temporary Access Pass letter.
type Letter struct {
	Person   *directory.Person
	Audience string
	// Pass is the secret printed on the letter.
	Pass string
	// From and Until bound the pass's validity, in the person's zone.
	From, Until time.Time
}

// LetterOptions say how to print letters.
type LetterOptions struct {
	// Paper is a key of Papers.
	Paper string
	// Locale forces one locale; empty means each person's own.
	Locale string
	// Now dates the handover sheets.
	Now time.Time
}

// letterFront is a letter template's front matter.
type letterFront struct {
	Kind  string `yaml:"kind"`
	Title string `yaml:"title"`
	// Labels around the pass, in the template's language.
	PassLabel  string `yaml:"pass_label"`
	FromLabel  string `yaml:"valid_from"`
	UntilLabel string `yaml:"valid_until"`
	Destroy    string `yaml:"destroy"`
}

const letterKeys = "kind, title, pass_label, valid_from, valid_until, destroy"

// Letters renders Temporary Access Pass letters for one campaign.
type Letters struct {
	c      *campaign.Campaign
	eng    *render.Engine
	opt    LetterOptions
	paper  Size
	parsed map[string]*letterParsed
}

type letterParsed struct {
	front letterFront
	h     *render.Handout
}

// NewLetters checks the paper and the letter template in the campaign's
// default locale (and in opt.Locale) before anything is rendered.
func NewLetters(c *campaign.Campaign, eng *render.Engine, opt LetterOptions) (*Letters, error) {
	paper, ok := Papers[opt.Paper]
	if !ok {
		return nil, fmt.Errorf("handout: unknown letter paper %q: use a4 or letter", opt.Paper)
	}
	m := &Letters{c: c, eng: eng, opt: opt, paper: paper, parsed: map[string]*letterParsed{}}
	if _, err := m.template(c.Defaults.Locale); err != nil {
		return nil, err
	}
	if opt.Locale != "" {
		if !slicesContains(c.Defaults.Locales, opt.Locale) {
			return nil, fmt.Errorf("handout: locale %q is not one of the campaign's (%s)", opt.Locale, strings.Join(c.Defaults.Locales, ", "))
		}
		if _, err := m.template(opt.Locale); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *Letters) template(locale string) (*letterParsed, error) {
	if p, ok := m.parsed[locale]; ok {
		return p, nil
	}
	p := &letterParsed{}
	h, err := m.eng.ParseHandout(LetterTemplate, locale, &p.front, letterKeys)
	if err != nil {
		return nil, err
	}
	if p.front.Kind != render.KindHandout {
		return nil, fmt.Errorf("%s:2: kind: %q: a letter template needs kind: handout", h.File, p.front.Kind)
	}
	for _, f := range []struct {
		v   *string
		def string
	}{
		{&p.front.Title, "Your Temporary Access Pass"}, {&p.front.PassLabel, "Temporary Access Pass"},
		{&p.front.FromLabel, "Valid from"}, {&p.front.UntilLabel, "Valid until"},
		{&p.front.Destroy, "Keep this letter private and destroy it once you have registered your passkey."},
	} {
		if strings.TrimSpace(*f.v) == "" {
			*f.v = f.def
		}
	}
	p.h = h
	m.parsed[locale] = p
	return p, nil
}

func (m *Letters) locale(p *directory.Person) string {
	if m.opt.Locale != "" {
		return m.opt.Locale
	}
	lang := strings.ToLower(p.PreferredLanguage)
	if i := strings.IndexAny(lang, "-_"); i >= 0 {
		lang = lang[:i]
	}
	if lang != "" && slicesContains(m.c.Defaults.Locales, lang) && m.eng.HandoutExists(LetterTemplate, lang) {
		return lang
	}
	return m.c.Defaults.Locale
}

type letterData struct {
	Lang, Title, Name, UPN string
	PassLabel, Pass        string
	FromLabel, From        string
	UntilLabel, Until      string
	Destroy                string
	Body                   template.HTML
	// Fit names the letter in the batch's Boxes.
	Fit int
}

type handoverRow struct {
	N         int
	Name, UPN string
}

type letterPage struct {
	Lang, Title, Campaign, Site string
	W, H                        float64
	// Staff holds the handover sheet's words.
	Staff   handoverWords
	Rows    []handoverRow
	Letters []letterData
}

// handoverWords are the handover sheet's words, in the campaign's language.
type handoverWords struct {
	Lang, Handover, Continued, Letters, Printed, Date, Instructions string
	// The columns.
	Name, UPN, Sign string
}

// dateNames are the names a letter's dates are written with, per locale.
// Go's time package knows English only; these few are all a letter needs.
type dateNames struct {
	weekdays [7]string  // Sunday first, as time.Weekday
	months   [12]string // January first
	// format lays out weekday, day, month, year and hh:mm.
	format func(n *dateNames, t time.Time) string
}

var letterDates = map[string]*dateNames{
	"en": {
		weekdays: [7]string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"},
		months:   [12]string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"},
		format: func(n *dateNames, t time.Time) string {
			return fmt.Sprintf("%s %d %s %d, %s", n.weekdays[t.Weekday()], t.Day(), n.months[t.Month()-1], t.Year(), t.Format("15:04 MST"))
		},
	},
	"fr": {
		weekdays: [7]string{"dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"},
		months:   [12]string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"},
		format: func(n *dateNames, t time.Time) string {
			day := strconv.Itoa(t.Day())
			if t.Day() == 1 {
				day = "1er" // premier: French writes the first of the month as an ordinal
			}
			return fmt.Sprintf("%s %s %s %d à %s", n.weekdays[t.Weekday()], day, n.months[t.Month()-1], t.Year(), t.Format("15:04"))
		},
	},
	"de": {
		weekdays: [7]string{"Sonntag", "Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag"},
		months:   [12]string{"Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember"},
		format: func(n *dateNames, t time.Time) string {
			return fmt.Sprintf("%s, %d. %s %d, %s Uhr", n.weekdays[t.Weekday()], t.Day(), n.months[t.Month()-1], t.Year(), t.Format("15:04"))
		},
	},
}

// validity formats a time of a pass's validity in its zone, in the
// letter's locale, naming the zone: an IANA name reads the same in every
// language, and its UTC offset settles any doubt. A locale without names
// gets ISO 8601, which every reader can parse.
func validity(t time.Time, locale string) string {
	zone := t.Location().String()
	if zone == "Local" {
		zone = t.Format("MST")
	}
	n, ok := letterDates[locale]
	if !ok {
		return t.Format("2006-01-02 15:04") + " (" + zone + ", UTC" + t.Format("-07:00") + ")"
	}
	if locale == "en" {
		// English keeps the zone's abbreviation, as printed before.
		return n.format(n, t) + " (" + zone + ")"
	}
	return n.format(n, t) + " (" + zone + ", UTC" + t.Format("-07:00") + ")"
}

// Batches renders letters, one batch per site (as Personal groups inserts),
// each starting with the site's handover sheet. A batch's Inserts is its
// number of letters.
func (m *Letters) Batches(letters []Letter) ([]*Batch, error) {
	if len(letters) == 0 {
		return nil, ErrNoPeople
	}
	var out []*Batch
	slugs := map[string]bool{}
	for _, g := range groupBySite(letters, func(l Letter) *directory.Person { return l.Person }) {
		w := wordsFor(m.c.Defaults.Locale)
		pg := letterPage{Lang: m.c.Defaults.Locale, Title: m.c.Name + " — " + w.site(g.name), Campaign: m.c.Name, Site: w.site(g.name),
			W: m.paper.W, H: m.paper.H, Staff: handoverWords{
				Lang: w.lang, Handover: w.handover, Continued: w.continued, Letters: w.letters(len(g.items)),
				Printed: w.printed, Date: render.FormatDate(m.opt.Now, w.lang), Instructions: w.instructions,
				Name: w.colName, UPN: w.colUPN, Sign: w.colSign,
			}}
		for i, l := range g.items {
			locale := m.locale(l.Person)
			t, err := m.template(locale)
			if err != nil {
				return nil, err
			}
			body, err := t.h.HTML(l.Person, render.Context{Audience: l.Audience})
			if err != nil {
				return nil, err
			}
			name := printable(l.Person.DisplayName)
			if name == "" {
				name = printable(l.Person.GivenName + " " + l.Person.Surname)
			}
			upn := printable(l.Person.UserPrincipalName)
			pg.Rows = append(pg.Rows, handoverRow{N: i + 1, Name: name, UPN: upn})
			pg.Letters = append(pg.Letters, letterData{Lang: locale, Title: t.front.Title, Name: name, UPN: upn,
				PassLabel: t.front.PassLabel, Pass: l.Pass, FromLabel: t.front.FromLabel, From: validity(l.From, locale),
				UntilLabel: t.front.UntilLabel, Until: validity(l.Until, locale), Destroy: t.front.Destroy, Body: template.HTML(body)})
		}
		// Boxes: the handover pages first, then one per letter.
		sheets := (len(g.items) + handoverRowsPerPage - 1) / handoverRowsPerPage
		boxes := make([]Box, 0, sheets+len(pg.Letters))
		for k := range sheets {
			boxes = append(boxes, Box{Page: k + 1, What: fmt.Sprintf("handover sheet, page %d of %d", k+1, sheets)})
		}
		for i := range pg.Letters {
			pg.Letters[i].Fit = len(boxes)
			boxes = append(boxes, Box{Page: sheets + i + 1, What: "letter for " + who(pg.Letters[i].Name, pg.Letters[i].UPN)})
		}
		var buf bytes.Buffer
		if err := letterTemplate.Execute(&buf, pg); err != nil {
			return nil, fmt.Errorf("handout: %w", err)
		}
		out = append(out, &Batch{Site: g.name, Slug: uniqueSlug("tap-letters-"+Slug(g.name), slugs), Inserts: len(g.items),
			Pages: sheets + len(g.items), Paper: m.paper, HTML: buf.Bytes(), Boxes: boxes})
	}
	return out, nil
}

// handoverRowsPerPage is how many people one handover page lists; the
// print CSS breaks the table at the same count.
const handoverRowsPerPage = 18

//go:embed letter.html
var letterHTML string

var letterTemplate = template.Must(template.New("letter.html").Funcs(template.FuncMap{
	"mm":      func(v float64) template.CSS { return template.CSS(fmt.Sprintf("%.3fmm", v)) },
	"newpage": func(i int) bool { return i > 0 && i%handoverRowsPerPage == 0 },
	"sheet":   func(i int) int { return i / handoverRowsPerPage },
}).Parse(letterHTML))
