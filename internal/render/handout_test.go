package render

import (
	"strings"
	"testing"
	"testing/fstest"
)

type handoutFront struct {
	Kind  string  `yaml:"kind"`
	Title string  `yaml:"title"`
	QR    float64 `yaml:"qr"`
}

func TestHandoutBody(t *testing.T) {
	fsys := fstest.MapFS{
		"handouts/en/insert.md": {Data: []byte("---\nkind: handout\ntitle: Hi\nqr: 22\n---\n" +
			"Hello {{ .Person.FirstName }}.\n\n{{ if eq .Audience \"onboard\" }}Get a **Temporary Access Pass** first.{{ end }}\n\nHelp: {{ .Helpdesk.Email }}\n")},
		"handouts/en/bad-key.md":   {Data: []byte("---\nkind: handout\npaper: a4\n---\nx\n")},
		"handouts/en/bad-field.md": {Data: []byte("---\nkind: handout\n---\n{{ .Person.Nmae }}\n")},
	}
	e := New(fsys, "templates", testCampaign(t))
	var f handoutFront
	h, err := e.ParseHandout("insert", "en", &f, "kind, title, qr")
	if err != nil {
		t.Fatal(err)
	}
	if f.Kind != KindHandout || f.Title != "Hi" || f.QR != 22 {
		t.Errorf("front matter = %+v", f)
	}
	for _, hn := range hostileNames(t) {
		p := person(hn.DisplayName, hn.DisplayName)
		got, err := h.HTML(p, Context{Audience: "ready"})
		if err != nil {
			t.Fatal(err)
		}
		for _, bad := range []string{"<img", "<script", "<a ", "<strong>Urgent", "<em>"} {
			if strings.Contains(string(got), bad) {
				t.Errorf("%s: body contains %q: markup came from the name", hn.ID, bad)
			}
		}
		if strings.Contains(string(got), "Temporary Access Pass") {
			t.Errorf("%s: onboard steps shown to audience ready", hn.ID)
		}
	}
	got, err := h.HTML(nil, Context{Audience: "onboard"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(got), "<strong>Temporary Access Pass</strong>") || !strings.Contains(string(got), "Hello .") {
		t.Errorf("generic onboard body = %s", got)
	}
	if !e.HandoutExists("insert", "en") || e.HandoutExists("insert", "fr") {
		t.Error("HandoutExists is wrong")
	}
	for name, want := range map[string]string{
		"bad-key":   "templates/handouts/en/bad-key.md:3: front matter: unknown field \"paper\" (keys: kind, title, qr)",
		"bad-field": "unknown field Nmae",
		"missing":   "templates/handouts/en/missing.md: handout template not found",
	} {
		if _, err := e.ParseHandout(name, "en", &handoutFront{}, "kind, title, qr"); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", name, err, want)
		}
	}
}
