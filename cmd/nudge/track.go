package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"time"

	"github.com/spf13/cobra"

	"github.com/nudge-passkeys/nudge/internal/directory"
	"github.com/nudge-passkeys/nudge/internal/ledger"
	"github.com/nudge-passkeys/nudge/internal/readiness"
	"github.com/nudge-passkeys/nudge/internal/track"
)

type trackOptions struct {
	source string
	open   bool
	by     string
}

func newTrackCmd(e *env) *cobra.Command {
	o := &trackOptions{}
	cmd := &cobra.Command{
		Use:   "track",
		Short: "Record who has a passkey now and write output/<campaign>/tracking.xlsx",
		Long: `track reads the directory, records the first time each person is seen with a
passkey (and which kind), and writes the tracking workbook from the ledger:
Summary (per wave and audience: sent, failed, unknown, registered a passkey
since the message, conversion), Recipients, Adoption over time (by audience
and department), Errors, Runs, and, when the directory source has the
authentication methods policy, Readiness (the checks of nudge readiness).

nudge send and nudge pull rewrite the workbook at the end of every run too.
Registration data lags (Microsoft's report updates within hours), so the
workbook says when the data was read, and never credits a message sent after
a registration.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			switch o.by {
			case "", "department", "location", "manager":
			default:
				return usageError("--by %q: use department, location or manager", o.by)
			}
			p, err := e.loadCampaign()
			if err != nil {
				return err
			}
			path, err := e.track(p, o.source, nil, o.by)
			if err != nil {
				return err
			}
			fmt.Fprintln(e.stdout, path)
			if o.open {
				return openFile(path)
			}
			return nil
		},
	}
	sourceFlag(cmd.Flags(), &o.source)
	cmd.Flags().BoolVar(&o.open, "open", false, "open the workbook with the system's default application")
	cmd.Flags().StringVar(&o.by, "by", "", "add a sheet of adoption per department, location (office) or manager")
	return cmd
}

// track records adoption from fresh directory data and rewrites the
// workbook. l is the ledger when the caller holds it open (send), else nil.
//
// Everything comes from one read of the directory: who has a passkey
// (adoption), everyone's name and department (the workbook's Recipients
// and Adoption sheets), the --by groups, and the readiness report,
// counted over everyone read, excluded or not, as nudge readiness does.
func (e *env) track(p *project, source string, l *ledger.Ledger, by string) (string, error) {
	if l == nil {
		if err := os.MkdirAll(e.campaignDir(p), 0o755); err != nil {
			return "", err
		}
		var err error
		l, err = ledger.Open(e.ctx, filepath.Join(e.campaignDir(p), "nudge.db"), ledger.Options{Lock: true, Now: e.now})
		if errors.Is(err, ledger.ErrBusy) {
			return "", withHint(err, "a nudge send or run is using this campaign; it rewrites the workbook when it finishes")
		}
		if err != nil {
			return "", err
		}
		defer l.Close()
	}
	now := e.now()
	// The Invitations sheet names invited people by UPN, which the
	// ledger does not keep for invitations: it is taken from this read.
	invited, err := l.InvitedPeople(e.ctx)
	if err != nil {
		return "", err
	}
	upns := make(map[string]string, len(invited))
	groups := map[string]*track.Group{}
	var (
		ready    readiness.Tally
		passkeys []sighting
		people   []ledger.Person
	)
	flush := func() error {
		err := l.RecordPeople(e.ctx, people)
		people = people[:0]
		return err
	}
	s, err := e.eachRead(p, source, ready.Add, func(person *directory.Person, _ []string) error {
		kind := person.PasskeyKind()
		if by != "" {
			key := map[string]string{"department": person.Department, "location": person.OfficeLocation, "manager": person.Manager}[by]
			g := groups[key]
			if g == nil {
				g = &track.Group{Name: key}
				groups[key] = g
			}
			g.People++
			if kind != "" {
				g.WithPasskey++
			}
		}
		if person.ID == "" {
			return nil
		}
		if invited[person.ID] {
			upns[person.ID] = person.UserPrincipalName
		}
		if kind != "" {
			passkeys = append(passkeys, sighting{person.ID, kind, person.RegistrationUpdated})
		}
		people = append(people, ledger.Person{ID: person.ID, Name: person.DisplayName, Department: person.Department})
		if len(people) >= planBatch {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return "", err
	}
	// Adoptions are recorded once the read is over: only then is it
	// known when the data was read (a snapshot folder or CSV may be days
	// old), and data read before a message must never credit it.
	readAt := s.dir.ReadAt
	if readAt.IsZero() {
		readAt = now
	}
	adoptions := make([]ledger.Adoption, len(passkeys))
	for i, pk := range passkeys {
		adoptions[i] = pk.adoption(readAt)
	}
	firsts, err := l.RecordAdoptions(e.ctx, adoptions)
	if err != nil {
		return "", err
	}
	counts := map[string]int{"people": s.tally.people, "unmatched": s.tally.unmatched, "new passkeys": firsts}
	for k, v := range s.tally.members {
		counts["audience "+k] = v
	}
	if _, err := l.RecordSnapshot(e.ctx, ledger.Snapshot{ReadAt: readAt, Source: s.sourceName, Counts: counts}); err != nil {
		return "", err
	}
	path := filepath.Join(e.campaignDir(p), "tracking.xlsx")
	name := p.c.Name
	if name == "" {
		name = p.c.ID
	}
	opts := track.Options{Campaign: p.c.ID, CampaignName: name, DataReadAt: readAt, Now: now, UPNs: upns}
	for _, ss := range p.c.Sessions.List {
		opts.Sessions = append(opts.Sessions, track.Session{ID: ss.ID, Title: ss.Title, Start: ss.StartTime, Capacity: ss.Capacity, Cancelled: ss.Cancelled})
	}
	if s.dir.Policy != nil {
		opts.Readiness = ready.Report(s.dir)
		opts.Readiness.Source = s.sourceName
	}
	if by != "" {
		bd := &track.Breakdown{By: by}
		for _, g := range groups {
			bd.Groups = append(bd.Groups, *g)
		}
		sort.Slice(bd.Groups, func(i, j int) bool {
			a, b := bd.Groups[i], bd.Groups[j]
			if a.People != b.People {
				return a.People > b.People
			}
			return a.Name < b.Name
		})
		opts.Breakdown = bd
	}
	written, err := track.Write(context.WithoutCancel(e.ctx), l, path, opts)
	if errors.Is(err, track.ErrLocked) {
		fmt.Fprintf(e.stderr, "nudge: %v\n", err)
		return written, nil
	}
	if err != nil {
		return "", err
	}
	if firsts > 0 {
		fmt.Fprintf(e.stderr, "nudge: %d people seen with a passkey for the first time\n", firsts)
	}
	return written, nil
}

// sighting is a person seen with a passkey in one read of the directory.
type sighting struct {
	id, kind string
	updated  time.Time // the registration report's lastUpdatedDateTime
}

// adoption dates the sighting: when the registration report last changed
// for the person, which is nearer the registration than the read, but
// never after the read that showed it.
func (s sighting) adoption(readAt time.Time) ledger.Adoption {
	seen := readAt
	if !s.updated.IsZero() && s.updated.Before(readAt) {
		seen = s.updated
	}
	return ledger.Adoption{PersonID: s.id, Kind: s.kind, SeenAt: seen, DataReadAt: readAt}
}

// openFile opens path with the system's default application.
func openFile(path string) error {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", path)
	case "darwin":
		cmd = exec.Command("open", path)
	default:
		cmd = exec.Command("xdg-open", path)
	}
	if err := cmd.Start(); err != nil {
		return withHint(fmt.Errorf("opening %s: %w", path, err), "open the file yourself; it is written")
	}
	return nil
}
