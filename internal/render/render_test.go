package render

import (
	"encoding/json"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nudge-passkeys/nudge/content"
	"github.com/nudge-passkeys/nudge/internal/campaign"
	"github.com/nudge-passkeys/nudge/internal/directory"
	"github.com/nudge-passkeys/nudge/internal/untrusted"
	"github.com/nudge-passkeys/nudge/templates"
)

var update = flag.Bool("update", false, "rewrite golden files")

func testCampaign(t testing.TB) *campaign.Campaign {
	t.Helper()
	c, err := campaign.Parse("campaign.yaml", []byte(`
campaign: test
name: Passkeys
organisation: {name: Contoso, team: IT Security}
sender: {address: it-security@contoso.example}
links: {guides: "https://intranet.contoso.example/passkeys/"}
helpdesk: {email: helpdesk@contoso.example}
defaults: {locale: en, locales: [en, fr], deadline: 2027-01-01}
audiences: [{name: ready, where: "true"}]
waves: [{id: announce, audiences: [ready], template: announce}]
`))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func testEngine(t testing.TB) *Engine {
	return New(os.DirFS("testdata/templates"), "templates", testCampaign(t))
}

func person(display, given string) *directory.Person {
	return &directory.Person{
		ID: "id-1", UserPrincipalName: "ann@contoso.example", Mail: "ann@contoso.example",
		DisplayName: display, GivenName: given, Department: "Sales", PreferredLanguage: "en-GB",
		AccountEnabled: true, IsMFACapable: true,
	}
}

func TestEmailGolden(t *testing.T) {
	e := testEngine(t)
	for _, tc := range []struct {
		name string
		p    *directory.Person
		want string // locale
	}{
		{"en", person("Ann Smith", "Ann"), "en"},
		{"fr", func() *directory.Person {
			p := person("Amélie Garçon", "Amélie")
			p.PreferredLanguage = "fr-FR"
			return p
		}(), "fr"},
		{"fallback", func() *directory.Person { p := person("Jürgen", "Jürgen"); p.PreferredLanguage = "de-DE"; return p }(), "en"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := e.Email("announce", tc.p, Context{WaveID: "announce", Audience: "ready"})
			if err != nil {
				t.Fatal(err)
			}
			if doc.Locale != tc.want {
				t.Errorf("locale = %q, want %q", doc.Locale, tc.want)
			}
			golden(t, filepath.Join("testdata", "golden", tc.name+".html"), doc.HTML)
			golden(t, filepath.Join("testdata", "golden", tc.name+".txt"), "Subject: "+doc.Subject+"\nPreheader: "+doc.Preheader+"\n\n"+doc.Text)
		})
	}
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the rendered output; run go test -update and review the diff\n--- got ---\n%s", path, got)
	}
}

type hostile struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
}

// hostileNames are the shared corpus plus cases of our own.
func hostileNames(t testing.TB) []hostile {
	data, err := os.ReadFile(filepath.Join("..", "..", "internal", "testcorpus", "hostile-names.json"))
	if err != nil {
		t.Fatal(err)
	}
	var hs []hostile
	if err := json.Unmarshal(data, &hs); err != nil {
		t.Fatal(err)
	}
	return hs
}

func TestHostileNamesStayText(t *testing.T) {
	e := testEngine(t)
	for _, h := range hostileNames(t) {
		t.Run(h.ID, func(t *testing.T) {
			p := person(h.DisplayName, h.DisplayName)
			p.Department = h.DisplayName
			doc, err := e.Email("announce", p, Context{WaveID: "announce", Audience: "ready"})
			if err != nil {
				t.Fatal(err)
			}
			// The name must be in the text part exactly as written (control
			// characters folded to spaces), and no markup may come from it.
			want := untrusted.OneLine(h.DisplayName)
			if !strings.Contains(doc.Text, "directory: "+want+" (") {
				t.Errorf("text part lacks the literal name %q:\n%s", want, doc.Text)
			}
			if strings.ContainsAny(doc.Subject, "\r\n") {
				t.Errorf("subject has a line break: %q", doc.Subject)
			}
			if !strings.HasPrefix(doc.Subject, strings.Join(strings.Fields(want), " ")) {
				t.Errorf("subject = %q, want the name first", doc.Subject)
			}
			for _, bad := range []string{"<img", "<script", "evil.example/login\"", "href=\"https://evil", "<strong>Urgent"} {
				if strings.Contains(doc.HTML, bad) {
					t.Errorf("HTML contains %q: markup came from a directory value", bad)
				}
			}
			if n := strings.Count(doc.HTML, "<a "); n != 3 {
				t.Errorf("HTML has %d links, want the template's 3", n)
			}
		})
	}
}

func TestTemplateErrors(t *testing.T) {
	e := testEngine(t)
	for _, tc := range []struct{ name, want string }{
		{"typo", "templates/emails/en/typo.md:5:16: {{ .Person.Nmae }}: unknown field Nmae"},
		{"badfront", `templates/emails/en/badfront.md:3: front matter: unknown field "subjet"`},
		{"missing", "templates/emails/en/missing.md: template not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.Prepare(tc.name, "en")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestFormatDate(t *testing.T) {
	d := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	for locale, want := range map[string]string{"en": "1 January 2027", "fr": "1er janvier 2027", "de": "1. Januar 2027", "xx": "2027-01-01"} {
		got, err := formatDate(d, locale)
		if err != nil || got != want {
			t.Errorf("formatDate(%s) = %q, %v; want %q", locale, got, err, want)
		}
	}
}

// TestShippedTemplatesGolden pins the demo templates as readers get them, so
// that a change to a template or the renderer shows up as a diff in review.
func TestShippedTemplatesGolden(t *testing.T) {
	data, err := fs.ReadFile(content.FS, "campaign.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c, err := campaign.Parse("campaign.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	e := New(templates.FS, "templates", c)
	for _, tc := range []struct{ template, audience, lang string }{
		{"announce", "ready", "en-GB"},
		{"onboard", "onboard", "fr-FR"},
		{"admins", "admins", "de-DE"},
	} {
		t.Run(tc.template, func(t *testing.T) {
			p := person("Ann O'Brien <Ops>", "Ann")
			p.PreferredLanguage = tc.lang
			doc, err := e.Email(tc.template, p, Context{WaveID: tc.template, Audience: tc.audience})
			if err != nil {
				t.Fatal(err)
			}
			if fs := Lint(doc, AllowedHosts(c)); len(fs) > 0 {
				t.Errorf("lint: %v", fs)
			}
			name := filepath.Join("testdata", "golden", "shipped-"+tc.template+"."+doc.Locale)
			golden(t, name+".html", doc.HTML)
			golden(t, name+".txt", "Subject: "+doc.Subject+"\nPreheader: "+doc.Preheader+"\n\n"+doc.Text)
		})
	}
}
