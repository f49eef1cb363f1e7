package main

import (
	"bufio"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/nudge-passkeys/nudge/internal/campaign"
	"github.com/nudge-passkeys/nudge/internal/deliver"
	"github.com/nudge-passkeys/nudge/internal/deliver/outbox"
	smtpsender "github.com/nudge-passkeys/nudge/internal/deliver/smtp"
	"github.com/nudge-passkeys/nudge/internal/directory"
	"github.com/nudge-passkeys/nudge/internal/graph"
	"github.com/nudge-passkeys/nudge/internal/render"
)

type sendOptions struct {
	source       string
	via          string
	yes          bool
	redirectTo   string
	limit        int
	only         []string
	retryUnknown bool
	updates      bool // invite waves: send only changed invitations
	noTrack      bool // do not rewrite the workbook after the wave
	// allChanges, for an invite wave, sends new invitations, updates and
	// cancellations alike (nudge run); nudge send splits them by --updates.
	allChanges bool
	// due, when set, says whether a person is due the wave now (its
	// window, after: and skip:); nudge run sets it, nudge send does not.
	due func(*directory.Person) bool
}

func newSendCmd(e *env) *cobra.Command {
	o := &sendOptions{}
	cmd := &cobra.Command{
		Use:   "send WAVE",
		Short: "Send one wave: a dry run into the outbox, or for real by SMTP or Microsoft Graph",
		Long: `send re-reads the directory, works out who is in the wave now, and sends each
of them the wave's email once.

  --via outbox (the default) is a dry run: it writes the messages to
    output/<campaign>/outbox/<wave>/ and records nothing.
  --via smtp sends through the campaign's smtp: relay, paced to the caps in
    pacing: (27 a minute and 9,000 a day per mailbox by default), and records
    every message in output/<campaign>/nudge.db before and after the server
    takes it. Rerunning a wave never sends twice to anyone already sent; a run
    that stopped at the daily cap carries on where it stopped.
  --via graph does the same through Microsoft Graph's sendMail, from each
    sending mailbox, signing in with the campaign's graph: section (the app
    needs the Mail.Send application permission). Graph's answer means
    Exchange accepted the message for delivery; that is what "sent" records.

Before sending, send prints how many messages will go and when the last will
go, and asks for confirmation on a terminal (--yes for scheduled runs).
The SMTP password comes from NUDGE_SMTP_PASSWORD. For auth: xoauth2 the
access token comes from NUDGE_SMTP_TOKEN when set, else from the graph:
section's credential. No secret is ever written anywhere.

A wave's after:, window: and skip: are for nudge run; nudge send WAVE sends
now to everyone in the audiences still pending, and says so.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError("send needs one wave, e.g. nudge send announce")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed("limit") && o.limit <= 0 {
				return usageError("--limit %d: give a positive number (leave --limit out to send to everyone)", o.limit)
			}
			return runSend(e, o, args[0])
		},
	}
	f := cmd.Flags()
	sourceFlag(f, &o.source)
	f.StringVar(&o.via, "via", "outbox", "outbox (dry run), smtp or graph")
	f.BoolVar(&o.yes, "yes", false, "do not ask for confirmation (for scheduled runs)")
	f.StringVar(&o.redirectTo, "redirect-to", "", "send every message to this proof address instead, subject prefixed [PROOF]; records nothing")
	f.IntVar(&o.limit, "limit", 0, "send at most this many messages in this run")
	f.StringSliceVar(&o.only, "only", nil, "send only to these people (UPN or mail, comma-separated)")
	f.BoolVar(&o.retryUnknown, "retry-unknown", false, "also send to people whose earlier attempt ended in an unknown state (they may get it twice)")
	f.BoolVar(&o.noTrack, "no-track", false, "do not rewrite the tracking workbook after the wave (nudge track does it later)")
	f.BoolVar(&o.updates, "updates", false, "for a wave with sessions: true, send only updates and cancellations of invitations already sent")
	return cmd
}

// target is one person the wave goes to in this run.
type target struct {
	person   directory.Person
	audience string
	locale   string
}

func runSend(e *env, o *sendOptions, waveID string) error {
	switch o.via {
	case "outbox", "smtp", "graph":
	default:
		return usageError("--via %q: use outbox, smtp or graph", o.via)
	}
	if o.redirectTo != "" {
		if err := deliver.CheckAddress(o.redirectTo); err != nil {
			return usageError("--redirect-to: %v", err)
		}
	}
	p, err := e.loadCampaign()
	if err != nil {
		return err
	}
	w, ok := p.c.Wave(waveID)
	if !ok {
		return usageError("no wave %q in %s (waves: %s)", waveID, p.c.File, strings.Join(p.c.WaveIDs(), ", "))
	}
	if _, err := p.engine.Prepare(w.Template, p.c.Defaults.Locale); err != nil {
		return withHint(fmt.Errorf("wave %q (%s:%d): %w", w.ID, p.c.File, w.TemplateLine, err), "`nudge check` lists every template problem at once")
	}
	if t := &w.Timing; (t.Windowed || t.After != "" || len(t.Skip) > 0) && o.redirectTo == "" {
		// Asking for a wave by name is the decision to send it now.
		fmt.Fprintf(e.stderr, "nudge send: wave %s has after:, window: or skip:; nudge send ignores them and sends to everyone in the audiences now (nudge run honours them)\n", w.ID)
	}
	if w.Sessions {
		return sendInvites(e, p, w, o)
	}
	if o.updates {
		return usageError("--updates: wave %s is not an invitation (sessions: true)", w.ID)
	}
	if o.via == "outbox" {
		return sendToOutbox(e, p, w, o)
	}
	return sendLive(e, p, w, o)
}

// waveTargets streams the people the wave goes to now, honouring --only.
// Problems (no mail, shared addresses) are reported through skip.
func (e *env) waveTargets(p *project, w *campaign.Wave, o *sendOptions, skip func(person *directory.Person, why string)) iter.Seq2[*target, error] {
	only := map[string]bool{}
	for _, s := range o.only {
		only[strings.ToLower(strings.TrimSpace(s))] = true
	}
	return func(yield func(*target, error) bool) {
		addrs := newAddresses()
		stop := errors.New("stop")
		_, err := e.eachPerson(p, o.source, func(person *directory.Person, matched []string) error {
			aud, ok := firstOf(matched, w.Audiences)
			if !ok {
				return nil
			}
			// Who shares an address is decided over the whole wave, before
			// --only narrows it, so that the same person is the one who
			// gets the message whatever --only says.
			chosen := len(only) == 0 || only[strings.ToLower(person.UserPrincipalName)] || only[strings.ToLower(person.Mail)]
			if why := addrs.admit(w.ID, person); why != "" || !chosen {
				if why != "" && chosen {
					skip(person, why)
				}
				return nil
			}
			t := &target{person: *person, audience: aud, locale: p.engine.Locale(w.Template, person)}
			if !yield(t, nil) {
				return stop
			}
			return nil
		})
		if err != nil && !errors.Is(err, stop) {
			yield(nil, err)
		}
	}
}

// stageOutbox returns a wave's outbox folder and a new staging folder
// beside it. The outbox is replaced as a whole (replaceDir), so that it
// holds exactly one dry run's messages; the caller removes stage.
func (e *env) stageOutbox(p *project, w *campaign.Wave) (dir, stage string, err error) {
	dir = filepath.Join(e.campaignDir(p), "outbox", w.ID)
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return "", "", err
	}
	stage, err = os.MkdirTemp(filepath.Dir(dir), ".send-")
	return dir, stage, err
}

// sendToOutbox is the dry run: the wave's messages as files, nothing
// recorded.
func sendToOutbox(e *env, p *project, w *campaign.Wave, o *sendOptions) error {
	dir, stage, err := e.stageOutbox(p, w)
	if err != nil {
		return err
	}
	defer os.RemoveAll(stage)
	ob := &outbox.Outbox{Dir: stage, InPlace: true}
	now := e.now()
	counts := map[[2]string]int{}
	var skipped []string
	n := 0
	for t, err := range e.waveTargets(p, w, o, func(person *directory.Person, why string) {
		skipped = append(skipped, person.UserPrincipalName+": "+why)
	}) {
		if err != nil {
			return err
		}
		if o.limit > 0 && n >= o.limit {
			break
		}
		m, err := e.message(p, w, t, now, o.redirectTo)
		if err != nil {
			return err
		}
		if _, err := ob.Write(m); err != nil {
			return err
		}
		counts[[2]string{t.audience, t.locale}]++
		n++
	}
	if err := replaceDir(stage, dir); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "AUDIENCE\tLOCALE\tMESSAGES")
	for _, a := range w.Audiences {
		for _, l := range p.c.Defaults.Locales {
			if c := counts[[2]string{a, l}]; c > 0 {
				fmt.Fprintf(tw, "%s\t%s\t%d\n", a, l, c)
			}
		}
	}
	tw.Flush()
	fmt.Fprintf(e.stdout, "\ndry run: %d messages of wave %s written to %s; nothing was sent or recorded\n", n, w.ID, dir)
	printSkipped(e.stderr, skipped)
	return nil
}

func printSkipped(w io.Writer, skipped []string) {
	if len(skipped) == 0 {
		return
	}
	fmt.Fprintf(w, "skipped (%d):\n", len(skipped))
	for _, s := range skipped {
		fmt.Fprintf(w, "  %s\n", s)
	}
}

// message renders and composes the wave's message for one person.
func (e *env) message(p *project, w *campaign.Wave, t *target, now time.Time, redirectTo string) (*deliver.Message, error) {
	doc, err := p.engine.Email(w.Template, &t.person, render.Context{WaveID: w.ID, WaveName: w.Name, Audience: t.audience})
	if err != nil {
		return nil, fmt.Errorf("wave %q: %w", w.ID, err)
	}
	m := compose(p.c, w, &t.person, doc, now)
	if redirectTo != "" {
		// A proof goes to the proof address only, with its own Message-ID
		// so that it never stands in for the real message.
		m.To = deliver.Address{Name: t.person.DisplayName, Email: redirectTo}
		m.Subject = "[PROOF] " + m.Subject
		m.ID = deliver.MessageID(deliver.Domain(p.c.Sender.Address), p.c.ID, w.ID, t.person.ID, "proof", now.Format(time.RFC3339Nano))
	}
	return m, nil
}

// smtpMailboxes builds one SMTP sender per sending mailbox. Secrets come
// from the environment only.
func (e *env) smtpMailboxes(p *project) ([]deliver.Mailbox, func(), error) {
	c := p.c
	if c.SMTP.Host == "" {
		return nil, nil, withHint(fmt.Errorf("%s: smtp.host is not set", c.File), "add an smtp: section, e.g. host: smtp.office365.com, auth: xoauth2")
	}
	var roots *x509.CertPool
	if c.SMTP.CAFile != "" {
		file := c.SMTP.CAFile
		if !filepath.IsAbs(file) {
			file = filepath.Join(p.dir, file)
		}
		pem, err := os.ReadFile(file)
		if err != nil {
			return nil, nil, withHint(fmt.Errorf("smtp.ca_file: %w", err), "ca_file is a PEM bundle of extra trusted root certificates")
		}
		if roots, err = x509.SystemCertPool(); err != nil || roots == nil {
			roots = x509.NewCertPool()
		}
		if !roots.AppendCertsFromPEM(pem) {
			return nil, nil, fmt.Errorf("smtp.ca_file %s: no PEM certificates in it", file)
		}
	}
	password := e.getenv("NUDGE_SMTP_PASSWORD")
	if (c.SMTP.Auth == "plain" || c.SMTP.Auth == "login") && password == "" {
		return nil, nil, withHint(fmt.Errorf("smtp.auth is %s but NUDGE_SMTP_PASSWORD is not set", c.SMTP.Auth), "set NUDGE_SMTP_PASSWORD in the environment of the run (it is never read from a file)")
	}
	var token func(context.Context) (string, error)
	if c.SMTP.Auth == "xoauth2" {
		var err error
		if token, err = e.smtpToken(p); err != nil {
			return nil, nil, err
		}
	}
	var boxes []deliver.Mailbox
	var senders []*smtpsender.Sender
	closeAll := func() {
		for _, s := range senders {
			s.Close()
		}
	}
	for _, mb := range c.Mailboxes() {
		user := mb.Username
		if user == "" {
			user = c.SMTP.Username
		}
		if user == "" {
			user = mb.Address
		}
		pw := password
		if c.SMTP.Auth == "none" {
			user, pw = "", ""
		}
		cfg := smtpsender.Config{
			Host: c.SMTP.Host, Port: c.SMTP.Port, TLS: c.SMTP.TLS, AllowInsecure: c.SMTP.AllowInsecure,
			Auth: c.SMTP.Auth, Username: user, Password: pw, RootCAs: roots, EnvelopeFrom: mb.Address,
		}
		cfg.Token = token
		s, err := smtpsender.New(cfg)
		if err != nil {
			closeAll()
			return nil, nil, withHint(err, "check the smtp: section of %s", c.File)
		}
		senders = append(senders, s)
		boxes = append(boxes, deliver.Mailbox{
			Address: mb.Address, Sender: s,
			Limits: deliver.Limits{PerMinute: mb.RatePerMinute, PerDay: mb.PerDay},
		})
	}
	return boxes, closeAll, nil
}

// smtpToken is where XOAUTH2 gets its access token: NUDGE_SMTP_TOKEN when
// set, else the graph: section's credential, asked for Exchange Online's
// scope at each new connection (azidentity caches and renews it). The token
// is never printed or logged.
func (e *env) smtpToken(p *project) (func(context.Context) (string, error), error) {
	if tok := e.getenv("NUDGE_SMTP_TOKEN"); tok != "" {
		return func(context.Context) (string, error) { return tok, nil }, nil
	}
	if p.c.Graph == (campaign.Graph{}) {
		return nil, withHint(fmt.Errorf("%s: smtp.auth is xoauth2 but there is no graph: section to sign in with, and NUDGE_SMTP_TOKEN is not set", p.c.File),
			"add a graph: section for nudge's app registration (give it the Office 365 Exchange Online permission SMTP.SendAsApp and register its service principal in Exchange); or set NUDGE_SMTP_TOKEN to an access token for https://outlook.office365.com; or use auth: plain/login for other relays")
	}
	gc, err := e.graphClient(p)
	if err != nil {
		return nil, err
	}
	scope := gc.ExchangeScope()
	return func(ctx context.Context) (string, error) {
		tok, err := gc.Token(ctx, scope)
		var ge *graph.Error
		if errors.As(err, &ge) && ge.Hint != "" {
			// The SMTP failure carries only the text: keep the hint in it.
			err = fmt.Errorf("%w; %s", err, ge.Hint)
		}
		return tok, err
	}, nil
}

// canConfirm fails when a send could not be confirmed: no --yes, and no
// terminal to ask on. A send checks it first, so that a scheduled job
// without --yes changes nothing and connects to nothing.
func (e *env) canConfirm(o *sendOptions) error {
	if o.yes {
		return nil
	}
	if f, ok := e.stdin.(*os.File); !ok || !isTerminal(f) {
		return withHint(errors.New("refusing to send without confirmation: nothing was sent or recorded"), "pass --yes to send from a script or scheduler")
	}
	return nil
}

// confirm asks on a terminal; elsewhere it needs --yes.
func (e *env) confirm(o *sendOptions, question string) error {
	if o.yes {
		return nil
	}
	if err := e.canConfirm(o); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "%s [y/N] ", question)
	line, _ := bufio.NewReader(e.stdin).ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return nil
	}
	return errors.New("not sent: not confirmed")
}
