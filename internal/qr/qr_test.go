package qr

import (
	"encoding/xml"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/nudge-passkeys/nudge/internal/handout/pdfcheck"
)

// svgDoc is what the test reads back from an SVG.
type svgDoc struct {
	Width   string `xml:"width,attr"`
	ViewBox string `xml:"viewBox,attr"`
	Rect    struct {
		Fill string `xml:"fill,attr"`
	} `xml:"rect"`
	Path struct {
		D    string `xml:"d,attr"`
		Fill string `xml:"fill,attr"`
	} `xml:"path"`
}

var run = regexp.MustCompile(`^M(\d+) (\d+)h(\d+)v1h-(\d+)z`)

// raster draws the SVG's path back into a bitmap, as a printer would.
func raster(t *testing.T, svg string) (grid [][]bool, doc svgDoc) {
	t.Helper()
	if err := xml.Unmarshal([]byte(svg), &doc); err != nil {
		t.Fatalf("SVG is not well-formed XML: %v", err)
	}
	f := strings.Fields(doc.ViewBox)
	if len(f) != 4 || f[0] != "0" || f[1] != "0" || f[2] != f[3] {
		t.Fatalf("viewBox = %q, want a square from 0 0", doc.ViewBox)
	}
	n, _ := strconv.Atoi(f[2])
	grid = make([][]bool, n)
	for i := range grid {
		grid[i] = make([]bool, n)
	}
	d := doc.Path.D
	for d != "" {
		m := run.FindStringSubmatch(d)
		if m == nil {
			t.Fatalf("unexpected path data at %.20q", d)
		}
		x, _ := strconv.Atoi(m[1])
		y, _ := strconv.Atoi(m[2])
		w, _ := strconv.Atoi(m[3])
		if m[3] != m[4] {
			t.Fatalf("open rectangle %q", m[0])
		}
		for i := x; i < x+w; i++ {
			grid[y][i] = true
		}
		d = d[len(m[0]):]
	}
	return grid, doc
}

func TestSVGQuietZoneAndSize(t *testing.T) {
	c, err := Encode("https://aka.ms/mysecurityinfo", Medium)
	if err != nil {
		t.Fatal(err)
	}
	svg, err := c.SVG(22)
	if err != nil {
		t.Fatal(err)
	}
	grid, doc := raster(t, svg)
	n := c.Size()
	if len(grid) != n+2*QuietZone {
		t.Fatalf("SVG is %d modules wide, want %d + 2×%d", len(grid), n, QuietZone)
	}
	for y, row := range grid {
		for x, dark := range row {
			inside := x >= QuietZone && x < QuietZone+n && y >= QuietZone && y < QuietZone+n
			if !inside && dark {
				t.Fatalf("dark module at (%d,%d) in the quiet zone", x, y)
			}
			if inside && dark != c.Modules[y-QuietZone][x-QuietZone] {
				t.Fatalf("module (%d,%d) differs from the encoder's matrix", x, y)
			}
		}
	}
	if doc.Rect.Fill != "#fff" || doc.Path.Fill != "#000" {
		t.Errorf("colours: background %q, modules %q; want #fff and #000", doc.Rect.Fill, doc.Path.Fill)
	}
	wantMM := 22 * float64(n+2*QuietZone) / float64(n)
	if got, _ := strconv.ParseFloat(strings.TrimSuffix(doc.Width, "mm"), 64); got < wantMM-0.01 || got > wantMM+0.01 {
		t.Errorf("width = %s, want %.3fmm (a 22 mm symbol and its quiet zone)", doc.Width, wantMM)
	}
}

func TestSVGTooSmall(t *testing.T) {
	c, err := Encode("https://aka.ms/mysecurityinfo", Medium)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.SVG(19.9); err == nil || !strings.Contains(err.Error(), "at least 20 mm") {
		t.Fatalf("SVG(19.9) error = %v, want one asking for at least 20 mm", err)
	}
}

func TestEncodeLevels(t *testing.T) {
	// A higher level holds more error correction, so the same content needs
	// a larger symbol; L is not offered at all.
	var last int
	for _, l := range []Level{Medium, High, Highest} {
		c, err := Encode("https://aka.ms/mysecurityinfo", l)
		if err != nil {
			t.Fatal(err)
		}
		if c.Size() < last {
			t.Errorf("level %d: %d modules, fewer than the level below (%d)", l, c.Size(), last)
		}
		last = c.Size()
	}
	if _, err := Encode("x", levelEnd); err == nil {
		t.Error("Encode with an unknown level succeeded")
	}
	if _, err := Encode("", Medium); err == nil {
		t.Error("Encode of nothing succeeded")
	}
}

// TestSVGDecodes draws the SVG's path into a PNG and has zbarimg read it.
func TestSVGDecodes(t *testing.T) {
	for _, link := range []string{
		"https://aka.ms/mysecurityinfo",
		"https://mysignins.microsoft.com/security-info?tenant=contoso.example&site=Paris%20La%20D%C3%A9fense",
	} {
		c, err := Encode(link, Medium)
		if err != nil {
			t.Fatal(err)
		}
		svg, err := c.SVG(MinSymbolMM)
		if err != nil {
			t.Fatal(err)
		}
		grid, _ := raster(t, svg)
		const scale = 8
		img := image.NewGray(image.Rect(0, 0, len(grid)*scale, len(grid)*scale))
		for y := range img.Rect.Dy() {
			for x := range img.Rect.Dx() {
				v := color.Gray{255}
				if grid[y/scale][x/scale] {
					v = color.Gray{0}
				}
				img.SetGray(x, y, v)
			}
		}
		file := filepath.Join(t.TempDir(), "qr.png")
		f, err := os.Create(file)
		if err != nil {
			t.Fatal(err)
		}
		if err := png.Encode(f, img); err != nil {
			t.Fatal(err)
		}
		f.Close()
		got := pdfcheck.Decode(t, file)
		if len(got) != 1 || got[0] != link {
			t.Errorf("zbarimg read %q, want exactly [%q]", got, link)
		}
	}
}
