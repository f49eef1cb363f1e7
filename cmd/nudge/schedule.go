package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/nudge-passkeys/nudge/internal/campaign"
	"github.com/nudge-passkeys/nudge/internal/deliver"
	"github.com/nudge-passkeys/nudge/internal/directory"
	"github.com/nudge-passkeys/nudge/internal/invite"
	"github.com/nudge-passkeys/nudge/internal/ledger"
	"github.com/nudge-passkeys/nudge/internal/schedule"
)

func init() { moreCommands = append(moreCommands, newScheduleCmd) }

type scheduleOptions struct {
	source string
	json   bool
	now    string
	watch  bool
	every  time.Duration
	via    string
}

func newScheduleCmd(e *env) *cobra.Command {
	o := &scheduleOptions{}
	cmd := &cobra.Command{
		Use:   "schedule",
		Short: "The timeline: when each wave goes out, to how many, over how many days",
		Long: `schedule prints, per wave: its send_at in the campaign's zone and in UTC, its
audiences and how many people they hold now, how many were already sent or
are pending (from output/<campaign>/nudge.db), and, under the sending
mailboxes' caps (pacing: and senders:), how many days the pending messages
span and when the last should go.

Waves go out in send_at order through the same mailboxes, so they share the
daily caps: a wave due while an earlier one is still sending waits for it.
With after:, window: or skip:, each person's message is placed on its own:
not before send_at, a wave with after: the offset after the earlier wave
reached that person (sent, or as this timeline places it), inside the
window in their zone, never on a skipped date, under the caps. The table
then shows a follow-up wave as "after announce + 7d", and a line per wave
gives the people per date; "wait for wave X" counts people the earlier
wave has not reached and will not (failed, skipped, or a manual wave).
Warnings (on stderr) name such overlaps, waves whose send_at has passed with
people still pending, and waves with no send_at, which only nudge send sends.

The times assume nudge run is called every few minutes (see nudge run
--help). --now 2026-12-01T09:00:00Z (or NUDGE_NOW) shows the timeline at
another time. schedule reads the ledger and never changes it.

--watch is for servers without cron: instead of printing the timeline it
stays running and does what nudge run does every --every (a minute), until
stopped (Ctrl-C, or the service manager's stop). A run that fails (server
unreachable, a template broken by an edit) is reported on stderr and tried
again at the next tick; campaign.yaml and the templates are read afresh
each time.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := e.setNow(o.now); err != nil {
				return err
			}
			if o.watch {
				if o.every <= 0 {
					return usageError("--every %s: give a positive duration, e.g. 1m", o.every)
				}
				switch o.via {
				case "", "smtp", "graph":
				default:
					return usageError("--via %q: use smtp or graph", o.via)
				}
				return watch(e, o)
			}
			return runSchedule(e, o)
		},
	}
	f := cmd.Flags()
	sourceFlag(f, &o.source)
	nowFlag(f, &o.now)
	f.BoolVar(&o.json, "json", false, "print the timeline as JSON")
	f.BoolVar(&o.watch, "watch", false, "keep running and send what is due, like nudge run, every --every")
	f.DurationVar(&o.every, "every", time.Minute, "with --watch: how often to run")
	f.StringVar(&o.via, "via", "", "with --watch: smtp or graph (default as for nudge run)")
	return cmd
}

// nowFlag adds --now, which sets the command's clock as NUDGE_NOW does.
func nowFlag(f *pflag.FlagSet, v *string) {
	f.StringVar(v, "now", "", "pretend it is this RFC 3339 time, e.g. 2026-12-01T09:00:00Z (a rehearsal; like NUDGE_NOW)")
}

// setNow fixes e's clock at the --now time, when given.
func (e *env) setNow(s string) error {
	if s == "" {
		return nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return usageError("--now %q: give an RFC 3339 time such as 2026-12-01T09:00:00Z", s)
	}
	e.now = func() time.Time { return t }
	return nil
}

// watch does what nudge run does every o.every until the context ends.
// Failures are reported and do not stop it: the next tick may succeed.
func watch(e *env, o *scheduleOptions) error {
	ro := &runOptions{source: o.source, via: o.via}
	for {
		if err := runRun(e, ro); err != nil {
			fmt.Fprintf(e.stderr, "nudge schedule --watch: %s: %v\n", e.now().UTC().Format(time.RFC3339), err)
			var ce *cliError
			if errors.As(err, &ce) && ce.hint != "" {
				fmt.Fprintf(e.stderr, "hint: %s\n", ce.hint)
			}
		}
		select {
		case <-e.ctx.Done():
			return nil
		case <-time.After(o.every):
		}
	}
}

func runSchedule(e *env, o *scheduleOptions) error {
	p, err := e.loadCampaign()
	if err != nil {
		return err
	}
	l, err := e.openLedgerIfAny(p)
	if err != nil {
		return err
	}
	if l != nil {
		defer l.Close()
	}
	tl, err := e.timeline(p, o.source, l, p.c.Waves)
	if err != nil {
		return err
	}
	loc := campaignZone(p.c)
	if o.json {
		return writeTimelineJSON(e, p, tl, loc)
	}
	writeTimeline(e, p, tl, loc)
	for _, w := range tl.Warnings {
		fmt.Fprintf(e.stderr, "warning: %s\n", w)
	}
	return nil
}

// openLedgerIfAny opens the campaign's ledger for reading, without the run
// lock, or returns nil when nothing was ever sent: reading must not create
// it.
func (e *env) openLedgerIfAny(p *project) (*ledger.Ledger, error) {
	path := filepath.Join(e.campaignDir(p), "nudge.db")
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return ledger.Open(e.ctx, path, ledger.Options{Now: e.now})
}

func campaignZone(c *campaign.Campaign) *time.Location {
	loc, err := time.LoadLocation(c.Defaults.TimeZone)
	if err != nil {
		return time.UTC // validation has already refused an unknown zone
	}
	return loc
}

// timeline reads who is in each of waves now and what the ledger (nil:
// nothing sent yet) holds, and places them on the timeline at e.now.
func (e *env) timeline(p *project, source string, l *ledger.Ledger, waves []campaign.Wave) (schedule.Timeline, error) {
	now := e.now()
	ws := make([]schedule.Wave, len(waves))
	done := make([]map[string]bool, len(waves))
	// With after:, window: or skip:, the timeline places people one by
	// one, in their own zones, from when each was sent the earlier wave.
	perPerson := timed(p.c)
	for i := range waves {
		w := &waves[i]
		ws[i] = schedule.Wave{ID: w.ID, SendAt: w.SendTime, Audiences: w.Audiences, Timing: w.Timing}
		done[i] = map[string]bool{}
		if perPerson {
			ws[i].Recipients = []schedule.Recipient{}
		}
		if l == nil {
			continue
		}
		if w.Sessions {
			// An invitation wave's people are done once invited; updates
			// and cancellations are not on the timeline.
			st, err := l.Invites(e.ctx, w.ID)
			if err != nil {
				return schedule.Timeline{}, err
			}
			for id, inv := range st.Sent {
				if inv.Cancelled {
					continue // taken out of a session: not invited now
				}
				done[i][id] = true
				ws[i].Done++
				ws[i].Sent++
			}
			continue
		}
		err := l.EachSend(e.ctx, w.ID, func(s ledger.Send) error {
			if s.Status != ledger.StatusPending {
				done[i][s.PersonID] = true
				ws[i].Done++
			}
			if s.Status == ledger.StatusSent {
				ws[i].Sent++
			}
			return nil
		})
		if err != nil {
			return schedule.Timeline{}, err
		}
	}
	// When each person was sent the wave each after: names, whether or
	// not that wave is on this timeline.
	prevSent := map[string]map[string]time.Time{}
	for i := range waves {
		a := waves[i].Timing.After
		if a == "" || l == nil || prevSent[a] != nil {
			continue
		}
		prevSent[a] = map[string]time.Time{}
		err := l.EachSend(e.ctx, a, func(s ledger.Send) error {
			if s.Status == ledger.StatusSent {
				prevSent[a][s.PersonID] = s.SentAt
			}
			return nil
		})
		if err != nil {
			return schedule.Timeline{}, err
		}
	}
	// One read of the directory for every wave, choosing people as
	// waveTargets does (first matching audience, one message per address
	// per wave): reading it once per wave would triple the time at 100k.
	addrs := newAddresses()
	zones := invite.NewZones(p.c)
	_, err := e.eachPerson(p, source, func(person *directory.Person, matched []string) error {
		var zone *time.Location
		for i := range waves {
			if _, ok := firstOf(matched, waves[i].Audiences); !ok || addrs.admit(waves[i].ID, person) != "" {
				continue
			}
			ws[i].People++
			if !done[i][person.ID] {
				ws[i].Pending++
			}
			if perPerson {
				if zone == nil {
					zone, _ = zones.Resolve(person)
				}
				ws[i].Recipients = append(ws[i].Recipients, schedule.Recipient{ID: person.ID, Zone: zone, Done: done[i][person.ID], Prev: prevSent[waves[i].Timing.After][person.ID]})
			}
		}
		return nil
	})
	if err != nil {
		return schedule.Timeline{}, err
	}
	var boxes []schedule.Mailbox
	for _, mb := range p.c.Mailboxes() {
		b := schedule.Mailbox{Address: mb.Address, Limits: deliver.Limits{PerMinute: mb.RatePerMinute, PerDay: mb.PerDay}}
		if l != nil {
			h, err := l.SentSince(e.ctx, mb.Address, now.Add(-24*time.Hour))
			if err != nil {
				return schedule.Timeline{}, err
			}
			b.History = h
		}
		boxes = append(boxes, b)
	}
	return schedule.Plan(now, campaignZone(p.c), ws, boxes), nil
}

const (
	localLayout = "Mon 2 Jan 2006 15:04 MST"
	utcLayout   = "2006-01-02 15:04Z"
)

func writeTimeline(e *env, p *project, tl schedule.Timeline, loc *time.Location) {
	boxes := p.c.Mailboxes()
	fmt.Fprintf(e.stdout, "campaign %s at %s (%s): %d sending mailbox(es), at most %d a day, %d left in the last 24 hours\n",
		p.c.ID, tl.Now.In(loc).Format(localLayout), tl.Now.UTC().Format(utcLayout), len(boxes), tl.PerDay, tl.LeftToday)
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "WAVE\tSEND AT (%s)\tSEND AT (UTC)\tAUDIENCES\tPEOPLE\tSENT\tPENDING\tDAYS\tLAST BY\n", loc)
	for _, s := range tl.Slots {
		at, utc := "manual", "-"
		switch {
		case !s.SendAt.IsZero():
			at, utc = s.SendAt.In(loc).Format(localLayout), s.SendAt.UTC().Format(utcLayout)
		case s.Timing.After != "":
			at = "after " + s.Timing.After
			if d := s.Timing.Offset; d%(24*time.Hour) == 0 && d > 0 {
				at += fmt.Sprintf(" + %dd", d/(24*time.Hour))
			} else if d > 0 {
				at += " + " + strings.TrimSuffix(strings.TrimSuffix(d.String(), "0s"), "0m")
			}
		}
		days, eta := "-", "-"
		switch {
		case s.Pending == 0 && s.People > 0:
			eta = "done"
		case !s.ETA.IsZero():
			days, eta = fmt.Sprint(s.Days), s.ETA.In(loc).Format(localLayout)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%d\t%s\t%s\n", s.ID, at, utc, strings.Join(s.Audiences, ","), s.People, s.Sent, s.Pending, days, eta)
	}
	tw.Flush()
	for _, s := range tl.Slots {
		if len(s.PerDate) < 2 && s.Waiting == 0 {
			continue
		}
		var days []string
		for _, d := range s.PerDate {
			days = append(days, fmt.Sprintf("%s %d", d.Date, d.N))
		}
		line := fmt.Sprintf("%s per day: %s", s.ID, strings.Join(days, ", "))
		if s.Waiting > 0 {
			line += fmt.Sprintf("; %d wait for wave %s to reach them", s.Waiting, s.Timing.After)
		}
		fmt.Fprintln(e.stdout, line)
	}
}

type timelineJSON struct {
	Campaign  string        `json:"campaign"`
	Now       string        `json:"now"`
	TimeZone  string        `json:"time_zone"`
	PerDay    int           `json:"per_day"`
	LeftToday int           `json:"left_in_24h"`
	Mailboxes []mailboxJSON `json:"mailboxes"`
	Waves     []waveJSON    `json:"waves"`
	Warnings  []string      `json:"warnings"`
}

type mailboxJSON struct {
	Address   string `json:"address"`
	PerMinute int    `json:"rate_per_minute"`
	PerDay    int    `json:"per_day"`
}

type waveJSON struct {
	ID        string    `json:"id"`
	SendAt    string    `json:"send_at,omitempty"`
	SendAtUTC string    `json:"send_at_utc,omitempty"`
	Manual    bool      `json:"manual"`
	Due       bool      `json:"due"`
	Audiences []string  `json:"audiences"`
	People    int       `json:"people"`
	Sent      int       `json:"sent"`
	Done      int       `json:"done"`
	Pending   int       `json:"pending"`
	Start     string    `json:"first_at,omitempty"`
	ETA       string    `json:"last_at,omitempty"`
	Days      int       `json:"days"`
	After     string    `json:"after,omitempty"`
	PerDate   []dayJSON `json:"per_date,omitempty"`
	Waiting   int       `json:"waiting,omitempty"`
}

type dayJSON struct {
	Date string `json:"date"`
	N    int    `json:"n"`
}

func writeTimelineJSON(e *env, p *project, tl schedule.Timeline, loc *time.Location) error {
	rfc := func(t time.Time, loc *time.Location) string {
		if t.IsZero() {
			return ""
		}
		return t.In(loc).Format(time.RFC3339)
	}
	out := timelineJSON{
		Campaign: p.c.ID, Now: rfc(tl.Now, loc), TimeZone: loc.String(),
		PerDay: tl.PerDay, LeftToday: tl.LeftToday, Warnings: tl.Warnings,
		Mailboxes: []mailboxJSON{}, Waves: []waveJSON{},
	}
	if out.Warnings == nil {
		out.Warnings = []string{}
	}
	for _, mb := range p.c.Mailboxes() {
		out.Mailboxes = append(out.Mailboxes, mailboxJSON{Address: mb.Address, PerMinute: mb.RatePerMinute, PerDay: mb.PerDay})
	}
	for _, s := range tl.Slots {
		out.Waves = append(out.Waves, waveJSON{
			ID: s.ID, SendAt: rfc(s.SendAt, loc), SendAtUTC: rfc(s.SendAt, time.UTC), Manual: s.Manual, Due: s.Due,
			Audiences: s.Audiences, People: s.People, Sent: s.Sent, Done: s.Done, Pending: s.Pending,
			Start: rfc(s.Start, loc), ETA: rfc(s.ETA, loc), Days: s.Days,
			After: s.Timing.After, Waiting: s.Waiting,
		})
		for _, d := range s.PerDate {
			out.Waves[len(out.Waves)-1].PerDate = append(out.Waves[len(out.Waves)-1].PerDate, dayJSON{d.Date, d.N})
		}
	}
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
