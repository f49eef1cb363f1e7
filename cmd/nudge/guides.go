package main

import (
	"os"
	"path/filepath"

	"github.com/nudge-passkeys/nudge/internal/guide"
)

// buildGuides renders the campaign's guide site in memory, or returns nil
// when the template folder has no guides/ (the organisation publishes its
// guides some other way).
func buildGuides(p *project) (*guide.Site, error) {
	if !guide.Exists(p.tmplFS, p.c) {
		return nil, nil
	}
	return guide.Build(guide.Options{FS: p.tmplFS, Root: p.tmplName, Campaign: p.c, Engine: p.engine})
}

// writeGuides writes the site into dir, a staging folder nobody sees until
// the build renames it into place.
func writeGuides(dir string, s *guide.Site) error {
	for _, rel := range s.Paths() {
		name := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(name, s.Files[rel], 0o644); err != nil {
			return err
		}
	}
	return nil
}
