package main

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/nudge-passkeys/nudge/internal/handout/pdfcheck"
	"github.com/nudge-passkeys/nudge/internal/printpdf"
)

// writeArchive writes the files of a txtar archive into dir.
func writeArchive(t *testing.T, file, dir string) {
	t.Helper()
	ar, err := txtar.ParseFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range ar.Files {
		name := filepath.Join(dir, filepath.FromSlash(f.Name))
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestBuildSessionsGuide: nudge build writes the Q&A sessions page and
// one "add to calendar" file per session with the guide site, leaving out
// the sessions over at the build's clock and the cancelled ones, and the
// page links the files.
func TestBuildSessionsGuide(t *testing.T) {
	dir := t.TempDir()
	writeArchive(t, "testdata/script/guides.txtar", dir)
	t.Chdir(dir)
	t.Setenv("NUDGE_NOW", "2026-11-25T10:00:00Z")
	appendFile(t, "content/campaign.yaml", `sessions:
  list:
    - {id: s1, title: "Q&A <live>", start: "2026-12-03T10:00", zone: Europe/Paris, join_url: "https://teams.example/s1", language: en, capacity: 10}
    - {id: s2, title: Questions, start: "2026-12-03T15:00", zone: Europe/Paris, room: Salle 1, language: fr, capacity: 10}
    - {id: s3, title: Gone, start: "2026-12-04T15:00", zone: Europe/Paris, room: Salle 1, language: en, capacity: 10, cancelled: true}
`)
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"build"}, nil, &out, &errb); code != exitOK {
		t.Fatalf("build = %d\n%s%s", code, out.String(), errb.String())
	}
	site := filepath.Join("output", "g", "guides")
	read := func(rel string) string {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(site, filepath.FromSlash(rel)))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	page := read("en/ready/sessions.html")
	for _, want := range []string{`href="../sessions/s1.ics"`, "Q&amp;A &lt;live&gt;", `href="https://teams.example/s1"`, "10:00–11:00</time> CET (Europe/Paris"} {
		if !strings.Contains(page, want) {
			t.Errorf("en/ready/sessions.html lacks %s:\n%s", want, page)
		}
	}
	if strings.Contains(page, "s2.ics") || strings.Contains(page, "Gone") {
		t.Error("en/ready/sessions.html lists a French or a cancelled session")
	}
	for rel, want := range map[string]string{"en/sessions/s1.ics": "SUMMARY:Q&A <live>", "fr/sessions/s2.ics": "DTSTAMP:20261125T100000Z"} {
		if ics := read(rel); !strings.Contains(ics, "METHOD:PUBLISH\r\n") || !strings.Contains(ics, want) {
			t.Errorf("%s: not a PUBLISH calendar with %s:\n%s", rel, want, ics)
		}
	}
	if _, err := os.Stat(filepath.Join(site, "en", "sessions", "s3.ics")); err == nil {
		t.Error("a calendar file for the cancelled session")
	}
}

// TestGuidesPDF: nudge guides --pdf writes the site and one A4 PDF per
// language, read back with pdftotext: a cover with the contents and the
// helpdesk, every page under its title on its own sheet, links between
// pages kept in the document, the "add to calendar" link written out as
// its published address, and the organisation's markup as text.
func TestGuidesPDF(t *testing.T) {
	if _, err := printpdf.Find(""); err != nil {
		if os.Getenv("NUDGE_REQUIRE_TOOLS") != "" {
			t.Fatalf("no browser: %v", err)
		}
		t.Skipf("no browser: %v", err)
	}
	pdfcheck.Tool(t, "pdftotext")
	dir := t.TempDir()
	writeArchive(t, "testdata/script/guides.txtar", dir)
	t.Chdir(dir)
	t.Setenv("NUDGE_NOW", "2026-11-25T10:00:00Z")
	appendFile(t, "content/campaign.yaml", `sessions:
  list:
    - {id: s1, title: "Q&A <live>", start: "2026-12-03T10:00", zone: Europe/Paris, join_url: "https://teams.example/s1", language: en, capacity: 10}
`)
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"guides", "--pdf"}, nil, &out, &errb); code != exitOK {
		t.Fatalf("guides --pdf = %d\n%s%s", code, out.String(), errb.String())
	}
	wantOut := strings.Join([]string{filepath.Join("output", "g", "guides", "index.html"),
		filepath.Join("output", "g", "guide-pdf", "ready.en.pdf"), filepath.Join("output", "g", "guide-pdf", "ready.fr.pdf")}, "\n") + "\n"
	if out.String() != wantOut {
		t.Errorf("stdout = %q, want %q", out.String(), wantOut)
	}
	en := pdfcheck.Text(t, filepath.Join("output", "g", "guide-pdf", "ready.en.pdf"))
	if len(en) < 4 {
		t.Fatalf("en: %d pages, want a cover and one sheet for each of 3 pages:\n%q", len(en), en)
	}
	for i, want := range []string{
		"Contoso <b> Guides 1. Contoso <b> passkeys 2. Q&A sessions 3. FAQ These guides online: https://intranet.contoso.example/passkeys/en/ready/index.html",
		"Contoso <b> passkeys Start with the FAQ.",
		"Q&A sessions Q&A <live> When Thursday 3 December 2026, 10:00–11:00 CET (Europe/Paris, UTC+01:00) Join online https://teams.example/s1 (https://teams.example/s1) Add to calendar (https://intranet.contoso.example/passkeys/en/sessions/s1.ics)",
		"FAQ Question First answer.",
	} {
		if !strings.HasPrefix(en[i], want) {
			t.Errorf("en page %d:\n%s\nwant it to start with\n%s", i+1, en[i], want)
		}
	}
	for _, size := range pdfcheck.Pages(t, filepath.Join("output", "g", "guide-pdf", "ready.en.pdf")) {
		if math.Abs(size.W-pdfcheck.MM(210)) > 1 || math.Abs(size.H-pdfcheck.MM(297)) > 1 {
			t.Errorf("page size %v pt, want A4", size)
		}
	}
	fr := strings.Join(pdfcheck.Text(t, filepath.Join("output", "g", "guide-pdf", "ready.fr.pdf")), " ")
	for _, want := range []string{"Commencez par la FAQ", "Première réponse.", "Ces guides en ligne : https://intranet.contoso.example/passkeys/fr/ready/index.html"} {
		if !strings.Contains(fr, want) {
			t.Errorf("fr PDF lacks %q:\n%s", want, fr)
		}
	}
	if _, err := os.Stat(filepath.Join("output", "g", "guides", "en", "sessions", "s1.ics")); err != nil {
		t.Errorf("the site was not written: %v", err)
	}

	// Bad flags are refused before anything is read.
	for _, args := range [][]string{{"guides", "--audience", "ready"}, {"guides", "--pdf", "--audience", "nobody"}} {
		out.Reset()
		errb.Reset()
		if code := run(context.Background(), args, nil, &out, &errb); code != exitUsage {
			t.Errorf("%q = %d, want %d\n%s", args, code, exitUsage, errb.String())
		}
	}
}

// appendFile appends text to the file at name.
func appendFile(t *testing.T, name, text string) {
	t.Helper()
	f, err := os.OpenFile(filepath.FromSlash(name), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.WriteString(text)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
}

// TestCheckMissingGuidePage: check exits 1 on an email linking a guide
// page the site does not have, naming the email and the page. The files
// are those of testdata/script/guides.txtar.
func TestCheckMissingGuidePage(t *testing.T) {
	dir := t.TempDir()
	writeArchive(t, "testdata/script/guides.txtar", dir)
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
