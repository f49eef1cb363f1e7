package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/nudge-passkeys/nudge/internal/campaign"
	"github.com/nudge-passkeys/nudge/internal/deliver"
	"github.com/nudge-passkeys/nudge/internal/deliver/outbox"
	"github.com/nudge-passkeys/nudge/internal/directory"
	"github.com/nudge-passkeys/nudge/internal/preview"
	"github.com/nudge-passkeys/nudge/internal/render"
)

func init() { moreCommands = append(moreCommands, newPreviewCmd) }

type previewOptions struct {
	source   string
	port     int
	noOpen   bool
	proofVia string
}

func newPreviewCmd(e *env) *cobra.Command {
	o := &previewOptions{}
	cmd := &cobra.Command{
		Use:   "preview",
		Short: "Show every piece for every audience and language in your browser, live",
		Long: `preview serves the campaign on 127.0.0.1 only and prints its address, with a
private token; on a terminal it also opens it in your browser.

The index lists every wave × audience × language with the number of people
it reaches. Each piece's page shows the email at desktop (600 px) and mobile
(375 px) widths, its plain text and headers, rendered for a person you pick
(anyone in the audience, or a built-in sample with a long, right-to-left or
hostile name), with the same lint findings as nudge check and more. A wave
with sessions: true adds the invitation with its session and .ics; an
audience with a handout template adds its key-kit insert, as print HTML.

Saving a template or the campaign file refreshes open pages; a template
error shows in the page. "Send a proof to me" sends the piece to the
campaign's proof: address only, subject prefixed [PROOF], recording nothing:
through --proof-via smtp or graph, or into output/<campaign>/proofs/ by
default when the campaign has no smtp: section.

Stop it with Ctrl-C.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.port < 0 || o.port > 65535 {
				return usageError("--port %d: give a port from 1 to 65535, or 0 for any free port", o.port)
			}
			switch o.proofVia {
			case "", "outbox", "smtp", "graph":
			default:
				return usageError("--proof-via %q: use outbox, smtp or graph", o.proofVia)
			}
			return runPreview(e, o)
		},
	}
	f := cmd.Flags()
	sourceFlag(f, &o.source)
	f.IntVar(&o.port, "port", 0, "port on 127.0.0.1 (default: any free port; a taken port falls back to a free one)")
	f.BoolVar(&o.noOpen, "no-open", false, "do not open the browser")
	f.StringVar(&o.proofVia, "proof-via", "", "how proofs travel: outbox, smtp or graph (default: smtp when the campaign has an smtp: section, else outbox)")
	return cmd
}

func runPreview(e *env, o *previewOptions) error {
	l := &previewLoader{e: e, source: o.source}
	first, err := l.load(e.ctx)
	if err != nil {
		return err
	}
	p := l.current()
	proofs := &previewProofs{e: e, l: l, via: o.proofVia}
	proofs.via = proofs.route(p)
	var watch []string
	if !p.builtin {
		watch = []string{e.campaign, templateDir(p)}
	}
	srv, err := preview.New(e.ctx, preview.Config{
		Project:  first,
		Load:     l.load,
		Watch:    watch,
		Proofs:   proofs,
		ProofVia: proofs.describe(p),
		Log:      e.log,
		Now:      e.now,
	})
	if err != nil {
		return err
	}

	ln, taken, err := preview.Listen(o.port)
	if err != nil {
		return withHint(fmt.Errorf("preview: %w", err), "pass --port 0 for any free port")
	}
	defer ln.Close()
	if err := srv.Bind(ln); err != nil {
		return err
	}
	if taken {
		fmt.Fprintf(e.stderr, "nudge: port %d is taken: using %d instead\n", o.port, ln.Addr().(*net.TCPAddr).Port)
	}
	fmt.Fprintln(e.stdout, srv.URL())
	if len(watch) > 0 {
		fmt.Fprintf(e.stderr, "nudge: previewing %s; saving %s or a template refreshes the page; Ctrl-C stops\n", p.c.ID, e.campaign)
	} else {
		fmt.Fprintf(e.stderr, "nudge: previewing the built-in %s (nothing to watch); Ctrl-C stops\n", p.c.ID)
	}
	if f, ok := e.stdout.(*os.File); ok && isTerminal(f) && !o.noOpen {
		if err := openBrowser(srv.URL()); err != nil {
			fmt.Fprintf(e.stderr, "nudge: could not open a browser (%v): open the address above\n", err)
		}
	}
	err = srv.Serve(e.ctx, ln)
	proofs.close()
	return err
}

// openBrowser opens url in the system's browser.
var openBrowser = func(url string) error {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", url)
	case "darwin":
		cmd = exec.Command("open", url)
	default:
		cmd = exec.Command("xdg-open", url)
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	go cmd.Wait()
	return nil
}

// previewLoader loads the campaign for the preview, again after every
// change. Sorting the directory into audiences is the slow part, so it is
// redone only when the campaign file changed; a template change needs
// only a fresh engine.
type previewLoader struct {
	e      *env
	source string

	mu      sync.Mutex
	last    *project
	sorted  []byte // the campaign file the members were sorted under
	members map[preview.Key][]*directory.Person
	name    string
}

func (l *previewLoader) current() *project {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last
}

func (l *previewLoader) load(ctx context.Context) (*preview.Project, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	p, err := l.e.loadCampaign()
	if err != nil {
		return nil, withHintText(err)
	}
	data, _ := os.ReadFile(l.e.campaign)
	if l.members == nil || !bytes.Equal(data, l.sorted) {
		members, name, err := l.sort(p)
		if err != nil {
			return nil, withHintText(err)
		}
		l.members, l.name, l.sorted = members, name, data
	}
	l.last = p
	pr := &preview.Project{Campaign: p.c, Engine: p.engine, Source: l.name, Members: l.members}
	// The guide site, so that pages can show it and emails' links to it
	// are checked; a guide that does not build is a finding, not a stop.
	pr.Guides, pr.GuidesErr = buildGuidesAt(p, l.e.now())
	return pr, nil
}

// sort puts people into each wave's audience as a build does: the first of
// the wave's audiences they match, one message per mail address.
func (l *previewLoader) sort(p *project) (map[preview.Key][]*directory.Person, string, error) {
	members := map[preview.Key][]*directory.Person{}
	recipients := newAddresses()
	s, err := l.e.eachPerson(p, l.source, func(person *directory.Person, matched []string) error {
		var copied *directory.Person
		for i := range p.c.Waves {
			w := &p.c.Waves[i]
			aud, ok := firstOf(matched, w.Audiences)
			if !ok || recipients.admit(w.ID, person) != "" {
				continue
			}
			if copied == nil {
				// The source reuses person.
				c := *person
				copied = &c
			}
			k := preview.Key{Wave: w.ID, Audience: aud}
			members[k] = append(members[k], copied)
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return members, s.sourceName, nil
}

// templateDir is the folder of a campaign file's templates.
func templateDir(p *project) string {
	dir := filepath.FromSlash(p.c.Templates)
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(p.dir, dir)
	}
	return dir
}

// withHintText folds a cliError's hint into its message, for the page.
func withHintText(err error) error {
	var ce *cliError
	if errors.As(err, &ce) && ce.hint != "" {
		return fmt.Errorf("%w\nhint: %s", err, ce.hint)
	}
	return err
}

// previewProofs sends the preview's proofs, through the route chosen once
// (and connected at the first proof).
type previewProofs struct {
	e   *env
	l   *previewLoader
	via string

	mu     sync.Mutex
	sender deliver.Sender
	closer func()
}

var _ preview.Prover = (*previewProofs)(nil)

// route is how proofs travel for p when --proof-via is not given.
func (pp *previewProofs) route(p *project) string {
	if pp.via != "" {
		return pp.via
	}
	if p.c.SMTP.Host != "" {
		return "smtp"
	}
	return "outbox"
}

func (pp *previewProofs) describe(p *project) string {
	switch pp.via {
	case "smtp":
		return fmt.Sprintf("by SMTP through %s:%d", p.c.SMTP.Host, p.c.SMTP.Port)
	case "graph":
		return "through Microsoft Graph"
	default:
		return "written to " + pp.outboxDir(p) + " (--proof-via smtp or graph sends it)"
	}
}

func (pp *previewProofs) outboxDir(p *project) string {
	return filepath.Join(pp.e.campaignDir(p), "proofs")
}

// SendProof composes the message as send would, then sends it to the
// proof address only, with a Message-ID of its own so that it never
// stands in for the real message. Nothing touches the ledger.
func (pp *previewProofs) SendProof(ctx context.Context, pr *preview.Project, w *campaign.Wave, person *directory.Person, doc *render.Document, to string) error {
	if err := deliver.CheckAddress(to); err != nil {
		return fmt.Errorf("proof address %q: %w", to, err)
	}
	sender, err := pp.connect(ctx)
	if err != nil {
		return err
	}
	now := pp.e.now()
	m := compose(pr.Campaign, w, person, doc, now)
	m.To = deliver.Address{Name: person.DisplayName, Email: to}
	m.ID = deliver.MessageID(deliver.Domain(pr.Campaign.Sender.Address), pr.Campaign.ID, w.ID, person.ID, "proof", now.Format(time.RFC3339Nano))
	return sender.Send(ctx, m)
}

func (pp *previewProofs) connect(ctx context.Context) (deliver.Sender, error) {
	pp.mu.Lock()
	defer pp.mu.Unlock()
	if pp.sender != nil {
		return pp.sender, nil
	}
	p := pp.l.current()
	if pp.via == "outbox" || pp.via == "" {
		dir := pp.outboxDir(p)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		pp.sender = &outbox.Outbox{Dir: dir}
		return pp.sender, nil
	}
	var (
		rt  *route
		err error
	)
	if pp.via == "graph" {
		rt, err = pp.e.graphRoute(p)
	} else {
		rt, err = pp.e.smtpRoute(p)
	}
	if err != nil {
		return nil, withHintText(err)
	}
	if err := rt.check(ctx); err != nil {
		rt.close()
		return nil, withHintText(err)
	}
	if len(rt.boxes) == 0 {
		rt.close()
		return nil, errors.New("no sending mailbox")
	}
	pp.sender, pp.closer = rt.boxes[0].Sender, rt.close
	return pp.sender, nil
}

func (pp *previewProofs) close() {
	pp.mu.Lock()
	defer pp.mu.Unlock()
	if pp.closer != nil {
		pp.closer()
	}
}
