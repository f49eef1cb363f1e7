package main

import (
	"fmt"
	"path"
	"strings"

	"github.com/spf13/cobra"

	"github.com/nudge-passkeys/nudge/internal/campaign"
	"github.com/nudge-passkeys/nudge/internal/directory"
	"github.com/nudge-passkeys/nudge/internal/render"
)

func newCheckCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "check",
		Short: "Lint the campaign file and every template; exit 1 on errors",
		Long: `check validates the campaign file (every problem, with its line), compiles the
audience rules, and renders every wave's template in every language of the
campaign for a sample person, then lints the result: links only to the
registration page and the organisation's own pages, https only, alt text on
images, size under Gmail's clipping limit, subject length.

A missing translation is a warning (those readers get the default language);
anything that would fail or mislead at send time is an error.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runCheck(e) },
	}
}

func runCheck(e *env) error {
	p, err := e.loadCampaign()
	if err != nil {
		return err
	}
	var errs, warns int
	report := func(f render.Finding) {
		if f.Error {
			errs++
		} else {
			warns++
		}
		fmt.Fprintln(e.stdout, f.String())
	}
	if _, err := e.exclusions(p); err != nil {
		report(render.Finding{Error: true, Msg: err.Error()})
	}
	// The directory too: a snapshot that does not load fails here, not at
	// build or send time.
	if s, err := e.eachPerson(p, "", func(*directory.Person, []string) error { return nil }); err != nil {
		report(render.Finding{Error: true, Msg: "directory: " + err.Error()})
	} else if n := len(s.dir.Problems); n > 0 {
		report(render.Finding{Msg: fmt.Sprintf("directory %s: %s with incomplete data (listed by nudge build)", s.sourceName, people(n))})
	}
	checkSessions(e, p, report)
	checkSchedule(e, p, report)
	checkHandouts(p, report)
	// Emails may link only to guide pages the guide site has.
	site, err := buildGuidesAt(p, e.now())
	if err != nil {
		report(render.Finding{Error: true, Msg: err.Error()})
	} else if site != nil {
		for _, w := range site.Warnings {
			report(render.Finding{Msg: w})
		}
	}
	allowed := render.AllowedHosts(p.c)
	seen := map[string]bool{}
	sample := render.SamplePerson()
	for i := range p.c.Waves {
		w := &p.c.Waves[i]
		where := fmt.Sprintf("%s:%d: wave %q", p.c.File, w.TemplateLine, w.ID)
		for _, locale := range p.c.Defaults.Locales {
			file := path.Join(p.tmplName, render.EmailPath(w.Template, locale))
			if seen[file] {
				continue
			}
			seen[file] = true
			if !p.engine.Exists(w.Template, locale) {
				if locale == p.c.Defaults.Locale {
					report(render.Finding{Error: true, Msg: fmt.Sprintf("%s: template %s does not exist", where, file)})
				} else {
					report(render.Finding{Msg: fmt.Sprintf("%s: missing translation %s: readers of %s get %s", where, file, locale, p.c.Defaults.Locale)})
				}
				continue
			}
			doc, err := p.engine.EmailIn(w.Template, locale, sample, render.Context{WaveID: w.ID, WaveName: w.Name, Audience: firstAudience(w)})
			if err != nil {
				report(render.Finding{Error: true, Msg: err.Error()})
				continue
			}
			for _, f := range render.Lint(doc, allowed) {
				f.Msg = file + ": " + f.Msg
				report(f)
			}
			if site != nil {
				for _, m := range site.MissingPages([]byte(doc.HTML), p.c.Links.Guides) {
					report(render.Finding{Error: true, Msg: fmt.Sprintf("%s: links to guide page %s, which the guide site does not have (link with {{ guide \"name\" }}; pages: %s)", file, m, strings.Join(site.Pages, ", "))})
				}
			}
		}
	}
	fmt.Fprintf(e.stdout, "%s: %s, %s, %s: %s, %s\n", p.c.File,
		plural(len(p.c.Waves), "wave"), plural(len(p.c.Audiences), "audience"), plural(len(seen), "template"),
		plural(errs, "error"), plural(warns, "warning"))
	if errs > 0 {
		return errSilent
	}
	return nil
}

func firstAudience(w *campaign.Wave) string {
	if len(w.Audiences) > 0 {
		return w.Audiences[0]
	}
	return ""
}

// plural writes n and the noun, with an s unless n is 1.
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func people(n int) string {
	if n == 1 {
		return "1 person"
	}
	return fmt.Sprintf("%d people", n)
}
