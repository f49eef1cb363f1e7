package deliver

// Pacing policy. Exchange Online lets one mailbox send 30 messages in any
// 60 seconds and reach 10,000 recipients in any rolling 24 hours; going over
// gets the mailbox throttled or blocked for a day. Each sending mailbox has
// its own Pacer, which keeps to 90% of that by default (27 a minute, 9,000 a
// day), leaving room for the mailbox's human mail:
//
//   - Sends are spread evenly: one every 60s/PerMinute (2.22 s at 27), never
//     a burst of 27 and then a pause, because Exchange counts any 60 s, not
//     calendar minutes. Even spacing also keeps any 60 s window at or under
//     PerMinute. The spacing is from the start of one send to the start of
//     the next, so a slow send is not followed by a catch-up burst.
//   - The day is a rolling window, not a calendar day: a send is allowed
//     while fewer than PerDay sends started in the 24 hours before it. The
//     window starts from the ledger's history, so a rerun an hour later
//     still counts the morning's sends.
//   - When the day is full the Pacer says so (ok is false) and when it
//     frees, rather than making the caller wait for hours.
//
// A send counts when it starts; the 10% headroom covers Exchange counting
// on acceptance, a little later and less evenly.

import (
	"slices"
	"time"
)

// Exchange Online's own limits are 30 messages a minute and 10,000
// recipients a day per mailbox; the defaults keep 10% of each for people.
const (
	DefaultPerMinute = 27
	DefaultPerDay    = 9000
)

// dayWindow is the length of the daily cap's rolling window.
const dayWindow = 24 * time.Hour

// Limits are one mailbox's caps. A zero field means no cap of that kind, so
// the zero Limits paces nothing (the outbox, benchmarks); configuration
// starts from DefaultPerMinute and DefaultPerDay.
type Limits struct {
	PerMinute int // messages in any 60 seconds
	PerDay    int // messages in any 24 hours
}

// Pacer decides when one mailbox may send next. It is not safe for
// concurrent use: one goroutine paces one mailbox.
type Pacer struct {
	limits Limits
	gap    time.Duration // between send starts

	last    time.Time // the latest send
	hasLast bool

	// day is a ring of the latest PerDay sends, n of them from head, the
	// oldest: once it is full, the oldest must leave the 24-hour window
	// before another send. It grows as sends are recorded, up to PerDay,
	// so a generous cap costs no memory until it is used; Unix
	// nanoseconds, a third of a time.Time.
	day     []int64
	head, n int
}

// NewPacer returns a Pacer for a mailbox with the given caps that has
// already sent at the times in history (any order; the ledger's sends of at
// least the last 24 hours).
func NewPacer(limits Limits, history []time.Time) *Pacer {
	p := &Pacer{limits: limits}
	if limits.PerMinute > 0 {
		// One nanosecond over 60s/PerMinute, so that PerMinute gaps are
		// always longer than a minute and no window holds one more send,
		// even counting both its ends.
		p.gap = time.Minute/time.Duration(limits.PerMinute) + 1
	}
	if limits.PerDay > 0 {
		p.day = make([]int64, 0, min(limits.PerDay, 1024))
	}
	h := slices.Clone(history)
	slices.SortFunc(h, time.Time.Compare)
	for _, t := range h {
		p.record(t)
	}
	return p
}

// Next reports how long after now the next send may start, without booking
// it. When the daily cap is what holds it back, ok is false and now+wait is
// when the 24-hour window frees a place: the time to resume.
func (p *Pacer) Next(now time.Time) (wait time.Duration, ok bool) {
	t := now
	if p.gap > 0 && p.hasLast {
		if next := p.last.Add(p.gap); next.After(t) {
			t = next
		}
	}
	if p.full() {
		if free := time.Unix(0, p.day[p.head]).Add(dayWindow); free.After(t) {
			return free.Sub(now), false
		}
	}
	return t.Sub(now), true
}

// Reserve is Next that also books the send at now+wait when ok is true: the
// caller then starts the send no earlier than that. A booking counts against
// the caps even if the caller does not send, which errs on the safe side.
func (p *Pacer) Reserve(now time.Time) (wait time.Duration, ok bool) {
	wait, ok = p.Next(now)
	if ok {
		p.record(now.Add(wait))
	}
	return wait, ok
}

// Release gives back the daily place of the send booked at at when the
// server did not accept the message: Exchange counts the recipients of the
// messages it takes. The per-minute spacing still counts the attempt.
func (p *Pacer) Release(at time.Time) {
	if p.n == 0 {
		return
	}
	newest := (p.head + p.n - 1) % len(p.day)
	if p.day[newest] == at.UnixNano() {
		p.n--
	}
}

func (p *Pacer) full() bool {
	return p.n > 0 && p.n == p.limits.PerDay
}

func (p *Pacer) record(t time.Time) {
	if p.gap > 0 {
		p.last, p.hasLast = t, true
	}
	switch {
	case p.limits.PerDay <= 0:
	case p.n < len(p.day):
		p.day[(p.head+p.n)%len(p.day)] = t.UnixNano()
		p.n++
	case len(p.day) < p.limits.PerDay:
		// Still growing: the ring has not wrapped, head is 0.
		p.day = append(p.day, t.UnixNano())
		p.n++
	default:
		p.day[p.head] = t.UnixNano()
		p.head = (p.head + 1) % len(p.day)
	}
}

// clone returns an independent copy, for planning ahead.
func (p *Pacer) clone() *Pacer {
	c := *p
	c.day = slices.Clone(p.day)
	return &c
}

// EstimateFinish returns when the last of n messages will start going out
// from the mailboxes with the given caps and histories (histories[i] is
// mailbox i's; it may be shorter than mailboxes or nil), starting at start.
// A wave bigger than a day's caps spreads over days: the estimate assumes
// each run is resumed as soon as a window frees, as `nudge run` on a
// schedule does within minutes. Send times and retries are not counted;
// sends are short next to the pacing, and retries are rare. With no
// mailbox it returns the zero time: nothing will ever be sent.
func EstimateFinish(start time.Time, n int, mailboxes []Limits, histories [][]time.Time) time.Time {
	pacers := make([]*Pacer, len(mailboxes))
	for i, l := range mailboxes {
		var h []time.Time
		if i < len(histories) {
			h = histories[i]
		}
		pacers[i] = NewPacer(l, h)
	}
	return estimate(start, n, pacers)
}

// estimate plays the sends through the pacers, which it changes: each
// message goes to whichever mailbox can send it first, as Engine does.
func estimate(now time.Time, n int, pacers []*Pacer) time.Time {
	if len(pacers) == 0 {
		return time.Time{}
	}
	for range n {
		best, bestAt := 0, time.Time{}
		for i, p := range pacers {
			w, _ := p.Next(now)
			if at := now.Add(w); i == 0 || at.Before(bestAt) {
				best, bestAt = i, at
			}
		}
		now = bestAt
		pacers[best].record(now)
	}
	return now
}
