package schedule

// The per-person play-through, used when waves carry their Recipients: each
// pending message becomes ready at its Earliest instant (send_at, the
// earlier wave's send to that person plus the offset, the person's window),
// and messages go in the order they become ready through the shared
// mailboxes' pacers. A message the caps push out of its window waits for
// the window's next opening. A reminder's readiness is known only once the
// earlier wave's message to that person has been placed, so placing one
// schedules the next: the play-through is a single pass in time order.

import (
	"maps"
	"slices"
	"time"

	"github.com/nudge-passkeys/nudge/internal/deliver"
)

// Recipient is one person in a wave's audiences now.
type Recipient struct {
	ID string
	// Zone is the person's time zone, for a window in the recipient's zone.
	Zone *time.Location
	// Done is true when the ledger holds a final row for them: nothing
	// to send.
	Done bool
	// Prev, for a wave with after:, is when the earlier wave was sent to
	// them (the ledger's sent_at), zero when it was not.
	Prev time.Time
}

// DateCount is how many messages of a wave go on one date.
type DateCount struct {
	Date string // 2006-01-02 in the campaign's zone
	N    int
}

func byPerson(slots []Slot) bool {
	for _, s := range slots {
		if s.Recipients != nil {
			return true
		}
	}
	return false
}

// item is one message waiting in the play-through, 24 bytes: the heap
// holds one per pending (wave, person), and sifting it is most of the
// play-through's time.
type item struct {
	at     int64 // Unix nanoseconds
	slot   int32 // index into slots
	person int32 // index into the slot's Recipients
	seq    int64 // push order: ties go first in, first out
}

func (a item) before(b item) bool {
	if a.at != b.at {
		return a.at < b.at
	}
	if a.slot != b.slot {
		return a.slot < b.slot
	}
	return a.seq < b.seq
}

// queue is a binary min-heap of items by (at, slot, seq), written out
// rather than through container/heap, whose interface calls and
// interface-boxed items cost twice as much here.
type queue []item

func (q *queue) push(it item) {
	h := append(*q, it)
	i := len(h) - 1
	for i > 0 {
		parent := (i - 1) / 2
		if !h[i].before(h[parent]) {
			break
		}
		h[i], h[parent] = h[parent], h[i]
		i = parent
	}
	*q = h
}

func (q *queue) pop() item {
	h := *q
	top := h[0]
	n := len(h) - 1
	h[0] = h[n]
	h = h[:n]
	for i := 0; ; {
		least, l, r := i, 2*i+1, 2*i+2
		if l < n && h[l].before(h[least]) {
			least = l
		}
		if r < n && h[r].before(h[least]) {
			least = r
		}
		if least == i {
			break
		}
		h[i], h[least] = h[least], h[i]
		i = least
	}
	*q = h
	return top
}

func planPeople(now time.Time, loc *time.Location, slots []Slot, pacers []*deliver.Pacer, tl *Timeline) {
	index := make(map[string]int, len(slots))
	member := make([]map[string]int, len(slots))
	for i := range slots {
		index[slots[i].ID] = i
		member[i] = make(map[string]int, len(slots[i].Recipients))
		for j, r := range slots[i].Recipients {
			member[i][r.ID] = j
		}
	}
	followers := map[int][]int{}
	for i := range slots {
		if a := slots[i].Timing.After; a != "" {
			if j, ok := index[a]; ok {
				followers[j] = append(followers[j], i)
			}
		}
	}
	var q queue
	var seq int64
	push := func(slot, person int, at time.Time) {
		if at.IsZero() {
			return // the window never opens
		}
		q.push(item{at: at.UnixNano(), slot: int32(slot), person: int32(person), seq: seq})
		seq++
	}
	// waiting[i][j]: person j of slot i waits for the earlier wave's
	// message, which the play-through has not placed yet.
	waiting := make([]map[int]bool, len(slots))
	for i := range slots {
		s := &slots[i]
		waiting[i] = map[int]bool{}
		if s.Manual {
			tl.Warnings = append(tl.Warnings, manualWarning(s.ID))
			continue
		}
		prevSlot, hasPrev := -1, false
		if s.Timing.After != "" {
			prevSlot, hasPrev = index[s.Timing.After]
		}
		for j := range s.Recipients {
			r := &s.Recipients[j]
			if r.Done {
				continue
			}
			if s.Timing.After == "" {
				at := Earliest(&s.Timing, s.SendAt, now, time.Time{}, r.Zone)
				s.DueNow += dueAt(at, now)
				push(i, j, at)
				continue
			}
			k, in := -1, false
			if hasPrev {
				k, in = member[prevSlot][r.ID]
			}
			switch {
			case !r.Prev.IsZero():
				at := Earliest(&s.Timing, s.SendAt, now, r.Prev, r.Zone)
				s.DueNow += dueAt(at, now)
				push(i, j, at)
			case in && !slots[prevSlot].Recipients[k].Done && !slots[prevSlot].Manual:
				waiting[i][j] = true
			default:
				s.Waiting++
			}
		}
	}

	perDate := make([]map[int]int, len(slots)) // by yyyymmdd
	last := time.Time{}
	for len(q) > 0 {
		it := q.pop()
		itAt := time.Unix(0, it.at).UTC()
		s := &slots[it.slot]
		r := &s.Recipients[it.person]
		if len(pacers) == 0 {
			if !itAt.After(now) {
				s.Due = true
			}
			continue
		}
		at := itAt
		if at.Before(last) {
			at = last
		}
		at = peek(at, pacers)
		if !Open(&s.Timing, at, r.Zone) {
			// The caps pushed it out of the window: the next opening.
			push(int(it.slot), int(it.person), NextOpen(&s.Timing, at, r.Zone))
			continue
		}
		at = play(at, pacers)
		last = at
		if !itAt.After(now) {
			s.Due = true
		}
		if s.Start.IsZero() {
			s.Start = at
		}
		s.ETA = at
		if perDate[it.slot] == nil {
			perDate[it.slot] = map[int]int{}
		}
		y, m, d := at.In(loc).Date()
		perDate[it.slot][y*10000+int(m)*100+d]++
		for _, f := range followers[int(it.slot)] {
			fs := &slots[f]
			j, ok := member[f][r.ID]
			if !ok || !waiting[f][j] {
				continue
			}
			delete(waiting[f], j)
			push(f, j, Earliest(&fs.Timing, fs.SendAt, now, at, fs.Recipients[j].Zone))
		}
	}
	for i := range slots {
		s := &slots[i]
		s.Waiting += len(waiting[i])
		if !s.Start.IsZero() {
			s.Days = calendarDays(s.Start.In(loc), s.ETA.In(loc))
		}
		for _, d := range slices.Sorted(maps.Keys(perDate[i])) {
			date := time.Date(d/10000, time.Month(d/100%100), d%100, 12, 0, 0, 0, time.UTC).Format(time.DateOnly)
			s.PerDate = append(s.PerDate, DateCount{Date: date, N: perDate[i][d]})
		}
		if s.Due && s.Pending > 0 && !s.SendAt.IsZero() && s.SendAt.Before(now) {
			tl.Warnings = append(tl.Warnings, pastWarning(s, loc))
		}
	}
	// Reminders without send_at go where their first message falls.
	slices.SortStableFunc(slots, func(a, b Slot) int {
		ka, kb := sortKey(a), sortKey(b)
		return ka.Compare(kb)
	})
	tl.Slots = slots
}

// sortKey orders slots by first send, else send_at; manual waves last.
func sortKey(s Slot) time.Time {
	switch {
	case s.Manual:
		return time.Unix(1<<40, 0)
	case !s.Start.IsZero():
		return s.Start
	case !s.SendAt.IsZero():
		return s.SendAt
	}
	return time.Unix(1<<40-1, 0)
}

// peek is when the next message could go on the first free mailbox,
// without booking it.
func peek(now time.Time, pacers []*deliver.Pacer) time.Time {
	var best time.Time
	for i, p := range pacers {
		w, _ := p.Next(now)
		if at := now.Add(w); i == 0 || at.Before(best) {
			best = at
		}
	}
	return best
}

// dueAt is 1 when a message ready at at is due at now.
func dueAt(at, now time.Time) int {
	if !at.IsZero() && !at.After(now) {
		return 1
	}
	return 0
}
