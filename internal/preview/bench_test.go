package preview

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/nudge-passkeys/nudge/internal/campaign"
	"github.com/nudge-passkeys/nudge/internal/render"
)

func benchProject(b *testing.B) *Project {
	b.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "content", "campaign.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	c, err := campaign.Parse("campaign.yaml", data)
	if err != nil {
		b.Fatal(err)
	}
	return &Project{Campaign: c, Engine: render.New(os.DirFS(filepath.Join("..", "..", "templates")), "templates", c)}
}

// BenchmarkPieceWarm is a piece page's rendering for another person: the
// templates are parsed already.
func BenchmarkPieceWarm(b *testing.B) {
	p := benchProject(b)
	w := &p.Campaign.Waves[0]
	person, _ := samplePerson("long")
	if _, err := renderEmail(p, w, w.Audiences[0], "en", person); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := renderEmail(p, w, w.Audiences[0], "en", person); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPieceAfterSave is what live reload costs after a template is
// saved: a fresh engine parses the template, its layout (inlining the
// CSS) and partials, then renders the piece with its lint.
func BenchmarkPieceAfterSave(b *testing.B) {
	p := benchProject(b)
	w := &p.Campaign.Waves[0]
	person, _ := samplePerson("long")
	for b.Loop() {
		fresh := *p
		fresh.Engine = render.New(os.DirFS(filepath.Join("..", "..", "templates")), "templates", p.Campaign)
		if _, err := renderEmail(&fresh, w, w.Audiences[0], "en", person); err != nil {
			b.Fatal(err)
		}
	}
}
