package main

import (
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/nudge-passkeys/nudge/content"
	"github.com/nudge-passkeys/nudge/internal/campaign"
	"github.com/nudge-passkeys/nudge/internal/render"
	"github.com/nudge-passkeys/nudge/templates"
)

// shippedTemplates is a copy of the built-in templates that a test can
// change.
func shippedTemplates(t *testing.T) fstest.MapFS {
	t.Helper()
	m := fstest.MapFS{}
	err := fs.WalkDir(templates.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(templates.FS, p)
		m[p] = &fstest.MapFile{Data: data}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestCheckHandouts: nudge check parses every handout template as the
// print commands do and reports each problem with its file, as an error
// when printing would fail and as a warning when a reader falls back to
// the default language.
func TestCheckHandouts(t *testing.T) {
	raw, err := fs.ReadFile(content.FS, "campaign.yaml")
	if err != nil {
		t.Fatal(err)
	}
	demo, err := campaign.Parse("content/campaign.yaml", raw)
	if err != nil {
		t.Fatal(err)
	}
	insert := func(front, body string) string {
		if front == "" {
			front = "qr: 22\nbleed: 0\n" // as the shipped inserts
		}
		return "---\nkind: handout\ntitle: Sign in\n" + front + "---\n" + body + "\n"
	}
	for _, tc := range []struct {
		name   string
		change func(m fstest.MapFS, c *campaign.Campaign)
		want   []string // findings, each "error: …" or "warning: …", in order
	}{
		{"shipped templates", func(fstest.MapFS, *campaign.Campaign) {}, nil},
		{"unknown placeholder in one audience's branch", func(m fstest.MapFS, _ *campaign.Campaign) {
			m["handouts/fr/insert.md"] = &fstest.MapFile{Data: []byte(insert("", "Bonjour.\n\n{{ if eq .Audience \"onboard\" }}{{ .Person.Nmae }}{{ end }}"))}
		}, []string{`error: templates/handouts/fr/insert.md:9:41: {{ .Person.Nmae }}: unknown field Nmae`}},
		{"front matter typo", func(m fstest.MapFS, _ *campaign.Campaign) {
			m["handouts/de/card.md"] = &fstest.MapFile{Data: []byte(insert("margn: 3\n", "Hallo."))}
		}, []string{`error: templates/handouts/de/card.md:4: front matter: unknown field "margn"`}},
		{"unknown layout in sizes", func(m fstest.MapFS, _ *campaign.Campaign) {
			for _, l := range []string{"en", "fr", "de"} {
				m["handouts/"+l+"/insert.md"] = &fstest.MapFile{Data: []byte(insert("qr: 22\nsizes: {a5: [148, 210]}\n", "Hello."))}
			}
		}, []string{`error: templates/handouts/en/insert.md: sizes: handout: unknown layout "a5": use a6, a4-4up, letter-4up, card (layout a6)`}},
		{"margin too wide for the code", func(m fstest.MapFS, _ *campaign.Campaign) {
			for _, l := range []string{"en", "fr", "de"} {
				m["handouts/"+l+"/card.md"] = &fstest.MapFile{Data: []byte(insert("margin: 12\n", "Hi."))}
			}
		}, []string{"error: handout: layout card: a 85 × 55 mm insert with 12 mm margins is too small for a 20 mm QR code"}},
		{"a translation with other sizes", func(m fstest.MapFS, _ *campaign.Campaign) {
			m["handouts/de/insert.md"] = &fstest.MapFile{Data: []byte(insert("qr: 30\n", "Hallo."))}
		}, []string{"error: templates/handouts/de/insert.md: qr, margin, bleed and sizes must be the same as in the en template"}},
		{"missing translation", func(m fstest.MapFS, _ *campaign.Campaign) {
			delete(m, "handouts/de/tap-letter.md")
		}, []string{"warning: templates/handouts/de/tap-letter.md: missing translation: readers of de get templates/handouts/en/tap-letter.md"}},
		{"missing in the default language", func(m fstest.MapFS, _ *campaign.Campaign) {
			m["handouts/fr/poster.md"] = &fstest.MapFile{Data: []byte(insert("", "Affiche."))}
		}, []string{"error: templates/handouts/en/poster.md: missing: poster exists in fr"}},
		{"letters the campaign needs", func(m fstest.MapFS, c *campaign.Campaign) {
			for _, l := range []string{"en", "fr", "de"} {
				delete(m, "handouts/"+l+"/tap-letter.md")
			}
			c.TAP.Lifetime = "8h"
		}, []string{"error: templates/handouts/en/tap-letter.md: missing: content/campaign.yaml sets a tap: section, which prints it"}},
		{"letter placeholder", func(m fstest.MapFS, _ *campaign.Campaign) {
			m["handouts/en/tap-letter.md"] = &fstest.MapFile{Data: []byte("---\nkind: handout\n---\nYour pass: {{ .Pass }}\n")}
		}, []string{`error: templates/handouts/en/tap-letter.md:4:14: {{ .Pass }}: unknown field Pass`}},
		{"a language the campaign does not have", func(m fstest.MapFS, _ *campaign.Campaign) {
			m["handouts/es/insert.md"] = &fstest.MapFile{Data: []byte(insert("", "Hola."))}
		}, []string{`warning: templates/handouts/es: "es" is not one of the campaign's languages (en, fr, de)`}},
		{"no handouts at all", func(m fstest.MapFS, _ *campaign.Campaign) {
			for p := range m {
				if strings.HasPrefix(p, "handouts/") {
					delete(m, p)
				}
			}
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := *demo
			m := shippedTemplates(t)
			tc.change(m, &c)
			got := handoutFindings(&c, m, "templates", render.New(m, "templates", &c))
			if len(got) != len(tc.want) {
				t.Fatalf("%d findings, want %d:\n%s", len(got), len(tc.want), findings(got))
			}
			for i, f := range got {
				if !strings.HasPrefix(f.String(), tc.want[i]) && !strings.Contains(f.String(), tc.want[i]) {
					t.Errorf("finding %d:\n got %s\nwant %s", i, f, tc.want[i])
				}
			}
		})
	}
}

func findings(fs []render.Finding) string {
	var b strings.Builder
	for _, f := range fs {
		b.WriteString(f.String() + "\n")
	}
	return b.String()
}
