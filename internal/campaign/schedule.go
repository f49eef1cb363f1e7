package campaign

// Timing policy for scheduled waves: a wave may wait for an earlier one
// (after: announce + 7d, counted per person from when that person's
// announce was actually sent), may go only inside a send window (days of
// the week and hours, in the recipient's zone or a fixed one), and never on
// the dates it skips (holidays, in the window's zone). Everything here is
// checked when the file is read, each problem with its line, so that
// nudge run never meets a timing it cannot follow.

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Window is when a wave may be sent, as written in campaign.yaml.
type Window struct {
	// Days are the days of the week it may go: mon, tue, … sun.
	Days []string `yaml:"days"`
	// Hours is "09:00-17:00": from the first, up to (not at) the second.
	Hours string `yaml:"hours"`
	// Zone is "recipient" (each person's own zone; the default) or an
	// IANA zone such as Europe/Paris.
	Zone string `yaml:"zone"`
}

// ZoneRecipient is the window zone meaning each person's own zone.
const ZoneRecipient = "recipient"

// Timing is a wave's after:, window: and skip: once checked.
type Timing struct {
	// After is the wave this one follows per person, "" for none; Offset
	// is how long after that person's earlier message this one is due.
	After  string
	Offset time.Duration
	// Windowed is true when the wave has a window; Days, From and To are
	// then set. From and To are offsets from midnight, From < To.
	Windowed bool
	Days     [7]bool // by time.Weekday
	From, To time.Duration
	// Zone is the window's fixed zone; nil means the recipient's.
	Zone *time.Location
	// Skip holds the skipped dates as "2006-01-02", in the window's zone.
	Skip map[string]bool
}

var dayNames = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

var afterPattern = regexp.MustCompile(`^([a-z0-9][a-z0-9-]*)\s*(?:\+\s*(\d+)\s*([wdhm]))?$`)

// parseAfter reads "announce + 7d" (units w, d, h, m).
func parseAfter(s string) (wave string, offset time.Duration, err error) {
	m := afterPattern.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return "", 0, fmt.Errorf("%q: write the earlier wave and a delay, e.g. announce + 7d (units w, d, h, m)", s)
	}
	if m[2] == "" {
		return m[1], 0, nil
	}
	n, err := strconv.Atoi(m[2])
	if err != nil || n > 3650 {
		return "", 0, fmt.Errorf("%q: delay too large", s)
	}
	unit := map[string]time.Duration{"w": 7 * 24 * time.Hour, "d": 24 * time.Hour, "h": time.Hour, "m": time.Minute}[m[3]]
	return m[1], time.Duration(n) * unit, nil
}

// parseHours reads "09:00-17:00".
func parseHours(s string) (from, to time.Duration, err error) {
	a, b, ok := strings.Cut(strings.ReplaceAll(s, " ", ""), "-")
	if ok {
		from, err = hhmm(a)
		if err == nil {
			to, err = hhmm(b)
		}
	}
	if !ok || err != nil {
		return 0, 0, fmt.Errorf("%q: give hours like 09:00-17:00", s)
	}
	if to <= from {
		return 0, 0, fmt.Errorf("%q: the end must be later than the start on the same day (a window cannot run past midnight)", s)
	}
	return from, to, nil
}

func hhmm(s string) (time.Duration, error) {
	if s == "24:00" {
		return 24 * time.Hour, nil
	}
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, err
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
}

// validateSchedule checks every wave's after:, window: and skip:, and
// sets its Timing. It runs after the waves' ids are known.
func (c *Campaign) validateSchedule(add func(path, format string, args ...any)) {
	ids := map[string]int{}
	for i, w := range c.Waves {
		ids[w.ID] = i
	}
	for i := range c.Waves {
		w := &c.Waves[i]
		p := fmt.Sprintf("waves[%d]", i)
		t := Timing{}
		if w.After != "" {
			after, off, err := parseAfter(w.After)
			switch {
			case err != nil:
				add(p+".after", "wave %q: after: %v", w.ID, err)
			case after == w.ID:
				add(p+".after", "wave %q: after: a wave cannot follow itself", w.ID)
			default:
				if _, ok := ids[after]; !ok {
					add(p+".after", "wave %q: after: no wave %q (waves: %s)%s", w.ID, after, strings.Join(c.WaveIDs(), ", "), didYouMean(after, c.WaveIDs()))
				}
				t.After, t.Offset = after, off
			}
			if w.Sessions {
				// Everyone is invited at once, to the session that fits
				// them: a per-person delay would fill sessions unevenly.
				add(p+".after", "wave %q: invitations (sessions: true) go to everyone at once: give send_at instead of after (or send it with nudge send %s)", w.ID, w.ID)
			}
		}
		if w.Window != nil {
			t.Windowed = true
			win := w.Window
			if len(win.Days) == 0 {
				add(p+".window", "wave %q: window: no days: list the days it may go, e.g. days: [mon, tue, wed, thu, fri]", w.ID)
			}
			for j, d := range win.Days {
				wd, ok := dayNames[strings.ToLower(strings.TrimSpace(d))]
				if !ok {
					add(fmt.Sprintf("%s.window.days[%d]", p, j), "wave %q: window: day %q: use mon, tue, wed, thu, fri, sat or sun", w.ID, d)
					continue
				}
				t.Days[wd] = true
			}
			if strings.TrimSpace(win.Hours) == "" {
				add(p+".window", "wave %q: window: no hours: give them, e.g. hours: \"09:00-17:00\"", w.ID)
			} else if from, to, err := parseHours(win.Hours); err != nil {
				add(p+".window.hours", "wave %q: window: hours: %v", w.ID, err)
			} else {
				t.From, t.To = from, to
			}
			switch z := strings.TrimSpace(win.Zone); z {
			case "", ZoneRecipient:
			default:
				loc, err := time.LoadLocation(z)
				if err != nil || z == "Local" {
					add(p+".window.zone", "wave %q: window: unknown zone %q: use recipient or an IANA name such as Europe/Paris", w.ID, z)
				} else {
					t.Zone = loc
				}
			}
		}
		if len(w.Skip) > 0 {
			t.Skip = map[string]bool{}
			for j, d := range w.Skip {
				day, err := time.Parse(time.DateOnly, strings.TrimSpace(d))
				if err != nil {
					add(fmt.Sprintf("%s.skip[%d]", p, j), "wave %q: skip: %q is not a date like 2026-12-25", w.ID, d)
					continue
				}
				t.Skip[day.Format(time.DateOnly)] = true
			}
		}
		if w.Sessions && (w.Window != nil || len(w.Skip) > 0) {
			add(p+".sessions", "wave %q: invitations (sessions: true) go to everyone at send_at, each for the session in their working hours: remove window: and skip:", w.ID)
		}
		w.Timing = t
	}
	// A cycle of after: would leave every wave in it waiting for ever.
	for i := range c.Waves {
		seen := map[string]bool{}
		for id := c.Waves[i].ID; ; {
			j, ok := ids[id]
			if !ok {
				break
			}
			next := c.Waves[j].Timing.After
			if next == "" {
				break
			}
			if next == c.Waves[i].ID {
				chain := []string{c.Waves[i].ID}
				for k := c.Waves[i].Timing.After; k != c.Waves[i].ID; k = c.Waves[ids[k]].Timing.After {
					chain = append(chain, k)
				}
				chain = append(chain, c.Waves[i].ID)
				add(fmt.Sprintf("waves[%d].after", i), "wave %q: after: makes a cycle (%s): every wave in it would wait for ever", c.Waves[i].ID, strings.Join(chain, " → "))
				break
			}
			if seen[next] {
				break // a cycle not through wave i: reported at its own waves
			}
			seen[next] = true
			id = next
		}
	}
}

// Scheduled reports whether nudge run sends the wave: it has send_at or
// after:. Waves with neither are sent only by nudge send.
func (w *Wave) Scheduled() bool { return !w.SendTime.IsZero() || w.Timing.After != "" }
