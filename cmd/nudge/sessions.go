package main

import (
	"cmp"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/nudge-passkeys/nudge/internal/directory"
	"github.com/nudge-passkeys/nudge/internal/ical"
	"github.com/nudge-passkeys/nudge/internal/invite"
	"github.com/nudge-passkeys/nudge/internal/render"
	"github.com/nudge-passkeys/nudge/internal/untrusted"
)

func init() { moreCommands = append(moreCommands, newSessionsCmd) }

type sessionsOptions struct {
	source string
	wave   string
	ics    bool
}

func newSessionsCmd(e *env) *cobra.Command {
	o := &sessionsOptions{}
	cmd := &cobra.Command{
		Use:   "sessions",
		Short: "Q&A sessions: local times, capacity, who is assigned, who is left over",
		Long: `sessions reads the campaign's sessions: section and the directory, gives each
person in the campaign's audiences (or in --wave's) a session in their language
that starts within their working hours in their own time zone, with a seat
left, and prints every session with its time, capacity and seats taken, then
the people who fit no session and why.

A person's zone comes from their mailbox settings when the source knows it,
else from sessions.office_locations, else sessions.usage_locations, else
defaults.time_zone; -v lists everyone with their session, zone and the rule
that decided it.

With --wave naming a wave with sessions: true, people already invited keep the
session the ledger says they were sent (adding people never moves anyone),
and --ics gives their files the SEQUENCE sent. reschedule and cancel edit a
session in campaign.yaml in place; nudge send WAVE --updates then sends the
change.

--ics writes output/<campaign>/invites/: one METHOD:REQUEST invitation per
person (<session>/<address>.ics) and one METHOD:PUBLISH "add to calendar" file
per session (<session>.ics), replacing the folder only when all are written.

Exit 1 when a session (not cancelled) starts in the past; a warning when
seats are missing.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runSessions(e, o) },
	}
	sourceFlag(cmd.Flags(), &o.source)
	cmd.Flags().StringVar(&o.wave, "wave", "", "only people in this wave's audiences")
	cmd.Flags().BoolVar(&o.ics, "ics", false, "also write the calendar files to output/<campaign>/invites/")
	cmd.AddCommand(newSessionsRescheduleCmd(e), newSessionsCancelCmd(e))
	return cmd
}

// assignment is an assignment with what reporting it needs.
type assignment struct {
	sessions []invite.Session
	people   []invite.Person
	// invited are people with an invitation (in sent) who are no longer
	// in the audiences: they get no new session but still get updates.
	invited  []invite.Person
	upn      map[string]string // by person id
	audience map[string]string // by person id, for people
	dir      map[string]*directory.Person
	sent     map[string]invite.Sent // from the ledger; nil when none
	result   *invite.Result
	hours    invite.Hours
	source   string
}

// assign reads the directory and assigns the people of wave (all
// audiences when empty) to the campaign's sessions; sent is what the
// ledger says each person was last sent (nil: nobody invited yet), so
// that nobody already invited moves.
func (e *env) assign(p *project, source, wave string, sent map[string]invite.Sent) (*assignment, error) {
	var among []string
	if wave != "" {
		w, ok := p.c.Wave(wave)
		if !ok {
			return nil, usageError("no wave %q in %s (waves: %s)", wave, p.c.File, strings.Join(p.c.WaveIDs(), ", "))
		}
		among = w.Audiences
	}
	a := &assignment{sessions: invite.Sessions(p.c), upn: map[string]string{}, audience: map[string]string{}, dir: map[string]*directory.Person{}, sent: sent, hours: invite.HoursOf(p.c)}
	zones := invite.NewZones(p.c)
	s, err := e.eachIncluded(p, source, func(person *directory.Person, matched []string) error {
		aud, in := firstOf(matched, among)
		if among == nil {
			aud, in = firstOf(matched, matched)
		}
		_, was := sent[person.ID]
		if !in && !was {
			return nil
		}
		ip := invite.NewPerson(person, p.c, zones)
		if in {
			a.people = append(a.people, ip)
			a.audience[person.ID] = aud
		} else {
			a.invited = append(a.invited, ip)
			if len(among) > 0 {
				// Their updates link the guides of the wave's audience.
				a.audience[person.ID] = among[0]
			}
		}
		a.upn[person.ID] = person.UserPrincipalName
		if sent != nil {
			pc := *person
			a.dir[person.ID] = &pc
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	a.source = s.sourceName
	a.result = invite.Assign(a.people, a.sessions, invite.Options{Hours: a.hours, Now: e.now(), Previous: invite.Previous(sent)})
	return a, nil
}

// findings are the problems `nudge sessions` and `nudge check` report:
// sessions in the past (errors before any invitation went; once the
// campaign is under way, sessions passing is expected and only noted) and
// missing seats (a warning).
func (a *assignment) findings(e *env, p *project, now time.Time) []render.Finding {
	var fs []render.Finding
	past := p.c.PastSessions(now)
	started := false
	for _, w := range p.c.Waves {
		// The ledger is read only when some session is in the past.
		started = started || len(past) > 0 && w.Sessions && e.anyInvited(p, w.ID)
	}
	for _, pr := range past {
		if started {
			pr.Msg = strings.Replace(pr.Msg, "move it or mark it cancelled: true", "it takes no new people, and nothing about it is sent again (do not mark it cancelled: its people would be invited to another session)", 1)
		}
		fs = append(fs, render.Finding{Error: !started, Msg: pr.String()})
	}
	seats := 0
	for _, s := range a.sessions {
		if !s.Cancelled {
			seats += s.Capacity
		}
	}
	short := a.result.Shortfall()
	if len(short) > 0 || seats < len(a.people) {
		missing := 0
		parts := make([]string, len(short))
		for i, z := range short {
			missing += z.People
			parts[i] = fmt.Sprintf("%s %d", z.Zone, z.People)
		}
		msg := fmt.Sprintf("%s: sessions: %s for %s", p.c.File, plural(seats, "seat"), people(len(a.people)))
		if missing > 0 {
			msg += fmt.Sprintf(": %s missing where sessions fit but are full (%s)", plural(missing, "seat"), strings.Join(parts, ", "))
		}
		fs = append(fs, render.Finding{Msg: msg})
	}
	return fs
}

func runSessions(e *env, o *sessionsOptions) error {
	p, err := e.loadCampaign()
	if err != nil {
		return err
	}
	if len(p.c.Sessions.List) == 0 {
		return withHint(fmt.Errorf("%s has no sessions", p.c.File), "add a sessions: section with a list: of Q&A sessions (id, title, start, zone, join_url, capacity)")
	}
	sent, err := e.invitesSent(p, o.wave)
	if err != nil {
		return err
	}
	a, err := e.assign(p, o.source, o.wave, sent)
	if err != nil {
		return err
	}
	w := e.stdout
	fmt.Fprintf(w, "campaign %s: %s from %s; sessions start %s in each person's zone\n\n", p.c.ID, people(len(a.people)), a.source, a.hours)
	if err := a.writeSessions(w); err != nil {
		return err
	}
	if err := a.writeZoneRules(w); err != nil {
		return err
	}
	if len(a.result.Left) > 0 {
		fmt.Fprintf(w, "\nleft over: %s\n", people(len(a.result.Left)))
		if err := a.writeLeftover(w); err != nil {
			return err
		}
	}
	if e.verbose {
		fmt.Fprintln(w)
		if err := a.writeAssigned(w); err != nil {
			return err
		}
	}
	errs := 0
	findings := a.findings(e, p, e.now())
	for _, f := range findings {
		if f.Error {
			errs++
		}
	}
	if o.ics && errs == 0 {
		dir, n, err := e.writeInvites(p, a)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "\n%s written to %s\n", plural(n, "calendar file"), dir)
	}
	errs = 0
	for _, f := range findings {
		if f.Error {
			errs++
		}
		fmt.Fprintln(e.stderr, f.String())
	}
	if errs > 0 {
		return errSilent
	}
	return nil
}

func (a *assignment) writeSessions(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SESSION\tLOCAL START\tZONE\tUTC\tLENGTH\tLANG\tSEATS\tTAKEN\tHOST\tTITLE")
	for _, s := range a.sessions {
		taken := fmt.Sprint(a.result.Seats[s.ID])
		if s.Cancelled {
			taken = "cancelled"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", s.ID, s.Start.Format("Mon 2006-01-02 15:04 MST"), s.Start.Location(),
			s.Start.UTC().Format("2006-01-02 15:04Z"), s.End.Sub(s.Start), s.Language, s.Capacity, taken, orDash(s.Host), s.Title)
	}
	return tw.Flush()
}

// writeZoneRules says how many people's zones each rule decided.
func (a *assignment) writeZoneRules(w io.Writer) error {
	n := map[invite.Rule]int{}
	for _, p := range a.people {
		n[p.ZoneRule]++
	}
	var parts []string
	for _, r := range []invite.Rule{invite.RuleMailbox, invite.RuleOffice, invite.RuleUsage, invite.RuleDefault} {
		if n[r] > 0 {
			parts = append(parts, fmt.Sprintf("%d by %s", n[r], r))
		}
	}
	if len(parts) == 0 {
		return nil
	}
	_, err := fmt.Fprintf(w, "\ntime zones: %s\n", strings.Join(parts, ", "))
	return err
}

func (a *assignment) writeLeftover(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PERSON\tLANG\tZONE\tBY\tREASON")
	// By reason and zone, so that a gap in the schedule reads as a block.
	left := slices.Clone(a.result.Left)
	slices.SortStableFunc(left, func(x, y invite.Leftover) int {
		return cmp.Or(cmp.Compare(x.Reason, y.Reason), cmp.Compare(x.Person.Zone.String(), y.Person.Zone.String()), cmp.Compare(a.who(x.Person), a.who(y.Person)))
	})
	for _, l := range left {
		reason := string(l.Reason)
		if l.Detail != "" {
			reason += " (" + l.Detail + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", a.who(l.Person), l.Person.Language, l.Person.Zone, l.Person.ZoneRule, reason)
	}
	return tw.Flush()
}

// writeAssigned lists everyone assigned (-v), by session then person.
func (a *assignment) writeAssigned(w io.Writer) error {
	byID := map[string]*invite.Person{}
	for i := range a.people {
		byID[a.people[i].ID] = &a.people[i]
	}
	start := map[string]time.Time{}
	for _, s := range a.sessions {
		start[s.ID] = s.Start
	}
	ids := make([]string, 0, len(a.result.Session))
	for id := range a.result.Session {
		if byID[id] != nil {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool {
		si, sj := a.result.Session[ids[i]], a.result.Session[ids[j]]
		if si != sj {
			return si < sj
		}
		return a.who(byID[ids[i]]) < a.who(byID[ids[j]])
	})
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PERSON\tSESSION\tTHEIR TIME\tZONE\tBY")
	for _, id := range ids {
		p, sid := byID[id], a.result.Session[id]
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", a.who(p), sid, start[sid].In(p.Zone).Format("Mon 15:04 MST"), p.Zone, p.ZoneRule)
	}
	return tw.Flush()
}

// writeInvites writes every invitation and "add to calendar" file into a
// staging folder that replaces output/<campaign>/invites only when all are
// written.
func (e *env) writeInvites(p *project, a *assignment) (string, int, error) {
	parent := e.campaignDir(p)
	final := filepath.Join(parent, "invites")
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", 0, err
	}
	stage, err := os.MkdirTemp(parent, ".invites-")
	if err != nil {
		return "", 0, err
	}
	defer os.RemoveAll(stage) // gone already once renamed
	sender := invite.Sender{
		Campaign:  p.c.ID,
		Organizer: ical.Address{Name: p.c.Sender.Name, Email: p.c.Sender.Address},
		Stamp:     e.now().UTC(),
	}
	write := func(name string, c *ical.Calendar) error {
		b, err := c.Marshal()
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(stage, name), b, 0o644)
	}
	n := 0
	byID := map[string]*invite.Session{}
	for i := range a.sessions {
		s := &a.sessions[i]
		byID[s.ID] = s
		if s.Cancelled {
			continue
		}
		if err := os.Mkdir(filepath.Join(stage, s.ID), 0o755); err != nil {
			return "", 0, err
		}
		// PUBLISH files are for people not invited: no ledger behind them.
		if err := write(s.ID+".ics", sender.Publish(s, 0)); err != nil {
			return "", 0, fmt.Errorf("session %s: %w", s.ID, err)
		}
		n++
	}
	for i := range a.people {
		person := &a.people[i]
		sid, ok := a.result.Session[person.ID]
		if !ok {
			continue
		}
		name := filepath.Join(sid, fileSafe(person.Email)+".ics")
		// The SEQUENCE of what was sent, or of the update --updates sends.
		seq := 0
		if last, ok := a.sent[person.ID]; ok {
			seq = last.Next(sid) // above any CANCEL of this UID
			if last.Session == sid && !last.Cancelled && last.Fingerprint == invite.Fingerprint(byID[sid]) {
				seq = last.Sequence // unchanged: what was sent
			}
		}
		if err := write(name, sender.Request(byID[sid], person, seq)); err != nil {
			// One bad address does not stop the others.
			fmt.Fprintf(e.stderr, "nudge: %s (%s): %v: skipped\n", a.who(person), untrusted.OneLine(person.ID), err)
			continue
		}
		n++
	}
	if err := replaceDir(stage, final); err != nil {
		return "", 0, err
	}
	return final, n, nil
}

// fileSafe keeps an address to characters every file system takes.
func fileSafe(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("@.-_+", r)) {
			return r
		}
		return '_'
	}, s)
	if strings.Trim(s, ".") == "" {
		return "_"
	}
	return s
}

// who names a person for a listing: the UPN (a directory value, so kept
// to one line), else the id.
func (a *assignment) who(p *invite.Person) string {
	if u := a.upn[p.ID]; u != "" {
		return untrusted.OneLine(u)
	}
	return untrusted.OneLine(p.ID)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// checkSessions adds the sessions' findings to `nudge check`.
func checkSessions(e *env, p *project, report func(render.Finding)) {
	if len(p.c.Sessions.List) == 0 {
		return
	}
	a, err := e.assign(p, "", "", nil)
	if err != nil {
		report(render.Finding{Error: true, Msg: "sessions: " + err.Error()})
		return
	}
	for _, f := range a.findings(e, p, e.now()) {
		report(f)
	}
}
