package main

// nudge check, for the printed pieces: the handout templates under
// templates/handouts/<locale>/ (key-kit inserts and Temporary Access Pass
// letters). Each is parsed the way `nudge handouts` and `nudge tap-letters`
// parse it (strict front matter, kind, title, paper geometry per layout,
// every placeholder resolved against a sample person), then rendered for
// every audience of the campaign, so that a placeholder in a branch only
// one audience takes fails here too.
//
// What is an error: anything that would make handouts or tap-letters
// fail, for a template that exists, or for one the campaign relies on
// (handouts.layout names a layout; a tap: section means letters). What is
// a warning: a translation missing (those readers get the default
// language), a folder for a language the campaign does not have, a
// standard template missing that the campaign may not use.

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/nudge-passkeys/nudge/internal/campaign"
	"github.com/nudge-passkeys/nudge/internal/directory"
	"github.com/nudge-passkeys/nudge/internal/handout"
	"github.com/nudge-passkeys/nudge/internal/render"
)

// checkHandouts reports the problems of the campaign's handout templates.
func checkHandouts(p *project, report func(render.Finding)) {
	for _, f := range handoutFindings(p.c, p.tmplFS, p.tmplName, p.engine) {
		report(f)
	}
}

// handoutFindings checks the handout templates of fsys (named root in
// messages) for campaign c.
func handoutFindings(c *campaign.Campaign, fsys fs.FS, root string, eng *render.Engine) []render.Finding {
	var out []render.Finding
	seen := map[string]bool{}
	add := func(isErr bool, format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		if !seen[msg] { // the default locale is checked with every other one
			seen[msg] = true
			out = append(out, render.Finding{Error: isErr, Msg: msg})
		}
	}
	file := func(name, locale string) string { return path.Join(root, render.HandoutPath(name, locale)) }

	// Which templates exist, in which locales.
	dirs, err := fs.ReadDir(fsys, "handouts")
	if errors.Is(err, fs.ErrNotExist) {
		if c.Handouts.Layout != "" || c.TAP != (campaign.TAP{}) {
			add(true, "%s/handouts: no handout templates, but %s sets %s", root, c.File, handoutSettings(c))
		}
		return out
	}
	if err != nil {
		add(true, "%s/handouts: %v", root, err)
		return out
	}
	locales := map[string][]string{} // template name → locales it exists in
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		loc := d.Name()
		if !slices.Contains(c.Defaults.Locales, loc) {
			add(false, "%s/handouts/%s: %q is not one of the campaign's languages (%s): its templates are never used", root, loc, loc, strings.Join(c.Defaults.Locales, ", "))
			continue
		}
		files, err := fs.ReadDir(fsys, path.Join("handouts", loc))
		if err != nil {
			add(true, "%s/handouts/%s: %v", root, loc, err)
			continue
		}
		for _, f := range files {
			if name, ok := strings.CutSuffix(f.Name(), ".md"); ok && !f.IsDir() {
				locales[name] = append(locales[name], loc)
			}
		}
	}

	// The templates nudge itself uses, and whether this campaign needs them.
	needed := map[string]bool{} // name → an error when missing
	for _, l := range handout.Layouts {
		needed[l.Template] = needed[l.Template] || l.Name == c.Handouts.Layout
	}
	needed[handout.LetterTemplate] = c.TAP != (campaign.TAP{})
	names := make([]string, 0, len(locales)+len(needed))
	for n := range locales {
		names = append(names, n)
	}
	for n := range needed {
		if _, ok := locales[n]; !ok {
			names = append(names, n)
		}
	}
	sort.Strings(names)

	def := c.Defaults.Locale
	for _, name := range names {
		have := locales[name]
		if !slices.Contains(have, def) {
			switch {
			case len(have) > 0:
				add(true, "%s: missing: %s exists in %s, and every handout needs the default language's version (readers of other languages fall back to it)",
					file(name, def), name, strings.Join(have, ", "))
			case needed[name]:
				add(true, "%s: missing: %s sets %s, which prints it", file(name, def), c.File, handoutSettings(c))
			default:
				add(false, "%s: missing: `nudge %s` cannot print without it", file(name, def), commandOf(name))
			}
			continue
		}
		for _, loc := range c.Defaults.Locales {
			if loc != def && !slices.Contains(have, loc) {
				add(false, "%s: missing translation: readers of %s get %s", file(name, loc), loc, file(name, def))
			}
		}
		if name == handout.LetterTemplate {
			checkLetters(c, eng, have, add)
			continue
		}
		checkInserts(c, eng, name, have, add)
	}
	return out
}

// checkInserts parses insert template name in every locale it exists in,
// plans it on each layout it prints on, and renders it for every audience.
func checkInserts(c *campaign.Campaign, eng *render.Engine, name string, have []string, add func(bool, string, ...any)) {
	var layouts []string
	for _, l := range handout.Layouts {
		if l.Template == name {
			layouts = append(layouts, l.Name)
		}
	}
	if len(layouts) == 0 {
		// A template of the user's own, printed with --template: check
		// it on the campaign's layout.
		layouts = []string{cmp.Or(c.Handouts.Layout, "a6")}
	}
	failed := map[string]bool{} // a template's own error is the same on every layout
	for _, layout := range layouts {
		for _, loc := range have {
			m, err := handout.New(c, eng, handout.Options{Layout: layout, Template: name, Locale: loc})
			if err != nil {
				if !failed[err.Error()] {
					failed[err.Error()] = true
					add(true, "%s (layout %s)", err, layout)
				}
				continue
			}
			for _, a := range audienceNames(c) {
				if _, err := m.Generic(a, 1); err != nil {
					add(true, "%s (audience %s)", err, a)
				}
			}
			// A personal insert too: the name and sign-in name are printed.
			if _, err := m.Personal([]handout.Member{{Person: sampleIn(loc), Audience: firstOr(audienceNames(c), "")}}); err != nil {
				add(true, "%s", err)
			}
		}
	}
}

// checkLetters parses the letter template in every locale it exists in and
// renders a letter for every audience.
func checkLetters(c *campaign.Campaign, eng *render.Engine, have []string, add func(bool, string, ...any)) {
	for _, loc := range have {
		m, err := handout.NewLetters(c, eng, handout.LetterOptions{Paper: "a4", Locale: loc})
		if err != nil {
			add(true, "%s", err)
			continue
		}
		for _, a := range audienceNames(c) {
			l := handout.Letter{Person: sampleIn(loc), Audience: a, Pass: "SAMPLE"}
			if _, err := m.Batches([]handout.Letter{l}); err != nil {
				add(true, "%s (audience %s)", err, a)
			}
		}
	}
}

func sampleIn(locale string) *directory.Person {
	p := render.SamplePerson()
	p.PreferredLanguage = locale
	return p
}

func audienceNames(c *campaign.Campaign) []string {
	names := make([]string, 0, len(c.Audiences))
	for _, a := range c.Audiences {
		names = append(names, a.Name)
	}
	if len(names) == 0 {
		names = []string{""}
	}
	return names
}

// handoutSettings names what in the campaign file asks for printed pieces.
func handoutSettings(c *campaign.Campaign) string {
	var s []string
	if c.Handouts.Layout != "" {
		s = append(s, "handouts.layout: "+c.Handouts.Layout)
	}
	if c.TAP != (campaign.TAP{}) {
		s = append(s, "a tap: section")
	}
	return strings.Join(s, " and ")
}

func commandOf(template string) string {
	if template == handout.LetterTemplate {
		return "tap-letters"
	}
	var layouts []string
	for _, l := range handout.Layouts {
		if l.Template == template {
			layouts = append(layouts, l.Name)
		}
	}
	if len(layouts) > 0 {
		return "handouts --layout " + strings.Join(layouts, "|")
	}
	return "handouts --template " + template
}

func firstOr(s []string, def string) string {
	if len(s) == 0 {
		return def
	}
	return s[0]
}
