package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/nudge-passkeys/nudge/internal/guide"
	"github.com/nudge-passkeys/nudge/internal/printpdf"
)

func init() { moreCommands = append(moreCommands, newGuidesCmd) }

type guidesOptions struct {
	pdf      bool
	audience string
	browser  string
}

func newGuidesCmd(e *env) *cobra.Command {
	o := &guidesOptions{}
	cmd := &cobra.Command{
		Use:   "guides",
		Short: "Write the how-to guide site, and with --pdf one printed guide per language",
		Long: `guides renders the how-to guide site from templates/guides/ into
output/<campaign>/guides/ (as nudge build does, without the emails), replacing
the folder only when every page is written.

With --pdf it also prints, with a headless Chromium, Chrome or Edge found on
this machine, one A4 PDF per language holding every page of one audience's
site: a cover with the contents, the helpdesk and where the guides are online,
then each page on new sheets, web addresses written out after their links.

  nudge guides                          the site only
  nudge guides --pdf                    and output/<campaign>/guide-pdf/<audience>.<locale>.pdf
  nudge guides --pdf --audience onboard the PDFs of that audience's guides

The paths written are printed on stdout.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runGuides(e, o) },
	}
	f := cmd.Flags()
	f.BoolVar(&o.pdf, "pdf", false, "also print one PDF per language")
	f.StringVar(&o.audience, "audience", "", "with --pdf: whose guide to print (default: the campaign's first audience)")
	f.StringVar(&o.browser, "browser", "", "with --pdf: Chromium, Chrome or Edge program to print with (default: found on PATH and in the usual places)")
	return cmd
}

func runGuides(e *env, o *guidesOptions) error {
	if !o.pdf && (o.browser != "" || o.audience != "") {
		return usageError("--browser and --audience are for --pdf")
	}
	p, err := e.loadCampaign()
	if err != nil {
		return err
	}
	var audiences []string
	for _, a := range p.c.Audiences {
		audiences = append(audiences, a.Name)
	}
	aud := o.audience
	if aud == "" && len(audiences) > 0 {
		aud = audiences[0]
	}
	if o.pdf && !slices.Contains(audiences, aud) {
		return usageError("--audience %q: the campaign's audiences are %s", aud, strings.Join(audiences, ", "))
	}
	site, err := buildGuidesAt(p, e.now())
	if err != nil {
		return withHint(err, "`nudge check` lists every template problem at once")
	}
	if site == nil {
		return withHint(fmt.Errorf("%s has no guides/%s/", p.tmplName, p.c.Defaults.Locale), "guide pages are Markdown in templates/guides/<locale>/; see templates/README.md")
	}
	// Find the browser before writing anything.
	var exe string
	if o.pdf {
		if exe, err = findBrowser(o.browser); err != nil {
			if errors.Is(err, printpdf.ErrNotFound) {
				return withHint(err, "%s; nudge guides without --pdf writes the site, which prints from any browser", printpdf.InstallHint())
			}
			return withHint(err, "--browser takes the path of chrome, chromium or msedge")
		}
	}

	final := e.campaignDir(p)
	if err := os.MkdirAll(final, 0o755); err != nil {
		return err
	}
	stage, err := os.MkdirTemp(final, ".guides-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(stage) // gone already once renamed
	if err := writeGuides(stage, site); err != nil {
		return err
	}
	if err := replaceDir(stage, filepath.Join(final, "guides")); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, filepath.Join(final, "guides", "index.html"))
	if !o.pdf {
		return nil
	}

	dir := filepath.Join(final, "guide-pdf")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	paper := printpdf.Paper{WidthMM: guide.PrintPaper.WidthMM, HeightMM: guide.PrintPaper.HeightMM}
	var docs []printpdf.Doc
	for _, l := range p.c.Defaults.Locales {
		html, err := site.PrintHTML(l, aud)
		if err != nil {
			return err
		}
		docs = append(docs, printpdf.Doc{HTML: string(html), Paper: paper, Out: filepath.Join(dir, aud+"."+l+".pdf")})
	}
	start := time.Now()
	br, err := startBrowser(e, exe)
	if err != nil {
		return err
	}
	defer br.Close()
	written := make([]bool, len(docs))
	err = br.PrintAll(e.ctx, docs, min(runtime.NumCPU(), 2), func(i int, r printpdf.Result) {
		written[i] = true // each worker writes its own index
		e.log.Debug("printed", "guide", docs[i].Out, "took", r.Took.Round(time.Millisecond))
	})
	e.log.Debug("guides printed", "took", time.Since(start).Round(time.Millisecond))
	for i, d := range docs {
		if !written[i] {
			continue
		}
		// printpdf writes 0600, right for personal inserts; a guide is
		// for publishing, like the site.
		if cerr := os.Chmod(d.Out, 0o644); cerr != nil && err == nil {
			err = cerr
		}
		fmt.Fprintln(e.stdout, d.Out)
	}
	if errors.Is(err, printpdf.ErrBrowserGone) {
		return withHint(err, "no partial PDF was left; the PDFs listed on stdout are complete. Run the command again")
	}
	return err
}

// buildGuidesAt renders the campaign's guide site in memory as it is at
// now (the Q&A sessions page leaves out sessions over by then, and the
// "add to calendar" files are stamped with it), or returns nil when the
// template folder has no guides/ (the organisation publishes its guides
// some other way).
func buildGuidesAt(p *project, now time.Time) (*guide.Site, error) {
	if !guide.Exists(p.tmplFS, p.c) {
		return nil, nil
	}
	return guide.Build(guide.Options{FS: p.tmplFS, Root: p.tmplName, Campaign: p.c, Engine: p.engine, Now: now})
}

// writeGuides writes the site into dir, a staging folder nobody sees until
// the build renames it into place.
func writeGuides(dir string, s *guide.Site) error {
	for _, rel := range s.Paths() {
		name := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(name, s.Files[rel], 0o644); err != nil {
			return err
		}
	}
	return nil
}
