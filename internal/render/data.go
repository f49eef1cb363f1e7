package render

// Escaping policy: every string a template can print comes from the
// directory or the campaign file and is text, never markup. Templates see
// those strings as a type whose String method escapes for the output the
// template produces: Markdown bodies get mdText (every ASCII punctuation
// character backslash-escaped, so `**x**`, `[a](b)` and `<img>` stay
// literal, and line breaks folded to spaces so a value cannot start a new
// block); subjects and preheaders get lineText (control characters folded to
// spaces, so a value cannot add a header line). The data is substituted
// after the template is parsed, so a value such as {{.Secret}} is never
// parsed as a template action. Helper functions unwrap these types to get
// the raw value and escape it for their own output.

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/nudge-passkeys/nudge/internal/campaign"
	"github.com/nudge-passkeys/nudge/internal/directory"
	"github.com/nudge-passkeys/nudge/internal/untrusted"
)

// text is the constraint of the two untrusted-text types.
type text interface{ ~string }

// mdText is untrusted text printed into Markdown.
type mdText string

func (s mdText) String() string { return escapeMarkdown(string(s)) }

// lineText is untrusted text printed into a single-line header value.
type lineText string

func (s lineText) String() string { return untrusted.OneLine(string(s)) }

// PersonView is what templates see of a person.
type PersonView[T text] struct {
	DisplayName, GivenName, Surname, FirstName T
	Mail, UPN                                  T
	Department, JobTitle, OfficeLocation       T
	PreferredLanguage, UsageLocation           T
	IsAdmin, IsMFACapable, IsMFARegistered     bool
	HasPasskey, HasPhishingResistant           bool
	Methods                                    []T
}

// Data is the dot of email templates: a person and the campaign.
type Data[T text] struct {
	Person PersonView[T]
	// Session is the Q&A session of an invitation (a wave with
	// sessions: true); empty otherwise. Updated and Cancelled say the
	// message changes or cancels an invitation sent before.
	Session SessionView[T]
	Common[T]
}

// SessionView is what an invitation's template sees of its session: Start
// and End are in the person's own zone, Time is Start's clock time there
// ("15:00 CET").
type SessionView[T text] struct {
	ID, Title, JoinURL, Room, Host T
	Start, End                     time.Time
	Time, Zone                     T
	Updated, Cancelled             bool
}

// Session says which Q&A session an invitation is for.
type Session struct {
	ID, Title, JoinURL, Room, Host string
	Start, End                     time.Time // in the person's zone
	Updated, Cancelled             bool
}

// Common is what every template sees whoever it is for; it is the dot of
// the shared footer.
type Common[T text] struct {
	Org      struct{ Name, Team, Website T }
	Sender   struct{ Name, Address T }
	Links    struct{ Register, Guides, Verify T }
	Helpdesk struct{ Name, Email, Phone, URL T }
	Campaign struct {
		ID, Name T
		Deadline time.Time
	}
	Wave     struct{ ID, Name T }
	Audience T
	Locale   T
}

// Context says which wave and audience a piece is rendered for.
type Context struct {
	WaveID, WaveName, Audience string
	Session                    *Session // an invitation's session, or nil
}

func newData[T text](c *campaign.Campaign, p *directory.Person, ctx Context, locale string) *Data[T] {
	d := &Data[T]{}
	if p != nil {
		first := p.GivenName
		if strings.TrimSpace(first) == "" {
			first = p.DisplayName
		}
		d.Person = PersonView[T]{
			DisplayName: T(p.DisplayName), GivenName: T(p.GivenName), Surname: T(p.Surname), FirstName: T(first),
			Mail: T(p.Mail), UPN: T(p.UserPrincipalName),
			Department: T(p.Department), JobTitle: T(p.JobTitle), OfficeLocation: T(p.OfficeLocation),
			PreferredLanguage: T(p.PreferredLanguage), UsageLocation: T(p.UsageLocation),
			IsAdmin: p.IsAdmin, IsMFACapable: p.IsMFACapable, IsMFARegistered: p.IsMFARegistered,
			HasPasskey: p.HasPasskey(), HasPhishingResistant: p.HasPhishingResistant(),
		}
		for _, m := range p.MethodsRegistered {
			d.Person.Methods = append(d.Person.Methods, T(m))
		}
	}
	d.Org.Name, d.Org.Team, d.Org.Website = T(c.Organisation.Name), T(c.Organisation.Team), T(c.Organisation.Website)
	d.Sender.Name, d.Sender.Address = T(c.Sender.Name), T(c.Sender.Address)
	d.Links.Register, d.Links.Guides, d.Links.Verify = T(c.Links.Register), T(c.Links.Guides), T(c.Links.Verify)
	d.Helpdesk.Name, d.Helpdesk.Email, d.Helpdesk.Phone, d.Helpdesk.URL = T(c.Helpdesk.Name), T(c.Helpdesk.Email), T(c.Helpdesk.Phone), T(c.Helpdesk.URL)
	d.Campaign.ID, d.Campaign.Name, d.Campaign.Deadline = T(c.ID), T(c.Name), c.Defaults.Deadline.Time
	d.Wave.ID, d.Wave.Name = T(ctx.WaveID), T(ctx.WaveName)
	d.Audience = T(ctx.Audience)
	d.Locale = T(locale)
	if s := ctx.Session; s != nil {
		d.Session = SessionView[T]{
			ID: T(s.ID), Title: T(s.Title), JoinURL: T(s.JoinURL), Room: T(s.Room), Host: T(s.Host),
			Start: s.Start, End: s.End, Time: T(s.Start.Format("15:04 MST")), Zone: T(s.Start.Location().String()),
			Updated: s.Updated, Cancelled: s.Cancelled,
		}
	}
	return d
}

// Shared returns the part of d that does not depend on the person.
func (d *Data[T]) Shared() *Common[T] { return &d.Common }

// escapeMarkdown returns s as Markdown source that renders as the literal
// text s.
func escapeMarkdown(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f || isASCIIPunct(c) {
			clean = false
			break
		}
	}
	if clean && !strings.HasPrefix(s, " ") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	leading := true
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' && leading:
			// A value at the start of a line must not indent it into a
			// code block; a character reference keeps the space.
			b.WriteString("&#32;")
		case c < 0x20 || c == 0x7f:
			b.WriteByte(' ')
			leading = false
		case isASCIIPunct(c):
			b.WriteByte('\\')
			b.WriteByte(c)
			leading = false
		default:
			r, n := utf8.DecodeRuneInString(s[i:])
			if unicode.Is(unicode.Cc, r) {
				b.WriteByte(' ')
			} else {
				b.WriteString(s[i : i+n])
			}
			leading = false
			i += n
			continue
		}
		i++
	}
	return b.String()
}

func isASCIIPunct(c byte) bool {
	return (c >= '!' && c <= '/') || (c >= ':' && c <= '@') || (c >= '[' && c <= '`') || (c >= '{' && c <= '~')
}

// raw returns the unescaped string behind a template value.
func raw(v any) string {
	switch s := v.(type) {
	case mdText:
		return string(s)
	case lineText:
		return string(s)
	case string:
		return s
	case interface{ String() string }:
		return s.String()
	case nil:
		return ""
	}
	return ""
}
