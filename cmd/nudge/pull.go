package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/nudge-passkeys/nudge/internal/campaign"
	"github.com/nudge-passkeys/nudge/internal/directory"
	"github.com/nudge-passkeys/nudge/internal/graph"
	"github.com/nudge-passkeys/nudge/internal/snapshot"
)

// keepSnapshots is how many pulls a campaign keeps: enough to compare
// with last week's, not a growing copy of the directory on disk.
const keepSnapshots = 5

func newPullCmd(e *env) *cobra.Command {
	var noTrack bool
	cmd := &cobra.Command{
		Use:   "pull",
		Short: "Read the tenant through Microsoft Graph into output/<campaign>/snapshots/",
		Long: `pull reads the tenant named in the campaign's graph: section: users, the
authentication methods registration report, the groups the audiences name and
the passkey policy targets, the authentication methods policy and Conditional
Access. It saves Graph's answers as they came, in the demo tenant's format,
under output/<campaign>/snapshots/<UTC time>/ (so --source snapshot:FOLDER
replays any pull), prints what it read, records who has a passkey now in the
ledger and rewrites the tracking workbook.

With sessions.mailbox_settings: true in the campaign it also reads each
person's time zone from their mailbox settings (JSON batches of 20), which
nudge sessions then uses before the campaign's zone tables.

Permissions (application, with admin consent): User.Read.All,
AuditLog.Read.All, GroupMember.Read.All, Policy.Read.AuthenticationMethod,
Policy.Read.All, and MailboxSettings.Read for mailbox_settings. The README
explains the app registration.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := e.loadCampaign()
			if err != nil {
				return err
			}
			dir, res, err := e.pull(p)
			if err != nil {
				return err
			}
			if err := e.printPull(p, dir, res); err != nil {
				return err
			}
			if noTrack {
				return nil
			}
			path, err := e.track(p, "snapshot:"+dir, nil, "")
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "workbook: %s\n", path)
			return nil
		},
	}
	cmd.Flags().BoolVar(&noTrack, "no-track", false, "do not record adoption or rewrite the workbook")
	return cmd
}

// graphClient builds the Graph client from the campaign's graph: section.
func (e *env) graphClient(p *project) (*graph.Client, error) {
	g := p.c.Graph
	if p.builtin && g == (campaign.Graph{}) {
		return nil, withHint(errors.New("the built-in demo campaign has no graph: section: it reads the demo tenant"),
			"write your own campaign first: copy content/campaign.yaml from nudge's repository to content/campaign.yaml here and add a graph: section, as the README's \"Reading a real tenant\" shows")
	}
	rel := func(f string) string {
		if f == "" || filepath.IsAbs(f) || p.dir == "" {
			return f
		}
		return filepath.Join(p.dir, filepath.FromSlash(f))
	}
	c, err := graph.New(graph.Config{
		TenantID: g.TenantID, ClientID: g.ClientID, Auth: g.Auth, Certificate: rel(g.Certificate),
		Cloud: g.Cloud, BaseURL: g.BaseURL, AuthorityHost: g.AuthorityHost, CAFile: rel(g.CAFile),
	}, graph.Options{Getenv: e.getenv, Prompt: e.stderr, Pace: e.getenv("NUDGE_GRAPH_PACE") != "off", Now: e.now})
	return c, graphError(err)
}

// graphError gives Graph failures their hint.
func graphError(err error) error {
	var ce *graph.ConfigError
	var ge *graph.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ce):
		return withHint(err, "%s (in the campaign file's graph: section; the README shows a complete one)", ce.Hint)
	case errors.As(err, &ge) && ge.Hint != "":
		return withHint(err, "%s", ge.Hint)
	}
	return err
}

var snapshotName = regexp.MustCompile(`^\d{8}T\d{6}Z(-\d+)?$`)

// pull reads the tenant into a new snapshot folder and keeps the newest
// keepSnapshots.
func (e *env) pull(p *project) (string, *graph.PullResult, error) {
	client, err := e.graphClient(p)
	if err != nil {
		return "", nil, err
	}
	root := filepath.Join(e.campaignDir(p), "snapshots")
	if err := os.MkdirAll(root, 0o700); err != nil {
		return "", nil, err
	}
	// Two pulls in one second (or under a fixed NUDGE_NOW) get -2, -3, …
	// after the newest of that second, so names keep their order.
	stamp := e.now().UTC().Format("20060102T150405Z")
	name, n := stamp, 1
	if entries, err := os.ReadDir(root); err == nil {
		for _, d := range entries {
			s, k := splitSnapshotName(strings.TrimSuffix(d.Name(), ".partial"))
			if s == stamp && k >= n {
				n = k + 1
			}
		}
	}
	if n > 1 {
		name = fmt.Sprintf("%s-%d", stamp, n)
	}
	dir := filepath.Join(root, name)
	mailbox := p.c.Sessions.MailboxSettings
	lines := []string{"users", "registrations"}
	if mailbox {
		lines = append(lines, "mailboxes")
	}
	m := e.newMeter("pull", lines...)
	res, err := client.Pull(e.ctx, dir, graph.PullOptions{
		Groups:          p.audiences.Groups(),
		MailboxSettings: mailbox,
		Progress: func(pr graph.Progress) {
			note := fmt.Sprintf(" %d requests", pr.Requests)
			if pr.ETA > 0 {
				note += ", about " + pr.ETA.Round(time.Second).String() + " left at Graph's pace"
			}
			m.set("users", pr.Users, pr.Expected, "")
			m.set("registrations", pr.Registrations, pr.Expected, note)
			if mailbox {
				m.set("mailboxes", pr.Mailboxes, pr.MailboxesQueued, "")
			}
		},
	})
	m.done()
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return "", nil, withHint(err, "the pull was interrupted: nothing was kept; run nudge pull again")
		}
		return "", nil, graphError(err)
	}
	e.pruneSnapshots(root, filepath.Base(dir))
	return dir, res, nil
}

// pruneSnapshots removes all but the newest keepSnapshots pulls, and
// folders left by pulls that died.
func (e *env) pruneSnapshots(root, keep string) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return
	}
	var pulls []string
	for _, d := range entries {
		name := d.Name()
		switch {
		case !d.IsDir():
		case snapshotName.MatchString(name):
			pulls = append(pulls, name)
		case strings.HasSuffix(name, ".partial") && snapshotName.MatchString(strings.TrimSuffix(name, ".partial")):
			os.RemoveAll(filepath.Join(root, name))
		}
	}
	slices.SortFunc(pulls, func(a, b string) int {
		sa, ka := splitSnapshotName(a)
		sb, kb := splitSnapshotName(b)
		if c := strings.Compare(sa, sb); c != 0 {
			return c
		}
		return ka - kb
	})
	for len(pulls) > keepSnapshots {
		if pulls[0] != keep {
			if err := os.RemoveAll(filepath.Join(root, pulls[0])); err == nil && e.verbose {
				fmt.Fprintf(e.stderr, "nudge: removed old snapshot %s (keeping the newest %d)\n", pulls[0], keepSnapshots)
			}
		}
		pulls = pulls[1:]
	}
}

// splitSnapshotName splits a snapshot folder name into its UTC stamp and
// its number within that second (1 for none); k is 0 for other names.
func splitSnapshotName(name string) (stamp string, k int) {
	if !snapshotName.MatchString(name) {
		return "", 0
	}
	stamp, num, found := strings.Cut(name, "-")
	if !found {
		return stamp, 1
	}
	k, err := strconv.Atoi(num)
	if err != nil {
		return "", 0
	}
	return stamp, k
}

// printPull says what a pull read and what the tenant looks like.
func (e *env) printPull(p *project, dir string, res *graph.PullResult) error {
	rel := dir
	if r, err := filepath.Rel(".", dir); err == nil && !strings.HasPrefix(r, "..") {
		rel = r
	}
	fmt.Fprintf(e.stdout, "pulled tenant %s into %s in %s (%d requests)\n", p.c.Graph.TenantID, filepath.ToSlash(rel), max(res.Elapsed.Round(100*time.Millisecond), 100*time.Millisecond), res.Requests)
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  users\t%s\n", humanInt(res.Users))
	fmt.Fprintf(tw, "  registration report rows\t%s\n", humanInt(res.Registrations))
	for _, g := range res.Groups {
		why := "passkey policy target"
		if g.Asked != "" {
			why = "memberOf(" + fmt.Sprintf("%q", g.Asked) + ")"
		}
		fmt.Fprintf(tw, "  group %s\t%s members (%s)\n", g.ID, humanInt(g.Members), why)
	}
	fmt.Fprintf(tw, "  authentication methods policy\t%s\n", map[bool]string{true: "read", false: "not read"}[res.Policy])
	fmt.Fprintf(tw, "  Conditional Access policies\t%s\n", map[bool]string{true: "read", false: "not read"}[res.ConditionalAccess])
	if mb := res.Mailboxes; mb != nil {
		if mb.Stopped {
			fmt.Fprintf(tw, "  mailbox time zones\tnot read (no MailboxSettings.Read)\n")
		} else {
			unknown := 0
			for _, u := range mb.Unknown {
				unknown += u.People
			}
			fmt.Fprintf(tw, "  mailbox time zones\t%s of %s mailboxes (%s Windows names mapped); %s without a mailbox, %s not set, %s unknown zones, %s refused, %s failed; %s not asked (guests, disabled, no mail)\n",
				humanInt(mb.Zones), humanInt(mb.Asked), humanInt(mb.Windows), humanInt(mb.NoMailbox), humanInt(mb.Unset), humanInt(unknown), humanInt(mb.Denied), humanInt(mb.Failed), humanInt(mb.Skipped))
		}
	}
	tw.Flush()
	for _, w := range res.Warnings {
		fmt.Fprintf(e.stderr, "nudge: warning: %s\n", w)
	}

	// What the data says, from the saved snapshot: the same reading every
	// later command makes.
	src := &snapshot.Source{FS: os.DirFS(dir), Dir: ".", Name: filepath.ToSlash(rel)}
	var t struct{ people, passkey, nudge, noMFA, admins, guests int }
	d, err := src.Stream(e.ctx, func(person *directory.Person) error {
		if !person.AccountEnabled {
			return nil
		}
		t.people++
		switch {
		case person.IsGuest():
			t.guests++
		case person.HasPasskey():
			t.passkey++
		case person.IsMFACapable:
			t.nudge++
		default:
			t.noMFA++
		}
		if person.IsAdmin && !person.HasPhishingResistant() {
			t.admins++
		}
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "enabled accounts %s: with a passkey %s · MFA-capable without a passkey %s · no MFA yet (need a Temporary Access Pass) %s · guests %s · admins without phishing-resistant MFA %s\n",
		humanInt(t.people), humanInt(t.passkey), humanInt(t.nudge), humanInt(t.noMFA), humanInt(t.guests), humanInt(t.admins))
	if n := len(d.Problems); n > 0 {
		fmt.Fprintf(e.stdout, "%d people with data problems (nudge audiences -v lists them); first: %s\n", n, d.Problems[0])
	}
	return nil
}

// liveSource is --source graph: one pull per process, then the saved
// snapshot is read as often as the command needs (send reads the directory
// to plan, to send and to track).
type liveSource struct {
	e    *env
	p    *project
	once sync.Once
	src  *snapshot.Source
	err  error
}

func (l *liveSource) ensure() error {
	l.once.Do(func() {
		pulledAt := l.e.now()
		dir, res, err := l.e.pull(l.p)
		if err != nil {
			l.err = err
			return
		}
		for _, w := range res.Warnings {
			fmt.Fprintf(l.e.stderr, "nudge: warning: %s\n", w)
		}
		fmt.Fprintf(l.e.stderr, "nudge: read %s users from Microsoft Graph into %s\n", humanInt(res.Users), filepath.ToSlash(dir))
		// The data was read now, not when the report was last updated.
		l.src = &snapshot.Source{FS: os.DirFS(dir), Dir: ".", Name: filepath.ToSlash(dir), Now: func() time.Time { return pulledAt }}
	})
	return l.err
}

// Load implements directory.Source.
func (l *liveSource) Load(ctx context.Context) (*directory.Directory, error) {
	if err := l.ensure(); err != nil {
		return nil, err
	}
	return l.src.Load(ctx)
}

// Stream implements directory.Streamer.
func (l *liveSource) Stream(ctx context.Context, each func(*directory.Person) error) (*directory.Directory, error) {
	if err := l.ensure(); err != nil {
		return nil, err
	}
	return l.src.Stream(ctx, each)
}
