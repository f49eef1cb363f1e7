// Package ical writes iCalendar objects (RFC 5545) for iTIP scheduling
// (RFC 5546): meeting requests, cancellations and published events.
//
// Escaping policy: every value that may come from the directory (names,
// addresses) or from a template author (summary, description, location)
// is written so that it can never start a property, a parameter or an
// attendee. TEXT values escape backslash, ';', ',' and newlines (§3.3.11)
// and drop other control characters; parameter values (CN) are always
// quoted, with '"' and '^' written in RFC 6868 caret form and line breaks
// folded to spaces; calendar addresses must be plain email addresses or
// the writer refuses the calendar. Lines end in CRLF and are folded at 75
// octets, never inside a UTF-8 character (§3.1).
package ical

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Method is the iTIP method of a calendar (RFC 5546 §1.4).
type Method string

// Methods nudge uses.
const (
	Request Method = "REQUEST" // an invitation or an update to one
	Cancel  Method = "CANCEL"  // the event is cancelled for the attendees
	Publish Method = "PUBLISH" // an "add to calendar" file, no replies
)

// ProdID names the program that wrote a calendar.
const ProdID = "-//nudge//passkey campaign invites//EN"

// Address is a calendar user: an email address and an optional name.
type Address struct {
	Name  string
	Email string
}

// Attendee is an invited person.
type Attendee struct {
	Address
	// RSVP asks the attendee's client to reply (Accept/Decline).
	RSVP bool
}

// Event is one VEVENT. Start and End carry their zone: an event in UTC is
// written in UTC form, any other zone as local time with a TZID and a
// VTIMEZONE generated from Go's time zone data.
type Event struct {
	// UID identifies the event across updates: the same UID with a higher
	// Sequence replaces what a calendar holds.
	UID      string
	Sequence int
	// Stamp is when this version of the object was created (DTSTAMP).
	Stamp       time.Time
	Start, End  time.Time
	Summary     string
	Description string
	Location    string
	// URL is the join link; it is also put in Location and Description by
	// callers that want clients without URL support to show it.
	URL       string
	Organizer Address
	Attendees []Attendee
	// Cancelled marks the event STATUS:CANCELLED (with METHOD:CANCEL).
	Cancelled bool
}

// Calendar is one VCALENDAR object.
type Calendar struct {
	Method Method
	Events []Event
}

// Marshal returns the calendar's text.
func (c *Calendar) Marshal() ([]byte, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.Grow(4 << 10)
	c.write(&lineWriter{w: &b})
	return b.Bytes(), nil
}

// WriteTo writes the calendar. It writes nothing and returns an error when
// an address is not a plain email address or an event has no UID or
// ends before it starts.
func (c *Calendar) WriteTo(w io.Writer) (int64, error) {
	b, err := c.Marshal()
	if err != nil {
		return 0, err
	}
	n, err := w.Write(b)
	return int64(n), err
}

func (c *Calendar) write(l *lineWriter) {
	l.line("BEGIN:VCALENDAR")
	l.line("VERSION:2.0")
	l.line("PRODID:" + ProdID)
	l.line("CALSCALE:GREGORIAN")
	if c.Method != "" {
		l.line("METHOD:" + string(c.Method))
	}
	for _, z := range c.zones() {
		writeTimezone(l, z.loc, z.from, z.to)
	}
	for i := range c.Events {
		c.writeEvent(l, &c.Events[i])
	}
	l.line("END:VCALENDAR")
}

var errNoUID = errors.New("ical: event has no UID")

func (c *Calendar) check() error {
	switch c.Method {
	case "", Request, Cancel, Publish:
	default:
		return fmt.Errorf("ical: unknown method %q", c.Method)
	}
	for i := range c.Events {
		e := &c.Events[i]
		if e.UID == "" || strings.ContainsFunc(e.UID, isControl) {
			return errNoUID
		}
		if e.Start.IsZero() || e.End.Before(e.Start) {
			return fmt.Errorf("ical: event %s: end %s is before start %s", e.UID, e.End, e.Start)
		}
		if e.Organizer.Email != "" {
			if err := CheckAddress(e.Organizer.Email); err != nil {
				return fmt.Errorf("ical: event %s: organizer: %w", e.UID, err)
			}
		} else if c.Method == Request || c.Method == Cancel {
			return fmt.Errorf("ical: event %s: METHOD:%s needs an organizer", e.UID, c.Method)
		}
		for _, a := range e.Attendees {
			if err := CheckAddress(a.Email); err != nil {
				return fmt.Errorf("ical: event %s: attendee: %w", e.UID, err)
			}
		}
	}
	return nil
}

// CheckAddress returns an error unless s is exactly one plain email
// address, the only form written after "mailto:".
func CheckAddress(s string) error {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s || strings.ContainsAny(s, "\"\\;:, \t\r\n") {
		return fmt.Errorf("%q is not a plain email address", s)
	}
	return nil
}

func (c *Calendar) writeEvent(l *lineWriter, e *Event) {
	l.line("BEGIN:VEVENT")
	l.line("UID:" + text(e.UID))
	l.line("SEQUENCE:" + strconv.Itoa(e.Sequence))
	l.line("DTSTAMP:" + utc(e.Stamp))
	l.line(dateTime("DTSTART", e.Start))
	l.line(dateTime("DTEND", e.End))
	if e.Summary != "" {
		l.line("SUMMARY:" + text(e.Summary))
	}
	if e.Description != "" {
		l.line("DESCRIPTION:" + text(e.Description))
	}
	if e.Location != "" {
		l.line("LOCATION:" + text(e.Location))
	}
	if e.URL != "" && !strings.ContainsFunc(e.URL, isControlOrSpace) {
		// URI values are not escaped (§3.3.13); one with a control
		// character or space is dropped rather than written broken.
		l.line("URL:" + e.URL)
	}
	if e.Organizer.Email != "" {
		l.line("ORGANIZER" + cn(e.Organizer.Name) + ":mailto:" + e.Organizer.Email)
	}
	for _, a := range e.Attendees {
		rsvp := "FALSE"
		if a.RSVP {
			rsvp = "TRUE"
		}
		role := ";ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION"
		if c.Method == Cancel {
			role = ";ROLE=REQ-PARTICIPANT"
		}
		l.line("ATTENDEE;CUTYPE=INDIVIDUAL" + role + ";RSVP=" + rsvp + cn(a.Name) + ":mailto:" + a.Email)
	}
	status := "CONFIRMED"
	if e.Cancelled || c.Method == Cancel {
		status = "CANCELLED"
	}
	l.line("STATUS:" + status)
	l.line("TRANSP:OPAQUE")
	l.line("END:VEVENT")
}

// zoneSpan is a zone and the years its VTIMEZONE must cover.
type zoneSpan struct {
	loc      *time.Location
	from, to int
}

// zones lists the zones the events use, other than UTC, in order of first
// use, each with the range of years of its events.
func (c *Calendar) zones() []zoneSpan {
	var out []zoneSpan
	add := func(t time.Time) {
		loc := t.Location()
		if isUTC(loc) {
			return
		}
		y := t.Year()
		for i := range out {
			if out[i].loc.String() == loc.String() {
				out[i].from, out[i].to = min(out[i].from, y), max(out[i].to, y)
				return
			}
		}
		out = append(out, zoneSpan{loc, y, y})
	}
	for _, e := range c.Events {
		add(e.Start)
		add(e.End)
	}
	return out
}

func isUTC(loc *time.Location) bool { return loc == time.UTC || loc.String() == "UTC" }

func dateTime(name string, t time.Time) string {
	if isUTC(t.Location()) || ambiguous(t) {
		return name + ":" + utc(t)
	}
	return name + ";TZID=" + paramValue(t.Location().String()) + ":" + t.Format(localLayout)
}

// ambiguous reports whether t's wall-clock time occurs twice in its zone
// (the hour repeated when clocks go back). RFC 5545 §3.3.5 reads such a
// time as the first occurrence, but clients differ (ical.js takes the
// second), so nudge writes those instants in UTC instead.
func ambiguous(t time.Time) bool {
	_, off := t.Zone()
	for _, d := range []time.Duration{-3 * time.Hour, 3 * time.Hour} {
		_, o := t.Add(d).Zone()
		if o == off {
			continue
		}
		// The same wall-clock time in the other offset.
		alt := t.Add(time.Duration(off-o) * time.Second)
		if _, ao := alt.Zone(); ao == o {
			return true
		}
	}
	return false
}

const localLayout = "20060102T150405"

func utc(t time.Time) string { return t.UTC().Format(localLayout) + "Z" }

// cn is the ;CN= parameter for name, or "" when there is no name.
func cn(name string) string {
	name = strings.Join(strings.FieldsFunc(name, isControlOrSpace), " ")
	if name == "" {
		return ""
	}
	return ";CN=" + quoted(name)
}

// quoted writes a parameter value as a quoted string (§3.1: any character
// but CTLs and DQUOTE), with '^' and '"' in RFC 6868 caret form.
func quoted(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '^':
			b.WriteString("^^")
		case r == '"':
			b.WriteString("^'")
		case r == '\n':
			b.WriteString("^n")
		case isControl(r):
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// paramValue writes a parameter value bare when it can be, else quoted.
func paramValue(s string) string {
	if strings.ContainsAny(s, "\";:,^") || strings.ContainsFunc(s, isControl) {
		return quoted(s)
	}
	return s
}

// text escapes a TEXT value (§3.3.11). CR LF, CR and LF each become \n;
// other control characters, which TEXT may not hold, become spaces.
func text(s string) string {
	if !strings.ContainsFunc(s, needsEscape) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\', ';', ',':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\r':
			b.WriteString(`\n`)
			if i+1 < len(s) && s[i+1] == '\n' {
				i++
			}
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteByte('\t')
		default:
			if c < 0x20 || c == 0x7f {
				b.WriteByte(' ')
			} else {
				b.WriteByte(c)
			}
		}
	}
	return b.String()
}

func needsEscape(r rune) bool {
	return r == '\\' || r == ';' || r == ',' || isControl(r)
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

func isControlOrSpace(r rune) bool { return isControl(r) || r == ' ' }

// lineWriter writes content lines, folded and ended with CRLF.
type lineWriter struct{ w *bytes.Buffer }

// maxOctets is the longest a line may be, without its CRLF (§3.1).
const maxOctets = 75

func (l *lineWriter) line(s string) {
	first := true
	for {
		room := maxOctets
		if !first {
			room-- // the leading space of a continuation line
			l.w.WriteByte(' ')
		}
		if len(s) <= room {
			l.w.WriteString(s)
			l.w.WriteString("\r\n")
			return
		}
		cut := room
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		l.w.WriteString(s[:cut])
		l.w.WriteString("\r\n")
		s = s[cut:]
		first = false
	}
}
