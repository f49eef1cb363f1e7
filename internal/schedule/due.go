package schedule

// Due policy, per (wave, person), at an instant:
//
//   - the wave's send_at, if any, has passed;
//   - with after: the earlier wave was sent to this person (status sent,
//     per the ledger's sent_at) at least the offset ago; someone the
//     earlier wave never reached never gets this one;
//   - the instant is inside the wave's window, read on the wall clock of
//     the window's zone (the person's own zone unless the window fixes
//     one), so 09:00 stays 09:00 across a daylight-saving change;
//   - the date there is not one the wave skips.
//
// Whether the person is still in the wave's audiences, and not already
// sent, is decided by the send path from fresh directory data and the
// ledger; Due is only about time.

import (
	"time"

	"github.com/nudge-passkeys/nudge/internal/campaign"
)

// Open reports whether at is inside t's window, and not on a skipped date,
// for a recipient in zone (used when the window has no fixed zone).
func Open(t *campaign.Timing, at time.Time, zone *time.Location) bool {
	local := at.In(windowZone(t, zone))
	if len(t.Skip) > 0 && t.Skip[local.Format(time.DateOnly)] {
		return false
	}
	if !t.Windowed {
		return true
	}
	if !t.Days[local.Weekday()] {
		return false
	}
	tod := time.Duration(local.Hour())*time.Hour + time.Duration(local.Minute())*time.Minute + time.Duration(local.Second())*time.Second + time.Duration(local.Nanosecond())
	return tod >= t.From && tod < t.To
}

// NextOpen returns the earliest instant at or after at when Open holds,
// or the zero time when the window never opens (within two years).
func NextOpen(t *campaign.Timing, at time.Time, zone *time.Location) time.Time {
	if Open(t, at, zone) {
		return at
	}
	loc := windowZone(t, zone)
	local := at.In(loc)
	y, m, d := local.Date()
	for i := 0; i < 800; i++ {
		// Wall-clock opening of day d+i: time.Date normalises an hour the
		// zone skips forward, as the clocks do.
		var open time.Time
		if t.Windowed {
			open = time.Date(y, m, d+i, int(t.From/time.Hour), int(t.From%time.Hour/time.Minute), 0, 0, loc)
		} else {
			open = time.Date(y, m, d+i, 0, 0, 0, 0, loc)
		}
		if i == 0 && open.Before(at) {
			continue // today's window has closed (or it is a skipped day)
		}
		if Open(t, open, zone) {
			return open
		}
	}
	return time.Time{}
}

// Earliest is when a person may get a wave at the soonest, from now: not
// before sendAt (zero: no send_at), not before prev+offset when the wave
// follows another (prev is when that one reached them; the caller passes
// a zero prev only for a wave without after:), and inside the window.
func Earliest(t *campaign.Timing, sendAt, now, prev time.Time, zone *time.Location) time.Time {
	at := now
	if sendAt.After(at) {
		at = sendAt
	}
	if t.After != "" {
		if p := prev.Add(t.Offset); p.After(at) {
			at = p
		}
	}
	return NextOpen(t, at, zone)
}

// Due reports whether a person in zone is due the wave at now. prev is
// when the wave named by after: was sent to them, zero when it was not.
func Due(t *campaign.Timing, sendAt, now, prev time.Time, zone *time.Location) bool {
	if !sendAt.IsZero() && now.Before(sendAt) {
		return false
	}
	if t.After != "" && (prev.IsZero() || now.Before(prev.Add(t.Offset))) {
		return false
	}
	return Open(t, now, zone)
}

func windowZone(t *campaign.Timing, zone *time.Location) *time.Location {
	switch {
	case t.Zone != nil:
		return t.Zone
	case zone != nil:
		return zone
	}
	return time.UTC
}
