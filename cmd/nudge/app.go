package main

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"github.com/spf13/pflag"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/nudge-passkeys/nudge/content"
	"github.com/nudge-passkeys/nudge/internal/audience"
	"github.com/nudge-passkeys/nudge/internal/campaign"
	"github.com/nudge-passkeys/nudge/internal/directory"
	"github.com/nudge-passkeys/nudge/internal/render"
	"github.com/nudge-passkeys/nudge/internal/snapshot"
	"github.com/nudge-passkeys/nudge/templates"
)

const defaultCampaign = "content/campaign.yaml"

// project is a loaded campaign with everything it refers to.
type project struct {
	c         *campaign.Campaign
	dir       string // the campaign file's folder, "" when built in
	builtin   bool   // the embedded demo campaign
	tmplFS    fs.FS
	tmplName  string // how to name the template folder in messages
	audiences *audience.Set
	engine    *render.Engine
}

// loadCampaign reads and validates the campaign file, falling back to the
// built-in demo when the default file is not there.
func (e *env) loadCampaign() (*project, error) {
	p := &project{}
	var data []byte
	var err error
	name := e.campaign
	data, err = os.ReadFile(e.campaign)
	switch {
	case err == nil:
		p.dir = filepath.Dir(e.campaign)
	case errors.Is(err, fs.ErrNotExist) && e.campaign == defaultCampaign:
		data, err = fs.ReadFile(content.FS, "campaign.yaml")
		if err != nil {
			return nil, err
		}
		p.builtin = true
		name = "(built-in) content/campaign.yaml"
		fmt.Fprintf(e.stderr, "nudge: %s not found here: using the built-in demo campaign\n", defaultCampaign)
	case errors.Is(err, fs.ErrNotExist):
		return nil, withHint(fmt.Errorf("campaign file %s not found", e.campaign), "pass --campaign PATH, or run nudge from the folder that holds content/campaign.yaml")
	default:
		return nil, err
	}
	c, err := campaign.Parse(filepath.ToSlash(name), data)
	if err != nil {
		return nil, withHint(err, "fix the lines above in %s; `nudge check` lists every problem", name)
	}
	p.c = c
	if p.builtin {
		p.tmplFS, p.tmplName = templates.FS, "(built-in) templates"
	} else {
		dir := filepath.FromSlash(c.Templates)
		if !filepath.IsAbs(dir) {
			dir = filepath.Join(p.dir, dir)
		}
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return nil, withHint(fmt.Errorf("%s: templates: folder %s not found", name, dir), "set templates: in the campaign file to the folder that holds emails/, layouts/ and partials/")
		}
		p.tmplFS, p.tmplName = os.DirFS(dir), filepath.ToSlash(dir)
	}
	rules := make([]audience.Rule, len(c.Audiences))
	for i, a := range c.Audiences {
		rules[i] = audience.Rule{Name: a.Name, Description: a.Description, Where: a.Where, File: c.File, Line: a.Line}
	}
	p.audiences, err = audience.Compile(rules)
	if err != nil {
		return nil, withHint(err, "audience rules are CEL; `nudge audiences --fields` lists what a rule can use")
	}
	p.engine = render.New(p.tmplFS, p.tmplName, c)
	return p, nil
}

// sourceFlag adds --source, which every command that reads the directory
// takes.
func sourceFlag(f *pflag.FlagSet, v *string) {
	f.StringVar(v, "source", "", "directory source: graph, demo, snapshot:FOLDER or csv:FILE (default: the campaign's source)")
}

// source returns the directory source named by --source or the campaign.
func (e *env) source(p *project, flag string) (directory.Source, string, error) {
	spec := flag
	if spec == "" {
		spec = p.c.Source
	}
	if spec == "" || spec == "demo" {
		sub, _ := fs.Sub(content.FS, "demo-tenant")
		return &snapshot.Source{FS: sub, Dir: ".", Name: "(built-in) demo tenant"}, "(built-in) demo tenant", nil
	}
	kind, arg, _ := strings.Cut(spec, ":")
	switch kind {
	case "snapshot":
		if arg == "" {
			return nil, "", usageError("--source snapshot: needs a folder, e.g. snapshot:content/demo-tenant")
		}
		dir := arg
		if flag == "" && !filepath.IsAbs(dir) {
			if p.builtin {
				sub, _ := fs.Sub(content.FS, path.Clean(dir))
				return &snapshot.Source{FS: sub, Dir: ".", Name: "(built-in) " + dir}, "(built-in) " + dir, nil
			}
			dir = filepath.Join(p.dir, dir)
		}
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return nil, "", withHint(fmt.Errorf("snapshot folder %s not found", dir), "point --source (or source: in the campaign file) at a folder written by nudge pull, such as snapshot:content/demo-tenant")
		}
		return &snapshot.Source{FS: os.DirFS(dir), Dir: ".", Name: filepath.ToSlash(dir)}, filepath.ToSlash(dir), nil
	case "csv":
		if arg == "" {
			return nil, "", usageError("--source csv: needs a file, e.g. csv:UserRegistrationDetails.csv (Entra admin center > Authentication methods > User registration details > Download)")
		}
		file := arg
		if flag == "" && !filepath.IsAbs(file) && !p.builtin {
			file = filepath.Join(p.dir, file)
		}
		if st, err := os.Stat(file); err != nil || st.IsDir() {
			return nil, "", withHint(fmt.Errorf("CSV file %s not found", file), "download it from the Entra admin center: Entra ID > Authentication methods > User registration details > Download")
		}
		name := filepath.ToSlash(file)
		return &snapshot.CSVSource{FS: os.DirFS(filepath.Dir(file)), Path: filepath.Base(file), Name: name}, name, nil
	case "graph":
		if arg != "" {
			return nil, "", usageError("--source graph takes no argument: the tenant is set in the campaign's graph: section")
		}
		if e.live == nil {
			e.live = &liveSource{e: e, p: p}
		}
		return e.live, "Microsoft Graph (tenant " + p.c.Graph.TenantID + ")", nil
	default:
		return nil, "", usageError("unknown source %q: use graph, demo, snapshot:FOLDER or csv:FILE", spec)
	}
}

// exclusions builds the exclude list from the campaign, reading its file.
func (e *env) exclusions(p *project) (audience.Exclusions, error) {
	c := p.c
	entries := append([]string(nil), c.Exclude.UPNs...)
	if c.Exclude.File != "" {
		if p.builtin {
			return audience.Exclusions{}, fmt.Errorf("exclude.file cannot be used by the built-in campaign")
		}
		file := filepath.Join(p.dir, c.Exclude.File)
		list, err := readExcludeFile(file)
		if err != nil {
			return audience.Exclusions{}, withHint(err, "exclude.file is a CSV or text file with one UPN per line (first column)")
		}
		entries = append(entries, list...)
	}
	return audience.Exclusions{
		Disabled: c.ExcludeDisabled(),
		Guests:   c.ExcludeGuests(),
		Listed:   audience.ListOf(entries),
	}, nil
}

// readExcludeFile reads the first column of a CSV (or plain list) of UPNs,
// skipping a header row and lines starting with #.
func readExcludeFile(name string) ([]string, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("exclude file: %w", err)
	}
	defer f.Close()
	r := csv.NewReader(bufio.NewReader(f))
	r.FieldsPerRecord = -1
	r.Comment = '#'
	var out []string
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if len(rec) == 0 {
			continue
		}
		v := strings.TrimSpace(strings.TrimPrefix(rec[0], "\ufeff"))
		if v == "" || (len(out) == 0 && !strings.Contains(v, "@") && strings.Contains(strings.ToLower(v), "name")) {
			continue // blank, or a header such as userPrincipalName
		}
		out = append(out, v)
	}
	return out, nil
}

// tally counts how people were sorted.
type tally struct {
	people    int
	excluded  map[string]int // by reason
	members   map[string]int // by audience
	unmatched int
}

// sorted is what sorting people left behind: the directory's facts (but
// not its people) and the counts.
type sorted struct {
	dir        *directory.Directory
	sourceName string
	tally      tally
}

// eachPerson reads the directory and calls fn for every person who is in
// at least one audience, with the audiences they match in campaign order.
// People are streamed when the source allows it, so memory does not grow
// with the tenant; fn must not keep person.
func (e *env) eachPerson(p *project, sourceFlag string, fn func(person *directory.Person, matched []string) error) (*sorted, error) {
	return e.eachIncluded(p, sourceFlag, func(person *directory.Person, matched []string) error {
		if len(matched) == 0 {
			return nil
		}
		return fn(person, matched)
	})
}

// eachIncluded is eachPerson for everyone not excluded, in an audience or
// not (matched is then empty).
func (e *env) eachIncluded(p *project, sourceFlag string, fn func(person *directory.Person, matched []string) error) (*sorted, error) {
	return e.eachRead(p, sourceFlag, nil, fn)
}

// eachRead is eachIncluded that first hands everyone read, excluded or
// not, to all when it is not nil (nudge track counts them for readiness).
func (e *env) eachRead(p *project, sourceFlag string, all func(person *directory.Person), fn func(person *directory.Person, matched []string) error) (*sorted, error) {
	src, name, err := e.source(p, sourceFlag)
	if err != nil {
		return nil, err
	}
	ex, err := e.exclusions(p)
	if err != nil {
		return nil, err
	}
	out := &sorted{sourceName: name, tally: tally{excluded: map[string]int{}, members: map[string]int{}}}
	visit := func(person *directory.Person) error {
		if all != nil {
			all(person)
		}
		out.tally.people++
		if reason, ok := ex.Excluded(person); ok {
			out.tally.excluded[reason]++
			return nil
		}
		matched, err := p.audiences.Matches(person)
		if err != nil {
			return err
		}
		if len(matched) == 0 {
			out.tally.unmatched++
		}
		for _, m := range matched {
			out.tally.members[m]++
		}
		return fn(person, matched)
	}
	if st, ok := src.(directory.Streamer); ok {
		out.dir, err = st.Stream(e.ctx, visit)
	} else {
		out.dir, err = src.Load(e.ctx)
		for i := 0; err == nil && i < len(out.dir.People); i++ {
			err = visit(&out.dir.People[i])
		}
		if out.dir != nil {
			out.dir.People = nil
		}
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// firstOf returns the first of among that is in matched.
func firstOf(matched, among []string) (string, bool) {
	for _, a := range among {
		for _, m := range matched {
			if a == m {
				return a, true
			}
		}
	}
	return "", false
}

// campaignDir is output/<campaign>.
func (e *env) campaignDir(p *project) string {
	return filepath.Join(e.out, p.c.ID)
}
