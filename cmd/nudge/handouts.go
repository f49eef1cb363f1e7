package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/nudge-passkeys/nudge/internal/atomicfile"
	"github.com/nudge-passkeys/nudge/internal/directory"
	"github.com/nudge-passkeys/nudge/internal/handout"
	"github.com/nudge-passkeys/nudge/internal/printpdf"
)

func init() { moreCommands = append(moreCommands, newHandoutsCmd) }

type handoutsOptions struct {
	audience string
	generic  bool
	layout   string
	copies   int
	locale   string
	template string
	html     bool
	browser  string
	source   string
}

// findBrowser is printpdf.Find; tests stand in for a machine without one.
var findBrowser = printpdf.Find

func newHandoutsCmd(e *env) *cobra.Command {
	o := &handoutsOptions{}
	cmd := &cobra.Command{
		Use:   "handouts",
		Short: "Print key-kit inserts with a QR code to the registration page, as PDF",
		Long: `handouts renders the printed inserts that go in FIDO2 key kits, from the
kind: handout templates in templates/handouts/<locale>/, and prints them to PDF
with a headless Chromium, Chrome or Edge found on this machine.

  nudge handouts --audience ready                         personal inserts, one PDF per site
  nudge handouts --generic --layout a4-4up --copies 200   the same insert, 200 times
  nudge handouts --audience ready --html                  the print HTML only, no browser needed

Personal inserts carry the person's name and sign-in name. They are grouped by
site (the person's office location; people without one go to "unassigned",
reported), sorted by name, and each site's PDF starts with a cover page (site,
count, date) so a print run can be packed by location.

Layouts: a6 (one A6 insert per page), a4-4up and letter-4up (four inserts per
sheet with crop marks), card (85 × 55 mm). Files go to
output/<campaign>/handouts/; their paths are printed on stdout.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.validate(cmd); err != nil {
				return err
			}
			return runHandouts(e, o, cmd.Flags().Changed("copies"))
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.audience, "audience", "", "print personal inserts for the people of this audience (with --generic: whose steps to print)")
	f.BoolVar(&o.generic, "generic", false, "print identical inserts without names")
	f.StringVar(&o.layout, "layout", "", "a6, a4-4up, letter-4up or card (default: the campaign's handouts.layout, else a6)")
	f.IntVar(&o.copies, "copies", 0, "with --generic: how many inserts (default: one sheet)")
	f.StringVar(&o.locale, "locale", "", "print every insert in this language (default: each person's, or the campaign's)")
	f.StringVar(&o.template, "template", "", "handout template name (default: insert, or card for the card layout)")
	f.BoolVar(&o.html, "html", false, "write the print HTML only, to open in a browser; no PDF, no browser needed")
	f.StringVar(&o.browser, "browser", "", "Chromium, Chrome or Edge program to print with (default: found on PATH and in the usual places)")
	sourceFlag(f, &o.source)
	return cmd
}

// validate checks the flags before anything is read.
func (o *handoutsOptions) validate(cmd *cobra.Command) error {
	copies := cmd.Flags().Changed("copies")
	switch {
	case !o.generic && o.audience == "":
		return usageError("say what to print: --audience NAME for personal inserts, or --generic")
	case copies && !o.generic:
		return usageError("--copies is for --generic inserts; personal inserts print one per person")
	case copies && (o.copies < 1 || o.copies > 100000):
		return usageError("--copies %d: give a number from 1 to 100000", o.copies)
	case o.html && o.browser != "":
		return usageError("--browser has no effect with --html, which writes HTML only")
	case o.layout != "":
		if _, err := handout.FindLayout(o.layout); err != nil {
			return usageError("--layout %q: use %s", o.layout, strings.Join(handout.LayoutNames(), ", "))
		}
	}
	return nil
}

func runHandouts(e *env, o *handoutsOptions, copiesSet bool) error {
	p, err := e.loadCampaign()
	if err != nil {
		return err
	}
	var audiences []string
	for _, a := range p.c.Audiences {
		audiences = append(audiences, a.Name)
	}
	if o.audience != "" && !slices.Contains(audiences, o.audience) {
		return usageError("--audience %q: the campaign's audiences are %s", o.audience, strings.Join(audiences, ", "))
	}
	layout := o.layout
	if layout == "" {
		layout = p.c.Handouts.Layout
	}
	if layout == "" {
		layout = "a6"
	}
	if _, err := handout.FindLayout(layout); err != nil {
		return withHint(err, "set handouts.layout in %s to one of %s", p.c.File, strings.Join(handout.LayoutNames(), ", "))
	}
	m, err := handout.New(p.c, p.engine, handout.Options{Layout: layout, Template: o.template, Locale: o.locale, Now: e.now()})
	if err != nil {
		return withHint(err, "handout templates live in %s/handouts/<locale>/; see templates/README.md", p.tmplName)
	}
	// Find the browser before reading the directory: a missing browser
	// should not cost a Graph pull.
	var exe string
	if !o.html {
		if exe, err = findBrowser(o.browser); err != nil {
			if errors.Is(err, printpdf.ErrNotFound) {
				return withHint(err, "%s; --html writes the print HTML without a browser", printpdf.InstallHint())
			}
			return withHint(err, "--browser takes the path of chrome, chromium or msedge")
		}
	}

	var batches []*handout.Batch
	if o.generic {
		copies := o.copies
		if !copiesSet {
			l, _ := handout.FindLayout(layout)
			copies = l.PerSheet()
		}
		b, err := m.Generic(o.audience, copies)
		if err != nil {
			return err
		}
		batches = []*handout.Batch{b}
	} else {
		var members []handout.Member
		s, err := e.eachPerson(p, o.source, func(person *directory.Person, matched []string) error {
			if slices.Contains(matched, o.audience) {
				// The source reuses person; keep a copy.
				c := *person
				c.MethodsRegistered = slices.Clone(c.MethodsRegistered)
				c.Groups = slices.Clone(c.Groups)
				members = append(members, handout.Member{Person: &c, Audience: o.audience})
			}
			return nil
		})
		if err != nil {
			return err
		}
		if len(members) == 0 {
			return withHint(fmt.Errorf("handouts: nobody in audience %s (%d people read from %s)", o.audience, s.tally.people, s.sourceName), "`nudge audiences` shows who is in each audience")
		}
		if batches, err = m.Personal(members); err != nil {
			return err
		}
		for _, b := range batches {
			if b.Site == handout.Unassigned {
				fmt.Fprintf(e.stderr, "nudge: %s with no office location in the directory: their inserts are in %s\n", people(b.Inserts), b.Slug+ext(o.html))
			}
		}
	}

	dir := filepath.Join(e.campaignDir(p), "handouts")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if o.html {
		return e.writeBatchesHTML(dir, 0o644, batches)
	}

	start := time.Now()
	br, err := startBrowser(e, exe)
	if err != nil {
		return err
	}
	defer br.Close()
	e.log.Debug("browser started", "program", exe, "took", time.Since(start).Round(time.Millisecond))
	docs := make([]printpdf.Doc, len(batches))
	for i, b := range batches {
		docs[i] = printpdf.Doc{HTML: string(b.HTML), Paper: printpdf.Paper{WidthMM: b.Paper.W, HeightMM: b.Paper.H}, Out: filepath.Join(dir, b.Slug+".pdf")}
	}
	var mu sync.Mutex
	written := make([]bool, len(docs))
	overflow := make([][]string, len(docs))
	err = br.PrintAll(e.ctx, docs, min(runtime.NumCPU(), 2), func(i int, r printpdf.Result) {
		mu.Lock()
		defer mu.Unlock()
		written[i], overflow[i] = true, r.Overflow
		b := batches[i]
		e.log.Debug("printed", "site", b.Site, "inserts", b.Inserts, "pages", b.Pages, "took", r.Took.Round(time.Millisecond))
	})
	// Paths on stdout in site order, the complete ones even after a failure;
	// what does not fit its page is reported for each, in the same order.
	for i, d := range docs {
		if written[i] {
			fmt.Fprintln(e.stdout, d.Out)
		}
	}
	tmpl := o.template
	if tmpl == "" {
		l, _ := handout.FindLayout(layout)
		tmpl = l.Template
	}
	for i, d := range docs {
		if written[i] {
			warnOverflow(e, d.Out, batches[i], overflow[i], fmt.Sprintf(
				"shorten %s/handouts/<locale>/%s.md, or choose a layout with larger inserts (a6 is the largest, 105 × 148 mm); a very long name or sign-in name leaves less room for the steps", p.tmplName, tmpl))
		}
	}
	if errors.Is(err, printpdf.ErrBrowserGone) {
		return withHint(err, "no partial PDF was left; the PDFs listed on stdout are complete. Run the command again")
	}
	return err
}

func ext(html bool) string {
	if html {
		return ".html"
	}
	return ".pdf"
}

// writeBatchesHTML writes each batch's print HTML to dir, one file per
// site, and lists them on stdout.
func (e *env) writeBatchesHTML(dir string, perm os.FileMode, batches []*handout.Batch) error {
	for _, b := range batches {
		path := filepath.Join(dir, b.Slug+".html")
		if err := atomicfile.WriteBytes(path, perm, b.HTML); err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, path)
	}
	return nil
}

// startBrowser starts the headless browser at exe for printing.
func startBrowser(e *env, exe string) (*printpdf.Browser, error) {
	br, err := printpdf.Start(e.ctx, exe, printpdf.Options{})
	if err != nil {
		return nil, withHint(err, "check that %s runs: %s --headless --version", exe, exe)
	}
	return br, nil
}

// maxOverflowLines is how many overflowing boxes a warning lists.
const maxOverflowLines = 10

// warnOverflow tells the user which parts of the PDF at out do not fit
// their page (fit is what printpdf measured): their text is cut off on
// paper. The PDF stays: a warning, not a failure.
func warnOverflow(e *env, out string, b *handout.Batch, fit []string, hint string) {
	boxes := b.Overflowing(fit)
	if len(boxes) == 0 {
		return
	}
	site := ""
	if b.Site != "" {
		site = " (site " + b.Site + ")"
	}
	fmt.Fprintf(e.stderr, "nudge: warning: %s%s: text cut off in %s: what runs past the edge of its box is not printed:\n",
		filepath.Base(out), site, plural(len(boxes), "place"))
	for i, bx := range boxes {
		if i == maxOverflowLines {
			fmt.Fprintf(e.stderr, "  … and %d more\n", len(boxes)-i)
			break
		}
		fmt.Fprintf(e.stderr, "  page %d: %s\n", bx.Page, bx.What)
	}
	fmt.Fprintf(e.stderr, "hint: %s; the PDF was written: check those pages before printing\n", hint)
}
