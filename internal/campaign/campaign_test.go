package campaign_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/nudge-passkeys/nudge/internal/campaign"
)

// minimal is the smallest campaign that validates; cases add to it.
const minimal = `campaign: passkeys-2026
organisation:
  name: Contoso
sender:
  address: it-security@contoso.example
audiences:
  - name: ready
    where: isMfaCapable
waves:
  - id: announce
    audiences: [ready]
    template: announce
`

func mustLoad(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func mustParse(t *testing.T, data string) *campaign.Campaign {
	t.Helper()
	c, err := campaign.Parse("campaign.yaml", []byte(data))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return c
}

// problems returns the problems of err, which must be a *campaign.Error.
func problems(t *testing.T, err error) []campaign.Problem {
	t.Helper()
	if err == nil {
		t.Fatal("Parse: no error, want problems")
	}
	var ce *campaign.Error
	if !errors.As(err, &ce) {
		t.Fatalf("Parse: error is %T (%v), want *campaign.Error", err, err)
	}
	return ce.Problems
}

func TestParseFullCampaign(t *testing.T) {
	c, err := campaign.Parse("campaign.yaml", mustLoad(t, "campaign.yaml"))
	if err != nil {
		t.Fatalf("Parse(testdata/campaign.yaml): %v", err)
	}
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	type wave struct {
		ID, Name, Template string
		Audiences          []string
		Line, TemplateLine int
		SendTime           time.Time
	}
	var gotWaves []wave
	for _, w := range c.Waves {
		gotWaves = append(gotWaves, wave{w.ID, w.Name, w.Template, w.Audiences, w.Line, w.TemplateLine, w.SendTime})
	}
	at := func(day int) time.Time { return time.Date(2026, 12, day, 9, 0, 0, 0, london) }
	wantWaves := []wave{
		{"announce", "Announcement", "announce", []string{"ready"}, 62, 65, at(1)},
		{"admins", "Administrators", "admins", []string{"admins"}, 67, 70, at(1)},
		{"onboard", "Onboarding with a Temporary Access Pass", "onboard", []string{"onboard"}, 72, 75, at(2)},
		{"reminder", "Reminder", "reminder", []string{"ready"}, 77, 80, at(15)},
		{"thanks", "Thank you", "thanks", []string{"done"}, 82, 85, at(15)},
	}
	timeEqual := cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) && a.Location().String() == b.Location().String() })
	if diff := cmp.Diff(wantWaves, gotWaves, timeEqual); diff != "" {
		t.Errorf("waves (-want +got):\n%s", diff)
	}

	type audience struct {
		Name, Where string
		Line        int
	}
	var gotAud []audience
	for _, a := range c.Audiences {
		gotAud = append(gotAud, audience{a.Name, a.Where, a.Line})
	}
	wantAud := []audience{
		{"ready", "isMfaCapable && !hasPasskey && !isAdmin", 50},
		{"admins", "isAdmin && !hasPhishingResistant", 53},
		{"onboard", "hasRegistration && !isMfaCapable && !hasPasskey", 56},
		{"done", "hasPasskey", 59},
	}
	if diff := cmp.Diff(wantAud, gotAud); diff != "" {
		t.Errorf("audiences (-want +got):\n%s", diff)
	}

	for _, tc := range []struct{ name, got, want string }{
		{"id", c.ID, "contoso-passkeys"},
		{"file", c.File, "campaign.yaml"},
		{"organisation", c.Organisation.Name, "Contoso"},
		{"sender", c.Sender.Address, "it-security@contoso.example"},
		{"reply to", c.Sender.ReplyTo, "helpdesk@contoso.example"},
		{"register", c.Links.Register, "https://aka.ms/mysecurityinfo"},
		{"guides", c.Links.Guides, "https://intranet.contoso.example/passkeys/"},
		{"locale", c.Defaults.Locale, "en"},
		{"locales", strings.Join(c.Defaults.Locales, ","), "en,fr,de"},
		{"time zone", c.Defaults.TimeZone, "Europe/London"},
		{"deadline", c.Defaults.Deadline.Format(time.DateOnly), "2027-01-29"},
		{"source", c.Source, "snapshot:demo-tenant"},
		{"templates", c.Templates, "../templates"},
		{"colour", c.Branding.Colour, "#0F6CBD"},
		{"wave ids", strings.Join(c.WaveIDs(), ","), "announce,admins,onboard,reminder,thanks"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %q, want %q", tc.name, tc.got, tc.want)
		}
	}
	if !c.ExcludeDisabled() || !c.ExcludeGuests() {
		t.Errorf("ExcludeDisabled, ExcludeGuests = %v, %v; want true, true", c.ExcludeDisabled(), c.ExcludeGuests())
	}
	if w, ok := c.Wave("reminder"); !ok || w.TemplateLine != 80 {
		t.Errorf("Wave(reminder) = %+v, %v; want the wave with its template at line 80", w, ok)
	}
	if _, ok := c.Wave("missing"); ok {
		t.Error("Wave(missing) found a wave")
	}
	if got := c.Line("waves[3].send_at"); got != 81 {
		t.Errorf(`Line("waves[3].send_at") = %d, want 81`, got)
	}
}

func TestParseDefaults(t *testing.T) {
	c := mustParse(t, minimal)
	for _, tc := range []struct{ name, got, want string }{
		{"register link", c.Links.Register, campaign.DefaultRegisterLink},
		{"register link value", c.Links.Register, "https://aka.ms/mysecurityinfo"},
		{"locale", c.Defaults.Locale, "en"},
		{"locales", strings.Join(c.Defaults.Locales, ","), "en"},
		{"time zone", c.Defaults.TimeZone, "UTC"},
		{"colour", c.Branding.Colour, "#0F6CBD"},
		{"templates", c.Templates, "../templates"},
		{"wave name", c.Waves[0].Name, "announce"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %q, want %q", tc.name, tc.got, tc.want)
		}
	}
	if !c.ExcludeDisabled() || !c.ExcludeGuests() {
		t.Errorf("ExcludeDisabled, ExcludeGuests = %v, %v; want true by default", c.ExcludeDisabled(), c.ExcludeGuests())
	}
	if !c.Waves[0].SendTime.IsZero() {
		t.Errorf("SendTime = %v without send_at, want zero", c.Waves[0].SendTime)
	}
	if got, want := c.Waves[0].Line, 10; got != want {
		t.Errorf("Waves[0].Line = %d, want %d", got, want)
	}
	if got, want := c.Audiences[0].Line, 8; got != want {
		t.Errorf("Audiences[0].Line = %d, want %d", got, want)
	}
}

func TestParseSendTime(t *testing.T) {
	zone := func(name string) *time.Location {
		loc, err := time.LoadLocation(name)
		if err != nil {
			t.Fatal(err)
		}
		return loc
	}
	for _, tc := range []struct {
		name     string
		timeZone string // defaults.time_zone, "" to leave it out
		sendAt   string
		want     time.Time
	}{
		{"default zone London, winter", "Europe/London", "2026-12-01T09:00", time.Date(2026, 12, 1, 9, 0, 0, 0, zone("Europe/London"))},
		{"default zone London, summer time", "Europe/London", "2026-07-01T09:00", time.Date(2026, 7, 1, 8, 0, 0, 0, time.UTC)},
		{"zone given overrides the default", "Europe/London", "2026-12-01T09:00 Europe/Paris", time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)},
		{"no default zone is UTC", "", "2026-12-01T09:00", time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)},
		{"seconds", "America/New_York", "2026-12-01T09:00:30", time.Date(2026, 12, 1, 14, 0, 30, 0, time.UTC)},
		{"space instead of T", "Asia/Tokyo", "2026-12-01 09:00", time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)},
		{"space instead of T, with a zone", "Asia/Tokyo", "2026-12-01 09:00 Europe/Paris", time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)},
		{"RFC 3339 ignores the default zone", "Europe/London", "2026-12-01T09:00:00+01:00", time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := minimal + "    send_at: " + tc.sendAt + "\n"
			if tc.timeZone != "" {
				data += "defaults:\n  time_zone: " + tc.timeZone + "\n"
			}
			got := mustParse(t, data).Waves[0].SendTime
			if !got.Equal(tc.want) {
				t.Errorf("SendTime = %v, want %v", got, tc.want.UTC())
			}
		})
	}
}

func TestParseTimeErrors(t *testing.T) {
	for _, tc := range []struct{ name, in, zone, want string }{
		{"not a time", "tomorrow", "UTC", `"tomorrow" is not a time like`},
		{"unknown zone after the time", "2026-12-01T09:00 Mars/Olympus", "UTC", `unknown zone "Mars/Olympus"`},
		{"unknown default zone", "2026-12-01T09:00", "Mars/Olympus", `unknown zone "Mars/Olympus"`},
		{"date only", "2026-12-01", "UTC", "is not a time like"},
		{"empty", "", "UTC", "is not a time like"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := campaign.ParseTime(tc.in, tc.zone)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ParseTime(%q, %q) = %v, %v; want an error containing %q", tc.in, tc.zone, got, err, tc.want)
			}
		})
	}
}

func TestParseUnknownKeys(t *testing.T) {
	data := `campaign: passkeys-2026
organisation:
  name: Contoso
  teem: IT Security
  colour_scheme: dark
sender:
  address: it-security@contoso.example
audiances:
  - name: x
defaults:
  timezone: Europe/London
audiences:
  - name: ready
    where: isMfaCapable
    descripton: most people
waves:
  - id: announce
    audiences: [ready]
    template: announce
  - id: reminder
    audiences: [ready]
    templte: reminder
    sendat: 2026-12-15T09:00
`
	_, err := campaign.Parse("campaign.yaml", []byte(data))
	got := problems(t, err)
	want := []campaign.Problem{
		{"campaign.yaml", 4, `unknown key "teem" in organisation (did you mean "team"?)`},
		{"campaign.yaml", 5, `unknown key "colour_scheme" in organisation`},
		{"campaign.yaml", 8, `unknown key "audiances" (did you mean "audiences"?)`},
		{"campaign.yaml", 11, `unknown key "timezone" in defaults (did you mean "time_zone"?)`},
		{"campaign.yaml", 15, `unknown key "descripton" in audiences[0] (did you mean "description"?)`},
		{"campaign.yaml", 22, `unknown key "templte" in waves[1] (did you mean "template"?)`},
		{"campaign.yaml", 23, `unknown key "sendat" in waves[1] (did you mean "send_at"?)`},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}

// TestParseValidation checks that every problem is reported at once, each
// at its line. A problem's message is checked by the fragments it must hold.
func TestParseValidation(t *testing.T) {
	type want struct {
		line  int
		parts []string
	}
	for _, tc := range []struct {
		name string
		data string
		want []want
	}{
		{
			name: "everything at once",
			data: `campaign: Bad_ID
organisation:
  name: Contoso
branding:
  colour: blue
  logo: https://intranet.contoso.example/logo.png
sender:
  reply_to: "helpdesk@contoso.example\r\nBcc: x@evil.example"
links:
  register: http://aka.ms/mysecurityinfo
  guides: https://intranet.contoso.example/passkeys
helpdesk:
  email: not an address
defaults:
  locale: de
  locales: [en, fr]
  time_zone: Mars/Olympus
audiences:
  - name: ready
    where: "true"
  - name: ready
    where: "true"
  - name: Bad_Name
    where: "true"
waves:
  - id: announce
    audiences: [ready, everyone]
    template: emails/en/announce.md
  - id: announce
    audiences: [ready]
    template: reminder
  - id: Bad Wave
    audiences: [ready]
    template: x
`,
			want: []want{
				{1, []string{"campaign:", `"Bad_ID"`, "not a valid id"}},
				{5, []string{"branding.colour:", `"blue"`}},
				{6, []string{"branding.logo_alt: missing", "alt text"}},
				// The first line of the sender block: there is no
				// address key to point at.
				{8, []string{"sender.address: missing"}},
				{8, []string{"sender.reply_to:", `\r\nBcc`, "not a plain email address"}},
				{10, []string{"links.register:", "use https"}},
				{11, []string{"links.guides:", "must end with /"}},
				{13, []string{"helpdesk.email:", `"not an address"`}},
				{15, []string{"defaults.locale:", `"de"`, "[en fr]"}},
				{17, []string{"defaults.time_zone:", `"Mars/Olympus"`}},
				{21, []string{`audience "ready": defined twice`}},
				{23, []string{`audience "Bad_Name"`, "lower-case"}},
				{27, []string{`wave "announce"`, `audience "everyone" is not defined`, "(audiences: ready"}},
				{28, []string{`template "emails/en/announce.md"`, "name only"}},
				{29, []string{`wave "announce": defined twice`}},
				{32, []string{`wave "Bad Wave"`, "lower-case"}},
			},
		},
		{
			name: "empty file",
			data: "",
			want: []want{
				{0, []string{"campaign: missing"}},
				{0, []string{"organisation.name: missing"}},
				{0, []string{"sender.address: missing"}},
				{0, []string{"audiences: none"}},
			},
		},
		{
			name: "no audiences",
			data: "campaign: passkeys-2026\norganisation: {name: Contoso}\nsender: {address: it-security@contoso.example}\n",
			// Line 1: the file's top-level mapping.
			want: []want{{1, []string{"audiences: none", "at least one audience"}}},
		},
		{
			name: "wave names a missing audience",
			data: strings.Replace(minimal, "[ready]", "[ready, admins]", 1) + "  - id: second\n    audiences: []\n    template: second\n",
			want: []want{
				{11, []string{`wave "announce": audience "admins" is not defined (audiences: ready)`}},
				{13, []string{`wave "second": no audiences`}},
			},
		},
		{
			name: "sender address with CR LF",
			data: strings.Replace(minimal, "address: it-security@contoso.example", `address: "it-security@contoso.example\r\nBcc: x@evil.example"`, 1),
			want: []want{{5, []string{"sender.address:", "not a plain email address"}}},
		},
		{
			name: "sender address with a display name",
			data: strings.Replace(minimal, "address: it-security@contoso.example", `address: "IT <it-security@contoso.example>"`, 1),
			want: []want{{5, []string{"sender.address:", "not a plain email address"}}},
		},
		{
			name: "links that are not https",
			data: minimal + "links:\n  register: https://aka.ms/mysecurityinfo\n  verify: http://intranet.contoso.example/news\n  guides: /passkeys/\nhelpdesk:\n  url: ftp://helpdesk.contoso.example/\n",
			want: []want{
				{15, []string{"links.verify:", "use https"}},
				{16, []string{"links.guides:", "not an absolute URL"}},
				{18, []string{"helpdesk.url:", "use https"}},
			},
		},
		{
			name: "colour",
			data: minimal + "branding:\n  colour: \"#0F6CB\"\n",
			want: []want{{14, []string{"branding.colour:", `"#0F6CB"`}}},
		},
		{
			name: "unknown time zone also fails send_at",
			data: minimal + "    send_at: 2026-12-01T09:00\ndefaults:\n  time_zone: Europe/Londres\n",
			want: []want{
				{13, []string{`wave "announce": send_at:`, `unknown zone "Europe/Londres"`}},
				{15, []string{"defaults.time_zone:", `"Europe/Londres"`}},
			},
		},
		{
			name: "bad send_at",
			data: minimal + "    send_at: 2026-13-01T09:00\n",
			want: []want{{13, []string{`wave "announce": send_at:`, `"2026-13-01T09:00" is not a time like 2026-12-01T09:00 Europe/Paris`}}},
		},
		{
			name: "send_at with an unknown zone",
			data: minimal + "    send_at: 2026-12-01T09:00 Paris\n",
			want: []want{{13, []string{`wave "announce": send_at:`, `unknown zone "Paris"`}}},
		},
		{
			name: "locale not in locales",
			data: minimal + "defaults:\n  locale: fr\n  locales: [en, de]\n",
			want: []want{{14, []string{`defaults.locale: "fr" is not in defaults.locales [en de]`}}},
		},
		{
			name: "bad locale code",
			data: minimal + "defaults:\n  locales: [en, en-GB]\n",
			want: []want{{14, []string{`defaults.locales: "en-GB" is not a language code`}}},
		},
		{
			name: "template given as a path",
			data: strings.Replace(minimal, "template: announce", `template: 'templates\emails\en\announce.md'`, 1),
			want: []want{{12, []string{`wave "announce": template`, "give the name only"}}},
		},
		{
			name: "template with an extension",
			data: strings.Replace(minimal, "template: announce", "template: announce.md", 1),
			want: []want{{12, []string{`template "announce.md": give the name only`}}},
		},
		{
			name: "missing template and audience rule",
			data: strings.Replace(strings.Replace(minimal, "    template: announce\n", "", 1), "    where: isMfaCapable\n", "", 1),
			want: []want{
				{7, []string{`audience "ready": missing where: rule`}},
				{9, []string{`wave "announce": missing template`}},
			},
		},
		{
			name: "smtp in clear without allow_insecure",
			data: minimal + "smtp:\n  host: relay.contoso.example\n  tls: none\n  auth: plain\n",
			want: []want{
				{15, []string{"smtp.tls: none sends mail and passwords in clear", "allow_insecure: true"}},
				{16, []string{"smtp.auth: plain needs smtp.username", "NUDGE_SMTP_PASSWORD"}},
			},
		},
		{
			name: "smtp values",
			data: minimal + "smtp:\n  host: smtp.office365.com:587\n  tls: ssl\n  auth: ntlm\n",
			want: []want{
				{14, []string{`smtp.host: "smtp.office365.com:587"`, "smtp.port"}},
				{15, []string{`smtp.tls: "ssl"`}},
				{16, []string{`smtp.auth: "ntlm"`}},
			},
		},
		{
			name: "senders and pacing",
			data: minimal + "pacing:\n  per_day: -1\nsenders:\n  - address: a@contoso.example\n  - address: A@contoso.example\n  - address: not-an-address\nproof: me\n",
			want: []want{
				{14, []string{"pacing.per_day: -1: must be positive"}},
				{17, []string{"senders: A@contoso.example is listed twice"}},
				{18, []string{"senders[2].address:", "not a plain email address"}},
				{19, []string{"proof:", `"me"`}},
			},
		},
		{
			name: "bad ids",
			data: strings.Replace(strings.Replace(minimal, "id: announce", "id: -announce", 1), "campaign: passkeys-2026", "campaign: Passkeys 2026", 1),
			want: []want{
				{1, []string{`campaign: "Passkeys 2026" is not a valid id`}},
				{10, []string{`wave "-announce": id must be lower-case`}},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := campaign.Parse("campaign.yaml", []byte(tc.data))
			got := problems(t, err)
			if len(got) != len(tc.want) {
				t.Errorf("got %d problems, want %d:\n%v", len(got), len(tc.want), err)
			}
			for i := range min(len(got), len(tc.want)) {
				g, w := got[i], tc.want[i]
				if g.File != "campaign.yaml" || g.Line != w.line {
					t.Errorf("problem %d at %s:%d, want campaign.yaml:%d: %s", i, g.File, g.Line, w.line, g.Msg)
				}
				for _, part := range w.parts {
					if !strings.Contains(g.Msg, part) {
						t.Errorf("problem %d = %q, want it to contain %q", i, g.Msg, part)
					}
				}
			}
		})
	}
}

// TestParseNotACampaign covers files that are not a mapping of keys, or not
// YAML at all: one problem, with a line, and no panic.
func TestParseNotACampaign(t *testing.T) {
	for _, tc := range []struct {
		name string
		data string
		line int
		msg  string // fragment of the one problem
	}{
		{"syntax error", "campaign: passkeys-2026\nwaves: [\n", 2, "not found"},
		{"list instead of mapping", "- campaign: passkeys-2026\n- name: x\n", 1, "sequence was used where mapping is expected"},
		{"tab indentation", "campaign: passkeys-2026\norganisation:\n\tname: Contoso\n", 3, "'\t'"},
		{"a number", "42\n", 1, "mapping is expected"},
		// goccy/go-yaml panics on this one (found by FuzzParse).
		{"bare tag on a list", "waves: ! ", 0, "stray tag"},
		{"a string for a list", strings.Replace(minimal, "[ready]", "ready", 1), 11, ""},
		{"a list for a string", strings.Replace(minimal, "template: announce", "template: [a, b]", 1), 12, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := campaign.Parse("campaign.yaml", []byte(tc.data))
			if c != nil {
				t.Errorf("Parse returned a campaign with the error")
			}
			got := problems(t, err)
			if len(got) != 1 {
				t.Fatalf("got %d problems, want 1:\n%v", len(got), err)
			}
			if got[0].Line != tc.line || !strings.Contains(got[0].Msg, tc.msg) {
				t.Errorf("problem = %d: %q, want line %d and a message containing %q", got[0].Line, got[0].Msg, tc.line, tc.msg)
			}
		})
	}
}

func TestErrorFormat(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  *campaign.Error
		want string
	}{
		{
			name: "lines",
			err: &campaign.Error{Problems: []campaign.Problem{
				{File: "content/campaign.yaml", Line: 4, Msg: `unknown key "teem" in organisation`},
				{File: "content/campaign.yaml", Line: 22, Msg: `wave "reminder": missing template`},
			}},
			want: "content/campaign.yaml:4: unknown key \"teem\" in organisation\ncontent/campaign.yaml:22: wave \"reminder\": missing template",
		},
		{
			name: "no line",
			err:  &campaign.Error{Problems: []campaign.Problem{{File: "c.yaml", Msg: "audiences: none"}}},
			want: "c.yaml: audiences: none",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.err.Error(); got != tc.want {
				t.Errorf("Error() =\n%s\nwant\n%s", got, tc.want)
			}
		})
	}

	// And as Parse returns it: one problem per line, file:line: first.
	_, err := campaign.Parse("c.yaml", []byte(strings.Replace(minimal, "template: announce", "templte: announce", 1)))
	if got, want := err.Error(), "c.yaml:12: unknown key \"templte\" in waves[0] (did you mean \"template\"?)"; got != want {
		t.Errorf("Parse error =\n%s\nwant\n%s", got, want)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(mustLoad(f, "campaign.yaml"))
	f.Add([]byte(minimal))
	for _, s := range []string{
		"", "---\n", "- a\n", "42", "campaign: [\n", "a: &x {b: *x}\n", "<<: {campaign: x}\n",
		"campaign: x\n\tname: y\n", "waves:\n  - !!map {id: a}\n", "defaults: {deadline: 2027-13-01}\n",
		"? [a]\n: b\n", "campaign: x\n---\ncampaign: y\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := campaign.Parse("campaign.yaml", data)
		if (c == nil) == (err == nil) {
			t.Fatalf("Parse = %v, %v: want exactly one of a campaign and an error", c, err)
		}
		if err != nil {
			var ce *campaign.Error
			if !errors.As(err, &ce) || len(ce.Problems) == 0 {
				t.Fatalf("Parse error %T %q: want a *campaign.Error with problems", err, err)
			}
		}
	})
}

// TestOnePassListsEverything: unknown keys and validation problems come in
// one error, without follow-on noise from the typos themselves.
func TestOnePassListsEverything(t *testing.T) {
	data := strings.Replace(strings.Replace(minimal, "sender:", "sendr:", 1), "[ready]", "[raedy]", 1)
	_, err := campaign.Parse("campaign.yaml", []byte(data))
	got := problems(t, err)
	var msgs []string
	for _, p := range got {
		msgs = append(msgs, fmt.Sprintf("%d: %s", p.Line, p.Msg))
	}
	want := []string{
		`4: unknown key "sendr" (did you mean "sender"?)`,
		`11: wave "announce": audience "raedy" is not defined (audiences: ready)`,
	}
	if strings.Join(msgs, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(msgs, "\n"), strings.Join(want, "\n"))
	}
}

func TestParseGraph(t *testing.T) {
	ok := minimal + `graph:
  tenant_id: 11111111-2222-3333-4444-555555555555
  client_id: 66666666-7777-8888-9999-000000000000
  auth: certificate
  certificate: secrets/nudge.pfx
  cloud: usgov
  ca_file: proxy-roots.pem
`
	c, err := campaign.Parse("campaign.yaml", []byte(ok))
	if err != nil {
		t.Fatal(err)
	}
	if c.Graph.Auth != "certificate" || c.Graph.Certificate != "secrets/nudge.pfx" || c.Graph.Cloud != "usgov" || c.Graph.CAFile != "proxy-roots.pem" {
		t.Errorf("Graph = %+v", c.Graph)
	}

	bad := minimal + `graph:
  auth: certficate
  cloud: gov
  base_url: http://graph.example
`
	_, err = campaign.Parse("campaign.yaml", []byte(bad))
	var msgs []string
	for _, p := range problems(t, err) {
		msgs = append(msgs, p.Msg)
	}
	got := strings.Join(msgs, "\n")
	for _, want := range []string{
		`graph.auth: "certficate": use secret, certificate, device-code, azure-cli, managed-identity (did you mean "certificate"?)`,
		`graph.cloud: "gov": use global, usgov, usgovdod, china`,
		`graph.base_url: "http://graph.example": use https`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("problems lack %q:\n%s", want, got)
		}
	}

	// A secret put in the file is refused as an unknown key, and not
	// echoed back.
	_, err = campaign.Parse("campaign.yaml", []byte(minimal+"graph:\n  client_secret: hunter2\n"))
	ps := problems(t, err)
	if len(ps) != 1 || !strings.Contains(ps[0].Msg, `unknown key "client_secret" in graph`) || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("client_secret in the file: %v", err)
	}
}
