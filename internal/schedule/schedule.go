// Package schedule works out a campaign's timeline: when each wave starts,
// how the sending mailboxes' caps spread it over days, and when its last
// message should go.
//
// The policy, which `nudge schedule` prints and `nudge run` follows:
//
//   - A wave with send_at is due from that instant; one without is manual
//     (`nudge send WAVE`) and never scheduled.
//   - Due waves go out in send_at order (campaign order on a tie), one
//     after the other, through the same mailboxes: they share each
//     mailbox's per-minute and rolling 24-hour caps, as Exchange counts
//     per mailbox, not per wave. A wave whose send_at has passed starts
//     now; one that is still waiting starts at its send_at, or when the
//     wave before it has finished, whichever is later.
//   - The play-through uses deliver's Pacer with the ledger's history of
//     the last 24 hours, so the ETA is the one `nudge send` prints, and it
//     assumes a run resumes as soon as a cap frees a place (a scheduler
//     calling `nudge run` every few minutes).
//
// Everything is computed from the values given, with no clock of its own:
// the same input gives the same timeline.
package schedule

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nudge-passkeys/nudge/internal/campaign"
	"github.com/nudge-passkeys/nudge/internal/deliver"
)

// Wave is one wave as it stands now.
type Wave struct {
	ID string
	// SendAt is when the wave is due; zero means manual only.
	SendAt    time.Time
	Audiences []string
	// People is how many people the wave's audiences hold now.
	People int
	// Sent, Done and Pending come from the ledger: Sent were accepted by
	// the server, Done are people with any final row (sent, failed,
	// unknown, skipped, or being sent), Pending are the people in the
	// audiences now who have none and so are still to be sent.
	Sent, Done, Pending int
	// Timing is the wave's after:, window: and skip:. Recipients, when
	// not nil, are the people in its audiences now, one by one: Plan then
	// places each person's message in their own window (see people.go).
	Timing     campaign.Timing
	Recipients []Recipient
}

// Mailbox is one sending mailbox: its caps and when it sent in the last
// 24 hours.
type Mailbox struct {
	Address string
	Limits  deliver.Limits
	History []time.Time
}

// Slot is a wave placed on the timeline.
type Slot struct {
	Wave
	// Manual is true when the wave has no send_at.
	Manual bool
	// Due is true when send_at has passed and people are pending: the
	// next `nudge run` sends it (within the caps).
	Due bool
	// Start and ETA are when the first and last pending message should
	// go; both zero when nothing is pending or the wave is manual.
	Start, ETA time.Time
	// Days is how many calendar days (in the campaign's zone) the
	// pending messages span, 0 when none.
	Days int
	// PerDate is how many pending messages go on each date (in the
	// campaign's zone), in date order; set when the wave has Recipients.
	PerDate []DateCount
	// Waiting is how many pending people the earlier wave (after:) has
	// not reached and will not: they get this wave only if it does.
	Waiting int
	// DueNow is how many pending people are due at Now, before the caps;
	// set when the wave has Recipients.
	DueNow int
}

// Timeline is the whole campaign's schedule.
type Timeline struct {
	Now   time.Time
	Slots []Slot // in send_at order, manual waves last
	// PerDay is the sum of the mailboxes' daily caps, 0 when none caps.
	PerDay int
	// LeftToday is how many more messages the mailboxes may send in the
	// 24 hours before Now's window frees up (PerDay minus the history).
	LeftToday int
	Warnings  []string
}

// Plan places waves on the timeline at now, with times in loc (the
// campaign's zone) for day counts.
func Plan(now time.Time, loc *time.Location, waves []Wave, boxes []Mailbox) Timeline {
	if loc == nil {
		loc = time.UTC
	}
	tl := Timeline{Now: now}
	pacers := make([]*deliver.Pacer, len(boxes))
	for i, b := range boxes {
		pacers[i] = deliver.NewPacer(b.Limits, b.History)
		tl.PerDay += b.Limits.PerDay
		if b.Limits.PerDay > 0 {
			used := 0
			for _, t := range b.History {
				if now.Sub(t) < 24*time.Hour && !t.After(now) {
					used++
				}
			}
			tl.LeftToday += max(0, b.Limits.PerDay-used)
		}
	}

	slots := make([]Slot, len(waves))
	for i, w := range waves {
		slots[i] = Slot{Wave: w, Manual: w.SendAt.IsZero() && w.Timing.After == ""}
	}
	// Scheduled waves by send_at, manual ones after, stable on ties.
	slices.SortStableFunc(slots, func(a, b Slot) int {
		switch {
		case a.Manual != b.Manual:
			if a.Manual {
				return 1
			}
			return -1
		case a.Manual:
			return 0
		}
		return a.SendAt.Compare(b.SendAt)
	})
	if byPerson(slots) {
		planPeople(now, loc, slots, pacers, &tl)
		return tl
	}

	free := now // when the previous wave's last message has gone
	for i := range slots {
		s := &slots[i]
		if s.Manual {
			tl.Warnings = append(tl.Warnings, manualWarning(s.ID))
			continue
		}
		if s.Pending == 0 {
			continue
		}
		s.Due = !s.SendAt.After(now)
		if s.Due && s.SendAt.Before(now) {
			tl.Warnings = append(tl.Warnings, pastWarning(s, loc))
		}
		start := s.SendAt
		if start.Before(free) {
			start = free
		}
		if len(pacers) == 0 {
			continue // nothing can send: no ETA
		}
		s.Start = play(start, pacers)
		s.ETA = s.Start
		for range s.Pending - 1 {
			s.ETA = play(s.ETA, pacers)
		}
		s.Days = calendarDays(s.Start.In(loc), s.ETA.In(loc))
		free = s.ETA
	}
	tl.Warnings = append(tl.Warnings, overlaps(now, slots, loc)...)
	tl.Slots = slots
	return tl
}

// play books one message on whichever mailbox can send it first, as the
// delivery engine does, and returns when it goes.
func play(now time.Time, pacers []*deliver.Pacer) time.Time {
	best, bestAt := 0, time.Time{}
	for i, p := range pacers {
		w, _ := p.Next(now)
		if at := now.Add(w); i == 0 || at.Before(bestAt) {
			best, bestAt = i, at
		}
	}
	pacers[best].Reserve(bestAt)
	return bestAt
}

// calendarDays counts the dates from a to b inclusive.
func calendarDays(a, b time.Time) int {
	da := time.Date(a.Year(), a.Month(), a.Day(), 12, 0, 0, 0, time.UTC)
	db := time.Date(b.Year(), b.Month(), b.Day(), 12, 0, 0, 0, time.UTC)
	return int(db.Sub(da).Hours()/24) + 1
}

// overlaps warns about waves held back by earlier ones: due while an
// earlier wave is still going out, they queue behind it on the same
// mailboxes' caps. A queue of minutes is normal and not worth a word; one
// of an hour or more, or into another day, is what the daily cap does.
func overlaps(now time.Time, slots []Slot, loc *time.Location) []string {
	var out []string
	for j := range slots {
		b := &slots[j]
		if b.Manual || b.Start.IsZero() {
			continue
		}
		from := b.SendAt
		if from.Before(now) {
			from = now
		}
		if b.Start.Sub(from) < time.Hour && calendarDays(from.In(loc), b.Start.In(loc)) == 1 {
			continue
		}
		var earlier []string
		for i := range j {
			a := &slots[i]
			if !a.Manual && !a.ETA.IsZero() && a.ETA.After(from) {
				earlier = append(earlier, a.ID)
			}
		}
		if len(earlier) == 0 {
			continue
		}
		out = append(out, fmt.Sprintf("wave %s is due %s while %s %s still sending: they share the sending mailboxes' daily cap, so %s starts %s",
			b.ID, from.In(loc).Format(shortLayout), strings.Join(earlier, ", "), isAre(len(earlier)), b.ID, b.Start.In(loc).Format(shortLayout)))
	}
	return out
}

const shortLayout = "Mon 2 Jan 15:04 MST"

func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

func manualWarning(id string) string {
	return fmt.Sprintf("wave %s has no send_at: nudge run never sends it; send it with nudge send %s", id, id)
}

func pastWarning(s *Slot, loc *time.Location) string {
	when := "the next nudge run sends them"
	if s.Timing.Windowed {
		when = "nudge run sends them when their send window is next open"
	}
	return fmt.Sprintf("wave %s was due %s and %d people are still pending: %s", s.ID, s.SendAt.In(loc).Format("Mon 2 Jan 2006 15:04 MST"), s.Pending, when)
}
