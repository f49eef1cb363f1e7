// Package pdfcheck reads PDFs and images back with independent tools
// (poppler's pdfinfo, pdftotext and pdftoppm, qpdf, zbarimg) for tests.
// A missing tool skips the test, or fails it when NUDGE_REQUIRE_TOOLS is
// set (CI).
package pdfcheck

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// Install says which Debian package provides each tool.
var Install = map[string]string{
	"pdfinfo":   "apt-get install poppler-utils",
	"pdftotext": "apt-get install poppler-utils",
	"pdftoppm":  "apt-get install poppler-utils",
	"qpdf":      "apt-get install qpdf",
	"zbarimg":   "apt-get install zbar-tools",
}

// Tool returns the path of the named tool, skipping (or, with
// NUDGE_REQUIRE_TOOLS, failing) the test when it is not installed.
func Tool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if os.Getenv("NUDGE_REQUIRE_TOOLS") != "" {
		t.Fatalf("%s not found on PATH (NUDGE_REQUIRE_TOOLS is set): %s", name, Install[name])
	}
	t.Skipf("%s not found on PATH: %s (set NUDGE_REQUIRE_TOOLS to fail instead)", name, Install[name])
	return ""
}

func output(t testing.TB, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(Tool(t, name), args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, out, stderr.Bytes())
	}
	return string(out)
}

// Check runs qpdf --check on file and fails the test on any error.
func Check(t testing.TB, file string) {
	t.Helper()
	output(t, "qpdf", "--check", file)
}

// Size is a page size in PostScript points.
type Size struct{ W, H float64 }

var pageSize = regexp.MustCompile(`(?m)^Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts`)

// Pages returns the size of every page of file, from pdfinfo.
func Pages(t testing.TB, file string) []Size {
	t.Helper()
	info := output(t, "pdfinfo", file)
	m := regexp.MustCompile(`(?m)^Pages:\s+(\d+)`).FindStringSubmatch(info)
	if m == nil {
		t.Fatalf("pdfinfo %s: no page count in\n%s", file, info)
	}
	n, _ := strconv.Atoi(m[1])
	var sizes []Size
	for _, m := range pageSize.FindAllStringSubmatch(output(t, "pdfinfo", "-f", "1", "-l", strconv.Itoa(n), file), -1) {
		w, _ := strconv.ParseFloat(m[1], 64)
		h, _ := strconv.ParseFloat(m[2], 64)
		sizes = append(sizes, Size{w, h})
	}
	if len(sizes) != n {
		t.Fatalf("pdfinfo %s: %d pages but %d sizes", file, n, len(sizes))
	}
	return sizes
}

// MM converts millimetres to points.
func MM(mm float64) float64 { return mm * 72 / 25.4 }

// Text returns the text of each page of file, from pdftotext, with runs
// of white space (line breaks included) folded to one space.
func Text(t testing.TB, file string) []string {
	t.Helper()
	out := output(t, "pdftotext", "-enc", "UTF-8", file, "-")
	pages := strings.Split(out, "\f")
	if len(pages) > 0 && strings.TrimSpace(pages[len(pages)-1]) == "" {
		pages = pages[:len(pages)-1]
	}
	for i, p := range pages {
		pages[i] = Fold(p)
	}
	return pages
}

// Fold folds runs of white space to one space and trims the ends, the way
// a reader sees a name that wrapped over two lines.
func Fold(s string) string { return strings.Join(strings.Fields(s), " ") }

// QRCodes renders every page of file at 200 dpi and returns what zbarimg
// decodes on each page, in page order.
func QRCodes(t testing.TB, file string) [][]string {
	t.Helper()
	dir := t.TempDir()
	output(t, "pdftoppm", "-r", "200", "-png", file, filepath.Join(dir, "page"))
	pngs, _ := filepath.Glob(filepath.Join(dir, "page*.png"))
	// pdftoppm pads page numbers to the same width, so names sort.
	sort.Strings(pngs)
	var pages [][]string
	for _, png := range pngs {
		pages = append(pages, Decode(t, png))
	}
	return pages
}

// Decode returns the contents of every code zbarimg finds in an image.
func Decode(t testing.TB, image string) []string {
	t.Helper()
	cmd := exec.Command(Tool(t, "zbarimg"), "--raw", "-q", image)
	out, err := cmd.Output()
	if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == 4 {
		return nil // no code found
	}
	if err != nil {
		t.Fatalf("zbarimg %s: %v", image, err)
	}
	var codes []string
	for _, l := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		if l != "" {
			codes = append(codes, l)
		}
	}
	return codes
}
