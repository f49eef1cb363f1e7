package campaign

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
)

// Sessions is the sessions: section of campaign.yaml: the Q&A sessions
// people are invited to, and how nudge finds each person's time zone.
type Sessions struct {
	// WorkingHours is when, in each person's own zone, a session may
	// start for them: "08:00-18:00" unless set.
	WorkingHours string `yaml:"working_hours"`
	// MailboxSettings has nudge pull (and --source graph) read each
	// person's time zone from their Exchange mailbox settings, which then
	// win over the tables below (needs MailboxSettings.Read; without it the
	// pull warns and the tables decide).
	MailboxSettings bool `yaml:"mailbox_settings"`
	// UsageLocations and OfficeLocations map a person's usageLocation
	// (a country code such as FR) or officeLocation to an IANA zone, for
	// people whose own zone is not known. Office wins over usage.
	UsageLocations  map[string]string `yaml:"usage_locations"`
	OfficeLocations map[string]string `yaml:"office_locations"`
	// List is the sessions themselves.
	List []Session `yaml:"list"`

	// WorkFrom and WorkTo are WorkingHours as offsets from midnight.
	WorkFrom, WorkTo time.Duration `yaml:"-"`
}

// Session is one Q&A session.
type Session struct {
	ID    string `yaml:"id"`
	Title string `yaml:"title"`
	// Start is the local time in Zone, "2026-12-03T15:00".
	Start string `yaml:"start"`
	// Zone is an IANA zone; the campaign's default zone when empty.
	Zone string `yaml:"zone"`
	// Duration is "45m", "1h", "1h30m"; one hour when empty.
	Duration string `yaml:"duration"`
	// JoinURL is the Teams or Zoom link, or a page about the room.
	JoinURL string `yaml:"join_url"`
	// Room is a physical place, written as the invite's location.
	Room string `yaml:"room"`
	// Host is the presenter's address; one host cannot run two sessions
	// at once.
	Host     string `yaml:"host"`
	Language string `yaml:"language"`
	Capacity int    `yaml:"capacity"`
	// Serves restricts the session to people in these zones or regions
	// (usageLocation codes); empty serves everyone who fits otherwise.
	Serves Serves `yaml:"serves"`
	// Cancelled sessions get nobody new; people already invited are sent
	// a cancellation.
	Cancelled bool `yaml:"cancelled"`

	StartTime time.Time     `yaml:"-"`
	Length    time.Duration `yaml:"-"`
	Line      int           `yaml:"-"`
}

// End is when the session ends.
func (s *Session) End() time.Time { return s.StartTime.Add(s.Length) }

// Serves lists whom a session is for.
type Serves struct {
	Zones   []string `yaml:"zones"`
	Regions []string `yaml:"regions"`
}

// Session returns the session with the given id.
func (c *Campaign) Session(id string) (*Session, bool) {
	for i := range c.Sessions.List {
		if c.Sessions.List[i].ID == id {
			return &c.Sessions.List[i], true
		}
	}
	return nil, false
}

// DefaultWorkingHours is when sessions may start in a person's zone.
const DefaultWorkingHours = "08:00-18:00"

var (
	hoursPattern  = regexp.MustCompile(`^([01][0-9]|2[0-3]):([0-5][0-9])-([01][0-9]|2[0-4]):([0-5][0-9])$`)
	regionPattern = regexp.MustCompile(`^[A-Z]{2}$`)
)

func (c *Campaign) validateSessions(add func(path, format string, args ...any)) {
	ss := &c.Sessions
	if ss.WorkingHours == "" {
		ss.WorkingHours = DefaultWorkingHours
	}
	if m := hoursPattern.FindStringSubmatch(ss.WorkingHours); m == nil {
		add("sessions.working_hours", "sessions.working_hours: %q is not a range like 08:00-18:00", ss.WorkingHours)
	} else {
		ss.WorkFrom = clock(m[1], m[2])
		ss.WorkTo = clock(m[3], m[4])
		if ss.WorkTo <= ss.WorkFrom || ss.WorkTo > 24*time.Hour {
			add("sessions.working_hours", "sessions.working_hours: %q ends before it starts (or after midnight)", ss.WorkingHours)
		}
	}
	for _, table := range []struct {
		name string
		m    map[string]string
	}{{"usage_locations", ss.UsageLocations}, {"office_locations", ss.OfficeLocations}} {
		for _, k := range sortedKeys(table.m) {
			if _, err := time.LoadLocation(table.m[k]); err != nil || table.m[k] == "" || table.m[k] == "Local" {
				add("sessions."+table.name+"."+k, "sessions.%s: %s: unknown zone %q: use an IANA name such as Europe/Paris", table.name, k, table.m[k])
			}
		}
	}
	ids := map[string]bool{}
	for i := range ss.List {
		s := &ss.List[i]
		p := fmt.Sprintf("sessions.list[%d]", i)
		s.Line = c.Line(p)
		switch {
		case s.ID == "":
			add(p, "%s: missing id", p)
		case !idPattern.MatchString(s.ID):
			add(p+".id", "session %q: id must be lower-case letters, digits and dashes", s.ID)
		case ids[s.ID]:
			add(p+".id", "session %q: defined twice", s.ID)
		}
		ids[s.ID] = true
		name := fmt.Sprintf("session %q", s.ID)
		// field is the path of one of the session's keys, or the
		// session's own when the key is not written.
		field := func(f string) string {
			if c.Line(p+"."+f) > 0 {
				return p + "." + f
			}
			return p
		}
		if s.Title == "" {
			add(p, "%s: missing title (the invitation's subject)", name)
		}
		zone := s.Zone
		if zone == "" {
			zone = c.Defaults.TimeZone
		}
		loc, err := time.LoadLocation(zone)
		if err != nil || zone == "Local" {
			// An unknown defaults.time_zone is reported there.
			if s.Zone != "" {
				add(field("zone"), "%s: unknown zone %q: use an IANA name such as Europe/Paris", name, zone)
			}
			loc = nil
		}
		switch {
		case s.Start == "":
			add(p, "%s: missing start, e.g. start: \"2026-12-03T15:00\"", name)
		case loc != nil:
			t, err := parseLocal(s.Start, loc)
			if err != nil {
				add(field("start"), "%s: start: %v", name, err)
			}
			s.StartTime = t
		}
		s.Length = time.Hour
		if s.Duration != "" {
			d, err := time.ParseDuration(s.Duration)
			switch {
			case err != nil:
				add(field("duration"), "%s: duration %q is not a length like 45m or 1h30m", name, s.Duration)
			case d <= 0 || d > 12*time.Hour:
				add(field("duration"), "%s: duration %s: want more than 0 and at most 12h", name, s.Duration)
			default:
				s.Length = d
			}
		}
		if s.JoinURL == "" && s.Room == "" {
			add(p, "%s: give a join_url (Teams, Zoom) or a room", name)
		}
		if s.JoinURL != "" {
			if err := CheckHTTPS(s.JoinURL); err != nil {
				add(field("join_url"), "%s: join_url: %v", name, err)
			}
		}
		if s.Host != "" {
			if err := checkAddress(s.Host); err != nil {
				add(field("host"), "%s: host: %v", name, err)
			}
		}
		if s.Language == "" {
			s.Language = c.Defaults.Locale
		} else if !slices.Contains(c.Defaults.Locales, s.Language) {
			add(field("language"), "%s: language %q is not in defaults.locales %v", name, s.Language, c.Defaults.Locales)
		}
		if s.Capacity <= 0 {
			add(field("capacity"), "%s: capacity %d: give the number of seats, more than 0", name, s.Capacity)
		}
		for j, z := range s.Serves.Zones {
			if _, err := time.LoadLocation(z); err != nil || z == "" || z == "Local" {
				add(fmt.Sprintf("%s.serves.zones[%d]", p, j), "%s: serves unknown zone %q", name, z)
			}
		}
		for j, r := range s.Serves.Regions {
			if !regionPattern.MatchString(r) {
				add(fmt.Sprintf("%s.serves.regions[%d]", p, j), "%s: region %q is not a usageLocation code such as FR", name, r)
			}
		}
	}
	c.checkHostOverlap(add)
}

// checkHostOverlap reports a session whose host is already presenting
// another session at that time.
func (c *Campaign) checkHostOverlap(add func(path, format string, args ...any)) {
	byHost := map[string][]int{}
	for i, s := range c.Sessions.List {
		if s.Host != "" && !s.Cancelled && !s.StartTime.IsZero() {
			h := strings.ToLower(s.Host)
			byHost[h] = append(byHost[h], i)
		}
	}
	for _, h := range sortedKeys(byHost) {
		list := byHost[h]
		sort.SliceStable(list, func(a, b int) bool {
			return c.Sessions.List[list[a]].StartTime.Before(c.Sessions.List[list[b]].StartTime)
		})
		for k := 1; k < len(list); k++ {
			prev, s := &c.Sessions.List[list[k-1]], &c.Sessions.List[list[k]]
			if s.StartTime.Before(prev.End()) {
				add(fmt.Sprintf("sessions.list[%d].start", list[k]), "session %q: host %s is presenting session %q (line %d) until %s",
					s.ID, s.Host, prev.ID, prev.Line, prev.End().In(s.StartTime.Location()).Format("2006-01-02 15:04 MST"))
			}
		}
	}
}

// PastSessions reports the sessions, not cancelled, that start before
// now: before the first invitations go, one is a mistake to fix. It is
// separate from Parse because it depends on the clock.
func (c *Campaign) PastSessions(now time.Time) []Problem {
	var out []Problem
	for i, s := range c.Sessions.List {
		if s.Cancelled || s.StartTime.IsZero() || !s.StartTime.Before(now) {
			continue
		}
		line := c.Line(fmt.Sprintf("sessions.list[%d].start", i))
		out = append(out, Problem{File: c.File, Line: line, Msg: fmt.Sprintf("session %q: starts %s, in the past (now %s): move it or mark it cancelled: true",
			s.ID, s.StartTime.Format("2006-01-02 15:04 MST"), now.In(s.StartTime.Location()).Format("2006-01-02 15:04 MST"))})
	}
	return out
}

func clock(h, m string) time.Duration {
	var hh, mm int
	fmt.Sscanf(h+" "+m, "%d %d", &hh, &mm)
	return time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute
}

// parseLocal reads a local start time in loc. A time the zone skips (the
// hour clocks go forward) is an error: it names no instant.
func parseLocal(s string, loc *time.Location) (time.Time, error) {
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04"} {
		t, err := time.ParseInLocation(layout, s, loc)
		if err != nil {
			continue
		}
		if t.Format(layout) != s {
			return time.Time{}, fmt.Errorf("%s does not exist in %s (clocks change then)", s, loc)
		}
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is not a local time like 2026-12-03T15:00 (the zone goes in zone:)", s)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
