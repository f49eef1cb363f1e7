package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"
)

// TestCheckMissingGuidePage: check exits 1 on an email linking a guide
// page the site does not have, naming the email and the page. The files
// are those of testdata/script/guides.txtar.
func TestCheckMissingGuidePage(t *testing.T) {
	ar, err := txtar.ParseFile("testdata/script/guides.txtar")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, f := range ar.Files {
		name := filepath.Join(dir, filepath.FromSlash(f.Name))
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(dir)
	check := func() (int, string) {
		var out, errb bytes.Buffer
		code := run(context.Background(), []string{"check"}, nil, &out, &errb)
		return code, out.String() + errb.String()
	}
	if code, out := check(); code != exitOK {
		t.Fatalf("check of the good campaign = %d, want %d\n%s", code, exitOK, out)
	}
	missing, err := os.ReadFile("missing.md")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.FromSlash("templates/emails/en/announce.md"), missing, 0o644); err != nil {
		t.Fatal(err)
	}
	code, out := check()
	if code != exitFailure {
		t.Errorf("check = %d, want %d", code, exitFailure)
	}
	for _, want := range []string{"templates/emails/en/announce.md", "missing-page.html"} {
		if !strings.Contains(out, want) {
			t.Errorf("check output does not name %s:\n%s", want, out)
		}
	}
}
