package main

// Invitations, once each, and then only what changed. A wave with
// sessions: true sends each person assigned a Q&A session one email that
// carries the calendar REQUEST for it. Plain `send` sends first
// invitations only: to people the ledger has no invitation for, so people
// added later are invited and nobody already invited is moved. `send
// --updates` sends only what changed since (invite.Plan): a REQUEST with
// SEQUENCE one higher for a session that moved, a CANCEL for a cancelled
// one, and the invitation to the session that replaces it. Each message
// is recorded in the ledger before it goes and after the server took it
// (ledger/invites.go), so a rerun without changes sends nothing and a run
// that stopped part-way never sends a message twice unless asked.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/nudge-passkeys/nudge/internal/campaign"
	"github.com/nudge-passkeys/nudge/internal/deliver"
	"github.com/nudge-passkeys/nudge/internal/deliver/outbox"
	"github.com/nudge-passkeys/nudge/internal/ical"
	"github.com/nudge-passkeys/nudge/internal/invite"
	"github.com/nudge-passkeys/nudge/internal/ledger"
	"github.com/nudge-passkeys/nudge/internal/render"
)

// sendInvites is `nudge send WAVE` for a wave with sessions: true.
func sendInvites(e *env, p *project, w *campaign.Wave, o *sendOptions) error {
	// Everything that can be refused is refused before any I/O.
	if o.redirectTo != "" {
		return withHint(usageError("--redirect-to: wave %s sends calendar invitations, which would land in the proof address's calendar", w.ID),
			"look at them with nudge send %s --via outbox, or nudge sessions --ics", w.ID)
	}
	if err := jsonCannotInvite(p, w, o.via); err != nil {
		return err
	}
	// A session in the past before anyone was invited is a mistake to
	// fix first; once invitations have gone, sessions passing is the
	// campaign going on, and sendInvitesWith leaves started ones alone.
	if past := p.c.PastSessions(e.now()); len(past) > 0 && !e.anyInvited(p, w.ID) {
		msgs := make([]string, len(past))
		for i, pr := range past {
			msgs[i] = pr.String()
		}
		return withHint(errors.New(strings.Join(msgs, "\n")), "nothing was sent; nudge sessions reschedule ID --start … or nudge sessions cancel ID")
	}

	var (
		rt *route
		l  *ledger.Ledger
		st = &ledger.InviteState{}
	)
	if o.via == "outbox" {
		// The dry run reads what was sent, if anything, and records nothing.
		var err error
		if st, err = e.readInvites(p, w.ID); err != nil {
			return err
		}
	} else {
		if err := e.canConfirm(o); err != nil {
			return err
		}
		var err error
		if o.via == "graph" {
			rt, err = e.graphRoute(p)
		} else {
			rt, err = e.smtpRoute(p)
		}
		if err != nil {
			return err
		}
		defer rt.close()
		if err := rt.check(e.ctx); err != nil {
			return err
		}
		if err := os.MkdirAll(e.campaignDir(p), 0o755); err != nil {
			return err
		}
		l, err = ledger.Open(e.ctx, filepath.Join(e.campaignDir(p), "nudge.db"), ledger.Options{Lock: true, Now: e.now})
		if errors.Is(err, ledger.ErrBusy) {
			return withHint(err, "another nudge send or run is using this campaign; wait for it to finish")
		}
		if err != nil {
			return err
		}
		defer l.Close()
		// With the lock held, what a run that stopped left sending is
		// unknown, as nudge send and nudge run record it.
		if err := e.recoverInterrupted(l); err != nil {
			return err
		}
		if st, err = l.Invites(e.ctx, w.ID); err != nil {
			return err
		}
	}
	plan, err := e.planInviteWave(p, w, o, st)
	if err != nil {
		return err
	}
	return sendInvitesWith(e, p, w, o, rt, l, plan, nil)
}

// anyInvited reports whether the ledger holds any invitation of wave,
// sent or of unknown fate (false when it cannot be read).
func (e *env) anyInvited(p *project, wave string) bool {
	st, err := e.readInvites(p, wave)
	return err == nil && (len(st.Sent) > 0 || len(st.Unknown) > 0)
}

// jsonCannotInvite refuses invitations by Graph's JSON sendMail, which
// cannot carry a calendar part: they would arrive as plain mail and be
// recorded as sent.
func jsonCannotInvite(p *project, w *campaign.Wave, via string) error {
	if via == "graph" && p.c.GraphMail.Format == "json" {
		return withHint(fmt.Errorf("wave %s sends calendar invitations, but %s sets graph_mail.format: json, which cannot carry a calendar part", w.ID, p.c.File),
			"set graph_mail.format: mime (the default), or send this wave with --via smtp")
	}
	return nil
}

// invitePlan is what an invitation wave would send now: the calendar
// messages chosen (per sendOptions), by kind, and the assignment they
// come from.
type invitePlan struct {
	a      *assignment
	chosen []invite.Action
	kinds  map[invite.Kind]int
	// started counts changes left out because their session has started.
	started int
}

// inviteOutcome is what sendInvitesWith did, for nudge run's log line.
type inviteOutcome struct {
	kinds   map[invite.Kind]int // chosen to send, by kind
	started int                 // see invitePlan
	rep     deliver.Report
}

// planInviteWave works out wave w's invitations, updates and
// cancellations (per o) from the state st the ledger holds, and says on
// stdout what it chose and why others wait, on stderr who fits no session.
// It sends nothing: nudge run plans first and connects only when there is
// something to send.
func (e *env) planInviteWave(p *project, w *campaign.Wave, o *sendOptions, st *ledger.InviteState) (*invitePlan, error) {
	if err := jsonCannotInvite(p, w, o.via); err != nil {
		return nil, err
	}
	sent := inviteSentMap(st)

	a, err := e.assign(p, o.source, w.ID, sent)
	if err != nil {
		return nil, err
	}
	acts, orphans := invite.Plan(append(a.people, a.invited...), a.sessions, a.result, sent)
	only := map[string]bool{}
	for _, s := range o.only {
		only[strings.ToLower(strings.TrimSpace(s))] = true
	}
	var (
		chosen                    []invite.Action
		waiting, limited, unknown int
		started                   int
		kinds                     = map[invite.Kind]int{}
	)
	now := e.now()
	for _, act := range acts {
		id := act.Person.ID
		if act.Session.Start.Before(now) {
			// A session under way or over is history: nobody new is
			// given one (invite.Assign), and nothing about it is sent.
			started++
			continue
		}
		if _, ok := st.Unknown[id]; ok && !o.retryUnknown {
			unknown++
			continue
		}
		_, was := sent[id]
		if first := act.Kind == invite.Invite && !was; first == o.updates && !o.allChanges {
			waiting++
			continue
		}
		if len(only) > 0 && !only[strings.ToLower(a.upn[id])] && !only[strings.ToLower(act.Person.Email)] {
			continue
		}
		if o.limit > 0 && len(chosen) >= o.limit {
			limited++
			continue
		}
		chosen = append(chosen, act)
		kinds[act.Kind]++
	}

	fmt.Fprintf(e.stdout, "wave %s: %d to send now (%d invitations, %d updates, %d cancellations)", w.ID, len(chosen), kinds[invite.Invite], kinds[invite.Update], kinds[invite.Cancel])
	if len(sent) > 0 {
		fmt.Fprintf(e.stdout, ", %d already invited", len(sent))
	}
	fmt.Fprintln(e.stdout)
	if started > 0 {
		fmt.Fprintf(e.stdout, "%d changes concern sessions that have started: not sent\n", started)
	}
	if waiting > 0 {
		if o.updates {
			fmt.Fprintf(e.stdout, "%d not sent by --updates: people not invited yet (nudge send %s)\n", waiting, w.ID)
		} else {
			fmt.Fprintf(e.stdout, "%d changed invitations not sent: send them with nudge send %s --updates\n", waiting, w.ID)
		}
	}
	if limited > 0 {
		fmt.Fprintf(e.stdout, "--limit %d: %d more for the next run\n", o.limit, limited)
	}
	if unknown > 0 {
		fmt.Fprintf(e.stdout, "%d unknown: an earlier run stopped while sending to them; not sent again (--retry-unknown)\n", unknown)
	}
	if n := len(a.result.Left); n > 0 {
		fmt.Fprintf(e.stderr, "nudge: %s fit no session (nudge sessions --wave %s lists them and why)\n", people(n), w.ID)
	}
	for _, or := range orphans {
		fmt.Fprintf(e.stderr, "nudge: %s: invited to session %q, which is no longer in %s: mark it cancelled: true instead of deleting it, so a cancellation can be sent\n",
			a.who(&invite.Person{ID: or.PersonID}), or.Sent.Session, p.c.File)
	}
	return &invitePlan{a: a, chosen: chosen, kinds: kinds, started: started}, nil
}

// sendInvitesWith sends what plan chose through rt, recording it in l;
// with o.via outbox, rt and l are nil and it writes the outbox. nudge run
// calls it with its own route and locked ledger, and o.allChanges.
func sendInvitesWith(e *env, p *project, w *campaign.Wave, o *sendOptions, rt *route, l *ledger.Ledger, plan *invitePlan, out *inviteOutcome) error {
	if out == nil {
		out = &inviteOutcome{}
	}
	a, chosen := plan.a, plan.chosen
	out.kinds, out.started = plan.kinds, plan.started
	sender := invite.Sender{
		Campaign:  p.c.ID,
		Organizer: ical.Address{Name: p.c.Sender.Name, Email: p.c.Sender.Address},
		Stamp:     e.now().UTC(),
	}
	if o.via == "outbox" {
		return e.inviteOutbox(p, w, a, sender, chosen)
	}
	if len(chosen) == 0 {
		fmt.Fprintln(e.stdout, "nothing to send")
		return nil
	}
	if err := e.confirm(o, fmt.Sprintf("Send %d calendar messages of wave %s now?", len(chosen), w.ID)); err != nil {
		return err
	}

	// The mailboxes' 24-hour caps count what every wave sent.
	var err error
	for i := range rt.boxes {
		if rt.boxes[i].History, err = l.SentSince(e.ctx, rt.boxes[i].Address, e.now().Add(-24*time.Hour)); err != nil {
			return err
		}
	}
	command := "send"
	if o.allChanges {
		command = "run"
	}
	runID, err := l.StartRun(e.ctx, ledger.Run{Command: command, Via: rt.via, Waves: []string{w.ID}})
	if err != nil {
		return err
	}
	j := &inviteJournal{l: l, run: runID, retryUnknown: o.retryUnknown, jobs: map[string]inviteJob{}}
	var jobs []deliver.Job
	for _, act := range chosen {
		key := strings.Join([]string{w.ID, act.Person.ID, act.Session.ID, strconv.Itoa(act.Sequence)}, "/")
		j.jobs[key] = inviteJob{
			key: ledger.Key{Wave: w.ID, PersonID: act.Person.ID},
			inv: ledger.Invite{Session: act.Session.ID, Sequence: act.Sequence, Fingerprint: act.Fingerprint, Cancelled: act.Kind == invite.Cancel},
		}
		jobs = append(jobs, deliver.Job{Key: key, Message: func() (*deliver.Message, error) {
			return e.inviteMessage(p, w, a, sender, act, e.now())
		}})
	}
	progress, progressDone := e.sendMeter("wave "+w.ID, len(jobs))
	eng := &deliver.Engine{
		Mailboxes: rt.boxes,
		Total:     len(jobs),
		Journal:   j,
		Clock:     e.deliverClock(),
		Progress:  progress,
		Log:       e.log,
	}
	rep, runErr := eng.Run(e.ctx, func(yield func(deliver.Job) bool) {
		for _, job := range jobs {
			if !yield(job) {
				return
			}
		}
	})
	progressDone()
	out.rep = rep
	counts := ledger.RunCounts{Planned: len(jobs), Sent: rep.Sent, Failed: len(rep.Failed), Retried: len(rep.Deferred), Unknown: len(rep.Unknown)}
	if err := l.FinishRun(e.ctx, runID, e.now(), counts); err != nil && runErr == nil {
		runErr = err
	}
	fmt.Fprintf(e.stdout, "wave %s: %d sent, %d failed, %d deferred (sent on the next run)\n", w.ID, rep.Sent, len(rep.Failed), len(rep.Deferred))
	if n := len(rep.Unknown); n > 0 {
		fmt.Fprintf(e.stdout, "%d unknown: the connection dropped before the server answered; they may have arrived and are not resent (--retry-unknown)\n", n)
	}
	if len(rep.Failed) > 0 {
		// By person, as nudge status names them; a refused message is
		// tried again by the next run.
		type failure struct{ who, session, reason string }
		var fs []failure
		for k, err := range rep.Failed {
			jb := j.jobs[k]
			fs = append(fs, failure{a.who(&invite.Person{ID: jb.key.PersonID}), jb.inv.Session, err.Error()})
		}
		sort.Slice(fs, func(i, k int) bool {
			return fs[i].who < fs[k].who || fs[i].who == fs[k].who && fs[i].session < fs[k].session
		})
		tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "NOT SENT\tSESSION\tREASON (tried again by the next run)")
		for _, f := range fs {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", f.who, f.session, f.reason)
		}
		tw.Flush()
	}
	if rep.StoppedAtQuota {
		fmt.Fprintf(e.stdout, "daily cap reached: run nudge send %s%s again after %s for the rest\n", w.ID, map[bool]string{true: " --updates"}[o.updates], rep.ResumeAt.Local().Format("Mon 2 Jan 15:04 MST"))
	}
	if runErr != nil {
		if o.allChanges {
			return withHint(runErr, "what was sent is recorded; the next nudge run carries on")
		}
		return withHint(runErr, "what was sent is recorded; run nudge send %s again to carry on", w.ID)
	}
	return nil
}

// invitesSent is what the ledger says was sent for wave, when it is an
// invite wave and the ledger exists; nil otherwise. It opens the ledger
// without the run lock, for reading, so a send may be running.
func (e *env) invitesSent(p *project, wave string) (map[string]invite.Sent, error) {
	if w, ok := p.c.Wave(wave); !ok || !w.Sessions {
		return nil, nil
	}
	st, err := e.readInvites(p, wave)
	if err != nil {
		return nil, err
	}
	return inviteSentMap(st), nil
}

// readInvites reads wave's invitations from the ledger, if there is one.
func (e *env) readInvites(p *project, wave string) (*ledger.InviteState, error) {
	dbPath := filepath.Join(e.campaignDir(p), "nudge.db")
	if _, err := os.Stat(dbPath); err != nil {
		return &ledger.InviteState{}, nil
	}
	l, err := ledger.Open(e.ctx, dbPath, ledger.Options{Now: e.now})
	if err != nil {
		return nil, err
	}
	defer l.Close()
	return l.Invites(e.ctx, wave)
}

// inviteSentMap is the ledger's invitations as invite.Plan takes them.
func inviteSentMap(st *ledger.InviteState) map[string]invite.Sent {
	sent := make(map[string]invite.Sent, len(st.Sent))
	for id, s := range st.Sent {
		sent[id] = invite.Sent{Session: s.Session, Sequence: s.Sequence, Fingerprint: s.Fingerprint, Cancelled: s.Cancelled, Sequences: st.Sequences[id]}
	}
	return sent
}

// inviteMessage renders the wave's template for act's person and session
// and adds the calendar object.
func (e *env) inviteMessage(p *project, w *campaign.Wave, a *assignment, sender invite.Sender, act invite.Action, now time.Time) (*deliver.Message, error) {
	person := a.dir[act.Person.ID]
	s := act.Session
	ctx := render.Context{WaveID: w.ID, WaveName: w.Name, Audience: a.audience[person.ID], Session: act.View()}
	doc, err := p.engine.Email(w.Template, person, ctx)
	if err != nil {
		return nil, fmt.Errorf("wave %q: %w", w.ID, err)
	}
	m := compose(p.c, w, person, doc, now)
	// One Message-ID per calendar message, not per person: an update is a
	// new message.
	m.ID = deliver.MessageID(deliver.Domain(p.c.Sender.Address), p.c.ID, w.ID, person.ID, s.ID, strconv.Itoa(act.Sequence), string(act.Kind))
	if m.Calendar, err = invite.Message(sender.Calendar(act)); err != nil {
		return nil, fmt.Errorf("wave %q: session %s: %w", w.ID, s.ID, err)
	}
	return m, nil
}

// inviteOutbox is the dry run of an invite wave: the messages as files
// under outbox/<wave>/<session>/, nothing recorded.
func (e *env) inviteOutbox(p *project, w *campaign.Wave, a *assignment, sender invite.Sender, acts []invite.Action) error {
	dir, stage, err := e.stageOutbox(p, w)
	if err != nil {
		return err
	}
	defer os.RemoveAll(stage)
	now := e.now()
	for _, act := range acts {
		// By session: a person can get a cancellation and a new invitation.
		sub := filepath.Join(stage, act.Session.ID)
		if err := os.MkdirAll(sub, 0o755); err != nil {
			return err
		}
		m, err := e.inviteMessage(p, w, a, sender, act, now)
		if err != nil {
			return err
		}
		if _, err := (&outbox.Outbox{Dir: sub, InPlace: true}).Write(m); err != nil {
			return err
		}
	}
	if err := replaceDir(stage, dir); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "dry run: %d messages of wave %s written to %s; nothing was sent or recorded\n", len(acts), w.ID, dir)
	return nil
}

// inviteJob is what the journal records for one calendar message.
type inviteJob struct {
	key ledger.Key
	inv ledger.Invite
}

// inviteJournal records the engine's progress in the ledger's invites.
type inviteJournal struct {
	l            *ledger.Ledger
	run          int64
	retryUnknown bool
	jobs         map[string]inviteJob // written before the engine starts
}

var _ deliver.Journal = (*inviteJournal)(nil)

func (j *inviteJournal) Sending(ctx context.Context, key, messageID, mailbox string, at time.Time) error {
	jb := j.jobs[key]
	err := j.l.BeginInvite(ctx, jb.key, jb.inv, ledger.Claim{Run: j.run, MessageID: messageID, Sender: mailbox, At: at, RetryUnknown: j.retryUnknown})
	if errors.Is(err, ledger.ErrNotPending) {
		return fmt.Errorf("%w: %w", deliver.ErrNotPending, err)
	}
	return err
}

func (j *inviteJournal) Sent(ctx context.Context, key string, at time.Time) error {
	jb := j.jobs[key]
	return j.l.InviteSent(ctx, jb.key, jb.inv, at)
}

// Retry and Failed forget the claim: nothing reached a server, so the next
// run sends the message (a permanent failure is reported each time).
func (j *inviteJournal) Retry(ctx context.Context, key string, _ time.Time, _ error) error {
	return j.drop(ctx, key)
}

func (j *inviteJournal) Failed(ctx context.Context, key string, _ time.Time, _ error) error {
	return j.drop(ctx, key)
}

func (j *inviteJournal) drop(ctx context.Context, key string) error {
	jb := j.jobs[key]
	if err := j.l.DropInvite(ctx, jb.key, jb.inv); err != nil && !errors.Is(err, ledger.ErrNotSending) {
		return err
	}
	return nil
}

// Unknown leaves the claim: the next run reports it and does not resend.
func (j *inviteJournal) Unknown(context.Context, string, time.Time, error) error { return nil }
