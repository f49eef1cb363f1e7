package deliver

// Delivery policy, the same for every way of sending:
//
//   - Exactly once, as far as the protocol allows: a message's journal entry
//     goes pending → sending before a server can accept it (before it is
//     handed over, or for a GatedSender before the end of its data), and
//     sent only after the server accepted it. A job the journal will not move to
//     sending (someone else sent it) is skipped. Jobs are handed out by one
//     goroutine, so no two mailboxes ever get the same one.
//   - Pacing: each mailbox has its own Pacer; jobs go round-robin to the
//     mailboxes that may send now. When every mailbox's daily cap is reached
//     the run stops (it does not wait for hours) and says when to resume;
//     the jobs not yet taken are left untouched.
//   - A temporary failure (SMTP 4xx, a dropped connection, Graph 429/503,
//     anything not classified) pauses that mailbox (the server's
//     Retry-After, or exponential backoff with full jitter, whichever is
//     longer) and the message goes back to pending to be tried again. After
//     RetryPolicy.MaxAttempts it is left pending and reported deferred:
//     a 4xx is never a failed person.
//   - A permanent failure fails that message and the run goes on. One that
//     concerns the connection (TLS, authentication) stops that mailbox
//     instead, and the message goes back to pending; with no mailbox left
//     the run ends with an error.
//   - Cancelling (Ctrl-C) stops handing out jobs; the messages already with
//     a server finish and are recorded, so nothing is left half-recorded.

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"time"
)

// ErrNotPending is what Journal.Sending returns (wrapped) for a message that
// is no longer pending: another run sent it, or it is being sent.
var ErrNotPending = errors.New("message is not pending")

// Journal records each message's fate; the ledger implements it. Engine
// calls it from one goroutine at a time, with a context that is never
// cancelled: a record must not be cut in half by Ctrl-C.
type Journal interface {
	// Sending moves key from pending to sending, with the Message-ID and
	// the sending mailbox; it is committed before the server can accept
	// the message. It returns an error wrapping ErrNotPending when key is
	// not pending.
	Sending(ctx context.Context, key string, messageID, mailbox string, at time.Time) error
	// Sent records that the server accepted the message.
	Sent(ctx context.Context, key string, at time.Time) error
	// Retry records a temporary failure and moves key back to pending.
	Retry(ctx context.Context, key string, at time.Time, err error) error
	// Unknown records that the message may or may not have reached the
	// server (ErrMaybeSent): it is not sent again without a person's say.
	Unknown(ctx context.Context, key string, at time.Time, err error) error
	// Failed records a permanent failure. It is also called for a pending
	// key whose message could not be rendered: nothing went to a server.
	Failed(ctx context.Context, key string, at time.Time, err error) error
}

// Accepted is a message a server accepted, waiting to be recorded.
type Accepted struct {
	Key string
	At  time.Time
}

// A BatchJournal records the acceptances still waiting to be written
// together with the next claim: one commit a message instead of two.
type BatchJournal interface {
	Journal
	// SentThenSending is Sent for each of sent, then Sending for key, in
	// one transaction. The acceptances are recorded even when key is not
	// pending (the error then wraps ErrNotPending); when one of them
	// cannot be, none is, and key is not claimed.
	SentThenSending(ctx context.Context, sent []Accepted, key, messageID, mailbox string, at time.Time) error
}

// Job is one message to send. Message renders it when it is about to go
// out, so that a wave of 100,000 people holds one rendered message per
// mailbox at a time.
type Job struct {
	Key     string
	Message func() (*Message, error)
}

// Mailbox is one sending mailbox with its own connection and caps; several
// rotate to go faster. History is when it sent in the last 24 hours (from
// the ledger: messages sent, and those of unknown fate), so that a rerun
// keeps to the day's cap; a time a little late (acceptance rather than
// start) only errs on the safe side.
type Mailbox struct {
	Address string
	Sender  Sender
	Limits  Limits
	History []time.Time
}

// RetryPolicy says how temporary failures are retried. Zero fields take
// the defaults.
type RetryPolicy struct {
	// MaxAttempts is how many times one message is tried in a run (5).
	MaxAttempts int
	// Base and Max bound the pause after a mailbox's first and later
	// consecutive temporary failures (2 s, 5 min): the pause is a random
	// duration up to Base·2ⁿ⁻¹, at most Max, or the server's RetryAfter
	// when that is longer.
	Base, Max time.Duration
	// Rand draws the jitter; nil uses the runtime's generator.
	Rand *rand.Rand
}

// Default retry policy.
const (
	DefaultMaxAttempts = 5
	DefaultRetryBase   = 2 * time.Second
	DefaultRetryMax    = 5 * time.Minute
)

// Pause returns how long to pause after the failures-th consecutive
// temporary failure (from 1) when the server asked for retryAfter (0 when
// it did not).
func (p RetryPolicy) Pause(failures int, retryAfter time.Duration) time.Duration {
	base, ceiling := p.Base, p.Max
	if base <= 0 {
		base = DefaultRetryBase
	}
	if ceiling <= 0 {
		ceiling = DefaultRetryMax
	}
	d := base
	for i := 1; i < failures && d < ceiling; i++ {
		d *= 2
	}
	d = min(d, ceiling)
	// Full jitter: mailboxes throttled together do not retry together.
	var n int64
	if p.Rand != nil {
		n = p.Rand.Int64N(int64(d) + 1)
	} else {
		n = rand.Int64N(int64(d) + 1)
	}
	return max(time.Duration(n), retryAfter)
}

func (p RetryPolicy) maxAttempts() int {
	if p.MaxAttempts <= 0 {
		return DefaultMaxAttempts
	}
	return p.MaxAttempts
}

// Progress is how a run is going, for a progress bar.
type Progress struct {
	Sent, Failed, Deferred, Skipped int
	// Total is Engine.Total: how many jobs there are, 0 when not known.
	Total   int
	Elapsed time.Duration
	// Rate is the pace of the run so far, in messages a minute: for each
	// mailbox, the messages it had accepted after its first over the time
	// between when the first and the last of them went out (n messages
	// sent on pace are n-1 gaps apart), added up over the mailboxes; 0
	// before a mailbox's second message.
	Rate float64
	// ETA is when the last job should go out, zero when Total is not
	// known; it spans days when the caps do.
	ETA time.Time
}

// Report is what a run did.
type Report struct {
	Sent    int
	Failed  map[string]error // by job key: permanent failures
	Skipped int              // the journal said someone else sent them
	// Deferred are jobs that failed temporarily, by key with the last
	// error: they are pending again, for the next run.
	Deferred map[string]error
	// Unknown are jobs whose connection dropped before the server's reply
	// (ErrMaybeSent): they may have arrived, and are not sent again.
	Unknown map[string]error
	// StoppedAtQuota is true when the run stopped because every mailbox
	// had reached its daily cap with jobs left; ResumeAt is when the
	// first window frees a place.
	StoppedAtQuota bool
	ResumeAt       time.Time
	Elapsed        time.Duration
}

// Engine sends jobs through one or more mailboxes, keeping to the delivery
// policy above. Fill in its fields and call Run.
type Engine struct {
	Mailboxes []Mailbox
	Journal   Journal
	Clock     Clock // nil is SystemClock
	Retry     RetryPolicy
	// Total is how many jobs Run will be given, when known: it lets
	// Progress show an ETA.
	Total int
	// RenderAhead is how many of the next messages are rendered on other
	// goroutines while the mailboxes send, so that rendering is not on the
	// sending path; each Job.Message must then be safe to call
	// concurrently with the others. 0 renders the next message on Run's
	// own goroutine while a mailbox sends. Memory stays flat either way:
	// at most RenderAhead+1 rendered messages wait.
	RenderAhead int
	// Progress, when set, is told how the run is going, at most four
	// times a second of Clock time, and once at the end.
	Progress func(Progress)
	Log      *slog.Logger // nil logs nothing
}

// ETA returns when n messages starting at start will have gone out through
// the engine's mailboxes; see EstimateFinish.
func (e *Engine) ETA(start time.Time, n int) time.Time {
	limits := make([]Limits, len(e.Mailboxes))
	histories := make([][]time.Time, len(e.Mailboxes))
	for i, m := range e.Mailboxes {
		limits[i], histories[i] = m.Limits, m.History
	}
	return EstimateFinish(start, n, limits, histories)
}

// A full daily window that frees within quotaGrace is waited for rather
// than stopped at: rolling over from yesterday's run, the window frees one
// place at a time, a little behind the per-minute spacing when yesterday's
// sends were paused.
const quotaGrace = time.Minute

// progressEvery is how often, at most, Progress is called; etaEvery how
// often its ETA is worked out again.
const (
	progressEvery = 250 * time.Millisecond
	etaEvery      = time.Minute
)

// Run sends the jobs and returns what it did. It stops when the jobs run
// out; when every mailbox has reached its daily cap (Report.StoppedAtQuota:
// jobs is no longer iterated, and the jobs not yet taken are left as they
// were); when ctx is cancelled (after the messages in flight; the error
// wraps ctx's); when no mailbox can send any more; or when the journal
// fails. jobs may be a live query of the pending messages: Run calls the
// journal between taking one job and the next. Each Sender is used by one
// goroutine at a time, so Run must not be called again before it returns.
func (e *Engine) Run(ctx context.Context, jobs iter.Seq[Job]) (Report, error) {
	if len(e.Mailboxes) == 0 {
		return Report{}, errors.New("deliver: no sending mailbox")
	}
	if e.Journal == nil {
		return Report{}, errors.New("deliver: no journal")
	}
	r := newRun(e)
	next, stop := iter.Pull(jobs)
	defer stop()
	r.next = next
	// Sends and records go on after ctx is cancelled: they finish what
	// is in flight.
	r.jctx = context.WithoutCancel(ctx)

	var wg sync.WaitGroup
	for _, m := range r.boxes {
		wg.Go(func() { r.work(r.jctx, m) })
	}
	err := r.loop(ctx)
	for _, m := range r.boxes {
		close(m.work)
	}
	// Whatever happened, the messages with a server finish and are
	// recorded.
	for r.inflight > 0 {
		if jerr := r.finish(<-r.done); jerr != nil && err == nil {
			err = jerr
		}
	}
	wg.Wait()
	r.drainAhead()
	if jerr := r.flush(); jerr != nil && err == nil {
		err = jerr
	}

	for _, t := range r.retries {
		r.report.Deferred[t.job.Key] = t.err
	}
	r.report.Elapsed = r.clock.Now().Sub(r.start)
	r.progress(true)
	return r.report, err
}

// run is the state of one Engine.Run, owned by the goroutine that called
// it; the mailboxes' goroutines only send and hand back what happened.
type run struct {
	e     *Engine
	clock Clock
	log   *slog.Logger
	jctx  context.Context // for the journal: never cancelled

	boxes    []*box
	rr       int // where the round-robin starts looking
	inflight int
	done     chan outcome

	// sent are acceptances not yet written to the journal: written while
	// the next message is with the server, not before it goes.
	sent []Accepted
	// refused is set when the journal refused the last claim.
	refused bool

	next       func() (Job, bool)
	ahead      []*task // pulled from the jobs in order, not yet handed out
	exhausted  bool
	retries    []*task // failed temporarily, to try again, in no order
	start      time.Time
	report     Report
	lastReport time.Time
	eta        time.Time
	etaAt      time.Time

	mu   sync.Mutex
	wake context.CancelFunc // cancels the loop's wait when a send finishes
}

type box struct {
	Mailbox
	index int
	pacer *Pacer
	work  chan *task

	busy        bool
	pausedUntil time.Time
	failures    int   // consecutive temporary failures
	stopped     error // a connection failure: this mailbox sends no more

	// accepted counts the mailbox's accepted messages, and first and
	// last are when the first and the last of them went out, for
	// Progress.Rate.
	accepted    int
	first, last time.Time
}

type task struct {
	job       Job
	msg       *Message
	renderErr error // from rendering msg ahead of its turn
	// ready, when not nil, is closed when msg and renderErr are set by
	// the goroutine rendering them ahead of their turn.
	ready chan struct{}
	// gate, when not nil, waits for the journal's sending mark (see
	// GatedSender).
	gate func() error
	// claimErr is why the journal did not mark a gated send sending.
	claimErr  error
	attempts  int
	notBefore time.Time
	err       error     // the last temporary failure
	box       *box      // sending it, or the last to try
	at        time.Time // when it was handed to box
}

type outcome struct {
	t   *task
	err error
}

func newRun(e *Engine) *run {
	r := &run{
		e:     e,
		clock: e.Clock,
		log:   e.Log,
		done:  make(chan outcome, len(e.Mailboxes)),
	}
	if r.clock == nil {
		r.clock = SystemClock{}
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	for i, m := range e.Mailboxes {
		r.boxes = append(r.boxes, &box{
			Mailbox: m,
			index:   i,
			pacer:   NewPacer(m.Limits, m.History),
			work:    make(chan *task, 1),
		})
	}
	r.start = r.clock.Now()
	r.report = Report{Failed: map[string]error{}, Deferred: map[string]error{}, Unknown: map[string]error{}}
	return r
}

// work sends what the loop hands this mailbox, one message at a time.
func (r *run) work(ctx context.Context, b *box) {
	for t := range b.work {
		var err error
		if t.gate != nil {
			err = b.Sender.(GatedSender).SendGated(ctx, t.msg, t.gate)
			t.gate = nil
		} else {
			err = b.Sender.Send(ctx, t.msg)
		}
		t.msg = nil // rendered again if it is retried: memory stays flat
		r.done <- outcome{t, err}
		r.mu.Lock()
		if r.wake != nil {
			r.wake()
		}
		r.mu.Unlock()
	}
}

// loop hands out jobs until there are none, or until it must stop.
func (r *run) loop(ctx context.Context) error {
	for {
		for len(r.done) > 0 {
			if err := r.finish(<-r.done); err != nil {
				return err
			}
		}
		if ctx.Err() != nil {
			return fmt.Errorf("deliver: interrupted: %w", context.Cause(ctx))
		}
		now := r.clock.Now()

		// When can the next job go?
		t, jobAt := r.nextTask(now)
		if t == nil && jobAt.IsZero() {
			if r.inflight == 0 {
				return nil // all done
			}
			if err := r.await(ctx, time.Time{}); err != nil {
				return err
			}
			continue
		}

		// And which mailbox can take it?
		b, boxAt, err := r.pick(now)
		if err != nil {
			return err
		}
		if r.report.StoppedAtQuota {
			return nil
		}
		if b != nil && t != nil {
			if err := r.dispatch(now, b, t); err != nil {
				return err
			}
			// While that message is with the server: record the ones it
			// accepted, and render the next.
			if err := r.flush(); err != nil {
				return err
			}
			r.prerender()
			continue
		}
		if err := r.flush(); err != nil {
			return err
		}
		at := jobAt
		if boxAt.IsZero() {
			at = time.Time{} // every mailbox is busy: wait for one
		} else if boxAt.After(at) {
			at = boxAt
		}
		if err := r.await(ctx, at); err != nil {
			return err
		}
	}
}

// nextTask returns the job to send now, if there is one, or else when the
// next one is due (a retry); zero when there are none left.
func (r *run) nextTask(now time.Time) (*task, time.Time) {
	var due *task
	for _, t := range r.retries {
		if due == nil || t.notBefore.Before(due.notBefore) {
			due = t
		}
	}
	if due != nil && !due.notBefore.After(now) {
		return due, now
	}
	if len(r.ahead) == 0 {
		r.pull()
	}
	if len(r.ahead) > 0 {
		return r.ahead[0], now
	}
	if due != nil {
		return nil, due.notBefore
	}
	return nil, time.Time{}
}

// pick returns a mailbox that may send now, taking turns; or else when the
// first one may (zero when all are busy). When none is left, it returns the
// error; when all are at their daily cap, it marks the report stopped.
func (r *run) pick(now time.Time) (*box, time.Time, error) {
	var (
		ready    *box
		readyAt  time.Time
		alive    int
		atQuota  int
		resumeAt time.Time
		why      []string
	)
	for k := range r.boxes {
		i := (r.rr + k) % len(r.boxes)
		b := r.boxes[i]
		if b.stopped != nil {
			why = append(why, b.Address+": "+b.stopped.Error())
			continue
		}
		alive++
		w, ok := b.pacer.Next(now)
		if !ok && w > quotaGrace {
			atQuota++
			if at := now.Add(w); resumeAt.IsZero() || at.Before(resumeAt) {
				resumeAt = at
			}
			continue
		}
		if b.busy {
			continue
		}
		at := now.Add(w)
		if b.pausedUntil.After(at) {
			at = b.pausedUntil
		}
		if !at.After(now) {
			if ready == nil {
				ready = b
			}
			continue
		}
		if readyAt.IsZero() || at.Before(readyAt) {
			readyAt = at
		}
	}
	switch {
	case alive == 0:
		return nil, time.Time{}, fmt.Errorf("deliver: no mailbox can send: %s", strings.Join(why, "; "))
	case atQuota == alive:
		r.report.StoppedAtQuota, r.report.ResumeAt = true, resumeAt
		return nil, time.Time{}, nil
	case ready != nil:
		return ready, now, nil
	}
	return nil, readyAt, nil
}

// dispatch renders t's message, moves it to sending and hands it to b.
func (r *run) dispatch(now time.Time, b *box, t *task) error {
	if len(r.ahead) > 0 && t == r.ahead[0] {
		r.ahead[0] = nil
		r.ahead = r.ahead[1:]
	} else {
		r.dropRetry(t)
	}
	t.wait()
	msg, err := t.msg, t.renderErr
	if msg == nil && err == nil {
		msg, err = t.job.Message()
	}
	t.msg, t.renderErr = nil, nil
	if err == nil && msg == nil {
		err = errors.New("no message")
	}
	if err != nil {
		err = fmt.Errorf("render: %w", err)
		r.report.Failed[t.job.Key] = err
		r.log.Info("message not rendered", "key", t.job.Key, "err", err)
		if err := r.e.Journal.Failed(r.jctx, t.job.Key, now, err); err != nil {
			return fmt.Errorf("deliver: journal: %w", err)
		}
		return nil
	}
	// A gated send whose claim is refused costs a connection (only
	// hanging up stops a message whose data went out), so after a refusal
	// the next claims come first, until one succeeds: a stale job list
	// usually holds a run of jobs someone else has done.
	_, gated := b.Sender.(GatedSender)
	gated = gated && !r.refused
	if !gated {
		if err := r.claim(t, msg, b, now); err != nil {
			return r.notClaimed(t, err)
		}
		r.refused = false
	}
	// The pacing counts from when the send starts.
	at := r.clock.Now()
	if wait, _ := b.pacer.Reserve(at); wait > 0 {
		at = at.Add(wait) // the clock went back; keep to the booking
		r.clock.Sleep(r.jctx, wait)
	}
	r.rr = (b.index + 1) % len(r.boxes)
	b.busy = true
	r.inflight++
	t.msg, t.box, t.at = msg, b, at
	t.attempts++
	if !gated {
		b.work <- t
		return nil
	}
	// The mailbox opens the transaction while the journal commits, and
	// waits for the commit before the server can accept the message.
	claimed := make(chan error, 1)
	t.gate = func() error { return <-claimed }
	b.work <- t
	t.claimErr = r.claim(t, msg, b, now)
	claimed <- t.claimErr
	return nil
}

// claim moves t to sending in the journal, with the acceptances waiting
// to be recorded when the journal can take both at once.
func (r *run) claim(t *task, msg *Message, b *box, now time.Time) error {
	bj, ok := r.e.Journal.(BatchJournal)
	if !ok || len(r.sent) == 0 {
		return r.e.Journal.Sending(r.jctx, t.job.Key, msg.ID, b.Address, now)
	}
	err := bj.SentThenSending(r.jctx, r.sent, t.job.Key, msg.ID, b.Address, now)
	if err == nil || errors.Is(err, ErrNotPending) {
		r.sent = r.sent[:0]
	}
	return err
}

// notClaimed handles a job the journal would not move to sending: skipped
// when someone else has it, or else the end of the run.
func (r *run) notClaimed(t *task, err error) error {
	if errors.Is(err, ErrNotPending) {
		r.refused = true
		r.report.Skipped++
		r.log.Debug("skipped", "key", t.job.Key, "err", err)
		return nil
	}
	return fmt.Errorf("deliver: journal: %w", err)
}

// flush writes the acceptances finish has noted to the journal.
func (r *run) flush() error {
	var errs []error
	for _, s := range r.sent {
		// Every record is tried: one failure must not leave the others
		// looking unsent.
		if err := r.e.Journal.Sent(r.jctx, s.Key, s.At); err != nil {
			errs = append(errs, err)
		}
	}
	r.sent = r.sent[:0]
	if len(errs) > 0 {
		return r.journal(errors.Join(errs...))
	}
	return nil
}

// pull takes the next job from the jobs, if there is one, to the end of
// r.ahead.
func (r *run) pull() bool {
	if r.exhausted {
		return false
	}
	j, ok := r.next()
	if !ok {
		r.exhausted = true
		return false
	}
	r.ahead = append(r.ahead, &task{job: j})
	return true
}

// prerender renders the next messages while a mailbox is sending, so that
// they are ready when their turn comes: the next one here, or the next
// Engine.RenderAhead ones on their own goroutines.
func (r *run) prerender() {
	n := max(r.e.RenderAhead, 1)
	for len(r.ahead) < n && r.pull() {
	}
	for i, t := range r.ahead {
		if i == n {
			break
		}
		// ready first: while it is set, msg belongs to the goroutine.
		if t.ready != nil || t.msg != nil || t.renderErr != nil {
			continue
		}
		if r.e.RenderAhead == 0 {
			t.msg, t.renderErr = t.job.Message()
			continue
		}
		ready := make(chan struct{})
		t.ready = ready
		go func() {
			defer close(ready)
			t.msg, t.renderErr = t.job.Message()
		}()
	}
}

// drainAhead waits for the renders still going on for jobs that were not
// handed out, so that none outlives Run.
func (r *run) drainAhead() {
	for _, t := range r.ahead {
		t.wait()
	}
}

// wait waits for t's message if it is being rendered on another goroutine.
func (t *task) wait() {
	if t.ready != nil {
		<-t.ready
		t.ready = nil
	}
}

// finish records what happened to a message the loop handed out.
func (r *run) finish(o outcome) error {
	t, b := o.t, o.t.box
	b.busy = false
	r.inflight--
	defer r.progress(false)
	now := r.clock.Now()
	key := t.job.Key
	if err := t.claimErr; err != nil {
		// The journal did not mark it sending, and the mailbox held it
		// back or failed before the gate: nothing went out, and its fate
		// is not this run's to record. What a failure says about the
		// mailbox still holds.
		t.claimErr = nil
		b.pacer.Release(t.at)
		t.attempts--
		if o.err == nil {
			return fmt.Errorf("deliver: internal error: mailbox %s sent %s although the journal did not mark it sending (%v)", b.Address, key, err)
		}
		if !errors.Is(o.err, ErrGate) {
			r.health(b, now, o.err)
		}
		return r.notClaimed(t, err)
	}
	if o.err != nil && !errors.Is(o.err, ErrMaybeSent) {
		// Refused: it does not count against the day. (One that may
		// have arrived does.)
		b.pacer.Release(t.at)
	}
	if o.err == nil {
		b.failures = 0
		r.report.Sent++
		// Timed from when each went out, which the pacing spaced.
		b.accepted++
		if b.first.IsZero() || t.at.Before(b.first) {
			b.first = t.at
		}
		if t.at.After(b.last) {
			b.last = t.at
		}
		// The message is with the server; the record of that can wait
		// until the next message is on its way. A crash in between leaves
		// the row sending, which the next run reports as unknown: the safe
		// side, never a second send.
		r.sent = append(r.sent, Accepted{key, now})
		return nil
	}

	if errors.Is(o.err, ErrMaybeSent) {
		// Retrying could send it twice: leave it to a person.
		b.failures++
		b.pausedUntil = now.Add(r.e.Retry.Pause(b.failures, 0))
		r.report.Unknown[key] = o.err
		r.log.Warn("outcome unknown", "key", key, "mailbox", b.Address, "err", o.err)
		return r.journal(r.e.Journal.Unknown(r.jctx, key, now, o.err))
	}
	temporary, _ := IsTemporary(o.err)
	var se *SendError
	switch {
	case !temporary && errors.As(o.err, &se) && se.Connection:
		// Not this message's fault: another mailbox may send it.
		r.health(b, now, o.err)
		t.attempts--
		t.notBefore, t.err = now, o.err
		r.retries = append(r.retries, t)
		return r.journal(r.e.Journal.Retry(r.jctx, key, now, o.err))

	case !temporary:
		r.report.Failed[key] = o.err
		r.log.Info("failed", "key", key, "mailbox", b.Address, "err", o.err)
		return r.journal(r.e.Journal.Failed(r.jctx, key, now, o.err))
	}

	pause := r.health(b, now, o.err)
	t.err = o.err
	if t.attempts >= r.e.Retry.maxAttempts() {
		r.report.Deferred[key] = o.err
		r.log.Warn("deferred", "key", key, "mailbox", b.Address, "attempts", t.attempts, "err", o.err)
	} else {
		t.notBefore = b.pausedUntil
		r.retries = append(r.retries, t)
		r.log.Info("will retry", "key", key, "mailbox", b.Address, "pause", pause, "err", o.err)
	}
	return r.journal(r.e.Journal.Retry(r.jctx, key, now, o.err))
}

// health applies what a failed send says about its mailbox: a temporary
// failure pauses it (longer each time in a row), and a permanent failure
// of the connection (its credentials refused, say) stops it for the run.
// It returns the pause.
func (r *run) health(b *box, now time.Time, err error) time.Duration {
	temporary, retryAfter := IsTemporary(err)
	var se *SendError
	switch {
	case temporary:
		b.failures++
		pause := r.e.Retry.Pause(b.failures, retryAfter)
		b.pausedUntil = now.Add(pause)
		return pause
	case errors.As(err, &se) && se.Connection:
		b.stopped = err
		r.log.Warn("mailbox stopped", "mailbox", b.Address, "err", err)
	}
	return 0
}

func (r *run) journal(err error) error {
	if err != nil {
		return fmt.Errorf("deliver: journal: %w", err)
	}
	return nil
}

func (r *run) dropRetry(t *task) {
	for i, u := range r.retries {
		if u == t {
			r.retries[i] = r.retries[len(r.retries)-1]
			r.retries = r.retries[:len(r.retries)-1]
			return
		}
	}
}

// await waits until the time at (forever when zero) or until a send in
// flight finishes, whichever is first, and records what finished.
func (r *run) await(ctx context.Context, at time.Time) error {
	if r.inflight == 0 {
		if at.IsZero() {
			return errors.New("deliver: internal error: nothing to wait for")
		}
		r.clock.Sleep(ctx, at.Sub(r.clock.Now()))
		return nil
	}
	if at.IsZero() {
		select {
		case o := <-r.done:
			return r.finish(o)
		case <-ctx.Done():
			return nil
		}
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	r.mu.Lock()
	r.wake = cancel
	r.mu.Unlock()
	// A send that finished before wake was set has its outcome waiting.
	if len(r.done) == 0 {
		r.clock.Sleep(wctx, at.Sub(r.clock.Now()))
	}
	r.mu.Lock()
	r.wake = nil
	r.mu.Unlock()
	return nil
}

// progress tells Engine.Progress how the run is going, if it is time to.
func (r *run) progress(final bool) {
	if r.e.Progress == nil {
		return
	}
	now := r.clock.Now()
	if !final && !r.lastReport.IsZero() && now.Sub(r.lastReport) < progressEvery {
		return
	}
	r.lastReport = now
	p := Progress{
		Sent:     r.report.Sent,
		Failed:   len(r.report.Failed),
		Deferred: len(r.report.Deferred),
		Skipped:  r.report.Skipped,
		Total:    r.e.Total,
		Elapsed:  now.Sub(r.start),
	}
	for _, b := range r.boxes {
		// Each mailbox keeps its own pace; together they send at the sum.
		if span := b.last.Sub(b.first); b.accepted > 1 && span > 0 {
			p.Rate += float64(b.accepted-1) / span.Minutes()
		}
	}
	left := p.Total - p.Sent - p.Failed - p.Deferred - p.Skipped - len(r.retries)
	if p.Total > 0 && left >= 0 {
		if r.etaAt.IsZero() || now.Sub(r.etaAt) >= etaEvery || final {
			var pacers []*Pacer
			for _, b := range r.boxes {
				if b.stopped == nil {
					pacers = append(pacers, b.pacer.clone())
				}
			}
			r.eta, r.etaAt = estimate(now, left, pacers), now
		}
		p.ETA = r.eta
	}
	r.e.Progress(p)
}
