package invite

import (
	"strings"
	"time"

	"github.com/nudge-passkeys/nudge/internal/campaign"
	"github.com/nudge-passkeys/nudge/internal/directory"
)

// Rule says how a person's time zone was decided.
type Rule string

// Rules, in the order they are tried.
const (
	RuleMailbox Rule = "mailbox settings" // the person's own mailbox setting, read by nudge pull
	RuleOffice  Rule = "office_locations" // campaign table by officeLocation
	RuleUsage   Rule = "usage_locations"  // campaign table by usageLocation
	RuleDefault Rule = "default"          // the campaign's default zone
)

// Zones decides people's time zones. It caches zones by name, so it is
// not safe for concurrent use.
type Zones struct {
	Office  map[string]*time.Location
	Usage   map[string]*time.Location
	Default *time.Location
	cache   map[string]*time.Location
}

// NewZones builds the zone rules of a validated campaign.
func NewZones(c *campaign.Campaign) *Zones {
	z := &Zones{Office: map[string]*time.Location{}, Usage: map[string]*time.Location{}, cache: map[string]*time.Location{}}
	z.Default = z.load(c.Defaults.TimeZone)
	if z.Default == nil {
		z.Default = time.UTC
	}
	for k, v := range c.Sessions.OfficeLocations {
		if loc := z.load(v); loc != nil {
			z.Office[strings.ToLower(k)] = loc
		}
	}
	for k, v := range c.Sessions.UsageLocations {
		if loc := z.load(v); loc != nil {
			z.Usage[strings.ToUpper(k)] = loc
		}
	}
	return z
}

// load returns the named zone, or nil when it is unknown.
func (z *Zones) load(name string) *time.Location {
	if z.cache == nil {
		z.cache = map[string]*time.Location{}
	}
	if loc, ok := z.cache[name]; ok {
		return loc
	}
	var loc *time.Location
	if name != "" && name != "Local" {
		loc, _ = time.LoadLocation(name)
	}
	z.cache[name] = loc
	return loc
}

// Resolve returns p's zone and the rule that decided it: their own
// (mailbox settings, set by the source), else their office, else their
// usage location, else the campaign default. A zone the person's data
// names but Go does not know is passed over.
func (z *Zones) Resolve(p *directory.Person) (*time.Location, Rule) {
	if loc := z.load(p.TimeZone); loc != nil {
		return loc, RuleMailbox
	}
	if loc := z.Office[strings.ToLower(strings.TrimSpace(p.OfficeLocation))]; loc != nil {
		return loc, RuleOffice
	}
	if loc := z.Usage[strings.ToUpper(strings.TrimSpace(p.UsageLocation))]; loc != nil {
		return loc, RuleUsage
	}
	return z.Default, RuleDefault
}

// Language returns the campaign locale for a preferred language such as
// fr-FR: its language when the campaign has it, else the default.
func Language(preferred string, locales []string, def string) string {
	lang := strings.ToLower(preferred)
	if i := strings.IndexAny(lang, "-_"); i >= 0 {
		lang = lang[:i]
	}
	for _, l := range locales {
		if l == lang {
			return lang
		}
	}
	return def
}

// NewPerson is the assignment's view of a directory person.
func NewPerson(p *directory.Person, c *campaign.Campaign, z *Zones) Person {
	loc, rule := z.Resolve(p)
	return Person{
		ID:       p.ID,
		Email:    p.Mail,
		Name:     p.DisplayName,
		Language: Language(p.PreferredLanguage, c.Defaults.Locales, c.Defaults.Locale),
		Region:   strings.ToUpper(strings.TrimSpace(p.UsageLocation)),
		Zone:     loc,
		ZoneRule: rule,
	}
}

// Sessions converts a validated campaign's sessions.
func Sessions(c *campaign.Campaign) []Session {
	out := make([]Session, len(c.Sessions.List))
	for i, s := range c.Sessions.List {
		out[i] = Session{
			ID: s.ID, Title: s.Title, Start: s.StartTime, End: s.End(),
			JoinURL: s.JoinURL, Room: s.Room, Host: s.Host, Language: s.Language,
			Capacity: s.Capacity, Zones: s.Serves.Zones, Regions: s.Serves.Regions,
			Cancelled: s.Cancelled,
		}
	}
	return out
}

// HoursOf returns a validated campaign's working hours.
func HoursOf(c *campaign.Campaign) Hours {
	if c.Sessions.WorkTo <= c.Sessions.WorkFrom {
		return DefaultHours
	}
	return Hours{c.Sessions.WorkFrom, c.Sessions.WorkTo}
}
