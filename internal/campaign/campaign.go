// Package campaign reads and validates content/campaign.yaml: the
// organisation, sender, links, audiences and waves of one campaign.
package campaign

import (
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/parser"

	"github.com/nudge-passkeys/nudge/internal/deliver"
	"github.com/nudge-passkeys/nudge/internal/spell"
)

// DefaultRegisterLink is Microsoft's short link to the Security info page,
// where people add a passkey.
const DefaultRegisterLink = "https://aka.ms/mysecurityinfo"

// Campaign is one passkey adoption campaign.
type Campaign struct {
	ID           string       `yaml:"campaign"`
	Name         string       `yaml:"name"`
	Organisation Organisation `yaml:"organisation"`
	Branding     Branding     `yaml:"branding"`
	Sender       Sender       `yaml:"sender"`
	Links        Links        `yaml:"links"`
	Helpdesk     Helpdesk     `yaml:"helpdesk"`
	Defaults     Defaults     `yaml:"defaults"`
	// Source names the directory: "graph" (the live tenant, see Graph),
	// "snapshot:DIR" (relative to the campaign file) or "csv:FILE".
	Source string `yaml:"source"`
	// Graph says how to reach the tenant through Microsoft Graph.
	Graph Graph `yaml:"graph"`
	// GraphMail says how `nudge send --via graph` sends.
	GraphMail GraphMail `yaml:"graph_mail"`
	// Handouts configures printed key-kit inserts (`nudge handouts`).
	Handouts Handouts `yaml:"handouts"`
	// TAP says what Temporary Access Passes `nudge tap-letters` creates.
	TAP TAP `yaml:"tap"`
	// Templates is the template folder, relative to the campaign file.
	Templates string     `yaml:"templates"`
	Exclude   Exclude    `yaml:"exclude"`
	Audiences []Audience `yaml:"audiences"`
	Waves     []Wave     `yaml:"waves"`
	// Sessions are the Q&A sessions people are invited to.
	Sessions Sessions `yaml:"sessions"`

	// SMTP is how `nudge send --via smtp` reaches the mail server.
	SMTP SMTP `yaml:"smtp"`
	// Pacing caps each sending mailbox; Senders, when set, are several
	// mailboxes that share the work, each with its own caps.
	Pacing  Pacing          `yaml:"pacing"`
	Senders []SenderMailbox `yaml:"senders"`
	// Proof is the address proofs go to (send --redirect-to without an
	// address, preview's "send a proof to me").
	Proof string `yaml:"proof"`

	// File is the name the campaign was read from, for messages.
	File string `yaml:"-"`
	at   positions
}

// Organisation says who runs the campaign.
type Organisation struct {
	Name    string `yaml:"name"`
	Team    string `yaml:"team"`
	Website string `yaml:"website"`
}

// Branding is the look of emails.
type Branding struct {
	Colour  string `yaml:"colour"`
	Logo    string `yaml:"logo"`
	LogoAlt string `yaml:"logo_alt"`
}

// Sender is the mailbox messages come from.
type Sender struct {
	Name    string `yaml:"name"`
	Address string `yaml:"address"`
	ReplyTo string `yaml:"reply_to"`
}

// SMTP configures the SMTP relay. Passwords never go here: they come from
// the environment (NUDGE_SMTP_PASSWORD).
type SMTP struct {
	Host string `yaml:"host"`
	Port int    `yaml:"port"`
	// TLS is starttls (the default: required, never falls back to
	// cleartext), implicit (port 465) or none (only with AllowInsecure).
	TLS           string `yaml:"tls"`
	AllowInsecure bool   `yaml:"allow_insecure"`
	// Auth is xoauth2 (Exchange Online's default now that basic SMTP AUTH
	// is being turned off), plain, login or none.
	Auth     string `yaml:"auth"`
	Username string `yaml:"username"`
	// CAFile is a PEM bundle of extra trusted roots, for TLS-inspecting
	// proxies; relative to the campaign file.
	CAFile string `yaml:"ca_file"`
}

// Graph says how nudge signs in to Microsoft Graph. Secrets never go here:
// a client secret comes from NUDGE_CLIENT_SECRET, a certificate's password
// from NUDGE_CERTIFICATE_PASSWORD, other modes from the credential chain.
type Graph struct {
	TenantID string `yaml:"tenant_id"`
	ClientID string `yaml:"client_id"`
	// Auth is secret, certificate, device-code, azure-cli or
	// managed-identity.
	Auth string `yaml:"auth"`
	// Certificate is a PEM or PFX file with the app's certificate and
	// private key, relative to the campaign file (auth: certificate).
	Certificate string `yaml:"certificate"`
	// Cloud is global (the default), usgov, usgovdod or china.
	Cloud string `yaml:"cloud"`
	// BaseURL and AuthorityHost override the cloud's Graph endpoint and
	// sign-in authority.
	BaseURL       string `yaml:"base_url"`
	AuthorityHost string `yaml:"authority_host"`
	// CAFile is a PEM bundle of extra trusted roots, for TLS-inspecting
	// proxies; relative to the campaign file.
	CAFile string `yaml:"ca_file"`
}

// GraphAuthModes are the values of graph.auth.
var GraphAuthModes = []string{"secret", "certificate", "device-code", "azure-cli", "managed-identity"}

// GraphClouds are the values of graph.cloud.
var GraphClouds = []string{"global", "usgov", "usgovdod", "china"}

// Pacing caps what one mailbox sends. The defaults are 90% of Exchange
// Online's limits (30 messages a minute, 10,000 recipients a day per
// mailbox), leaving headroom for the mailbox's human mail.
type Pacing struct {
	RatePerMinute int `yaml:"rate_per_minute"`
	PerDay        int `yaml:"per_day"`
}

// SenderMailbox is one of several mailboxes that share a campaign's sending.
type SenderMailbox struct {
	Address       string `yaml:"address"`
	Username      string `yaml:"username"` // SMTP login, when not the address
	RatePerMinute int    `yaml:"rate_per_minute"`
	PerDay        int    `yaml:"per_day"`
}

// Default pacing.
const (
	DefaultRatePerMinute = 27
	DefaultPerDay        = 9000
)

// Links are the URLs templates may point to.
type Links struct {
	// Register is the page where people add a passkey.
	Register string `yaml:"register"`
	// Guides is the base URL of the organisation's own guide pages.
	Guides string `yaml:"guides"`
	// Verify is an intranet page announcing the campaign, so that people
	// can check a message is genuine without trusting the message.
	Verify string `yaml:"verify"`
}

// Helpdesk is who people contact for help.
type Helpdesk struct {
	Name  string `yaml:"name"`
	Email string `yaml:"email"`
	Phone string `yaml:"phone"`
	URL   string `yaml:"url"`
}

// Defaults apply when a person's own data says nothing.
type Defaults struct {
	Locale   string   `yaml:"locale"`
	Locales  []string `yaml:"locales"`
	TimeZone string   `yaml:"time_zone"`
	// Deadline, if set, is the date by which people should have a passkey.
	Deadline Date `yaml:"deadline"`
}

// Exclude lists who no audience may contain. Disabled accounts and guests
// are excluded unless the campaign says otherwise.
type Exclude struct {
	Disabled *bool    `yaml:"disabled"`
	Guests   *bool    `yaml:"guests"`
	UPNs     []string `yaml:"upns"`
	// File is a CSV or text file of UPNs (first column), relative to the
	// campaign file.
	File string `yaml:"file"`
}

// Audience is a named rule over people, in CEL.
type Audience struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	Where       string `yaml:"where"`
	// Line is where the rule is written.
	Line int `yaml:"-"`
}

// Wave is one message sent to some audiences.
type Wave struct {
	ID   string `yaml:"id"`
	Name string `yaml:"name"`
	// Audiences in order of precedence: a person in several gets the wave
	// as a member of the first.
	Audiences []string `yaml:"audiences"`
	// Template is the email template's name, e.g. "announce" for
	// templates/emails/<locale>/announce.md.
	Template string `yaml:"template"`
	// SendAt is when the wave is due, "2026-12-01T09:00" in the default
	// zone, or with a zone: "2026-12-01T09:00 Europe/Paris".
	SendAt string `yaml:"send_at"`
	// Sessions makes the wave an invitation: each person assigned a Q&A
	// session gets the template's email carrying the calendar invitation.
	Sessions bool `yaml:"sessions"`
	// After, Window and Skip time a scheduled wave; see schedule.go.
	After  string   `yaml:"after"`
	Window *Window  `yaml:"window"`
	Skip   []string `yaml:"skip"`
	Timing Timing   `yaml:"-"`

	Line         int       `yaml:"-"`
	TemplateLine int       `yaml:"-"`
	SendTime     time.Time `yaml:"-"`
}

// Date is a calendar date written as 2006-01-02.
type Date struct{ time.Time }

// UnmarshalYAML reads a date.
func (d *Date) UnmarshalYAML(b []byte) error {
	s := strings.Trim(strings.TrimSpace(string(b)), `"'`)
	if s == "" || s == "null" || s == "~" {
		return nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return fmt.Errorf("date %q: want YYYY-MM-DD", s)
	}
	d.Time = t
	return nil
}

// Problem is one thing wrong in the campaign file.
type Problem struct {
	File string
	Line int
	Msg  string
}

func (p Problem) String() string {
	if p.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Msg)
	}
	return fmt.Sprintf("%s: %s", p.File, p.Msg)
}

// Error lists every problem found in a campaign file.
type Error struct{ Problems []Problem }

func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

type problem struct {
	line int
	msg  string
}

var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// Parse reads a campaign file. file names it in messages. The error, if any,
// is an *Error listing every problem found, each with its line.
func Parse(file string, data []byte) (c *Campaign, err error) {
	// goccy/go-yaml v1.19.2 panics on some malformed documents (FuzzParse
	// found "waves: ! "); a campaign file is user input, so report it.
	defer func() {
		if r := recover(); r != nil {
			c, err = nil, &Error{[]Problem{{File: file, Msg: "the YAML reader failed on this file: look for a stray tag (!), anchor (&) or alias (*)"}}}
		}
	}()
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, &Error{[]Problem{yamlProblem(file, err)}}
	}
	c = &Campaign{File: file, at: positions{}}
	var probs []problem
	if len(f.Docs) > 0 && f.Docs[0].Body != nil {
		walk(f.Docs[0].Body, reflect.TypeOf(*c), "", c.at, &probs)
	}
	// With unknown keys already reported, decode the rest leniently and go
	// on to validate it, so that one pass of `nudge check` lists every
	// problem, not the unknown keys first and the others next time.
	opts := []yaml.DecodeOption{yaml.Strict()}
	if len(probs) > 0 {
		opts = nil
	}
	if err := yaml.UnmarshalWithOptions(data, c, opts...); err != nil {
		p := yamlProblem(file, err)
		probs = append(probs, problem{line: p.Line, msg: p.Msg})
	} else {
		c.applyDefaults()
		probs = append(probs, c.validate()...)
	}
	if len(probs) > 0 {
		sort.SliceStable(probs, func(i, j int) bool { return probs[i].line < probs[j].line })
		e := &Error{}
		for _, p := range probs {
			e.Problems = append(e.Problems, Problem{File: file, Line: p.line, Msg: p.msg})
		}
		return nil, e
	}
	return c, nil
}

func yamlProblem(file string, err error) Problem {
	var ye yaml.Error
	if errors.As(err, &ye) {
		line := 0
		if tk := ye.GetToken(); tk != nil && tk.Position != nil {
			line = tk.Position.Line
		}
		return Problem{File: file, Line: line, Msg: ye.GetMessage()}
	}
	return Problem{File: file, Msg: err.Error()}
}

// Line returns the line of the value at path (such as "waves[1].template"),
// or 0 when it is not in the file.
func (c *Campaign) Line(path string) int {
	if p, ok := c.at[path]; ok {
		return p.line
	}
	if p, ok := c.at[path+"#key"]; ok {
		return p.line
	}
	return 0
}

// hasUnknownKey reports whether the object at path, or one holding it, has
// a key that was reported as unknown.
func (c *Campaign) hasUnknownKey(path string) bool {
	for p := path; ; {
		if _, ok := c.at[p+"#unknown"]; ok {
			return true
		}
		if _, ok := c.at[p+"#suggested"]; ok {
			return true
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			return false
		}
		p = p[:i]
	}
}

// Wave returns the wave with the given id.
func (c *Campaign) Wave(id string) (*Wave, bool) {
	for i := range c.Waves {
		if c.Waves[i].ID == id {
			return &c.Waves[i], true
		}
	}
	return nil, false
}

// WaveIDs lists the waves' ids in file order.
func (c *Campaign) WaveIDs() []string {
	ids := make([]string, len(c.Waves))
	for i, w := range c.Waves {
		ids[i] = w.ID
	}
	return ids
}

// ExcludeDisabled reports whether disabled accounts are excluded.
func (c *Campaign) ExcludeDisabled() bool { return c.Exclude.Disabled == nil || *c.Exclude.Disabled }

// ExcludeGuests reports whether guests are excluded.
func (c *Campaign) ExcludeGuests() bool { return c.Exclude.Guests == nil || *c.Exclude.Guests }

func (c *Campaign) applyDefaults() {
	if c.Links.Register == "" {
		c.Links.Register = DefaultRegisterLink
	}
	if c.Defaults.Locale == "" {
		c.Defaults.Locale = "en"
	}
	if len(c.Defaults.Locales) == 0 {
		c.Defaults.Locales = []string{c.Defaults.Locale}
	}
	if c.Defaults.TimeZone == "" {
		c.Defaults.TimeZone = "UTC"
	}
	if c.Branding.Colour == "" {
		c.Branding.Colour = "#0F6CBD"
	}
	if c.Templates == "" {
		c.Templates = "../templates"
	}
	if c.Sender.Name == "" {
		c.Sender.Name = c.Organisation.Team
	}
	if c.Pacing.RatePerMinute == 0 {
		c.Pacing.RatePerMinute = DefaultRatePerMinute
	}
	if c.Pacing.PerDay == 0 {
		c.Pacing.PerDay = DefaultPerDay
	}
	for i := range c.Senders {
		if c.Senders[i].RatePerMinute == 0 {
			c.Senders[i].RatePerMinute = c.Pacing.RatePerMinute
		}
		if c.Senders[i].PerDay == 0 {
			c.Senders[i].PerDay = c.Pacing.PerDay
		}
	}
	if c.SMTP.TLS == "" {
		c.SMTP.TLS = "starttls"
	}
	if c.SMTP.Auth == "" {
		c.SMTP.Auth = "xoauth2"
	}
	if c.SMTP.Port == 0 {
		switch c.SMTP.TLS {
		case "implicit":
			c.SMTP.Port = 465
		case "none":
			c.SMTP.Port = 25
		default:
			c.SMTP.Port = 587
		}
	}
	for i := range c.Audiences {
		c.Audiences[i].Line = c.Line(fmt.Sprintf("audiences[%d].where", i))
		if c.Audiences[i].Line == 0 {
			c.Audiences[i].Line = c.Line(fmt.Sprintf("audiences[%d]", i))
		}
	}
	for i := range c.Waves {
		c.Waves[i].Line = c.Line(fmt.Sprintf("waves[%d]", i))
		c.Waves[i].TemplateLine = c.Line(fmt.Sprintf("waves[%d].template", i))
		if c.Waves[i].Name == "" {
			c.Waves[i].Name = c.Waves[i].ID
		}
	}
}

var colourPattern = regexp.MustCompile(`^#[0-9A-Fa-f]{6}$`)

func (c *Campaign) validate() []problem {
	var ps []problem
	add := func(path, format string, args ...any) {
		if c.hasUnknownKey(path) {
			return
		}
		ps = append(ps, problem{line: c.Line(path), msg: fmt.Sprintf(format, args...)})
	}
	if c.ID == "" {
		add("", "campaign: missing: give the campaign an id, e.g. campaign: passkeys-2026 (it names the output folder)")
	} else if !idPattern.MatchString(c.ID) {
		add("campaign", "campaign: %q is not a valid id: use lower-case letters, digits and dashes", c.ID)
	}
	if c.Organisation.Name == "" {
		add("organisation", "organisation.name: missing: emails say who sends them")
	}
	if c.Sender.Address == "" {
		add("sender", "sender.address: missing: the mailbox messages come from")
	} else if err := checkAddress(c.Sender.Address); err != nil {
		add("sender.address", "sender.address: %v", err)
	}
	if c.Sender.ReplyTo != "" {
		if err := checkAddress(c.Sender.ReplyTo); err != nil {
			add("sender.reply_to", "sender.reply_to: %v", err)
		}
	}
	if c.Helpdesk.Email != "" {
		if err := checkAddress(c.Helpdesk.Email); err != nil {
			add("helpdesk.email", "helpdesk.email: %v", err)
		}
	}
	for _, l := range []struct {
		path, v string
		need    bool
	}{
		{"links.register", c.Links.Register, true},
		{"links.guides", c.Links.Guides, false},
		{"links.verify", c.Links.Verify, false},
		{"helpdesk.url", c.Helpdesk.URL, false},
		{"organisation.website", c.Organisation.Website, false},
		{"branding.logo", c.Branding.Logo, false},
	} {
		if l.v == "" {
			continue
		}
		if err := CheckHTTPS(l.v); err != nil {
			add(l.path, "%s: %v", l.path, err)
		}
	}
	if c.Links.Guides != "" && !strings.HasSuffix(c.Links.Guides, "/") {
		add("links.guides", "links.guides: %q must end with / (guide pages are joined to it)", c.Links.Guides)
	}
	if !colourPattern.MatchString(c.Branding.Colour) {
		add("branding.colour", "branding.colour: %q is not a colour like #0F6CBD", c.Branding.Colour)
	}
	if c.Branding.Logo != "" && c.Branding.LogoAlt == "" {
		add("branding.logo", "branding.logo_alt: missing: every image needs alt text")
	}
	if _, err := time.LoadLocation(c.Defaults.TimeZone); err != nil {
		add("defaults.time_zone", "defaults.time_zone: unknown zone %q: use an IANA name such as Europe/Paris", c.Defaults.TimeZone)
	}
	localeOK := false
	for i, l := range c.Defaults.Locales {
		if !localePattern.MatchString(l) {
			add(fmt.Sprintf("defaults.locales[%d]", i), "defaults.locales: %q is not a language code such as en or fr", l)
		}
		if l == c.Defaults.Locale {
			localeOK = true
		}
	}
	if !localeOK {
		add("defaults.locale", "defaults.locale: %q is not in defaults.locales %v", c.Defaults.Locale, c.Defaults.Locales)
	}

	c.validateDelivery(add)
	c.validateGraph(add)
	c.validateGraphMail(add)
	c.validateHandouts(add)
	c.validateTAP(add)
	c.validateSessions(add)

	// checkID checks the name or id (field) of entry i of a list: set,
	// well formed, and not taken by an earlier entry.
	checkID := func(list, kind, field string, i int, id string, taken map[string]bool) {
		p := fmt.Sprintf("%s[%d]", list, i)
		switch {
		case id == "":
			add(p, "%s: missing %s", p, field)
		case !idPattern.MatchString(id):
			add(p+"."+field, "%s %q: %s must be lower-case letters, digits and dashes", kind, id, field)
		case taken[id]:
			add(p+"."+field, "%s %q: defined twice", kind, id)
		}
		taken[id] = true
	}
	audiences := map[string]bool{}
	if len(c.Audiences) == 0 {
		add("", "audiences: none: define at least one audience")
	}
	for i, a := range c.Audiences {
		checkID("audiences", "audience", "name", i, a.Name, audiences)
		if strings.TrimSpace(a.Where) == "" {
			add(fmt.Sprintf("audiences[%d]", i), "audience %q: missing where: rule", a.Name)
		}
	}
	waves := map[string]bool{}
	for i, w := range c.Waves {
		checkID("waves", "wave", "id", i, w.ID, waves)
		p := fmt.Sprintf("waves[%d]", i)
		if len(w.Audiences) == 0 {
			add(p, "wave %q: no audiences", w.ID)
		}
		for j, a := range w.Audiences {
			if !audiences[a] {
				add(fmt.Sprintf("%s.audiences[%d]", p, j), "wave %q: audience %q is not defined (audiences: %s)", w.ID, a, strings.Join(c.audienceNames(), ", "))
			}
		}
		if w.Template == "" {
			add(p, "wave %q: missing template", w.ID)
		} else if strings.ContainsAny(w.Template, `/\.`) {
			add(p+".template", "wave %q: template %q: give the name only, e.g. announce for templates/emails/<locale>/announce.md", w.ID, w.Template)
		}
		if w.SendAt != "" {
			t, err := ParseTime(w.SendAt, c.Defaults.TimeZone)
			if err != nil {
				add(p+".send_at", "wave %q: send_at: %v", w.ID, err)
			}
			c.Waves[i].SendTime = t
		}
		if w.Sessions && len(c.Sessions.List) == 0 {
			add(p+".sessions", "wave %q: sessions: true but there is no sessions: list to invite people to", w.ID)
		}
	}
	c.validateSchedule(add)
	return ps
}

func (c *Campaign) validateGraph(add func(path, format string, args ...any)) {
	g := &c.Graph
	if g.Auth != "" && !slices.Contains(GraphAuthModes, g.Auth) {
		add("graph.auth", "graph.auth: %q: use %s%s", g.Auth, strings.Join(GraphAuthModes, ", "), didYouMean(g.Auth, GraphAuthModes))
	}
	if g.Cloud != "" && !slices.Contains(GraphClouds, g.Cloud) {
		add("graph.cloud", "graph.cloud: %q: use %s (or set base_url and authority_host)%s", g.Cloud, strings.Join(GraphClouds, ", "), didYouMean(g.Cloud, GraphClouds))
	}
	if g.Auth == "certificate" && g.Certificate == "" {
		add("graph.certificate", "graph.auth: certificate needs graph.certificate, the path of a PEM or PFX file (its password, if any, comes from NUDGE_CERTIFICATE_PASSWORD)")
	}
	if g.Certificate != "" && g.Auth != "" && g.Auth != "certificate" {
		add("graph.certificate", "graph.certificate is only used with auth: certificate (auth is %s)", g.Auth)
	}
	for _, u := range []struct{ path, v string }{{"graph.base_url", g.BaseURL}, {"graph.authority_host", g.AuthorityHost}} {
		if u.v == "" {
			continue
		}
		if err := CheckHTTPS(u.v); err != nil {
			add(u.path, "%s: %v", u.path, err)
		}
	}
}

func (c *Campaign) validateDelivery(add func(path, format string, args ...any)) {
	switch c.SMTP.TLS {
	case "starttls", "implicit":
	case "none":
		if !c.SMTP.AllowInsecure {
			add("smtp.tls", "smtp.tls: none sends mail and passwords in clear: set allow_insecure: true only for a relay on a trusted network")
		}
	default:
		add("smtp.tls", "smtp.tls: %q: use starttls, implicit or none", c.SMTP.TLS)
	}
	switch c.SMTP.Auth {
	case "xoauth2", "none":
	case "plain", "login":
		if c.SMTP.Username == "" {
			add("smtp.auth", "smtp.auth: %s needs smtp.username (the password comes from NUDGE_SMTP_PASSWORD)", c.SMTP.Auth)
		}
	default:
		add("smtp.auth", "smtp.auth: %q: use xoauth2, plain, login or none", c.SMTP.Auth)
	}
	if c.SMTP.Port < 0 || c.SMTP.Port > 65535 {
		add("smtp.port", "smtp.port: %d is not a port", c.SMTP.Port)
	}
	if c.SMTP.Host != "" && strings.ContainsAny(c.SMTP.Host, "/: ") {
		add("smtp.host", "smtp.host: %q: give a host name only, such as smtp.office365.com (the port goes in smtp.port)", c.SMTP.Host)
	}
	for _, p := range []struct {
		path string
		v    int
	}{{"pacing.rate_per_minute", c.Pacing.RatePerMinute}, {"pacing.per_day", c.Pacing.PerDay}} {
		if p.v < 0 {
			add(p.path, "%s: %d: must be positive", p.path, p.v)
		}
	}
	seen := map[string]bool{}
	for i, s := range c.Senders {
		path := fmt.Sprintf("senders[%d]", i)
		if err := checkAddress(s.Address); err != nil {
			add(path+".address", "senders[%d].address: %v", i, err)
		}
		if seen[strings.ToLower(s.Address)] {
			add(path+".address", "senders: %s is listed twice", s.Address)
		}
		seen[strings.ToLower(s.Address)] = true
		// Caps inherited from pacing are reported there, once.
		if (s.RatePerMinute < 0 && s.RatePerMinute != c.Pacing.RatePerMinute) || (s.PerDay < 0 && s.PerDay != c.Pacing.PerDay) {
			add(path, "senders[%d]: caps must be positive", i)
		}
	}
	if c.Proof != "" {
		if err := checkAddress(c.Proof); err != nil {
			add("proof", "proof: %v", err)
		}
	}
}

// Mailboxes returns the mailboxes that send: the senders list when there
// is one, else the campaign's sender, each with its caps.
func (c *Campaign) Mailboxes() []SenderMailbox {
	if len(c.Senders) > 0 {
		return c.Senders
	}
	return []SenderMailbox{{Address: c.Sender.Address, Username: c.SMTP.Username, RatePerMinute: c.Pacing.RatePerMinute, PerDay: c.Pacing.PerDay}}
}

var localePattern = regexp.MustCompile(`^[a-z]{2,3}$`)

func (c *Campaign) audienceNames() []string {
	names := make([]string, len(c.Audiences))
	for i, a := range c.Audiences {
		names[i] = a.Name
	}
	return names
}

func checkAddress(s string) error {
	if deliver.CheckAddress(s) != nil {
		return fmt.Errorf("%q is not a plain email address such as it-security@contoso.example", s)
	}
	return nil
}

// didYouMean returns " (did you mean X?)" when X is a likely typo of s.
func didYouMean(s string, known []string) string {
	if c := spell.Closest(s, known); c != "" {
		return fmt.Sprintf(" (did you mean %q?)", c)
	}
	return ""
}

// CheckHTTPS returns an error unless s is an absolute https URL.
func CheckHTTPS(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%q is not an absolute URL", s)
	}
	if u.Scheme != "https" {
		return fmt.Errorf("%q: use https", s)
	}
	return nil
}

// ParseTime reads "2006-01-02T15:04" with an optional IANA zone after a
// space, or an RFC 3339 time. zone is used when none is given.
func ParseTime(s, zone string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	// The zone, if any, is the last word: the time itself may hold a space
	// ("2026-12-01 09:00").
	local, name := strings.TrimSpace(s), zone
	if i := strings.LastIndexByte(local, ' '); i >= 0 && !strings.Contains(local[i+1:], ":") {
		local, name = strings.TrimSpace(local[:i]), local[i+1:]
	}
	loc, err := time.LoadLocation(strings.TrimSpace(name))
	if err != nil {
		return time.Time{}, fmt.Errorf("unknown zone %q: use an IANA name such as Europe/Paris", name)
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04"} {
		if t, err := time.ParseInLocation(layout, local, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time like 2026-12-01T09:00 Europe/Paris", s)
}
