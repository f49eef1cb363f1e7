package main

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/nudge-passkeys/nudge/internal/campaign"
	"github.com/nudge-passkeys/nudge/internal/deliver"
	"github.com/nudge-passkeys/nudge/internal/directory"
	"github.com/nudge-passkeys/nudge/internal/ledger"
)

// planBatch is how many recipients go into the ledger per transaction.
const planBatch = 2000

// route is a way of delivering for real: its mailboxes, how to name it,
// and how to find a configuration or network problem before anything is
// recorded.
type route struct {
	via   ledger.Via
	name  string // "smtp smtp.office365.com:587", "Microsoft Graph sendMail"
	boxes []deliver.Mailbox
	check func(context.Context) error
	close func()
}

// smtpRoute sends through the campaign's smtp: relay.
func (e *env) smtpRoute(p *project) (*route, error) {
	boxes, closeBoxes, err := e.smtpMailboxes(p)
	if err != nil {
		return nil, err
	}
	return &route{
		via:   ledger.ViaSMTP,
		name:  fmt.Sprintf("smtp %s:%d", p.c.SMTP.Host, p.c.SMTP.Port),
		boxes: boxes,
		close: closeBoxes,
		check: func(ctx context.Context) error {
			for _, b := range boxes {
				if c, ok := b.Sender.(interface{ Check(context.Context) error }); ok {
					if err := c.Check(ctx); err != nil {
						return withHint(fmt.Errorf("smtp %s:%d: %w", p.c.SMTP.Host, p.c.SMTP.Port, err), "nothing was sent or recorded; check smtp: in %s and that the server is reachable from here", p.c.File)
					}
				}
			}
			return nil
		},
	}, nil
}

// sendLive is the real send, by SMTP or Graph: plan every recipient in the
// ledger, then hand the pending ones to the delivery engine, which paces,
// retries and records each message before and after the server takes it.
func sendLive(e *env, p *project, w *campaign.Wave, o *sendOptions) error {
	if err := e.canConfirm(o); err != nil {
		return err
	}
	rt, err := e.liveRoute(p, o.via)
	if err != nil {
		return err
	}
	defer rt.close()
	boxes := rt.boxes
	// An unreachable or misconfigured server, or a credential that does
	// not work, is found before anything is recorded.
	if err := rt.check(e.ctx); err != nil {
		return err
	}
	if o.redirectTo != "" {
		return sendProofs(e, p, w, o, boxes)
	}

	if err := os.MkdirAll(e.campaignDir(p), 0o755); err != nil {
		return err
	}
	dbPath := filepath.Join(e.campaignDir(p), "nudge.db")
	l, err := ledger.Open(e.ctx, dbPath, ledger.Options{Lock: true, Now: e.now})
	if errors.Is(err, ledger.ErrBusy) {
		return withHint(err, "another nudge send or run is using this campaign; wait for it to finish")
	}
	if err != nil {
		return err
	}
	defer l.Close()
	if err := e.recoverInterrupted(l); err != nil {
		return err
	}
	return sendWave(e, p, w, o, rt, l, "send", nil)
}

// liveRoute is the route for --via smtp or graph.
func (e *env) liveRoute(p *project, via string) (*route, error) {
	if via == "graph" {
		return e.graphRoute(p)
	}
	return e.smtpRoute(p)
}

// recoverInterrupted marks what an earlier run left sending as unknown and
// says so; the caller holds the run lock.
func (e *env) recoverInterrupted(l *ledger.Ledger) error {
	n, err := l.RecoverInterrupted(e.ctx)
	if n > 0 {
		fmt.Fprintf(e.stderr, "nudge: %d messages were being sent when an earlier run stopped: their state is unknown (see nudge status; nudge send --retry-unknown sends them again)\n", n)
	}
	return err
}

// waveOutcome is what sendWave did to a wave, for nudge run's one line per
// wave.
type waveOutcome struct {
	toSend, noLonger int
	notDue           int // in the audiences and pending, but not due now
	rep              deliver.Report
}

// sendWave sends one wave through rt and records it in l, which the caller
// has opened with the run lock and recovered: nudge send does that for one
// wave, nudge run once for every wave that is due. command names the run
// in the ledger; out, when not nil, is told what was done.
func sendWave(e *env, p *project, w *campaign.Wave, o *sendOptions, rt *route, l *ledger.Ledger, command string, out *waveOutcome) error {
	if out == nil {
		out = &waveOutcome{}
	}
	boxes := rt.boxes
	runID, err := l.StartRun(e.ctx, ledger.Run{Command: command, Via: rt.via, Waves: []string{w.ID}})
	if err != nil {
		return err
	}
	// Every way out closes the run's record; the normal end does it with
	// the counts.
	finished := false
	finish := func(c ledger.RunCounts) error {
		finished = true
		return l.FinishRun(context.WithoutCancel(e.ctx), runID, e.now(), c)
	}
	defer func() {
		if !finished {
			_ = finish(ledger.RunCounts{})
		}
	}()

	// Pass 1: plan everyone the wave goes to now; note who is to be sent.
	var (
		toSend    = newIDSet()
		planned   = newIDSet()
		already   = map[ledger.Status]int{}
		skipped   []string
		batch     []ledger.Recipient
		limitHit  bool
		flushPlan = func() error {
			if len(batch) == 0 {
				return nil
			}
			st, err := l.Plan(e.ctx, runID, batch)
			if err != nil {
				return err
			}
			for _, r := range batch {
				s := st[r.Key]
				switch {
				case s == ledger.StatusPending, s == ledger.StatusUnknown && o.retryUnknown:
					if o.limit > 0 && toSend.Len() >= o.limit {
						limitHit = true
						continue
					}
					toSend.Add(r.PersonID)
				default:
					already[s]++
				}
			}
			batch = batch[:0]
			return nil
		}
	)
	for t, err := range e.waveTargets(p, w, o, func(person *directory.Person, why string) {
		skipped = append(skipped, person.UserPrincipalName+": "+why)
	}) {
		if err != nil {
			return err
		}
		planned.Add(t.person.ID)
		if o.due != nil && !o.due(&t.person) {
			// Not yet (window, after:): planned, so not taken for gone,
			// but no ledger row until it is due.
			out.notDue++
			continue
		}
		batch = append(batch, ledger.Recipient{Key: ledger.Key{Wave: w.ID, PersonID: t.person.ID}, UPN: t.person.UserPrincipalName, Mail: t.person.Mail, Audience: t.audience, Locale: t.locale})
		if len(batch) >= planBatch {
			if err := flushPlan(); err != nil {
				return err
			}
		}
	}
	if err := flushPlan(); err != nil {
		return err
	}
	// Anyone still pending from an earlier run who is no longer in the
	// wave's audiences (registered a passkey since, left, excluded) is
	// skipped, not reminded. Only a full run knows who left.
	noLonger := 0
	if len(o.only) == 0 {
		var gone []ledger.Key
		err := l.EachSend(e.ctx, w.ID, func(s ledger.Send) error {
			if s.Status == ledger.StatusPending && !planned.Has(s.PersonID) {
				gone = append(gone, s.Key)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range gone {
			if err := l.MarkSkipped(e.ctx, k, e.now(), "no longer in the wave's audiences (registered a passkey, left or excluded since)"); err != nil && !errors.Is(err, ledger.ErrNotPending) {
				return err
			}
			noLonger++
		}
	}

	// Tell the truth about time before asking.
	now := e.now()
	var limits []deliver.Limits
	var histories [][]time.Time
	for i := range boxes {
		h, err := l.SentSince(e.ctx, boxes[i].Address, now.Add(-24*time.Hour))
		if err != nil {
			return err
		}
		boxes[i].History = h
		limits = append(limits, boxes[i].Limits)
		histories = append(histories, h)
	}
	eta := deliver.EstimateFinish(now, toSend.Len(), limits, histories)
	out.toSend, out.noLonger = toSend.Len(), noLonger
	fmt.Fprintf(e.stdout, "wave %s: %d to send now", w.ID, toSend.Len())
	for _, s := range []ledger.Status{ledger.StatusSent, ledger.StatusFailed, ledger.StatusUnknown, ledger.StatusSkipped, ledger.StatusSending} {
		if n := already[s]; n > 0 {
			fmt.Fprintf(e.stdout, ", %d already %s", n, s)
		}
	}
	if noLonger > 0 {
		fmt.Fprintf(e.stdout, ", %d skipped (no longer in the audience)", noLonger)
	}
	fmt.Fprintln(e.stdout)
	if limitHit {
		fmt.Fprintf(e.stdout, "--limit %d: the rest stays pending for the next run\n", o.limit)
	}
	printSkipped(e.stderr, skipped)
	if toSend.Len() == 0 {
		_ = finish(ledger.RunCounts{Skipped: noLonger})
		fmt.Fprintln(e.stdout, "nothing to send")
		return nil
	}
	perDay := 0
	for _, lim := range limits {
		perDay += lim.PerDay
	}
	fmt.Fprintf(e.stdout, "via %s from %d mailbox(es), at most %d a day: the last should go by %s (%s)\n",
		rt.name, len(boxes), perDay, eta.Local().Format("Mon 2 Jan 15:04 MST"), roundDuration(eta.Sub(now)))
	if perDay > 0 && toSend.Len() > perDay {
		fmt.Fprintf(e.stdout, "this wave is larger than a day's cap: it spreads over %d days (run send again each day, or schedule it); to go faster, add mailboxes under senders: or use Exchange's High Volume Email endpoint for internal mail\n", (toSend.Len()+perDay-1)/perDay)
	}
	if err := e.confirm(o, fmt.Sprintf("Send wave %s to %d people now?", w.ID, toSend.Len())); err != nil {
		return err
	}

	// Pass 2: stream the directory again and hand the pending people to the
	// engine, rendering each message just before it is sent.
	var readErr error
	jobs := func(yield func(deliver.Job) bool) {
		for t, err := range e.waveTargets(p, w, o, func(*directory.Person, string) {}) {
			if err != nil {
				readErr = err
				return
			}
			if !toSend.Has(t.person.ID) {
				continue
			}
			t := t
			job := deliver.Job{
				Key: ledger.Key{Wave: w.ID, PersonID: t.person.ID}.String(),
				Message: func() (*deliver.Message, error) {
					m, err := e.message(p, w, t, e.now(), "")
					if err == nil && rt.via == ledger.ViaSMTP {
						// Encoded here, ahead of its turn, not by the
						// goroutine that talks to the server.
						err = m.Encode()
					}
					return m, err
				},
			}
			if !yield(job) {
				return
			}
		}
	}
	progress, progressDone := e.sendMeter("wave "+w.ID, toSend.Len())
	eng := &deliver.Engine{
		Mailboxes: boxes,
		Total:     toSend.Len(),
		// Rendering is safe to run concurrently (the engine's templates
		// are compiled once, and a message shares nothing with another):
		// the next three messages are rendered on goroutines of their
		// own while one goes out and the ledger records the last. With
		// one, the sending goroutine waited for the render a third of the
		// time even on two cores; three keep it fed (BenchmarkSendWave:
		// 0.78–0.83 of the bare loop with one, 0.99–1.11 with three),
		// and hold four rendered messages, some 100 KB.
		RenderAhead: 3,
		Journal:     &journal{l: l, run: runID, retryUnknown: o.retryUnknown},
		Clock:       e.deliverClock(),
		Progress:    progress,
		Log:         e.log,
	}
	rep, runErr := eng.Run(e.ctx, jobs)
	progressDone()
	out.rep = rep
	if runErr == nil && readErr != nil {
		// The rest are still pending: a rerun carries on.
		runErr = fmt.Errorf("reading the directory again failed part-way: %w", readErr)
	}
	counts := ledger.RunCounts{Planned: toSend.Len(), Sent: rep.Sent, Failed: len(rep.Failed), Retried: len(rep.Deferred), Unknown: len(rep.Unknown), Skipped: noLonger}
	if err := finish(counts); err != nil && runErr == nil {
		runErr = err
	}
	fmt.Fprintf(e.stdout, "wave %s: %d sent, %d failed, %d deferred (temporary failures: sent on the next run)\n", w.ID, rep.Sent, len(rep.Failed), len(rep.Deferred))
	if rt.via == ledger.ViaGraph && rep.Sent > 0 {
		// Graph's 202 is acceptance, not delivery.
		fmt.Fprintf(e.stdout, "sent means Exchange accepted the message for delivery; a bounce, if any, comes to the sending mailbox\n")
	}
	if n := len(rep.Unknown); n > 0 {
		fmt.Fprintf(e.stdout, "%d unknown: the connection dropped before the server answered; they may have arrived and are not resent (nudge status; --retry-unknown)\n", n)
	}
	if len(rep.Failed) > 0 {
		keys := make([]string, 0, len(rep.Failed))
		for k := range rep.Failed {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "FAILED\tREASON")
		for _, k := range keys {
			fmt.Fprintf(tw, "%s\t%v\n", k, rep.Failed[k])
		}
		tw.Flush()
	}
	// The workbook follows every send, with adoption from fresh data,
	// unless the user keeps that for later (a large tenant's workbook
	// takes seconds and tens of MB).
	if o.noTrack {
		fmt.Fprintf(e.stdout, "tracking workbook not rewritten (--no-track): nudge track brings it up to date\n")
	} else if path, err := e.track(p, o.source, l, ""); err != nil {
		fmt.Fprintf(e.stderr, "nudge: the tracking workbook was not updated: %v\n", err)
	} else {
		fmt.Fprintf(e.stdout, "tracking workbook: %s\n", path)
	}
	if rep.StoppedAtQuota {
		fmt.Fprintf(e.stdout, "daily cap reached: the rest stays pending; run nudge send %s again after %s (or add sender mailboxes)\n", w.ID, rep.ResumeAt.Local().Format("Mon 2 Jan 15:04 MST"))
	}
	if runErr != nil {
		if e.ctx.Err() != nil {
			return fmt.Errorf("interrupted: %d sent before stopping; run nudge send %s again to carry on", rep.Sent, w.ID)
		}
		return withHint(runErr, "what was sent is recorded; nudge status %s shows where the wave stands", w.ID)
	}
	return nil
}

// deliverClock is the delivery engine's clock: the system clock, moved to
// NUDGE_NOW when that is set, so that the times the engine records and the
// 24-hour windows read from the ledger at e.now agree in a rehearsal.
func (e *env) deliverClock() deliver.Clock {
	offset := time.Until(e.now())
	if offset > -time.Second && offset < time.Second {
		return deliver.SystemClock{}
	}
	return shiftedClock{offset: offset}
}

// shiftedClock is the system clock moved by offset.
type shiftedClock struct{ offset time.Duration }

func (c shiftedClock) Now() time.Time { return time.Now().Add(c.offset) }

func (c shiftedClock) Sleep(ctx context.Context, d time.Duration) error {
	return deliver.SystemClock{}.Sleep(ctx, d)
}

// journal records the engine's progress in the ledger.
type journal struct {
	l            *ledger.Ledger
	run          int64
	retryUnknown bool
}

var _ deliver.Journal = (*journal)(nil)

func parseKey(key string) ledger.Key {
	wave, person, _ := strings.Cut(key, "/")
	return ledger.Key{Wave: wave, PersonID: person}
}

var _ deliver.BatchJournal = (*journal)(nil)

func (j *journal) Sending(ctx context.Context, key, messageID, mailbox string, at time.Time) error {
	return claimed(j.l.MarkSending(ctx, parseKey(key), j.claim(messageID, mailbox, at)))
}

func (j *journal) SentThenSending(ctx context.Context, sent []deliver.Accepted, key, messageID, mailbox string, at time.Time) error {
	acc := make([]ledger.Accepted, len(sent))
	for i, a := range sent {
		acc[i] = ledger.Accepted{Key: parseKey(a.Key), At: a.At}
	}
	return claimed(j.l.MarkSentThenSending(ctx, acc, parseKey(key), j.claim(messageID, mailbox, at)))
}

func (j *journal) claim(messageID, mailbox string, at time.Time) ledger.Claim {
	return ledger.Claim{Run: j.run, MessageID: messageID, Sender: mailbox, At: at, RetryUnknown: j.retryUnknown}
}

// claimed is a claim's error as the engine reads it: a row that was not
// pending is someone else's (another run has it), and the engine skips
// the job.
func claimed(err error) error {
	if errors.Is(err, ledger.ErrNotPending) {
		return fmt.Errorf("%w: %w", deliver.ErrNotPending, err)
	}
	return err
}

func (j *journal) Sent(ctx context.Context, key string, at time.Time) error {
	return j.l.MarkSent(ctx, parseKey(key), at)
}

func (j *journal) Retry(ctx context.Context, key string, at time.Time, err error) error {
	return j.l.MarkRetry(ctx, parseKey(key), at, err.Error(), replyCode(err))
}

func (j *journal) Unknown(ctx context.Context, key string, at time.Time, err error) error {
	return j.l.MarkUnknown(ctx, parseKey(key), at, err.Error(), replyCode(err))
}

func (j *journal) Failed(ctx context.Context, key string, at time.Time, err error) error {
	return j.l.MarkFailed(ctx, parseKey(key), at, err.Error(), replyCode(err))
}

// replyCode is the server's status for the ledger: the SMTP reply code or
// Graph's HTTP status.
func replyCode(err error) int {
	var se *deliver.SendError
	if errors.As(err, &se) {
		return se.Code
	}
	return 0
}

// sendProofs sends the wave to the proof address only; the ledger is not
// touched.
func sendProofs(e *env, p *project, w *campaign.Wave, o *sendOptions, boxes []deliver.Mailbox) error {
	var targets []*target
	for t, err := range e.waveTargets(p, w, o, func(*directory.Person, string) {}) {
		if err != nil {
			return err
		}
		if o.limit > 0 && len(targets) >= o.limit {
			break
		}
		targets = append(targets, t)
	}
	if err := e.confirm(o, fmt.Sprintf("Send %d proofs of wave %s to %s?", len(targets), w.ID, o.redirectTo)); err != nil {
		return err
	}
	jobs := iter.Seq[deliver.Job](func(yield func(deliver.Job) bool) {
		for i, t := range targets {
			t := t
			if !yield(deliver.Job{Key: fmt.Sprintf("proof/%d", i), Message: func() (*deliver.Message, error) {
				return e.message(p, w, t, e.now(), o.redirectTo)
			}}) {
				return
			}
		}
	})
	eng := &deliver.Engine{Mailboxes: boxes, Journal: proofJournal{}, Clock: deliver.SystemClock{}, Log: e.log}
	rep, err := eng.Run(e.ctx, jobs)
	fmt.Fprintf(e.stdout, "%d proofs of wave %s sent to %s (nothing recorded)\n", rep.Sent, w.ID, o.redirectTo)
	return err
}

// proofJournal records nothing: proofs never touch the ledger.
type proofJournal struct{}

func (proofJournal) Sending(context.Context, string, string, string, time.Time) error { return nil }
func (proofJournal) Sent(context.Context, string, time.Time) error                    { return nil }
func (proofJournal) Retry(context.Context, string, time.Time, error) error            { return nil }
func (proofJournal) Unknown(context.Context, string, time.Time, error) error          { return nil }
func (proofJournal) Failed(context.Context, string, time.Time, error) error           { return nil }

func roundDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "under a minute"
	case d < time.Hour:
		return d.Round(time.Minute).String()
	default:
		return d.Round(10 * time.Minute).String()
	}
}

// sendMeter shows a wave's sending: a bar with rate and ETA on a terminal,
// a plain line every few seconds in a scheduled job's log.
func (e *env) sendMeter(label string, total int) (progress func(deliver.Progress), done func()) {
	m := e.newMeter(label, "sent")
	return func(pr deliver.Progress) {
		note := fmt.Sprintf(" %d failed, %.1f a minute", pr.Failed, pr.Rate)
		if !pr.ETA.IsZero() {
			note += ", last by " + pr.ETA.Local().Format("Mon 15:04")
		}
		m.set("sent", pr.Sent, total, note)
	}, m.done
}
