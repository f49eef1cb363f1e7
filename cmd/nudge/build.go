package main

import (
	"errors"
	"fmt"
	"html/template"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/nudge-passkeys/nudge/internal/atomicfile"
	"github.com/nudge-passkeys/nudge/internal/campaign"
	"github.com/nudge-passkeys/nudge/internal/deliver/outbox"
	"github.com/nudge-passkeys/nudge/internal/directory"
	"github.com/nudge-passkeys/nudge/internal/render"
)

type buildOptions struct {
	source string
	waves  []string
}

func newBuildCmd(e *env) *cobra.Command {
	o := &buildOptions{}
	cmd := &cobra.Command{
		Use:   "build",
		Short: "Render every email of every wave into the outbox, with previews",
		Long: `build reads the campaign and the directory, sorts people into audiences and
renders every email of every wave for every person:

  output/<campaign>/outbox/<wave>/<address>.eml   one message per person
  output/<campaign>/preview/index.html            one page per wave, audience and language
  output/<campaign>/guides/<locale>/<audience>/   the how-to guide site, when templates/guides exists

Nothing is sent. The outbox, previews and guides are replaced as a whole,
only when the build succeeds.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runBuild(e, o) },
	}
	sourceFlag(cmd.Flags(), &o.source)
	cmd.Flags().StringSliceVar(&o.waves, "wave", nil, "build only these waves (default: all)")
	return cmd
}

// piece is one (wave, audience, locale) group of emails.
type piece struct {
	wave, audience, locale string
	count                  int
	preview                string // file name under preview/
}

type buildJob struct {
	wave     *campaign.Wave
	person   *directory.Person
	audience string
	preview  string // write the HTML here too, when set
}

func runBuild(e *env, o *buildOptions) error {
	p, err := e.loadCampaign()
	if err != nil {
		return err
	}
	waves, err := selectWaves(p.c, o.waves)
	if err != nil {
		return err
	}
	// Parse every template the waves need before reading anyone, so that a
	// template error costs nothing.
	for _, w := range waves {
		if _, err := p.engine.Prepare(w.Template, p.c.Defaults.Locale); err != nil {
			return withHint(fmt.Errorf("wave %q (%s:%d): %w", w.ID, p.c.File, w.TemplateLine, err), "`nudge check` lists every template problem at once")
		}
	}
	// The guide site is rendered before anyone is read, for the same
	// reason; it is written with the outbox, only if everything succeeds.
	now := e.now()
	site, err := buildGuidesAt(p, now)
	if err != nil {
		return withHint(err, "`nudge check` lists every template problem at once")
	}

	final := e.campaignDir(p)
	if err := os.MkdirAll(final, 0o755); err != nil {
		return err
	}
	// Everything is written into a staging folder that replaces the
	// outbox and previews only when the whole build succeeded.
	stage, err := os.MkdirTemp(final, ".build-")
	if err != nil {
		return err
	}
	committed := false
	defer func() {
		if !committed {
			os.RemoveAll(stage)
		}
	}()
	for _, w := range waves {
		if err := os.MkdirAll(filepath.Join(stage, "outbox", w.ID), 0o755); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(filepath.Join(stage, "preview"), 0o755); err != nil {
		return err
	}

	// Who already gets each wave, by wave and address: two accounts
	// sharing a mailbox get one message.
	recipients := newAddresses()
	var (
		pieces   = map[string]*piece{}
		order    []string
		skipped  []string
		jobs     = make(chan buildJob, 256)
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
		written  int
	)
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		mu.Unlock()
	}
	failed := func() error {
		mu.Lock()
		defer mu.Unlock()
		return firstErr
	}
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				if failed() != nil {
					continue
				}
				if err := buildOne(p, stage, j, now); err != nil {
					fail(err)
					continue
				}
				mu.Lock()
				written++
				mu.Unlock()
			}
		}()
	}
	sorted, err := e.eachPerson(p, o.source, func(person *directory.Person, matched []string) error {
		if err := e.ctx.Err(); err != nil {
			return err
		}
		if err := failed(); err != nil {
			return err
		}
		var copied *directory.Person
		for _, w := range waves {
			aud, ok := firstOf(matched, w.Audiences)
			if !ok {
				continue
			}
			if why := recipients.admit(w.ID, person); why != "" {
				skipped = append(skipped, fmt.Sprintf("wave %s: %s (%s): %s: skipped", w.ID, person.UserPrincipalName, person.ID, why))
				continue
			}
			if copied == nil {
				// The source reuses person; workers need their own.
				c := *person
				copied = &c
			}
			locale := p.engine.Locale(w.Template, copied)
			key := w.ID + "/" + aud + "/" + locale
			pc := pieces[key]
			j := buildJob{wave: w, person: copied, audience: aud}
			if pc == nil {
				pc = &piece{wave: w.ID, audience: aud, locale: locale, preview: w.ID + "." + aud + "." + locale + ".html"}
				pieces[key] = pc
				order = append(order, key)
				j.preview = pc.preview
			}
			pc.count++
			jobs <- j
		}
		return nil
	})
	close(jobs)
	wg.Wait()
	if err := e.ctx.Err(); err != nil {
		return fmt.Errorf("build interrupted: nothing was replaced in %s", final)
	}
	if ferr := failed(); ferr != nil {
		err = ferr
	}
	var ce *cliError
	if errors.As(err, &ce) {
		return err
	}
	if err != nil {
		return withHint(err, "nothing was written: %s is as it was before this build", final)
	}
	list := make([]*piece, 0, len(order))
	for _, k := range order {
		list = append(list, pieces[k])
	}
	sortPieces(p.c, list)
	if err := writePreviewIndex(filepath.Join(stage, "preview", "index.html"), p, list, now); err != nil {
		return err
	}
	subs := []string{"outbox", "preview"}
	if site != nil {
		if err := writeGuides(filepath.Join(stage, "guides"), site); err != nil {
			return err
		}
		subs = append(subs, "guides")
	}
	for _, sub := range subs {
		if err := replaceDir(filepath.Join(stage, sub), filepath.Join(final, sub)); err != nil {
			return err
		}
	}
	committed = true
	os.RemoveAll(stage)

	printSummary(e.stdout, p, sorted, list, written, len(skipped), final)
	if site != nil {
		fmt.Fprintf(e.stdout, "%d guide pages: %s\n", len(site.Files), filepath.Join(final, "guides", "index.html"))
	}
	warnings := make([]string, 0, len(sorted.dir.Problems)+len(skipped))
	for _, pr := range sorted.dir.Problems {
		warnings = append(warnings, pr.String())
	}
	warnings = append(warnings, skipped...)
	if site != nil {
		warnings = append(warnings, site.Warnings...)
	}
	if len(warnings) > 0 {
		fmt.Fprintf(e.stderr, "warnings (%d):\n", len(warnings))
		for _, w := range warnings {
			fmt.Fprintf(e.stderr, "  %s\n", w)
		}
	}
	return nil
}

// buildOne renders one email into the staging folder.
func buildOne(p *project, stage string, j buildJob, now time.Time) error {
	ctx := render.Context{WaveID: j.wave.ID, WaveName: j.wave.Name, Audience: j.audience}
	doc, err := p.engine.Email(j.wave.Template, j.person, ctx)
	if err != nil {
		return fmt.Errorf("wave %q: %w", j.wave.ID, err)
	}
	m := compose(p.c, j.wave, j.person, doc, now)
	// The staging folder is invisible until it is complete, so files are
	// written in place rather than through a temporary file each.
	ob := &outbox.Outbox{Dir: filepath.Join(stage, "outbox", j.wave.ID), InPlace: true}
	if _, err := ob.Write(m); err != nil {
		return fmt.Errorf("wave %q: %s: %w", j.wave.ID, j.person.UserPrincipalName, err)
	}
	if j.preview != "" {
		if err := os.WriteFile(filepath.Join(stage, "preview", j.preview), []byte(doc.HTML), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// sortPieces orders pieces as the campaign file does: waves, then
// audiences, then languages.
func sortPieces(c *campaign.Campaign, list []*piece) {
	rank := map[string]int{}
	for i, w := range c.Waves {
		rank["w:"+w.ID] = i
	}
	for i, a := range c.Audiences {
		rank["a:"+a.Name] = i
	}
	for i, l := range c.Defaults.Locales {
		rank["l:"+l] = i
	}
	sort.SliceStable(list, func(i, j int) bool {
		a, b := list[i], list[j]
		if a.wave != b.wave {
			return rank["w:"+a.wave] < rank["w:"+b.wave]
		}
		if a.audience != b.audience {
			return rank["a:"+a.audience] < rank["a:"+b.audience]
		}
		return rank["l:"+a.locale] < rank["l:"+b.locale]
	})
}

func selectWaves(c *campaign.Campaign, ids []string) ([]*campaign.Wave, error) {
	if len(ids) == 0 {
		out := make([]*campaign.Wave, len(c.Waves))
		for i := range c.Waves {
			out[i] = &c.Waves[i]
		}
		return out, nil
	}
	var out []*campaign.Wave
	for _, id := range ids {
		w, ok := c.Wave(id)
		if !ok {
			return nil, usageError("no wave %q in %s (waves: %s)", id, c.File, strings.Join(c.WaveIDs(), ", "))
		}
		out = append(out, w)
	}
	return out, nil
}

// replaceDir puts the folder src where dst is, removing the old dst. The
// old folder is moved aside first, since a folder cannot be renamed over
// another on Windows.
func replaceDir(src, dst string) error {
	old := dst + ".old"
	os.RemoveAll(old)
	if _, err := os.Stat(dst); err == nil {
		if err := os.Rename(dst, old); err != nil {
			return fmt.Errorf("replacing %s: %w (is a file in it open?)", dst, err)
		}
	}
	if err := os.Rename(src, dst); err != nil {
		os.Rename(old, dst)
		return fmt.Errorf("replacing %s: %w", dst, err)
	}
	return os.RemoveAll(old)
}

func printSummary(w io.Writer, p *project, s *sorted, pieces []*piece, written, skipped int, final string) {
	reasons := s.tally.excluded
	fmt.Fprintf(w, "campaign %s: %d people from %s\n", p.c.ID, s.tally.people, s.sourceName)
	if len(reasons) > 0 {
		keys := make([]string, 0, len(reasons))
		for k := range reasons {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = fmt.Sprintf("%d %s", reasons[k], k)
		}
		fmt.Fprintf(w, "excluded: %s\n", strings.Join(parts, ", "))
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "AUDIENCE\tPEOPLE\tRULE")
	for _, name := range p.audiences.Names() {
		fmt.Fprintf(tw, "%s\t%d\t%s\n", name, s.tally.members[name], ruleOf(p, name))
	}
	fmt.Fprintf(tw, "(none)\t%d\t\n", s.tally.unmatched)
	tw.Flush()
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "WAVE\tAUDIENCE\tLOCALE\tEMAILS")
	for _, pc := range pieces {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\n", pc.wave, pc.audience, pc.locale, pc.count)
	}
	tw.Flush()
	fmt.Fprintln(w)
	fmt.Fprintf(w, "%d emails written to %s\n", written, filepath.Join(final, "outbox"))
	fmt.Fprintf(w, "%d previews: %s\n", len(pieces), filepath.Join(final, "preview", "index.html"))
	if skipped > 0 {
		fmt.Fprintf(w, "%d skipped (no usable or a shared mail address; listed on stderr)\n", skipped)
	}
}

func ruleOf(p *project, name string) string {
	for _, a := range p.c.Audiences {
		if a.Name == name {
			return a.Where
		}
	}
	return ""
}

var previewIndex = template.Must(template.New("index").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{ .Name }}: previews</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;color:#1b1b1b}table{border-collapse:collapse}
th,td{border-bottom:1px solid #ddd;padding:.4rem .8rem;text-align:left}td.n{text-align:right}</style></head>
<body><h1>{{ .Name }}</h1><p>Built {{ .Built }}. Each preview is rendered for the first person of its group.</p>
<table><thead><tr><th>Wave</th><th>Audience</th><th>Language</th><th>Emails</th><th>Preview</th></tr></thead><tbody>
{{ range .Pieces }}<tr><td>{{ .Wave }}</td><td>{{ .Audience }}</td><td>{{ .Locale }}</td><td class="n">{{ .Count }}</td><td><a href="{{ .File }}">open</a></td></tr>
{{ end }}</tbody></table></body></html>
`))

func writePreviewIndex(path string, p *project, pieces []*piece, now time.Time) error {
	type row struct {
		Wave, Audience, Locale, File string
		Count                        int
	}
	data := struct {
		Name, Built string
		Pieces      []row
	}{Name: p.c.Name, Built: now.UTC().Format("2006-01-02 15:04 UTC")}
	if data.Name == "" {
		data.Name = p.c.ID
	}
	for _, pc := range pieces {
		data.Pieces = append(data.Pieces, row{pc.wave, pc.audience, pc.locale, pc.preview, pc.count})
	}
	return atomicfile.Write(path, 0o644, func(w io.Writer) error { return previewIndex.Execute(w, data) })
}
