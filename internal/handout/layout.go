package handout

import (
	"fmt"
	"slices"
	"strings"

	"github.com/nudge-passkeys/nudge/internal/qr"
)

// Layout is a way of putting inserts on paper.
type Layout struct {
	// Name is what --layout and handouts.layout take.
	Name string
	// Sheet is the paper size in mm; zero for single-insert layouts, whose
	// page is the insert itself plus its bleed.
	Sheet Size
	// Cols and Rows is the grid of inserts on a sheet.
	Cols, Rows int
	// Insert is the trim size of one insert in mm, unless the template's
	// front matter sets sizes for this layout.
	Insert Size
	// Template is the handout template used unless one is named.
	Template string
	// Description is shown in help and errors.
	Description string
}

// Size is a width and height in millimetres.
type Size struct{ W, H float64 }

// PerSheet is how many inserts a sheet holds.
func (l Layout) PerSheet() int { return l.Cols * l.Rows }

// NUp reports whether several inserts share a sheet, cut at crop marks.
func (l Layout) NUp() bool { return l.Sheet != (Size{}) }

// Layouts are the layouts nudge knows. The n-up inserts are a little
// smaller than the single ones, so that crop marks fit between and around
// them within what an office printer can reach.
var Layouts = []Layout{
	{Name: "a6", Cols: 1, Rows: 1, Insert: Size{105, 148}, Template: "insert", Description: "one A6 insert per page (105 × 148 mm), fits a key box"},
	{Name: "a4-4up", Sheet: Size{210, 297}, Cols: 2, Rows: 2, Insert: Size{90, 130}, Template: "insert", Description: "four 90 × 130 mm inserts on A4, with crop marks"},
	{Name: "letter-4up", Sheet: Size{215.9, 279.4}, Cols: 2, Rows: 2, Insert: Size{90, 120}, Template: "insert", Description: "four 90 × 120 mm inserts on US Letter, with crop marks"},
	{Name: "card", Cols: 1, Rows: 1, Insert: Size{85, 55}, Template: "card", Description: "one 85 × 55 mm card per page"},
}

// LayoutNames lists the layouts' names.
func LayoutNames() []string {
	names := make([]string, len(Layouts))
	for i, l := range Layouts {
		names[i] = l.Name
	}
	return names
}

// FindLayout returns the layout called name.
func FindLayout(name string) (Layout, error) {
	for _, l := range Layouts {
		if l.Name == name {
			return l, nil
		}
	}
	return Layout{}, fmt.Errorf("handout: unknown layout %q: use %s", name, strings.Join(LayoutNames(), ", "))
}

// Geometry constants, in mm.
const (
	gutter   = 10  // between n-up inserts: room for two sets of crop marks
	markGap  = 1.5 // crop marks start this far from the trim line…
	markLen  = 3.5 // …and are this long
	minEdge  = 5   // nothing nearer the sheet's edge than this on n-up sheets
	textRoom = 24  // height the title, name and link need besides the QR code
)

// Front is a handout template's front matter.
type Front struct {
	Kind string `yaml:"kind"`
	// Title is printed at the top of every insert.
	Title string `yaml:"title"`
	// QR is the printed width of the code in mm, without its quiet zone
	// (at least 20; default 22, or 20 on cards).
	QR float64 `yaml:"qr"`
	// Margin is the white space inside each insert's trim edge, in mm
	// (default 7 on A6, 5 on n-up sheets, 4 on cards).
	Margin *float64 `yaml:"margin"`
	// Bleed extends the page beyond the trim size on every side, in mm,
	// for a print shop that cuts single inserts (a6, card); 0 by default.
	Bleed float64 `yaml:"bleed"`
	// Sizes sets an insert's trim size for a layout, [width, height] in mm.
	Sizes map[string][]float64 `yaml:"sizes"`
}

const frontKeys = "kind, title, qr, margin, bleed, sizes"

// geometry is where everything goes on a sheet, in mm.
type geometry struct {
	Page     Size    // the PDF page
	Insert   Size    // trim size
	Margin   float64 // inside the trim
	Bleed    float64
	QRSymbol float64 // the code without its quiet zone
	QRTotal  float64 // with it
	Origins  []Size  // top-left corner of each insert's trim box
	Marks    []mark
	PerSheet int
	Card     bool
	BodyPt   float64 // body text size: smaller on n-up sheets and cards
}

// mark is one crop mark line.
type mark struct{ X, Y, W, H float64 }

// plan works out the geometry of layout l for front matter f and a code of
// n modules, and refuses what cannot print well.
func plan(l Layout, f *Front, file string, modules int) (*geometry, error) {
	g := &geometry{Insert: l.Insert, PerSheet: l.PerSheet(), Card: l.Name == "card", Bleed: f.Bleed, BodyPt: 9.5}
	switch {
	case g.Card:
		g.BodyPt = 7
	case l.NUp():
		g.BodyPt = 8
	}
	if s, ok := f.Sizes[l.Name]; ok {
		if len(s) != 2 || s[0] <= 0 || s[1] <= 0 {
			return nil, fmt.Errorf("%s: sizes.%s: give [width, height] in mm, e.g. [%g, %g]", file, l.Name, l.Insert.W, l.Insert.H)
		}
		g.Insert = Size{s[0], s[1]}
	}
	for name := range f.Sizes {
		if _, err := FindLayout(name); err != nil {
			return nil, fmt.Errorf("%s: sizes: %w", file, err)
		}
	}
	switch {
	case g.Card:
		g.Margin = 4
	case l.NUp():
		g.Margin = 5
	default:
		g.Margin = 7
	}
	if f.Margin != nil {
		g.Margin = *f.Margin
	}
	if g.Margin < 0 || f.Bleed < 0 {
		return nil, fmt.Errorf("%s: margin and bleed cannot be negative", file)
	}
	if f.Bleed > 5 {
		return nil, fmt.Errorf("%s: bleed: %g mm: print shops ask for 2 to 5 mm", file, f.Bleed)
	}
	g.QRSymbol = 22
	if g.Card {
		g.QRSymbol = qr.MinSymbolMM
	}
	if f.QR != 0 {
		g.QRSymbol = f.QR
	}
	if g.QRSymbol < qr.MinSymbolMM {
		return nil, fmt.Errorf("%s: qr: %g mm: a QR code must print at least %d mm wide to scan reliably", file, g.QRSymbol, qr.MinSymbolMM)
	}
	g.QRTotal = g.QRSymbol * float64(modules+2*qr.QuietZone) / float64(modules)

	inner := Size{g.Insert.W - 2*g.Margin, g.Insert.H - 2*g.Margin}
	needW, needH := g.QRTotal, g.QRTotal+textRoom
	if g.Card {
		// Text beside the code, the link under it.
		needW, needH = g.QRTotal+30, g.QRTotal+6
	}
	if inner.W < needW || inner.H < needH {
		return nil, fmt.Errorf("handout: layout %s: a %.3g × %.3g mm insert with %g mm margins is too small for a %g mm QR code (it needs at least %.3g × %.3g mm inside the margins; it has %.3g × %.3g)",
			l.Name, g.Insert.W, g.Insert.H, g.Margin, g.QRSymbol, needW, needH, max(inner.W, 0), max(inner.H, 0))
	}

	if !l.NUp() {
		g.Page = Size{g.Insert.W + 2*f.Bleed, g.Insert.H + 2*f.Bleed}
		g.Origins = []Size{{f.Bleed, f.Bleed}}
		return g, nil
	}
	if f.Bleed != 0 {
		return nil, fmt.Errorf("%s: bleed: %s sheets are cut at their crop marks: bleed is for single-insert layouts (a6, card)", file, l.Name)
	}
	g.Page = l.Sheet
	gridW := float64(l.Cols)*g.Insert.W + float64(l.Cols-1)*gutter
	gridH := float64(l.Rows)*g.Insert.H + float64(l.Rows-1)*gutter
	reach := markGap + markLen + minEdge
	if gridW+2*reach > l.Sheet.W+0.001 || gridH+2*reach > l.Sheet.H+0.001 {
		return nil, fmt.Errorf("handout: layout %s: %d × %d inserts of %.3g × %.3g mm and their crop marks do not fit on a %.4g × %.4g mm sheet",
			l.Name, l.Cols, l.Rows, g.Insert.W, g.Insert.H, l.Sheet.W, l.Sheet.H)
	}
	x0, y0 := (l.Sheet.W-gridW)/2, (l.Sheet.H-gridH)/2
	for r := range l.Rows {
		for c := range l.Cols {
			o := Size{x0 + float64(c)*(g.Insert.W+gutter), y0 + float64(r)*(g.Insert.H+gutter)}
			g.Origins = append(g.Origins, o)
			g.Marks = append(g.Marks, cropMarks(o, g.Insert)...)
		}
	}
	return g, nil
}

// cropMarks are the eight short lines that show where an insert is cut:
// two at each corner, outside the trim box, so no cut shows a line.
func cropMarks(o, s Size) []mark {
	const w = 0.2 // hairline
	var ms []mark
	for _, x := range []float64{o.W, o.W + s.W} {
		for _, y := range []float64{o.H, o.H + s.H} {
			dx, dy := -markGap-markLen, -markGap-markLen
			if x > o.W {
				dx = markGap
			}
			if y > o.H {
				dy = markGap
			}
			ms = append(ms,
				mark{X: x + dx, Y: y - w/2, W: markLen, H: w}, // horizontal, on the cut line's extension
				mark{X: x - w/2, Y: y + dy, W: w, H: markLen}, // vertical
			)
		}
	}
	return ms
}

// sameGeometry reports whether two locales' front matter agree on paper:
// a batch mixes locales on one set of sheets.
func sameGeometry(a, b *Front) bool {
	if a.QR != b.QR || a.Bleed != b.Bleed || (a.Margin == nil) != (b.Margin == nil) || (a.Margin != nil && *a.Margin != *b.Margin) || len(a.Sizes) != len(b.Sizes) {
		return false
	}
	for k, v := range a.Sizes {
		if !slices.Equal(v, b.Sizes[k]) {
			return false
		}
	}
	return true
}
