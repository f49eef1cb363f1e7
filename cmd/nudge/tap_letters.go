package main

// nudge tap-letters: Temporary Access Passes created through Graph and
// printed as sealed letters, one PDF per site.
//
// Secrecy policy: a pass exists in memory from Graph's answer to the
// browser's print, and on disk only in the site's PDF, which is written
// owner-only (0600) in an owner-only folder. It is never in the ledger
// (which records who got a pass, when, its validity and the run), in a
// log line, on stdout or stderr, or in any other file. For that reason
// --html, which writes the print HTML, is refused without --dry-run: a
// dry run's HTML carries a placeholder, never a pass. graph.TAP's String
// leaves the pass out, so an error or a log line that formats a TAP is
// safe too.
//
// Exactly-once policy: a person whose pass is in the ledger gets no new
// one unless --reissue. The row is written right after Graph created the
// pass, so a pass that exists is never forgotten even if printing fails;
// such a pass is reported as issued but not printed, and --reissue gives
// the person a new one.
//
// One pass per person: Graph keeps one pass per user and replaces it,
// without a word, when another is created (see internal/graph/tap.go). So
// before creating a pass nudge lists what the person holds: a live pass
// nudge did not create (a helpdesk's, say) is left alone, the person is
// reported with what to do, and only --reissue replaces it.

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/nudge-passkeys/nudge/internal/directory"
	"github.com/nudge-passkeys/nudge/internal/graph"
	"github.com/nudge-passkeys/nudge/internal/handout"
	"github.com/nudge-passkeys/nudge/internal/invite"
	"github.com/nudge-passkeys/nudge/internal/ledger"
	"github.com/nudge-passkeys/nudge/internal/printpdf"
	"github.com/nudge-passkeys/nudge/internal/untrusted"
)

func init() { moreCommands = append(moreCommands, newTapLettersCmd) }

// dryRunPass is printed instead of a pass on --dry-run letters.
const dryRunPass = "DRY-RUN-NO-PASS"

type tapLettersOptions struct {
	audience string
	site     string
	dryRun   bool
	reissue  bool
	layout   string
	locale   string
	html     bool
	browser  string
	source   string
}

func newTapLettersCmd(e *env) *cobra.Command {
	o := &tapLettersOptions{}
	cmd := &cobra.Command{
		Use:   "tap-letters",
		Short: "Create Temporary Access Passes through Graph and print them as sealed letters",
		Long: `tap-letters creates a Temporary Access Pass through Microsoft Graph for each
person of an audience and prints a letter per person (name, sign-in name, the
pass, when it is valid in the person's time zone, and how to register a
passkey), one PDF per site, each starting with a handover sheet (names and
signature lines, no pass) for the person who hands the letters out.

  nudge tap-letters --audience onboard --site Paris --dry-run   letters with a placeholder, nothing created
  nudge tap-letters --audience onboard --site Paris             create the passes and print

The passes follow the campaign file's tap: section (start, lifetime,
usable_once), checked first against the tenant's Temporary Access Pass policy.
The app needs the UserAuthenticationMethod.ReadWrite.All permission.

A pass is only ever in the PDF: not in the ledger, logs, output or any other
file. The PDF is readable by you alone; destroy it once printed. A person who
already got a pass from nudge is skipped unless --reissue. --html writes the
print HTML and is allowed only with --dry-run.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.validate(); err != nil {
				return err
			}
			return runTapLetters(e, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.audience, "audience", "", "create passes for the people of this audience")
	f.StringVar(&o.site, "site", "", "only the people of this office location (\"unassigned\": those without one)")
	f.BoolVar(&o.dryRun, "dry-run", false, "print letters with a placeholder pass; create nothing, call nothing")
	f.BoolVar(&o.reissue, "reissue", false, "create a new pass even for people nudge already gave one")
	f.StringVar(&o.layout, "layout", "a4", "paper: a4 or letter")
	f.StringVar(&o.locale, "locale", "", "print every letter in this language (default: each person's, or the campaign's)")
	f.BoolVar(&o.html, "html", false, "with --dry-run: write the print HTML only, no PDF, no browser needed")
	f.StringVar(&o.browser, "browser", "", "Chromium, Chrome or Edge program to print with (default: found on PATH and in the usual places)")
	sourceFlag(f, &o.source)
	return cmd
}

// validate checks the flags before anything is read.
func (o *tapLettersOptions) validate() error {
	switch {
	case o.audience == "":
		return usageError("say whose passes to create: --audience NAME")
	case o.html && !o.dryRun:
		return usageError("--html needs --dry-run: the print HTML of real letters would hold the passes, which must exist only in the PDF")
	case o.html && o.browser != "":
		return usageError("--browser has no effect with --html, which writes HTML only")
	case o.dryRun && o.reissue:
		return usageError("--reissue has no effect with --dry-run, which creates nothing")
	}
	if _, ok := handout.Papers[o.layout]; !ok {
		return usageError("--layout %q: use a4 or letter", o.layout)
	}
	return nil
}

// tapPerson is a person to write to, and what they got.
type tapPerson struct {
	p    directory.Person
	tap  *graph.TAP
	row  int64
	from time.Time
	to   time.Time
}

func runTapLetters(e *env, o *tapLettersOptions) error {
	p, err := e.loadCampaign()
	if err != nil {
		return err
	}
	var audiences []string
	for _, a := range p.c.Audiences {
		audiences = append(audiences, a.Name)
	}
	if !slices.Contains(audiences, o.audience) {
		return usageError("--audience %q: the campaign's audiences are %s", o.audience, strings.Join(audiences, ", "))
	}
	tc := p.c.TAP
	start, err := tc.StartTime(p.c.Defaults.TimeZone)
	if err != nil {
		return withHint(err, "fix tap.start in %s", p.c.File) // validation has refused it already
	}
	lifetime, _ := tc.LifetimeDuration()
	now := e.now()
	if !start.IsZero() && start.Before(now) {
		return withHint(fmt.Errorf("tap-letters: tap.start %s is in the past", start.Format(time.RFC3339)),
			"set tap.start in %s to the handover day, or to now", p.c.File)
	}
	req := graph.TAPRequest{Start: start, Lifetime: lifetime, UsableOnce: tc.IsUsableOnce()}

	letters, err := handout.NewLetters(p.c, p.engine, handout.LetterOptions{Paper: o.layout, Locale: o.locale, Now: now})
	if err != nil {
		return withHint(err, "letter templates live in %s/handouts/<locale>/%s.md", p.tmplName, handout.LetterTemplate)
	}
	var exe string
	if !o.html {
		if exe, err = findBrowser(o.browser); err != nil {
			if errors.Is(err, printpdf.ErrNotFound) {
				return withHint(err, "%s; --dry-run --html writes the print HTML without a browser", printpdf.InstallHint())
			}
			return withHint(err, "--browser takes the path of chrome, chromium or msedge")
		}
	}

	var who []*tapPerson
	s, err := e.eachPerson(p, o.source, func(person *directory.Person, matched []string) error {
		if !slices.Contains(matched, o.audience) || !onSite(person, o.site) {
			return nil
		}
		c := *person // the source reuses person
		c.MethodsRegistered = slices.Clone(c.MethodsRegistered)
		c.Groups = slices.Clone(c.Groups)
		who = append(who, &tapPerson{p: c})
		return nil
	})
	if err != nil {
		return err
	}
	if len(who) == 0 {
		where := ""
		if o.site != "" {
			where = " at site " + o.site
		}
		return withHint(fmt.Errorf("tap-letters: nobody in audience %s%s (%d people read from %s)", o.audience, where, s.tally.people, s.sourceName),
			"`nudge audiences` shows who is in each audience; --site takes an office location as the directory spells it")
	}

	dir := filepath.Join(e.campaignDir(p), "tap-letters")
	var failed []string
	if o.dryRun {
		for _, tp := range who {
			tp.from = start
			if tp.from.IsZero() {
				tp.from = now
			}
			tp.to = tp.from.Add(cmp.Or(lifetime, time.Hour))
		}
	} else {
		if who, failed, err = e.createTAPs(p, o, req, who); err != nil {
			return err
		}
		if len(who) == 0 && len(failed) == 0 {
			return nil // everyone has a pass already, as reported
		}
		if len(who) == 0 {
			return fmt.Errorf("tap-letters: no pass created:\n  %s", strings.Join(failed, "\n  "))
		}
	}

	zones := invite.NewZones(p.c)
	list := make([]handout.Letter, len(who))
	for i, tp := range who {
		loc, _ := zones.Resolve(&tp.p)
		pass := dryRunPass
		if tp.tap != nil {
			pass = tp.tap.Pass
		}
		list[i] = handout.Letter{Person: &tp.p, Audience: o.audience, Pass: pass, From: tp.from.In(loc), Until: tp.to.In(loc)}
	}
	batches, err := letters.Batches(list)
	if err != nil {
		return err
	}
	for _, b := range batches {
		if b.Site == handout.Unassigned {
			fmt.Fprintf(e.stderr, "nudge: %s with no office location in the directory: their letters are in %s\n", people(b.Inserts), b.Slug+ext(o.html))
		}
	}
	// Owner-only: the folder holds passes until the PDFs are destroyed.
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if o.html {
		return e.writeBatchesHTML(dir, 0o600, batches)
	}

	br, err := startBrowser(e, exe)
	if err != nil {
		return err
	}
	defer br.Close()
	var printed []int64
	for _, b := range batches {
		out := filepath.Join(dir, b.Slug+".pdf")
		res, err := br.Print(e.ctx, string(b.HTML), printpdf.Paper{WidthMM: b.Paper.W, HeightMM: b.Paper.H}, out)
		if err != nil {
			return withHint(err, "the passes were created and are in the ledger; run again with --reissue to print new ones")
		}
		// printpdf writes through os.CreateTemp (0600); say so explicitly,
		// whatever it does in the future.
		if err := os.Chmod(out, 0o600); err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, out)
		warnOverflow(e, out, b, res.Overflow, fmt.Sprintf(
			"shorten %s/handouts/<locale>/%s.md (its steps and its destroy: line); a very long name or sign-in name leaves less room. To print them again after a fix, run with --reissue (new passes)", p.tmplName, handout.LetterTemplate))
		for _, tp := range who {
			if tp.row != 0 && strings.EqualFold(siteOf(&tp.p), b.Site) {
				printed = append(printed, tp.row)
			}
		}
	}
	if !o.dryRun {
		if err := e.markPrinted(p, printed); err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "nudge: %s printed. The PDFs hold the passes: print them, then destroy the files.\n", people(len(who)))
	} else {
		fmt.Fprintf(e.stderr, "nudge: dry run: %s with the placeholder %s; no pass was created.\n", people(len(who)), dryRunPass)
	}
	if len(failed) > 0 {
		return fmt.Errorf("tap-letters: no pass for %s:\n  %s", people(len(failed)), strings.Join(failed, "\n  "))
	}
	return nil
}

// createTAPs reads and checks the tenant's policy, then creates a pass
// for each person the ledger has none for (or everyone, with --reissue),
// recording each in the ledger as soon as Graph created it. It returns the
// people who got a pass and a line per person who did not; an error stops
// everything (a missing permission is the same for everyone).
func (e *env) createTAPs(p *project, o *tapLettersOptions, req graph.TAPRequest, who []*tapPerson) (got []*tapPerson, failed []string, err error) {
	l, err := e.openLocked(filepath.Join(e.campaignDir(p), "nudge.db"), 5*time.Second)
	if err != nil {
		return nil, nil, err
	}
	defer l.Close()
	issued, err := l.TAPs(e.ctx)
	if err != nil {
		return nil, nil, err
	}
	var todo []*tapPerson
	var skipped, unprinted int
	for _, tp := range who {
		if prev, ok := issued[tp.p.ID]; ok && !o.reissue {
			skipped++
			if prev.Printed.IsZero() {
				unprinted++
			}
			continue
		}
		todo = append(todo, tp)
	}
	if skipped > 0 {
		msg := fmt.Sprintf("nudge: %s already got a pass from nudge: skipped", people(skipped))
		if unprinted > 0 {
			msg += fmt.Sprintf(" (%d of whose letters were never printed)", unprinted)
		}
		fmt.Fprintln(e.stderr, msg+"; --reissue creates new ones")
	}
	if len(todo) == 0 {
		return nil, nil, nil
	}

	gc, err := e.graphClient(p)
	if err != nil {
		return nil, nil, err
	}
	pol, err := gc.TAPPolicy(e.ctx)
	if err != nil {
		return nil, nil, graphError(err)
	}
	if err := pol.Check(req); err != nil {
		return nil, nil, withHint(fmt.Errorf("tap-letters: %w", err), "change the tap: section of %s, or the tenant's policy", p.c.File)
	}
	run, err := l.StartRun(e.ctx, ledger.Run{Command: "tap-letters", Via: ledger.ViaGraph, Waves: []string{}})
	if err != nil {
		return nil, nil, err
	}
	var counts ledger.RunCounts
	counts.Planned, counts.Skipped = len(todo), skipped
	defer func() {
		if ferr := l.FinishRun(e.ctx, run, e.now(), counts); ferr != nil && err == nil {
			err = ferr
		}
	}()
	for _, tp := range todo {
		// Graph replaces a pass the person holds without a word: look first.
		live, cerr := e.livePass(gc, tp.p.ID)
		if cerr == nil && live != nil {
			prev, ours := issued[tp.p.ID]
			ours = ours && prev.MethodID == live.ID
			switch {
			case !ours && !o.reissue:
				counts.Failed++
				failed = append(failed, fmt.Sprintf("%s: already holds a Temporary Access Pass that nudge did not create (%s); a new pass replaces it and theirs stops working. Check with whoever gave it (helpdesk, manager); to replace it, run again with --reissue",
					untrusted.OneLine(tp.p.UserPrincipalName), describeTAP(live)))
				continue
			case !ours:
				fmt.Fprintf(e.stderr, "nudge: %s held a Temporary Access Pass that nudge did not create (%s): replaced, as --reissue asks\n",
					untrusted.OneLine(tp.p.UserPrincipalName), describeTAP(live))
			}
		}
		var t *graph.TAP
		if cerr == nil {
			t, cerr = gc.CreateTAP(e.ctx, tp.p.ID, req)
		}
		if cerr != nil {
			counts.Failed++
			if why, ok := tapRefused(cerr, live); ok {
				failed = append(failed, untrusted.OneLine(tp.p.UserPrincipalName)+": "+why)
				continue
			}
			// The passes already created are in the ledger; print them.
			if len(got) > 0 {
				fmt.Fprintf(e.stderr, "nudge: stopped after %s: %v\n", people(len(got)), cerr)
				failed = append(failed, untrusted.OneLine(tp.p.UserPrincipalName)+": "+cerr.Error())
				break
			}
			return nil, nil, graphError(cerr)
		}
		tp.tap, tp.from, tp.to = t, t.Start, t.End()
		tp.row, err = l.RecordTAP(e.ctx, ledger.TAPIssue{PersonID: tp.p.ID, UPN: tp.p.UserPrincipalName, MethodID: t.ID,
			Issued: e.now(), Start: t.Start, End: t.End(), UsableOnce: t.UsableOnce, RunID: run})
		if err != nil {
			return nil, nil, withHint(err, "a pass was created for %s but not recorded", tp.p.UserPrincipalName)
		}
		counts.Sent++
		got = append(got, tp)
	}
	return got, failed, nil
}

// livePass returns the pass the person holds that is valid now or will
// be, or nil.
func (e *env) livePass(gc *graph.Client, id string) (*graph.TAP, error) {
	held, err := gc.HeldTAPs(e.ctx, id)
	if err != nil {
		return nil, err
	}
	for _, t := range held {
		if t.Live(e.now()) {
			return t, nil
		}
	}
	return nil, nil
}

// describeTAP says when a held pass was made and when it is valid, in UTC
// (the operator's zone is not known; the letter's zone is the person's).
func describeTAP(t *graph.TAP) string {
	const f = "2 Jan 2006 15:04 UTC"
	return fmt.Sprintf("created %s, valid %s to %s", t.Created.UTC().Format(f), t.Start.UTC().Format(f), t.End().UTC().Format(f))
}

// tapRefused explains Graph's refusal of one person's pass that does not
// stop the run: the person is not in the tenant (404), or Graph would not
// replace the live pass they hold (a 400 for a person known to hold one;
// Graph documents that it replaces it, but its older API asked for the
// old pass to be deleted first). Any other error is the same for everyone
// and stops the run.
func tapRefused(err error, held *graph.TAP) (string, bool) {
	var ge *graph.Error
	if !errors.As(err, &ge) {
		return "", false
	}
	switch {
	case ge.Status == 404:
		return "not found in the tenant (deleted since the directory was read?)", true
	case ge.Status == 400 && held != nil:
		return fmt.Sprintf("Graph refused a new pass while they hold one (%s): %s. Delete theirs in the Entra admin center (Users > the user > Authentication methods > Temporary Access Pass > Delete), then run again with --reissue",
			describeTAP(held), strings.TrimRight(untrusted.OneLine(cmp.Or(ge.Message, ge.Code)), ". ")), true
	}
	return "", false
}

func (e *env) markPrinted(p *project, rows []int64) error {
	if len(rows) == 0 {
		return nil
	}
	l, err := e.openLocked(filepath.Join(e.campaignDir(p), "nudge.db"), 5*time.Second)
	if err != nil {
		return err
	}
	defer l.Close()
	return l.MarkTAPsPrinted(e.ctx, rows, e.now())
}

// siteOf is the site a person's letter is printed in, as handout names it.
func siteOf(p *directory.Person) string {
	s := strings.Join(strings.Fields(untrusted.OneLine(p.OfficeLocation)), " ")
	if s == "" {
		return handout.Unassigned
	}
	return s
}

func onSite(p *directory.Person, site string) bool {
	return site == "" || strings.EqualFold(siteOf(p), strings.Join(strings.Fields(site), " "))
}
