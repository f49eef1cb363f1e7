package ical

// VTIMEZONE policy: the zone's definition comes from Go's own time zone
// data (the system's or the embedded time/tzdata), not from a table of our
// own, so it follows the IANA database nudge is built with. It covers the
// transition in effect on 1 January of the first year an event uses
// through 31 December of the last. When each kind of change (to standard
// time, to daylight time) follows one yearly rule over those years and the
// years either side — "the last Sunday of March at 02:00", as almost every
// zone does — it is written as one STANDARD and one DAYLIGHT with that
// RRULE (FREQ=YEARLY;BYMONTH;BYDAY=nDD, the only form Outlook imports, per
// MS-OXCICAL 2.1.3.1.1.19.2.2). Otherwise every change is written with its
// exact onset and no RRULE, which any client reads correctly.

import (
	"fmt"
	"time"
)

// transition is a change of offset in a zone.
type transition struct {
	at       time.Time // the instant, in the zone
	from, to int       // offsets, seconds east of UTC
	name     string
	dst      bool
}

// local is the wall-clock time of the change, in the offset before it
// (RFC 5545 §3.6.5).
func (t transition) local() time.Time {
	return t.at.UTC().Add(time.Duration(t.from) * time.Second)
}

// transitions lists the change in effect at start and every change
// before end.
func transitions(loc *time.Location, start, end time.Time) []transition {
	mk := func(at time.Time) transition {
		at = at.In(loc)
		name, to := at.Zone()
		_, from := at.Add(-time.Second).Zone()
		// DAYLIGHT is the change that moves clocks forward, whatever
		// the data calls daylight time (Europe/Dublin's is winter's).
		return transition{at, from, to, name, to > from}
	}
	var out []transition
	onset, next := start.ZoneBounds()
	if onset.IsZero() {
		// One offset since the beginning of the data: a change "from"
		// that offset to itself at the epoch.
		name, off := start.Zone()
		out = append(out, transition{time.Unix(0, 0).In(loc), off, off, name, false})
	} else {
		out = append(out, mk(onset))
	}
	for !next.IsZero() && next.Before(end) {
		out = append(out, mk(next))
		_, next = next.ZoneBounds()
	}
	return out
}

// writeTimezone writes the VTIMEZONE of loc covering the years from to to.
func writeTimezone(l *lineWriter, loc *time.Location, from, to int) {
	start := time.Date(from, time.January, 1, 0, 0, 0, 0, loc)
	end := time.Date(to+1, time.January, 1, 0, 0, 0, 0, loc)
	ts := transitions(loc, start, end)
	l.line("BEGIN:VTIMEZONE")
	l.line("TZID:" + text(loc.String()))
	if rules, ok := yearlyRules(loc, ts, from, to); ok {
		for i, t := range rules.first {
			observance(l, t, rules.rrule[i])
		}
	} else {
		for _, t := range ts {
			observance(l, t, "")
		}
	}
	l.line("END:VTIMEZONE")
}

// rules are one STANDARD and one DAYLIGHT observance with yearly rules.
type rules struct {
	first [2]transition
	rrule [2]string
}

// yearlyRules finds the two yearly rules ts follows, checking them
// against Go's data for every year from from-1 to to+1.
func yearlyRules(loc *time.Location, ts []transition, from, to int) (rules, bool) {
	var r rules
	var seen [2]bool
	for _, t := range ts {
		k := 0
		if t.dst {
			k = 1
		}
		if !seen[k] {
			r.first[k], seen[k] = t, true
		}
	}
	if !seen[0] || !seen[1] {
		return r, false // no daylight time: nothing recurs
	}
	for k := range r.first {
		t := r.first[k]
		l := t.local()
		// The nth weekday of the month, or the last when the change falls
		// in the month's last week ("last Sunday" is the commoner rule).
		candidates := []int{(l.Day()-1)/7 + 1}
		if l.AddDate(0, 0, 7).Month() != l.Month() {
			candidates = []int{-1, candidates[0]}
		}
		found := false
		for _, nth := range candidates {
			if follows(loc, t, nth, from-1, to+1) {
				r.rrule[k] = fmt.Sprintf("RRULE:FREQ=YEARLY;BYMONTH=%d;BYDAY=%d%s", int(l.Month()), nth, weekday[l.Weekday()])
				found = true
				break
			}
		}
		if !found {
			return r, false
		}
	}
	// Every change in ts must be one the rules describe.
	for _, t := range ts {
		k := 0
		if t.dst {
			k = 1
		}
		f := r.first[k]
		if t.from != f.from || t.to != f.to || t.name != f.name {
			return r, false
		}
	}
	return r, true
}

// follows reports whether, in every year from y0 to y1, loc changes from
// t.from to t.to on the nth weekday (−1: the last) of t's month, at t's
// local time.
func follows(loc *time.Location, t transition, nth, y0, y1 int) bool {
	l := t.local()
	for y := y0; y <= y1; y++ {
		d := nthWeekday(y, l.Month(), l.Weekday(), nth)
		wall := time.Date(y, l.Month(), d, l.Hour(), l.Minute(), l.Second(), 0, time.UTC)
		at := wall.Add(-time.Duration(t.from) * time.Second)
		_, before := at.Add(-time.Second).In(loc).Zone()
		name, after := at.In(loc).Zone()
		if before != t.from || after != t.to || name != t.name {
			return false
		}
	}
	return true
}

// nthWeekday is the day of month of the nth wd of month m of year y; nth
// −1 is the last.
func nthWeekday(y int, m time.Month, wd time.Weekday, nth int) int {
	if nth < 0 {
		last := time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC)
		return last.Day() - (int(last.Weekday())-int(wd)+7)%7
	}
	first := time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
	return 1 + (int(wd)-int(first.Weekday())+7)%7 + 7*(nth-1)
}

var weekday = [...]string{"SU", "MO", "TU", "WE", "TH", "FR", "SA"}

// observance writes one STANDARD or DAYLIGHT component.
func observance(l *lineWriter, t transition, rrule string) {
	kind := "STANDARD"
	if t.dst {
		kind = "DAYLIGHT"
	}
	l.line("BEGIN:" + kind)
	l.line("DTSTART:" + t.local().Format(localLayout))
	if rrule != "" {
		l.line(rrule)
	}
	l.line("TZOFFSETFROM:" + offset(t.from))
	l.line("TZOFFSETTO:" + offset(t.to))
	if t.name != "" {
		l.line("TZNAME:" + text(t.name))
	}
	l.line("END:" + kind)
}

// offset formats seconds east of UTC as ±HHMM, or ±HHMMSS when the offset
// has seconds (local mean time in old data).
func offset(sec int) string {
	sign := '+'
	if sec < 0 {
		sign, sec = '-', -sec
	}
	h, m, s := sec/3600, sec/60%60, sec%60
	if s != 0 {
		return fmt.Sprintf("%c%02d%02d%02d", sign, h, m, s)
	}
	return fmt.Sprintf("%c%02d%02d", sign, h, m)
}
