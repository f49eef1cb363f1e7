package main

// nudge run is what a scheduler calls every few minutes. Its policy:
//
//   - Due means send_at has passed, or the wave has after:. Due waves go
//     out in send_at order, each through sendWave, the code nudge send WAVE
//     --via smtp|graph --yes runs, so pacing, retries and exactly-once are
//     the same. With after:, window: or skip: in the campaign, sendWave is
//     given a per-person filter (schedule.Due): only people inside their
//     window, not on a skipped date, and sent the earlier wave at least the
//     offset ago get a row and a message; the others wait for a later run.
//   - The run lock (nudge.db.lock) is taken once for the whole run. A run
//     that finds it held waits --wait, then says so in one line on stderr
//     and exits 0: with a wave taking hours under the daily cap, a busy
//     lock is the normal state of a 5-minute schedule, not an error.
//   - Nothing due, nothing pending, or today's caps used up: one line on
//     stdout, exit 0, no connection to the mail server.
//   - An invitation wave (sessions: true) with send_at goes through
//     sendInvitesWith with the same route and locked ledger: new
//     invitations, updates and cancellations alike, once send_at has
//     passed. Sessions that have started are over for run: nobody new is
//     given one (invite.Assign), and nothing about them is sent again.
//   - Running it is the confirmation, so the campaign must say how to send
//     (smtp: or graph_mail:); without that, run refuses.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/nudge-passkeys/nudge/internal/campaign"
	"github.com/nudge-passkeys/nudge/internal/directory"
	"github.com/nudge-passkeys/nudge/internal/invite"
	"github.com/nudge-passkeys/nudge/internal/ledger"
	"github.com/nudge-passkeys/nudge/internal/schedule"
)

func init() { moreCommands = append(moreCommands, newRunCmd) }

type runOptions struct {
	source string
	via    string
	dryRun bool
	wait   time.Duration
	now    string
}

func newRunCmd(e *env) *cobra.Command {
	o := &runOptions{}
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Send whatever is due now, then exit: for cron or Task Scheduler, every 5 minutes",
		Long: `run sends every wave whose send_at has passed to the people still pending,
within what the sending mailboxes' daily caps allow today, then exits. It never
asks for confirmation: scheduling it is the confirmation. Each wave goes out
exactly as nudge send WAVE --via smtp|graph --yes would send it (same pacing,
retries and ledger), so a wave larger than a day's cap carries on at the next
run after the 24-hour window frees up, and nobody gets a wave twice. Waves
with neither send_at nor after: are never sent by run (use nudge send).

An invitation wave (sessions: true) with send_at goes out like nudge send
WAVE: one calendar invitation per person for the session that fits them.
Each later run invites people who joined the audiences since, and sends the
updates and cancellations that nudge sessions reschedule|cancel made.

A wave with after: announce + 7d goes to each person 7 days after announce
was sent to that person (the ledger's time), never to someone announce did
not reach. A wave with window: goes only on its days and hours, in each
recipient's zone (their mailbox setting, else sessions: office_locations or
usage_locations, else defaults.time_zone) or the window's fixed zone, and
never on its skip: dates. The audiences are read afresh each run, so a
reminder never reaches someone who registered a passkey since. The line for
a wave with people still waiting says how many and when the next goes.

How it sends: --via smtp or --via graph; without --via, by Microsoft Graph
when the campaign has a graph_mail: section, else by SMTP when it has an
smtp: section with a host. With neither, run refuses to send.

Output suits a log file: one line per wave on stdout, no progress bars,
problems on stderr. Exit codes:
  0  done, nothing due, or another nudge run/send holds the campaign's lock
     (one line on stderr: "another nudge is sending ...; this run did nothing")
  1  it could not send (configuration, credentials, server unreachable), a
     wave stopped part-way (what was sent is recorded; the next run carries
     on), or the lock is over a day old (a crashed nudge: the message says
     which file to delete)
  2  the command line was wrong
--dry-run says what would go now and changes nothing (no ledger, no mail);
with --now 2026-12-01T09:00:00Z (or NUDGE_NOW) it rehearses another time.
Where cron is missing, nudge schedule --watch does the same every minute in
one long-running process.

Schedule it every 5 minutes, with the campaign folder as working directory
and the secrets (NUDGE_SMTP_PASSWORD, or a graph: certificate or managed
identity; never device code) in the job's environment:

  cron (crontab -e):
    */5 * * * * cd /srv/nudge && /usr/local/bin/nudge run >> output/run.log 2>&1

  Windows Task Scheduler (from an elevated prompt; /RP asks for the password):
    schtasks /Create /TN "nudge run" /SC MINUTE /MO 5 /RU CONTOSO\svc-nudge /RP /TR "cmd /c cd /d C:\nudge && nudge.exe run >> output\run.log 2>&1"

nudge schedule shows when each wave should go and finish.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			switch o.via {
			case "", "smtp", "graph":
			default:
				return usageError("--via %q: use smtp or graph (run always sends for real; --dry-run to rehearse)", o.via)
			}
			if err := e.setNow(o.now); err != nil {
				return err
			}
			if o.wait < 0 {
				return usageError("--wait %s: give a duration of zero or more, e.g. 10s", o.wait)
			}
			return runRun(e, o)
		},
	}
	f := cmd.Flags()
	sourceFlag(f, &o.source)
	nowFlag(f, &o.now)
	f.StringVar(&o.via, "via", "", "smtp or graph (default: graph when the campaign has graph_mail:, else smtp)")
	f.BoolVar(&o.dryRun, "dry-run", false, "say what is due and would be sent now; send and record nothing")
	f.DurationVar(&o.wait, "wait", 10*time.Second, "how long to wait for another nudge to release the campaign's lock")
	return cmd
}

// runVia is how run sends: the flag, else what the campaign configures.
func runVia(c *campaign.Campaign, flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	switch {
	case c.GraphMail != (campaign.GraphMail{}):
		return "graph", nil
	case c.SMTP.Host != "":
		return "smtp", nil
	}
	return "", withHint(fmt.Errorf("%s: nudge run sends for real, and the campaign says no way to send: it has no smtp: host and no graph_mail: section", c.File),
		"add smtp: (host, port, auth) or graph: with graph_mail: {format: mime} to %s; nudge run --dry-run shows what would go", c.File)
}

// dueWaves are the waves whose send_at is at or before now, in send_at
// order, and the next one still to come (nil when none).
func dueWaves(c *campaign.Campaign, now time.Time) (due []campaign.Wave, next *campaign.Wave) {
	for i := range c.Waves {
		w := c.Waves[i]
		switch {
		case !w.Scheduled():
		case w.SendTime.IsZero(), !w.SendTime.After(now):
			// A wave with after: and no send_at is due person by person.
			due = append(due, w)
		case next == nil || w.SendTime.Before(next.SendTime):
			next = &c.Waves[i]
		}
	}
	slices.SortStableFunc(due, func(a, b campaign.Wave) int { return a.SendTime.Compare(b.SendTime) })
	return due, next
}

func runRun(e *env, o *runOptions) error {
	p, err := e.loadCampaign()
	if err != nil {
		return err
	}
	via, err := runVia(p.c, o.via)
	if err != nil && !o.dryRun {
		return err
	}
	if err != nil {
		// A rehearsal before delivery is set up: say what is missing.
		via = "nothing yet (add an smtp: or graph_mail: section to " + p.c.File + " before nudge run can send)"
	}
	now := e.now()
	loc := campaignZone(p.c)
	due, next := dueWaves(p.c, now)
	if len(due) == 0 {
		msg := "no wave has send_at"
		if next != nil {
			msg = fmt.Sprintf("next: wave %s at %s", next.ID, next.SendTime.In(loc).Format(localLayout))
		}
		fmt.Fprintf(e.stdout, "nudge run %s: nothing due (%s)\n", now.In(loc).Format(localLayout), msg)
		return nil
	}
	for _, w := range due {
		if _, err := p.engine.Prepare(w.Template, p.c.Defaults.Locale); err != nil {
			return withHint(fmt.Errorf("wave %q (%s:%d): %w", w.ID, p.c.File, w.TemplateLine, err), "`nudge check` lists every template problem at once")
		}
	}
	if o.dryRun {
		return runDry(e, p, o, via, due)
	}

	if err := os.MkdirAll(e.campaignDir(p), 0o755); err != nil {
		return err
	}
	dbPath := filepath.Join(e.campaignDir(p), "nudge.db")
	l, err := e.openLocked(dbPath, o.wait)
	if errors.Is(err, ledger.ErrBusy) {
		if age := e.lockAge(dbPath); age > staleLock {
			return withHint(err, "the lock is %s old, and no nudge sends for that long (each run stops at the daily cap): if no nudge is running, delete %s.lock", roundDuration(age), dbPath)
		}
		fmt.Fprintf(e.stderr, "nudge run: another nudge is sending for campaign %s; this run did nothing (%v)\n", p.c.ID, err)
		return nil
	}
	if err != nil {
		return err
	}
	defer l.Close()
	if err := e.recoverInterrupted(l); err != nil {
		return err
	}
	mailDue, inviteDue := splitInvites(due)
	tl, err := e.timeline(p, o.source, l, mailDue)
	if err != nil {
		return err
	}
	var pending []schedule.Slot
	for _, s := range tl.Slots {
		if s.Pending > 0 {
			pending = append(pending, s)
		}
	}
	stamp := now.In(loc).Format(localLayout)
	// Invitation waves are worked out first, so that a run with nothing
	// new connects to no server.
	var invites []plannedInvites
	for _, w := range inviteDue {
		pi, err := e.planInvites(p, o.source, via, w, l)
		if err != nil {
			return err
		}
		if pi.line != "" {
			fmt.Fprintf(e.stdout, "nudge run %s: wave %s: %s\n", stamp, w.ID, pi.line)
			continue
		}
		invites = append(invites, pi)
	}
	switch {
	case len(pending) == 0 && len(invites) == 0:
		fmt.Fprintf(e.stdout, "nudge run %s: nothing to send (due waves done: %s)\n", stamp, strings.Join(waveIDs(due), ", "))
		return nil
	case tl.PerDay > 0 && tl.LeftToday == 0 && len(pending) > 0:
		// Invitations would meet the same full mailboxes.
		fmt.Fprintf(e.stdout, "nudge run %s: daily cap reached; %d pending in %s go from %s\n", stamp, sumPending(pending), strings.Join(slotIDs(pending), ", "), pending[0].Start.In(loc).Format(localLayout))
		return nil
	}

	rt, err := e.liveRoute(p, via)
	if err != nil {
		return err
	}
	defer rt.close()
	if err := rt.check(e.ctx); err != nil {
		return err
	}
	// sendWave's own report (counts, ETA, the workbook's path) is for a
	// person at a terminal; run prints one line per wave instead.
	quiet := *e
	quiet.stdout = io.Discard
	for _, s := range pending {
		w, _ := p.c.Wave(s.ID)
		if s.Recipients != nil && !s.Due {
			fmt.Fprintf(e.stdout, "nudge run %s: wave %s: %s\n", stamp, w.ID, notDueLine(s, loc))
			continue
		}
		so := &sendOptions{source: o.source, via: via, yes: true}
		if timed(p.c) {
			if so.due, err = e.dueFilter(p, w, l, now); err != nil {
				return err
			}
		}
		var out waveOutcome
		err := sendWave(&quiet, p, w, so, rt, l, "run", &out)
		fmt.Fprintf(e.stdout, "nudge run %s: wave %s: %s\n", stamp, w.ID, outcomeLine(out, loc))
		if err != nil {
			return err
		}
		if out.rep.StoppedAtQuota {
			return nil // the mailboxes are full: later waves wait too
		}
	}
	// Invitation waves: everyone in the audiences not invited yet, and
	// the updates and cancellations nudge sessions reschedule|cancel made.
	for _, pi := range invites {
		// The plan made before connecting: the ledger's invitations
		// cannot have changed since, as run holds the lock.
		so := &sendOptions{source: o.source, via: via, yes: true, allChanges: true}
		var out inviteOutcome
		err := sendInvitesWith(&quiet, p, &pi.wave, so, rt, l, pi.plan, &out)
		fmt.Fprintf(e.stdout, "nudge run %s: wave %s: %s\n", stamp, pi.wave.ID, inviteLine(out, loc))
		if err != nil {
			return err
		}
		if out.rep.StoppedAtQuota {
			return nil
		}
	}
	return nil
}

// plannedInvites is a due invitation wave as run first sees it: what it
// would send, or, in line, why it sends nothing now.
type plannedInvites struct {
	wave campaign.Wave
	plan *invitePlan
	line string
}

// planInvites works out what run would send for invitation wave w now,
// without sending (l may be nil: nothing was ever sent).
func (e *env) planInvites(p *project, source, via string, w campaign.Wave, l *ledger.Ledger) (plannedInvites, error) {
	pi := plannedInvites{wave: w}
	st := &ledger.InviteState{}
	if l != nil {
		var err error
		if st, err = l.Invites(e.ctx, w.ID); err != nil {
			return pi, err
		}
	}
	// Its report on stdout is for a person at a terminal; run prints
	// one line.
	quiet := *e
	quiet.stdout = io.Discard
	plan, err := quiet.planInviteWave(p, &w, &sendOptions{source: source, via: via, allChanges: true}, st)
	if err != nil {
		return pi, err
	}
	pi.plan = plan
	if len(plan.chosen) == 0 {
		pi.line = "nothing to send (everyone is invited and no session changed)"
		if plan.started > 0 {
			pi.line = fmt.Sprintf("nothing to send (%d changes concern sessions that have started: not sent)", plan.started)
		}
	}
	return pi, nil
}

// splitInvites separates the invitation waves (sessions: true) from the
// mail waves: the ledger keeps them apart, and the timeline knows only
// mail.
func splitInvites(due []campaign.Wave) (mail, invites []campaign.Wave) {
	for _, w := range due {
		if w.Sessions {
			invites = append(invites, w)
		} else {
			mail = append(mail, w)
		}
	}
	return mail, invites
}

// inviteLine is an invitation wave's summary for the log.
func inviteLine(out inviteOutcome, loc *time.Location) string {
	n := out.kinds[invite.Invite] + out.kinds[invite.Update] + out.kinds[invite.Cancel]
	if n == 0 {
		return "nothing to send (everyone is invited and no session changed)"
	}
	r := out.rep
	s := fmt.Sprintf("%d calendar messages (%d invitations, %d updates, %d cancellations): %d sent, %d failed, %d unknown, %d deferred",
		n, out.kinds[invite.Invite], out.kinds[invite.Update], out.kinds[invite.Cancel], r.Sent, len(r.Failed), len(r.Unknown), len(r.Deferred))
	if out.started > 0 {
		s += fmt.Sprintf("; %d changes concern sessions that have started: not sent", out.started)
	}
	if r.StoppedAtQuota {
		s += fmt.Sprintf("; daily cap reached, the next run after %s carries on", r.ResumeAt.In(loc).Format(localLayout))
	}
	return s
}

// outcomeLine is a wave's summary for the log.
func outcomeLine(out waveOutcome, loc *time.Location) string {
	r := out.rep
	left := out.toSend - r.Sent - len(r.Failed) - len(r.Unknown) - r.Skipped
	s := fmt.Sprintf("%d sent, %d failed, %d unknown, %d still pending", r.Sent, len(r.Failed), len(r.Unknown), left)
	if out.noLonger > 0 {
		s += fmt.Sprintf(", %d skipped (no longer in the audience)", out.noLonger)
	}
	if out.notDue > 0 {
		s += fmt.Sprintf(", %d not due yet (window, after: or skip:)", out.notDue)
	}
	if r.StoppedAtQuota {
		s += fmt.Sprintf("; daily cap reached, the next run after %s carries on", r.ResumeAt.In(loc).Format(localLayout))
	}
	return s
}

// runDry says what run would send now, from the ledger as it is; it opens
// no lock and writes nothing.
func runDry(e *env, p *project, o *runOptions, via string, due []campaign.Wave) error {
	l, err := e.openLedgerIfAny(p)
	if err != nil {
		return err
	}
	if l != nil {
		defer l.Close()
	}
	mailDue, inviteDue := splitInvites(due)
	tl, err := e.timeline(p, o.source, l, mailDue)
	if err != nil {
		return err
	}
	loc := campaignZone(p.c)
	stamp := tl.Now.In(loc).Format(localLayout)
	budget := tl.LeftToday
	for _, s := range tl.Slots {
		n := s.Pending
		if s.Recipients != nil {
			n = s.DueNow // the others wait for their window or after:
		}
		if tl.PerDay > 0 {
			n = min(n, budget)
			budget -= n
		}
		line := fmt.Sprintf("would send %d now by %s (%d in the audiences, %d sent, %d pending)", n, via, s.People, s.Sent, s.Pending)
		if !s.ETA.IsZero() {
			line += fmt.Sprintf(", last by %s", s.ETA.In(loc).Format(localLayout))
		}
		fmt.Fprintf(e.stdout, "nudge run %s: dry run: wave %s: %s\n", stamp, s.ID, line)
	}
	for _, w := range inviteDue {
		pi, err := e.planInvites(p, o.source, via, w, l)
		if err != nil {
			return err
		}
		if pi.line != "" {
			fmt.Fprintf(e.stdout, "nudge run %s: dry run: wave %s: %s\n", stamp, w.ID, pi.line)
			continue
		}
		k := pi.plan.kinds
		fmt.Fprintf(e.stdout, "nudge run %s: dry run: wave %s: would send %d calendar messages now by %s (%d invitations, %d updates, %d cancellations)\n",
			stamp, w.ID, k[invite.Invite]+k[invite.Update]+k[invite.Cancel], via, k[invite.Invite], k[invite.Update], k[invite.Cancel])
	}
	fmt.Fprintf(e.stdout, "nudge run %s: dry run: nothing was sent or recorded\n", stamp)
	return nil
}

// staleLock is the age past which a run lock is reported as an error
// rather than waited out: a send stops at the daily cap, and at Exchange's
// pace a day's cap takes hours, so a lock this old is a crash on a host or
// in a way nudge cannot detect by itself.
const staleLock = 24 * time.Hour

// lockAge is how long ago the run lock next to dbPath was taken, from the
// start time the ledger writes in it; 0 when that cannot be read.
func (e *env) lockAge(dbPath string) time.Duration {
	data, err := os.ReadFile(dbPath + ".lock")
	if err != nil {
		return 0
	}
	var info struct {
		Started time.Time `json:"started"`
	}
	if json.Unmarshal(data, &info) != nil || info.Started.IsZero() {
		return 0
	}
	return e.now().Sub(info.Started)
}

// openLocked opens the ledger with the run lock, trying again for up to
// wait while another nudge holds it.
func (e *env) openLocked(path string, wait time.Duration) (*ledger.Ledger, error) {
	deadline := time.Now().Add(wait)
	for {
		l, err := ledger.Open(e.ctx, path, ledger.Options{Lock: true, Now: e.now})
		if !errors.Is(err, ledger.ErrBusy) || !time.Now().Before(deadline) {
			return l, err
		}
		select {
		case <-e.ctx.Done():
			return nil, err
		case <-time.After(min(500*time.Millisecond, time.Until(deadline))):
		}
	}
}

func waveIDs(ws []campaign.Wave) []string {
	ids := make([]string, len(ws))
	for i, w := range ws {
		ids[i] = w.ID
	}
	return ids
}

func slotIDs(ss []schedule.Slot) []string {
	ids := make([]string, len(ss))
	for i, s := range ss {
		ids[i] = s.ID
	}
	return ids
}

func sumPending(ss []schedule.Slot) int {
	n := 0
	for _, s := range ss {
		n += s.Pending
	}
	return n
}

// timed reports whether any wave has after:, window: or skip:, which make
// due a per-person question.
func timed(c *campaign.Campaign) bool {
	for _, w := range c.Waves {
		t := &w.Timing
		if t.After != "" || t.Windowed || len(t.Skip) > 0 {
			return true
		}
	}
	return false
}

// dueFilter says, per person, whether w is due at now: inside the window in
// their zone (the same resolution invitations use), not on a skipped date,
// and, with after:, the earlier wave sent to them at least the offset ago
// (the ledger's sent_at). Audience and already-sent are sendWave's part.
func (e *env) dueFilter(p *project, w *campaign.Wave, l *ledger.Ledger, now time.Time) (func(*directory.Person) bool, error) {
	prev := map[string]time.Time{}
	if w.Timing.After != "" {
		err := l.EachSend(e.ctx, w.Timing.After, func(s ledger.Send) error {
			if s.Status == ledger.StatusSent && !s.SentAt.IsZero() {
				prev[s.PersonID] = s.SentAt
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	zones := invite.NewZones(p.c)
	return func(person *directory.Person) bool {
		zone, _ := zones.Resolve(person)
		return schedule.Due(&w.Timing, w.SendTime, now, prev[person.ID], zone)
	}, nil
}

// notDueLine is the log line of a wave with people pending, none due now.
func notDueLine(s schedule.Slot, loc *time.Location) string {
	line := fmt.Sprintf("%d pending, none due now", s.Pending)
	if !s.Start.IsZero() {
		line += fmt.Sprintf(" (next at %s)", s.Start.In(loc).Format(localLayout))
	}
	if s.Waiting > 0 {
		line += fmt.Sprintf("; %d wait for wave %s to reach them", s.Waiting, s.Timing.After)
	}
	return line
}
