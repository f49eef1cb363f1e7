package deliver_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/nudge-passkeys/nudge/internal/deliver"
)

// t0 is when the simulated runs start.
var t0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// exo is the default caps, for Exchange Online.
var exo = deliver.Limits{PerMinute: deliver.DefaultPerMinute, PerDay: deliver.DefaultPerDay}

// attempt is one call of fakeSender.Send.
type attempt struct {
	At  time.Time
	Key string
	Err error
}

// fakeSender records every message it is given, with the time, and fails
// as it is told to.
type fakeSender struct {
	clock deliver.Clock
	// took, when set, is how long a send takes (on the clock).
	took func() time.Duration
	// errs are returned by the first calls, one each, in order (nil
	// succeeds); byKey, the same for each key's calls.
	errs  []error
	byKey map[string][]error
	// before, when set, is called with the number of the call (from 1)
	// before the send happens.
	before func(n int)

	mu       sync.Mutex
	attempts []attempt
}

func (s *fakeSender) Send(ctx context.Context, m *deliver.Message) error {
	s.mu.Lock()
	n := len(s.attempts) + 1
	s.mu.Unlock()
	if s.before != nil {
		s.before(n)
	}
	at := s.clock.Now()
	if s.took != nil {
		s.clock.Sleep(ctx, s.took())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var err error
	if len(s.errs) > 0 {
		err, s.errs = s.errs[0], s.errs[1:]
	} else if q := s.byKey[m.ID]; len(q) > 0 {
		err, s.byKey[m.ID] = q[0], q[1:]
	}
	s.attempts = append(s.attempts, attempt{At: at, Key: m.ID, Err: err})
	return err
}

// sent returns the accepted sends, in order.
func (s *fakeSender) sent() []attempt {
	s.mu.Lock()
	defer s.mu.Unlock()
	var a []attempt
	for _, x := range s.attempts {
		if x.Err == nil {
			a = append(a, x)
		}
	}
	return a
}

// times returns when each accepted send started.
func (s *fakeSender) times() []time.Time {
	var ts []time.Time
	for _, a := range s.sent() {
		ts = append(ts, a.At)
	}
	return ts
}

// tries returns the times key was tried.
func (s *fakeSender) tries(key string) []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ts []time.Time
	for _, a := range s.attempts {
		if a.Key == key {
			ts = append(ts, a.At)
		}
	}
	return ts
}

type state int

const (
	pending state = iota
	sending
	sent
	failed
	unknown
)

func (s state) String() string {
	return [...]string{"pending", "sending", "sent", "failed", "unknown"}[s]
}

type entry struct {
	state   state
	foreign bool // sent by someone else: Sending refuses
	touched bool // Sending was called
	retries int
	err     error
}

// fakeJournal keeps each key's state in memory and enforces the ledger's
// transitions: pending → sending → sent | failed | pending (Retry), and
// pending → failed for a message that was never rendered. A second Sending
// of a key this engine is sending or sent fails the test.
type fakeJournal struct {
	t    testing.TB
	mu   sync.Mutex
	keys []string
	m    map[string]*entry
}

func newJournal(t testing.TB, n int) *fakeJournal {
	j := &fakeJournal{t: t, m: make(map[string]*entry, n)}
	for i := range n {
		k := fmt.Sprintf("k%05d", i)
		j.keys = append(j.keys, k)
		j.m[k] = &entry{}
	}
	return j
}

func (j *fakeJournal) get(op, key string) *entry {
	e := j.m[key]
	if e == nil {
		j.t.Errorf("journal: %s of unknown key %s", op, key)
		return &entry{}
	}
	return e
}

func (j *fakeJournal) Sending(ctx context.Context, key, messageID, mailbox string, at time.Time) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	e := j.get("Sending", key)
	if e.foreign {
		return fmt.Errorf("journal: %s: %w", key, deliver.ErrNotPending)
	}
	if e.state != pending {
		j.t.Errorf("journal: DOUBLE SENDING of %s, which is %s", key, e.state)
		return fmt.Errorf("journal: %s: %w", key, deliver.ErrNotPending)
	}
	if messageID != key || mailbox == "" || at.IsZero() {
		j.t.Errorf("journal: Sending(%q, %q, %q, %v)", key, messageID, mailbox, at)
	}
	e.state, e.touched = sending, true
	return nil
}

func (j *fakeJournal) move(op, key string, from []state, to state, err error) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	e := j.get(op, key)
	if !slices.Contains(from, e.state) {
		j.t.Errorf("journal: %s of %s, which is %s", op, key, e.state)
	}
	e.state, e.err = to, err
	if op == "Retry" {
		e.retries++
	}
	return nil
}

func (j *fakeJournal) Sent(ctx context.Context, key string, at time.Time) error {
	return j.move("Sent", key, []state{sending}, sent, nil)
}

func (j *fakeJournal) Retry(ctx context.Context, key string, at time.Time, err error) error {
	return j.move("Retry", key, []state{sending}, pending, err)
}

func (j *fakeJournal) Unknown(ctx context.Context, key string, at time.Time, err error) error {
	return j.move("Unknown", key, []state{sending}, unknown, err)
}

func (j *fakeJournal) Failed(ctx context.Context, key string, at time.Time, err error) error {
	return j.move("Failed", key, []state{sending, pending}, failed, err)
}

// entry returns a copy of key's entry.
func (j *fakeJournal) entry(key string) entry {
	j.mu.Lock()
	defer j.mu.Unlock()
	return *j.m[key]
}

// count returns how many keys are in each state.
func (j *fakeJournal) count() map[state]int {
	j.mu.Lock()
	defer j.mu.Unlock()
	c := map[state]int{}
	for _, e := range j.m {
		c[e.state]++
	}
	return c
}

// untouched returns how many keys never had Sending called.
func (j *fakeJournal) untouched() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	n := 0
	for _, e := range j.m {
		if !e.touched {
			n++
		}
	}
	return n
}

// pending yields a job for each key that is pending when it is reached, as
// the ledger's query does.
func (j *fakeJournal) pending() iter.Seq[deliver.Job] {
	return func(yield func(deliver.Job) bool) {
		for _, k := range j.keys {
			j.mu.Lock()
			e := j.m[k]
			ok := e.state == pending && !e.foreign
			j.mu.Unlock()
			if ok && !yield(job(k)) {
				return
			}
		}
	}
}

// all returns a job for every key, whatever the journal says of it now:
// the stale list a process read before another one sent some of them.
func (j *fakeJournal) all() iter.Seq[deliver.Job] {
	return func(yield func(deliver.Job) bool) {
		for _, k := range j.keys {
			if !yield(job(k)) {
				return
			}
		}
	}
}

func job(key string) deliver.Job {
	return deliver.Job{Key: key, Message: func() (*deliver.Message, error) {
		return &deliver.Message{
			ID:      key,
			From:    deliver.Address{Email: "it-security@contoso.example"},
			To:      deliver.Address{Email: key + "@contoso.example"},
			Subject: "Sign in without a password",
		}, nil
	}}
}

// checkCaps fails the test when any window of the given length starting
// at a send holds more than max sends (times in order).
func checkCaps(t *testing.T, who string, times []time.Time, window time.Duration, max int) {
	t.Helper()
	if !slices.IsSortedFunc(times, time.Time.Compare) {
		t.Fatalf("%s: send times out of order", who)
	}
	violations := 0
	j := 0
	for i := range times {
		for j < len(times) && times[j].Before(times[i].Add(window)) {
			j++
		}
		if n := j - i; n > max {
			if violations < 3 {
				t.Errorf("%s: %d sends in the %v from %v, cap %d", who, n, window, times[i].Format(time.TimeOnly), max)
			}
			violations++
		}
	}
	if violations > 0 {
		t.Errorf("%s: %d windows of %v over the cap", who, violations, window)
	}
}

// checkRate fails the test when a whole window of the given length between
// the first and the last send holds fewer than min sends.
func checkRate(t *testing.T, who string, times []time.Time, window time.Duration, min int) {
	t.Helper()
	if len(times) == 0 {
		t.Fatalf("%s: no sends", who)
	}
	last := times[len(times)-1]
	i := 0
	for from := times[0]; !from.Add(window).After(last); from = from.Add(window) {
		n := 0
		for ; i < len(times) && times[i].Before(from.Add(window)); i++ {
			n++
		}
		if n < min {
			t.Errorf("%s: %d sends in the %v from %v, want at least %d", who, n, window, from.Format(time.TimeOnly), min)
		}
	}
}

// keysOnce fails the test unless every key in want was sent exactly once
// by all the senders together.
func keysOnce(t *testing.T, want []string, senders ...*fakeSender) {
	t.Helper()
	seen := map[string]int{}
	for _, s := range senders {
		for _, a := range s.sent() {
			seen[a.Key]++
		}
	}
	for k, n := range seen {
		if n > 1 {
			t.Errorf("%s sent %d times", k, n)
		}
	}
	for _, k := range want {
		if seen[k] == 0 {
			t.Errorf("%s never sent", k)
		}
	}
	if len(seen) != len(want) {
		t.Errorf("%d keys sent, want %d", len(seen), len(want))
	}
}

func newEngine(clock deliver.Clock, j deliver.Journal, boxes ...deliver.Mailbox) *deliver.Engine {
	return &deliver.Engine{Mailboxes: boxes, Journal: j, Clock: clock}
}

// sendTime is how long a simulated send takes: 0.2 to 1.2 s.
func sendTime(seed uint64) func() time.Duration {
	r := rand.New(rand.NewPCG(seed, 1))
	return func() time.Duration { return 200*time.Millisecond + time.Duration(r.Int64N(int64(time.Second))) }
}

// TestOneMailboxOverTwoDays sends 12,000 messages through one mailbox with
// Exchange Online's caps: 9,000 on the first run, which stops at the daily
// cap, and the other 3,000 on a rerun the next day.
func TestOneMailboxOverTwoDays(t *testing.T) {
	clock := deliver.NewFakeClock(t0)
	j := newJournal(t, 12000)
	s := &fakeSender{clock: clock, took: sendTime(1)}
	box := deliver.Mailbox{Address: "it-security@contoso.example", Sender: s, Limits: exo}

	rep, err := newEngine(clock, j, box).Run(t.Context(), j.pending())
	if err != nil {
		t.Fatal(err)
	}
	first := s.times()
	if rep.Sent != 9000 || len(first) != 9000 {
		t.Fatalf("first run sent %d (sender saw %d), want 9000", rep.Sent, len(first))
	}
	if !rep.StoppedAtQuota {
		t.Error("first run did not stop at the daily cap")
	}
	if want := first[0].Add(24 * time.Hour); !rep.ResumeAt.Equal(want) {
		t.Errorf("ResumeAt = %v, want the first send + 24 h = %v", rep.ResumeAt, want)
	}
	if n := j.untouched(); n != 3000 {
		t.Errorf("%d jobs untouched after the first run, want 3000", n)
	}
	if c := j.count(); c[sending] != 0 || c[pending] != 3000 {
		t.Errorf("journal after the first run: %v", c)
	}
	checkCaps(t, "first run", first, time.Minute, 27)
	checkRate(t, "first run", first, 10*time.Minute, 243) // 90% of 270
	t.Logf("first run: 9000 sent from %v to %v, stopped after %v (simulated)",
		first[0].Format(time.TimeOnly), first[8999].Format(time.TimeOnly), rep.Elapsed)

	// The scheduler runs nudge again once the window frees.
	clock.Set(rep.ResumeAt)
	box.History = first
	rep, err = newEngine(clock, j, box).Run(t.Context(), j.pending())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Sent != 3000 || rep.StoppedAtQuota {
		t.Errorf("second run: sent %d, stopped at quota %v; want 3000, false", rep.Sent, rep.StoppedAtQuota)
	}
	all := s.times()
	checkCaps(t, "both runs", all, time.Minute, 27)
	checkCaps(t, "both runs", all, 24*time.Hour, 9000)
	checkRate(t, "second run", all[9000:], 10*time.Minute, 243)
	keysOnce(t, j.keys, s)
	if c := j.count(); c[sent] != 12000 {
		t.Errorf("journal after the second run: %v", c)
	}
}

// TestExactlyADaysWorth: a wave that fits the day to the message is
// finished, not stopped at the cap.
func TestExactlyADaysWorth(t *testing.T) {
	clock := deliver.NewFakeClock(t0)
	j := newJournal(t, 9000)
	s := &fakeSender{clock: clock}
	rep, err := newEngine(clock, j, deliver.Mailbox{Address: "a@contoso.example", Sender: s, Limits: exo}).Run(t.Context(), j.pending())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Sent != 9000 || rep.StoppedAtQuota || !rep.ResumeAt.IsZero() {
		t.Errorf("sent %d, stopped at quota %v, resume at %v; want 9000, false, zero", rep.Sent, rep.StoppedAtQuota, rep.ResumeAt)
	}
}

// TestTwoMailboxes runs in a synctest bubble with the system clock: two
// mailboxes send at once, and only the bubble's clock shows exactly when
// (FakeClock serves one waiting goroutine).
func TestTwoMailboxes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clock := deliver.SystemClock{}
		start := clock.Now()
		j := newJournal(t, 20000)
		a := &fakeSender{clock: clock, took: sendTime(1)}
		b := &fakeSender{clock: clock, took: sendTime(2)}
		rep, err := newEngine(clock, j,
			deliver.Mailbox{Address: "a@contoso.example", Sender: a, Limits: exo},
			deliver.Mailbox{Address: "b@contoso.example", Sender: b, Limits: exo},
		).Run(t.Context(), j.pending())
		if err != nil {
			t.Fatal(err)
		}
		if rep.Sent != 18000 || !rep.StoppedAtQuota {
			t.Fatalf("sent %d, stopped at quota %v; want 18000, true", rep.Sent, rep.StoppedAtQuota)
		}
		at, bt := a.times(), b.times()
		if len(at) != 9000 || len(bt) != 9000 {
			t.Errorf("mailboxes sent %d and %d, want 9000 each", len(at), len(bt))
		}
		for _, box := range []struct {
			name  string
			times []time.Time
		}{{"mailbox a", at}, {"mailbox b", bt}} {
			checkCaps(t, box.name, box.times, time.Minute, 27)
			checkCaps(t, box.name, box.times, 24*time.Hour, 9000)
			checkRate(t, box.name, box.times, 10*time.Minute, 243)
		}
		both := slices.SortedFunc(slices.Values(append(slices.Clone(at), bt...)), time.Time.Compare)
		checkRate(t, "both", both, 10*time.Minute, 2*243)
		// One mailbox takes 8,999 gaps of 60s/27 for 9,000; two take
		// about as long for 18,000.
		one := 8999 * (time.Minute / 27)
		if took := both[len(both)-1].Sub(start); took > one+one/50 {
			t.Errorf("18,000 sends took %v, want about %v", took, one)
		}
		if want := both[0].Add(24 * time.Hour); !rep.ResumeAt.Equal(want) {
			t.Errorf("ResumeAt = %v, want %v", rep.ResumeAt, want)
		}
		keysOnce(t, j.keys[:18000], a, b)
		if n := j.untouched(); n != 2000 {
			t.Errorf("%d jobs untouched, want 2000", n)
		}
	})
}

var (
	errAuth = &deliver.SendError{Code: 535, Enhanced: "5.7.139", Connection: true, Err: errors.New("authentication unsuccessful")}
	err421  = &deliver.SendError{Temporary: true, Code: 421, Enhanced: "4.7.0", Err: errors.New("temporary server error")}
	err550  = &deliver.SendError{Code: 550, Enhanced: "5.1.10", Err: errors.New("recipient not found")}
)

func TestMailboxFailsAuthentication(t *testing.T) {
	t.Run("the other carries on", func(t *testing.T) {
		clock := deliver.NewFakeClock(t0)
		j := newJournal(t, 100)
		good := &fakeSender{clock: clock}
		bad := &fakeSender{clock: clock, errs: slices.Repeat([]error{errAuth}, 100)}
		rep, err := newEngine(clock, j,
			deliver.Mailbox{Address: "bad@contoso.example", Sender: bad, Limits: exo},
			deliver.Mailbox{Address: "good@contoso.example", Sender: good, Limits: exo},
		).Run(t.Context(), j.pending())
		if err != nil {
			t.Fatal(err)
		}
		if n := len(bad.attempts); n != 1 {
			t.Errorf("the failing mailbox was tried %d times, want once", n)
		}
		if rep.Sent != 100 || len(rep.Failed) != 0 || len(rep.Deferred) != 0 {
			t.Errorf("report: %+v, want 100 sent", rep)
		}
		keysOnce(t, j.keys, good, bad)
		if k := bad.attempts[0].Key; j.entry(k).retries != 1 {
			t.Errorf("%s: %d retries recorded, want 1", k, j.entry(k).retries)
		}
	})

	t.Run("none left", func(t *testing.T) {
		clock := deliver.NewFakeClock(t0)
		j := newJournal(t, 100)
		a := &fakeSender{clock: clock, errs: []error{errAuth}}
		b := &fakeSender{clock: clock, errs: []error{errAuth}}
		rep, err := newEngine(clock, j,
			deliver.Mailbox{Address: "a@contoso.example", Sender: a, Limits: exo},
			deliver.Mailbox{Address: "b@contoso.example", Sender: b, Limits: exo},
		).Run(t.Context(), j.pending())
		if err == nil {
			t.Fatal("no error")
		}
		for _, want := range []string{"no mailbox can send", "a@contoso.example", "b@contoso.example", "535 5.7.139"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not say %q", err, want)
			}
		}
		if rep.Sent != 0 || len(rep.Failed) != 0 {
			t.Errorf("report: %+v, want nothing sent or failed", rep)
		}
		if c := j.count(); c[pending] != 100 {
			t.Errorf("journal: %v, want all pending", c)
		}
		for _, s := range []*fakeSender{a, b} {
			k := s.attempts[0].Key
			if e := j.entry(k); e.retries == 0 || rep.Deferred[k] == nil {
				t.Errorf("%s: %d retries recorded, deferred %v; want it pending and deferred", k, e.retries, rep.Deferred[k])
			}
		}
	})
}

// maxSource makes rand draw its largest values: the jitter is always the
// whole backoff.
type maxSource struct{}

func (maxSource) Uint64() uint64 { return ^uint64(0) }

func TestRetries(t *testing.T) {
	sec := func(ds ...int) []time.Duration {
		var out []time.Duration
		for _, d := range ds {
			out = append(out, time.Duration(d)*time.Second)
		}
		return out
	}
	for _, tc := range []struct {
		name   string
		limits deliver.Limits
		retry  deliver.RetryPolicy
		byKey  map[string][]error
		// want: for k00001, the gaps between its tries (nil: not
		// checked), whether it ends sent, deferred or failed.
		gaps       []time.Duration
		minGaps    []time.Duration
		wantState  state
		wantReport func(deliver.Report) bool
	}{
		{
			name:      "421 then success",
			limits:    exo,
			byKey:     map[string][]error{"k00001": {err421}},
			wantState: sent,
			wantReport: func(r deliver.Report) bool {
				return r.Sent == 20 && len(r.Deferred) == 0 && len(r.Failed) == 0
			},
		},
		{
			name:      "five temporary failures: deferred, not failed",
			limits:    exo,
			byKey:     map[string][]error{"k00001": slices.Repeat([]error{err421}, 5)},
			wantState: pending,
			wantReport: func(r deliver.Report) bool {
				return r.Sent == 19 && len(r.Deferred) == 1 && r.Deferred["k00001"] == err421 && len(r.Failed) == 0
			},
		},
		{
			name:      "unclassified errors are temporary",
			limits:    exo,
			byKey:     map[string][]error{"k00001": slices.Repeat([]error{io.ErrUnexpectedEOF}, 5)},
			wantState: pending,
			wantReport: func(r deliver.Report) bool {
				return r.Sent == 19 && len(r.Deferred) == 1 && len(r.Failed) == 0
			},
		},
		{
			name:   "connection dropped before the reply: unknown, never resent",
			limits: exo,
			byKey: map[string][]error{"k00001": {&deliver.SendError{Temporary: true, Connection: true,
				Err: fmt.Errorf("smtp: end of data: %w", deliver.ErrMaybeSent)}}},
			wantState: unknown,
			wantReport: func(r deliver.Report) bool {
				return r.Sent == 19 && len(r.Unknown) == 1 && len(r.Deferred) == 0 && len(r.Failed) == 0
			},
		},
		{
			name:      "550 for one key",
			limits:    exo,
			byKey:     map[string][]error{"k00001": {err550}},
			wantState: failed,
			wantReport: func(r deliver.Report) bool {
				return r.Sent == 19 && len(r.Failed) == 1 && r.Failed["k00001"] == err550 && len(r.Deferred) == 0
			},
		},
		{
			name:   "Retry-After honoured",
			limits: exo,
			byKey: map[string][]error{"k00001": {
				&deliver.SendError{Temporary: true, Code: 429, RetryAfter: 90 * time.Second, Err: errors.New("too many requests")},
				&deliver.SendError{Temporary: true, Code: 429, RetryAfter: 10 * time.Minute, Err: errors.New("too many requests")},
			}},
			minGaps:   sec(90, 600),
			wantState: sent,
			wantReport: func(r deliver.Report) bool {
				return r.Sent == 20
			},
		},
		{
			name:      "backoff grows and is capped",
			retry:     deliver.RetryPolicy{MaxAttempts: 8, Base: 2 * time.Second, Max: 20 * time.Second, Rand: rand.New(maxSource{})},
			byKey:     map[string][]error{"k00001": slices.Repeat([]error{err421}, 7)},
			gaps:      sec(2, 4, 8, 16, 20, 20, 20),
			wantState: sent,
			wantReport: func(r deliver.Report) bool {
				return r.Sent == 20
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := deliver.NewFakeClock(t0)
			j := newJournal(t, 20)
			s := &fakeSender{clock: clock, byKey: tc.byKey}
			e := newEngine(clock, j, deliver.Mailbox{Address: "a@contoso.example", Sender: s, Limits: tc.limits})
			e.Retry = tc.retry
			rep, err := e.Run(t.Context(), j.pending())
			if err != nil {
				t.Fatal(err)
			}
			if !tc.wantReport(rep) {
				t.Errorf("report: %+v", rep)
			}
			if got := j.entry("k00001").state; got != tc.wantState {
				t.Errorf("k00001 is %s, want %s", got, tc.wantState)
			}
			if c := j.count(); c[sending] != 0 || c[sent] != rep.Sent {
				t.Errorf("journal: %v, report: %d sent", c, rep.Sent)
			}
			tries := s.tries("k00001")
			var gaps []time.Duration
			for i := 1; i < len(tries); i++ {
				gaps = append(gaps, tries[i].Sub(tries[i-1]))
			}
			if tc.gaps != nil {
				if diff := cmp.Diff(tc.gaps, gaps); diff != "" {
					t.Errorf("gaps between tries (-want +got):\n%s", diff)
				}
			}
			if tc.minGaps != nil {
				if len(gaps) != len(tc.minGaps) {
					t.Fatalf("gaps between tries %v, want %d", gaps, len(tc.minGaps))
				}
				for i := range gaps {
					if gaps[i] < tc.minGaps[i] {
						t.Errorf("try %d came %v after the one before, want at least %v", i+2, gaps[i], tc.minGaps[i])
					}
				}
				// The mailbox itself waited too: nothing was sent
				// in the pause.
				all := s.times()
				for _, a := range s.attempts {
					for i, f := range tries[:len(tries)-1] {
						if a.At.After(f) && a.At.Before(f.Add(tc.minGaps[i])) {
							t.Errorf("%s sent %v into the pause after %v", a.Key, a.At.Sub(f), f)
						}
					}
				}
				checkCaps(t, "sends", all, time.Minute, 27)
			}
		})
	}
}

func TestPauseGrowsAndIsCapped(t *testing.T) {
	p := deliver.RetryPolicy{Rand: rand.New(maxSource{})}
	var got []time.Duration
	for n := 1; n <= 10; n++ {
		got = append(got, p.Pause(n, 0))
	}
	want := []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 32 * time.Second,
		64 * time.Second, 128 * time.Second, 256 * time.Second, 5 * time.Minute, 5 * time.Minute}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("pauses with the largest jitter (-want +got):\n%s", diff)
	}
	if got := p.Pause(1, time.Hour); got != time.Hour {
		t.Errorf("Pause(1, 1h) = %v, want the server's 1h", got)
	}
	// Full jitter: anywhere from nothing to the ceiling.
	p.Rand = rand.New(rand.NewPCG(1, 2))
	lo, hi := time.Hour, time.Duration(0)
	for range 1000 {
		d := p.Pause(3, 0)
		lo, hi = min(lo, d), max(hi, d)
	}
	if lo < 0 || lo > time.Second || hi > 8*time.Second || hi < 7*time.Second {
		t.Errorf("pauses after a third failure range over [%v, %v], want about [0, 8s]", lo, hi)
	}
}

func TestSendingRefused(t *testing.T) {
	clock := deliver.NewFakeClock(t0)
	j := newJournal(t, 10)
	j.m["k00003"].foreign = true
	s := &fakeSender{clock: clock}
	jobs := j.all() // the stale list a second process read
	rep, err := newEngine(clock, j, deliver.Mailbox{Address: "a@contoso.example", Sender: s, Limits: exo}).Run(t.Context(), jobs)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Sent != 9 || rep.Skipped != 1 {
		t.Errorf("sent %d, skipped %d; want 9, 1", rep.Sent, rep.Skipped)
	}
	if n := len(s.tries("k00003")); n != 0 {
		t.Errorf("k00003 was handed to the server %d times", n)
	}
	// The refused job used no place in the pacing: nine sends, eight gaps.
	if got, want := rep.Elapsed, 8*(time.Minute/27+1); got != want {
		t.Errorf("elapsed %v, want %v", got, want)
	}
}

func TestRenderFailure(t *testing.T) {
	clock := deliver.NewFakeClock(t0)
	j := newJournal(t, 3)
	s := &fakeSender{clock: clock}
	bad := errors.New("template: no such field")
	jobs := func(yield func(deliver.Job) bool) {
		for _, k := range j.keys {
			jb := job(k)
			if k == "k00001" {
				jb.Message = func() (*deliver.Message, error) { return nil, bad }
			}
			if !yield(jb) {
				return
			}
		}
	}
	rep, err := newEngine(clock, j, deliver.Mailbox{Address: "a@contoso.example", Sender: s}).Run(t.Context(), jobs)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Sent != 2 || !errors.Is(rep.Failed["k00001"], bad) {
		t.Errorf("report %+v, want 2 sent and k00001 failed", rep)
	}
	if e := j.entry("k00001"); e.state != failed || e.touched {
		t.Errorf("k00001: %+v, want failed without Sending", e)
	}
}

// brokenJournal fails Sending for one key.
type brokenJournal struct {
	*fakeJournal
	key string
}

func (j brokenJournal) Sending(ctx context.Context, key, messageID, mailbox string, at time.Time) error {
	if key == j.key {
		return errors.New("database is locked")
	}
	return j.fakeJournal.Sending(ctx, key, messageID, mailbox, at)
}

func TestJournalFailureStopsTheRun(t *testing.T) {
	clock := deliver.NewFakeClock(t0)
	j := newJournal(t, 10)
	s := &fakeSender{clock: clock}
	rep, err := newEngine(clock, brokenJournal{j, "k00004"}, deliver.Mailbox{Address: "a@contoso.example", Sender: s}).Run(t.Context(), j.pending())
	if err == nil || !strings.Contains(err.Error(), "database is locked") {
		t.Fatalf("error %v, want the journal's", err)
	}
	if rep.Sent != 4 || len(s.attempts) != 4 {
		t.Errorf("sent %d (%d handed over), want the 4 before the failure", rep.Sent, len(s.attempts))
	}
	if c := j.count(); c[sent] != 4 || c[pending] != 6 {
		t.Errorf("journal: %v", c)
	}
}

// TestETA compares the ETA printed before a wave with when the wave really
// finishes: sends take 0.2 to 1.2 s, one in a hundred is refused once with
// a 421, and the scheduler starts a run again a few minutes after each
// daily stop.
func TestETA(t *testing.T) {
	for _, n := range []int{500, 9000, 25000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			clock := deliver.NewFakeClock(t0)
			j := newJournal(t, n)
			s := &fakeSender{clock: clock, took: sendTime(uint64(n)), byKey: map[string][]error{}}
			for i := 50; i < n; i += 100 {
				s.byKey[j.keys[i]] = []error{err421}
			}
			box := deliver.Mailbox{Address: "a@contoso.example", Sender: s, Limits: exo}
			eta := deliver.EstimateFinish(t0, n, []deliver.Limits{exo}, nil)
			runs := 0
			for {
				runs++
				rep, err := newEngine(clock, j, box).Run(t.Context(), j.pending())
				if err != nil {
					t.Fatal(err)
				}
				if !rep.StoppedAtQuota {
					break
				}
				clock.Set(rep.ResumeAt.Add(5 * time.Minute))
				box.History = s.times()
			}
			times := s.times()
			if len(times) != n {
				t.Fatalf("%d sent, want %d", len(times), n)
			}
			finish := times[n-1]
			want, got := finish.Sub(t0), eta.Sub(t0)
			off := math.Abs(float64(got-want)) / float64(want)
			t.Logf("%d messages, %d runs: finished after %v, ETA %v (%.2f%% off)", n, runs, want, got, 100*off)
			if off > 0.02 {
				t.Errorf("ETA %v after the start, finished after %v: %.1f%% off, want within 2%%", got, want, 100*off)
			}
		})
	}
}

func TestEstimateFinish(t *testing.T) {
	gap := time.Minute/27 + 1
	for _, tc := range []struct {
		name      string
		n         int
		mailboxes []deliver.Limits
		histories [][]time.Time
		want      time.Time
	}{
		{"nothing to send", 0, []deliver.Limits{exo}, nil, t0},
		{"one message", 1, []deliver.Limits{exo}, nil, t0},
		{"one mailbox", 100, []deliver.Limits{exo}, nil, t0.Add(99 * gap)},
		{"two mailboxes", 100, []deliver.Limits{exo, exo}, nil, t0.Add(49 * gap)},
		{"unlimited", 100000, []deliver.Limits{{}}, nil, t0},
		{"no mailbox", 100, nil, nil, time.Time{}},
		{"a full day", 1, []deliver.Limits{{PerDay: 2}}, [][]time.Time{{t0.Add(-time.Hour), t0.Add(-2 * time.Hour)}}, t0.Add(22 * time.Hour)},
		{"over days", 5, []deliver.Limits{{PerDay: 2}}, nil, t0.Add(48 * time.Hour)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := deliver.EstimateFinish(t0, tc.n, tc.mailboxes, tc.histories); !got.Equal(tc.want) {
				t.Errorf("EstimateFinish = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestCancel cancels the run while a message is with the server: that
// message is sent and recorded, and no other is started. With several
// mailboxes it runs in a synctest bubble (see TestTwoMailboxes).
func TestCancel(t *testing.T) {
	test := func(t *testing.T, clock deliver.Clock, boxes int) {
		j := newJournal(t, 1000)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		var senders []*fakeSender
		var mailboxes []deliver.Mailbox
		for i := range boxes {
			s := &fakeSender{clock: clock, took: sendTime(uint64(i))}
			if i == 0 {
				s.before = func(n int) {
					if n == 50 {
						cancel()
					}
				}
			}
			senders = append(senders, s)
			mailboxes = append(mailboxes, deliver.Mailbox{Address: fmt.Sprintf("m%d@contoso.example", i), Sender: s, Limits: exo})
		}
		rep, err := newEngine(clock, j, mailboxes...).Run(ctx, j.pending())
		if !errors.Is(err, context.Canceled) {
			t.Errorf("error %v, want context.Canceled", err)
		}
		if n := len(senders[0].sent()); n != 50 {
			t.Errorf("the cancelling mailbox sent %d, want 50", n)
		}
		total := 0
		for _, s := range senders {
			total += len(s.sent())
		}
		c := j.count()
		if c[sending] != 0 {
			t.Errorf("%d messages left sending", c[sending])
		}
		if rep.Sent != total || c[sent] != total || c[pending] != 1000-total {
			t.Errorf("report %d sent, sender %d, journal %v", rep.Sent, total, c)
		}
		if n := j.untouched(); n != 1000-total {
			t.Errorf("%d untouched, want %d", n, 1000-total)
		}
	}
	t.Run("one mailbox", func(t *testing.T) {
		test(t, deliver.NewFakeClock(t0), 1)
	})
	t.Run("three mailboxes", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			test(t, deliver.SystemClock{}, 3)
		})
	})
}

func TestProgress(t *testing.T) {
	clock := deliver.NewFakeClock(t0)
	j := newJournal(t, 1000)
	s := &fakeSender{clock: clock, took: sendTime(3)}
	e := newEngine(clock, j, deliver.Mailbox{Address: "a@contoso.example", Sender: s, Limits: exo})
	e.Total = 1000
	var got []deliver.Progress
	e.Progress = func(p deliver.Progress) { got = append(got, p) }
	rep, err := e.Run(t.Context(), j.pending())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) < 2 || len(got) > int(rep.Elapsed/(250*time.Millisecond))+2 {
		t.Errorf("Progress called %d times in %v", len(got), rep.Elapsed)
	}
	first, last := got[0], got[len(got)-1]
	want := deliver.EstimateFinish(t0, 1000, []deliver.Limits{exo}, nil)
	if d := first.ETA.Sub(want); d < -5*time.Second || d > 5*time.Second {
		t.Errorf("first ETA %v, want about %v", first.ETA, want)
	}
	if last.Sent != 1000 || last.Total != 1000 || last.Elapsed != rep.Elapsed {
		t.Errorf("last progress %+v", last)
	}
	if last.Rate < 26 || last.Rate > 27.5 {
		t.Errorf("rate %.2f a minute, want about 27", last.Rate)
	}
	// The pace shown never tops the cap it keeps to, the first lines
	// included (six messages in the first ten seconds are five gaps).
	for _, p := range got {
		if p.Rate > 27.01 {
			t.Errorf("after %d messages in %v: rate %.2f a minute, above the cap of 27", p.Sent, p.Elapsed, p.Rate)
		}
	}
}

// TestProgressRateSeveralMailboxes: three mailboxes start together and
// each keeps its own pace; the rate shown is their sum, never above the
// three caps together, and near it once they are under way.
func TestProgressRateSeveralMailboxes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clock := deliver.SystemClock{}
		j := newJournal(t, 600)
		var boxes []deliver.Mailbox
		for i := range 3 {
			s := &fakeSender{clock: clock, took: sendTime(uint64(i))}
			boxes = append(boxes, deliver.Mailbox{Address: fmt.Sprintf("m%d@contoso.example", i), Sender: s, Limits: exo})
		}
		e := newEngine(clock, j, boxes...)
		e.Total = 600
		var got []deliver.Progress
		e.Progress = func(p deliver.Progress) { got = append(got, p) }
		if _, err := e.Run(t.Context(), j.pending()); err != nil {
			t.Fatal(err)
		}
		for _, p := range got {
			if p.Rate > 3*27.01 {
				t.Errorf("after %d messages in %v: rate %.2f a minute, above the three caps (81)", p.Sent, p.Elapsed, p.Rate)
			}
		}
		if last := got[len(got)-1]; last.Rate < 80 {
			t.Errorf("final rate %.2f a minute, want about 81", last.Rate)
		}
	})
}

// nopSender and nopJournal do nothing: what is left is the engine.
type nopSender struct{}

func (nopSender) Send(context.Context, *deliver.Message) error { return nil }

type nopJournal struct{}

func (nopJournal) Sending(context.Context, string, string, string, time.Time) error { return nil }
func (nopJournal) Sent(context.Context, string, time.Time) error                    { return nil }
func (nopJournal) Retry(context.Context, string, time.Time, error) error            { return nil }
func (nopJournal) Unknown(context.Context, string, time.Time, error) error          { return nil }
func (nopJournal) Failed(context.Context, string, time.Time, error) error           { return nil }

// BenchmarkEngine measures the engine's own cost per message: 100,000 jobs,
// no pacing, a sender and a journal that do nothing.
func BenchmarkEngine(b *testing.B) {
	const n = 100000
	m := &deliver.Message{ID: "x@contoso.example"}
	jobs := make([]deliver.Job, n)
	for i := range jobs {
		jobs[i] = deliver.Job{Key: strconv.Itoa(i), Message: func() (*deliver.Message, error) { return m, nil }}
	}
	for _, boxes := range []int{1, 4} {
		b.Run(fmt.Sprint(boxes, " mailboxes"), func(b *testing.B) {
			e := &deliver.Engine{Journal: nopJournal{}}
			for range boxes {
				e.Mailboxes = append(e.Mailboxes, deliver.Mailbox{Address: "a@contoso.example", Sender: nopSender{}})
			}
			b.ReportAllocs()
			for b.Loop() {
				rep, err := e.Run(b.Context(), slices.Values(jobs))
				if err != nil || rep.Sent != n {
					b.Fatal(rep.Sent, err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/msg")
		})
	}
}

// TestRollingDay reruns the day after a full day whose sends had a pause
// in the middle: where yesterday's window frees a place within a minute,
// the run waits for it; where it frees later, the run stops.
func TestRollingDay(t *testing.T) {
	for _, tc := range []struct {
		name     string
		pause    time.Duration // in yesterday's sends, after the 100th
		wantSent int
	}{
		{"short pause: waited for", 50 * time.Second, 300},
		{"long pause: stopped", 5 * time.Minute, 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var history []time.Time
			at := t0.Add(-24 * time.Hour)
			for i := range 9000 {
				if i == 100 {
					at = at.Add(tc.pause)
				}
				history = append(history, at)
				at = at.Add(gap27)
			}
			clock := deliver.NewFakeClock(t0)
			j := newJournal(t, 300)
			s := &fakeSender{clock: clock}
			rep, err := newEngine(clock, j, deliver.Mailbox{Address: "a@contoso.example", Sender: s, Limits: exo, History: history}).Run(t.Context(), j.pending())
			if err != nil {
				t.Fatal(err)
			}
			if rep.Sent != tc.wantSent || rep.StoppedAtQuota != (tc.wantSent < 300) {
				t.Errorf("sent %d, stopped at quota %v; want %d", rep.Sent, rep.StoppedAtQuota, tc.wantSent)
			}
			if rep.StoppedAtQuota {
				if want := history[100].Add(24 * time.Hour); !rep.ResumeAt.Equal(want) {
					t.Errorf("ResumeAt %v, want %v", rep.ResumeAt, want)
				}
			}
			checkCaps(t, "yesterday and today", append(history, s.times()...), 24*time.Hour, 9000)
			checkCaps(t, "today", s.times(), time.Minute, 27)
		})
	}
}

// TestRenderAhead renders the next messages on other goroutines: every
// message still goes out once and in order, a render failure fails its
// job alone, a job someone else sent is skipped, no more than RenderAhead
// renders run at once, and none is still running when Run returns, even
// when the run stops at the daily cap with jobs rendered but not sent.
func TestRenderAhead(t *testing.T) {
	for _, ahead := range []int{1, 2, 4} {
		t.Run(fmt.Sprint(ahead), func(t *testing.T) {
			clock := deliver.NewFakeClock(t0)
			j := newJournal(t, 40)
			j.m["k00007"].foreign = true
			s := &fakeSender{clock: clock}
			bad := errors.New("template: no such field")
			var (
				mu               sync.Mutex
				running, maxRun  int
				rendered, active = map[string]int{}, 0
			)
			jobs := func(yield func(deliver.Job) bool) {
				for _, k := range j.keys { // the stale list a second process read
					jb := job(k)
					inner := jb.Message
					jb.Message = func() (*deliver.Message, error) {
						mu.Lock()
						running++
						active++
						maxRun = max(maxRun, running)
						rendered[k]++
						mu.Unlock()
						time.Sleep(time.Millisecond) // real time: renders overlap
						mu.Lock()
						running--
						active--
						mu.Unlock()
						if k == "k00011" {
							return nil, bad
						}
						return inner()
					}
					if !yield(jb) {
						return
					}
				}
			}
			e := newEngine(clock, j, deliver.Mailbox{Address: "a@contoso.example", Sender: s,
				Limits: deliver.Limits{PerMinute: 1000, PerDay: 30}})
			e.RenderAhead = ahead
			rep, err := e.Run(t.Context(), jobs)
			if err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			if active != 0 {
				t.Errorf("%d renders still running after Run returned", active)
			}
			if maxRun > ahead {
				t.Errorf("%d renders at once, want at most %d", maxRun, ahead)
			}
			for k, n := range rendered {
				if n > 1 {
					t.Errorf("%s rendered %d times", k, n)
				}
			}
			if !rep.StoppedAtQuota || rep.Sent != 30 || rep.Skipped != 1 || !errors.Is(rep.Failed["k00011"], bad) {
				t.Errorf("report: sent %d, skipped %d, failed %v, stopped at quota %v; want 30, 1, k00011, true",
					rep.Sent, rep.Skipped, rep.Failed, rep.StoppedAtQuota)
			}
			var got, want []string
			for _, a := range s.sent() {
				got = append(got, a.Key)
			}
			for _, k := range j.keys {
				if len(want) < 30 && k != "k00007" && k != "k00011" {
					want = append(want, k)
				}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("sent (-want +got):\n%s", diff)
			}
			if n := j.untouched(); n != 10 {
				t.Errorf("%d jobs never claimed, want 10 (8 not reached, the one someone else sent, the one not rendered)", n)
			}
		})
	}
}

// gatedSender is a fakeSender that starts each transaction before the
// journal's sending mark, as SMTP does, and checks at the gate that the
// mark is committed before anything could be delivered.
type gatedSender struct {
	*fakeSender
	t *testing.T
	j *fakeJournal

	// beforeGate fails a key's send before the gate is asked, as a
	// server that refuses the session or the envelope does.
	beforeGate map[string]error
	// ignoreGate sends without asking the gate: a broken sender.
	ignoreGate bool

	mu    sync.Mutex
	held  []string // the messages the gate kept back
	gated []string // the messages sent through SendGated
}

func (s *gatedSender) SendGated(ctx context.Context, m *deliver.Message, gate func() error) error {
	s.mu.Lock()
	s.gated = append(s.gated, m.ID)
	s.mu.Unlock()
	if err := s.beforeGate[m.ID]; err != nil {
		return err
	}
	if s.ignoreGate {
		return s.fakeSender.Send(ctx, m)
	}
	if err := gate(); err != nil {
		s.mu.Lock()
		s.held = append(s.held, m.ID)
		s.mu.Unlock()
		return fmt.Errorf("%w: %w", deliver.ErrGate, err)
	}
	if e := s.j.entry(m.ID); e.state != sending {
		s.t.Errorf("%s passed the gate while the journal had it %s", m.ID, e.state)
	}
	return s.fakeSender.Send(ctx, m)
}

func TestGatedSend(t *testing.T) {
	clock := deliver.NewFakeClock(t0)
	j := newJournal(t, 10)
	j.m["k00003"].foreign = true
	s := &gatedSender{fakeSender: &fakeSender{clock: clock, byKey: map[string][]error{
		"k00006": {deliver.Permanent(errors.New("550 5.1.1 no such user"))},
	}}, t: t, j: j}
	jobs := j.all() // the stale list a second process read
	rep, err := newEngine(clock, j, deliver.Mailbox{Address: "a@contoso.example", Sender: s, Limits: exo}).Run(t.Context(), jobs)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Sent != 8 || rep.Skipped != 1 || len(rep.Failed) != 1 {
		t.Errorf("sent %d, skipped %d, failed %v; want 8, 1, k00006", rep.Sent, rep.Skipped, rep.Failed)
	}
	if !slices.Equal(s.held, []string{"k00003"}) || len(s.tries("k00003")) != 0 {
		t.Errorf("held back %v, and k00003 handed over %d times; want k00003 held, never handed over", s.held, len(s.tries("k00003")))
	}
	if e := j.entry("k00003"); e.touched || e.state != pending {
		t.Errorf("k00003, another run's: %+v, want untouched", e)
	}
	if c := j.count(); c[sent] != 8 || c[failed] != 1 {
		t.Errorf("journal: %v", c)
	}
	// The server saw the held job's envelope, so the per-minute spacing
	// counts it, as it counts a refused message: ten starts, nine gaps.
	if got, want := rep.Elapsed, 9*(time.Minute/27+1); got != want {
		t.Errorf("elapsed %v, want %v", got, want)
	}
}

func TestGatedJournalFailureStopsTheRun(t *testing.T) {
	clock := deliver.NewFakeClock(t0)
	j := newJournal(t, 10)
	s := &gatedSender{fakeSender: &fakeSender{clock: clock}, t: t, j: j}
	rep, err := newEngine(clock, brokenJournal{j, "k00004"}, deliver.Mailbox{Address: "a@contoso.example", Sender: s}).Run(t.Context(), j.pending())
	if err == nil || !strings.Contains(err.Error(), "database is locked") {
		t.Fatalf("error %v, want the journal's", err)
	}
	if rep.Sent != 4 || len(s.attempts) != 4 || !slices.Equal(s.held, []string{"k00004"}) {
		t.Errorf("sent %d (%d handed over, %v held back), want the 4 before the failure and k00004 held", rep.Sent, len(s.attempts), s.held)
	}
	if c := j.count(); c[sent] != 4 || c[pending] != 6 {
		t.Errorf("journal: %v", c)
	}
}

// batchJournal is a fakeJournal that records acceptances with the next
// claim, and counts how often each way was taken.
type batchJournal struct {
	*fakeJournal
	batches, batched, alone int
	// broken is a key whose claim fails, and the acceptances with it.
	broken string
}

// SentThenSending is all or nothing, as the ledger's transaction is.
func (j *batchJournal) SentThenSending(ctx context.Context, sent []deliver.Accepted, key, messageID, mailbox string, at time.Time) error {
	if key == j.broken {
		return errors.New("database is locked")
	}
	for _, a := range sent {
		if e := j.entry(a.Key); e.state != sending {
			return fmt.Errorf("%s is %v, not sending", a.Key, e.state)
		}
	}
	j.batches++
	j.batched += len(sent)
	for _, a := range sent {
		if err := j.fakeJournal.Sent(ctx, a.Key, a.At); err != nil {
			return err
		}
	}
	return j.fakeJournal.Sending(ctx, key, messageID, mailbox, at)
}

func (j *batchJournal) Sent(ctx context.Context, key string, at time.Time) error {
	j.alone++
	return j.fakeJournal.Sent(ctx, key, at)
}

// TestBatchJournal: each acceptance is recorded with the next claim, and
// the last one on its own when the run ends; a job someone else took
// still has the acceptances before it recorded.
func TestBatchJournal(t *testing.T) {
	for _, gated := range []bool{false, true} {
		t.Run(fmt.Sprintf("gated=%v", gated), func(t *testing.T) {
			clock := deliver.NewFakeClock(t0)
			fj := newJournal(t, 10)
			fj.m["k00005"].foreign = true
			j := &batchJournal{fakeJournal: fj}
			fs := &fakeSender{clock: clock}
			var s deliver.Sender = fs
			if gated {
				s = &gatedSender{fakeSender: fs, t: t, j: fj}
			}
			jobs := fj.all() // a stale list, with k00005 in it
			// No caps: the next message goes as soon as the last is
			// accepted, with its acceptance still to record. (While a
			// mailbox waits for its pace, the engine records them then.)
			rep, err := newEngine(clock, j, deliver.Mailbox{Address: "a@contoso.example", Sender: s}).Run(t.Context(), jobs)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Sent != 9 || rep.Skipped != 1 {
				t.Errorf("sent %d, skipped %d; want 9, 1", rep.Sent, rep.Skipped)
			}
			if c := fj.count(); c[sent] != 9 {
				t.Errorf("journal: %v, want 9 sent", c)
			}
			// Ten claims: the first has nothing to record with it, and
			// neither has the one after k00005, which nobody accepted; the
			// others carry the acceptance before (k00005's too, though it
			// is not claimed). The last acceptance is recorded alone.
			if j.batches < 8 || j.batched+j.alone != 9 || j.alone > 2 {
				t.Errorf("%d claims carried %d acceptances, %d were recorded alone; want at least 8 carrying all but the last one or two", j.batches, j.batched, j.alone)
			}
		})
	}
}

// TestBatchJournalFailure: when the transaction that carries acceptances
// with a claim fails, the acceptances are recorded on their own before the
// run ends with the journal's error.
func TestBatchJournalFailure(t *testing.T) {
	for _, gated := range []bool{false, true} {
		t.Run(fmt.Sprintf("gated=%v", gated), func(t *testing.T) {
			clock := deliver.NewFakeClock(t0)
			fj := newJournal(t, 10)
			j := &batchJournal{fakeJournal: fj, broken: "k00004"}
			fs := &fakeSender{clock: clock}
			var s deliver.Sender = fs
			if gated {
				s = &gatedSender{fakeSender: fs, t: t, j: fj}
			}
			rep, err := newEngine(clock, j, deliver.Mailbox{Address: "a@contoso.example", Sender: s}).Run(t.Context(), fj.pending())
			if err == nil || !strings.Contains(err.Error(), "database is locked") {
				t.Fatalf("run: %v, want the journal's error", err)
			}
			if rep.Sent != 4 || len(fs.attempts) != 4 {
				t.Errorf("sent %d, %d handed over; want the 4 before k00004", rep.Sent, len(fs.attempts))
			}
			if c := fj.count(); c[sent] != 4 || c[pending] != 6 {
				t.Errorf("journal: %v, want k00000–k00003 sent (k00003's acceptance was waiting for k00004's claim), the rest pending", c)
			}
		})
	}
}

// TestGatedFailureBeforeTheGate: a send that fails before the gate tells
// about its mailbox even when the journal refused the claim (the person
// was another run's): refused credentials stop the mailbox, a 421 pauses
// it; the person is left to the other run either way.
func TestGatedFailureBeforeTheGate(t *testing.T) {
	auth := &deliver.SendError{Connection: true, Code: 535, Err: errors.New("5.7.3 authentication unsuccessful")}
	busy := &deliver.SendError{Temporary: true, Connection: true, Code: 421, RetryAfter: 10 * time.Minute, Err: errors.New("4.3.2 service not available")}
	for _, tc := range []struct {
		name string
		err  error
		sent int
	}{{"535", auth, 2}, {"421", busy, 5}} {
		t.Run(tc.name, func(t *testing.T) {
			clock := deliver.NewFakeClock(t0)
			j := newJournal(t, 6)
			j.m["k00002"].foreign = true
			s := &gatedSender{fakeSender: &fakeSender{clock: clock}, t: t, j: j,
				beforeGate: map[string]error{"k00002": tc.err}}
			jobs := j.all() // the stale list a second process read
			e := newEngine(clock, j, deliver.Mailbox{Address: "a@contoso.example", Sender: s, Limits: exo})
			rep, err := e.Run(t.Context(), jobs)
			if tc.err == auth {
				if err == nil || !strings.Contains(err.Error(), "535") {
					t.Errorf("run: %v, want it stopped by the 535", err)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if rep.Sent != tc.sent || rep.Skipped != 1 {
				t.Errorf("sent %d, skipped %d; want %d, 1", rep.Sent, rep.Skipped, tc.sent)
			}
			if e := j.entry("k00002"); e.touched || e.state != pending {
				t.Errorf("k00002, another run's: %+v, want untouched", e)
			}
			if tc.err == busy {
				// The mailbox waited before the next message.
				k1, k3 := s.tries("k00001"), s.tries("k00003")
				if len(k1) != 1 || len(k3) != 1 {
					t.Fatalf("k00001 tried %d times, k00003 %d; want once each", len(k1), len(k3))
				}
				if gap := k3[0].Sub(k1[0]); gap < busy.RetryAfter {
					t.Errorf("k00003 went %v after k00001, want at least the pause the 421 asked for (%v)", gap, busy.RetryAfter)
				}
			}
		})
	}
}

// TestGateIgnored: a sender that delivers a message whose claim the
// journal refused breaks the exactly-once guard; the run stops and says
// so instead of counting the person as skipped.
func TestGateIgnored(t *testing.T) {
	clock := deliver.NewFakeClock(t0)
	j := newJournal(t, 4)
	j.m["k00001"].foreign = true
	s := &gatedSender{fakeSender: &fakeSender{clock: clock}, t: t, j: j, ignoreGate: true}
	jobs := j.all()
	_, err := newEngine(clock, j, deliver.Mailbox{Address: "a@contoso.example", Sender: s}).Run(t.Context(), jobs)
	if err == nil || !strings.Contains(err.Error(), "internal error") || !strings.Contains(err.Error(), "k00001") {
		t.Fatalf("run: %v, want an internal error naming k00001", err)
	}
}

// TestGatedRunOfRefusals: a held message costs the sender its connection,
// so after the journal refuses a claim the next jobs are claimed before
// they go to the mailbox, until a claim succeeds: a run of jobs someone
// else did costs one hang-up, not one each.
func TestGatedRunOfRefusals(t *testing.T) {
	clock := deliver.NewFakeClock(t0)
	j := newJournal(t, 10)
	for _, k := range []string{"k00003", "k00004", "k00005", "k00008"} {
		j.m[k].foreign = true
	}
	s := &gatedSender{fakeSender: &fakeSender{clock: clock}, t: t, j: j}
	jobs := j.all() // a stale list
	rep, err := newEngine(clock, j, deliver.Mailbox{Address: "a@contoso.example", Sender: s}).Run(t.Context(), jobs)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Sent != 6 || rep.Skipped != 4 {
		t.Errorf("sent %d, skipped %d; want 6, 4", rep.Sent, rep.Skipped)
	}
	// k00003 and k00008 were held at the gate; k00004 and k00005 never
	// reached the mailbox; k00006 and k00009, claimed first, went out
	// ungated, and k00007 gated again.
	if want := []string{"k00003", "k00008"}; !slices.Equal(s.held, want) {
		t.Errorf("held %v, want %v", s.held, want)
	}
	if want := []string{"k00000", "k00001", "k00002", "k00003", "k00007", "k00008"}; !slices.Equal(s.gated, want) {
		t.Errorf("gated sends %v, want %v", s.gated, want)
	}
	if c := j.count(); c[sent] != 6 || c[pending] != 4 {
		t.Errorf("journal: %v", c)
	}
}
