// Package qr draws QR codes as SVG vector graphics, for print.
//
// Print policy: error correction is M or higher (a key-kit insert gets
// scuffed), the quiet zone is at least 4 modules (the minimum the QR
// standard asks for, and what phone cameras need to find the code on a busy
// page), and the code is drawn as one path of rectangles taken from the
// encoder's module matrix, so it stays sharp at any print size.
package qr

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	qrcode "github.com/skip2/go-qrcode"
)

// Level is an error correction level.
type Level int

// Error correction levels allowed in print; L is not offered.
const (
	Medium   Level = iota // M: 15% of the code may be damaged
	High                  // Q: 25%
	Highest               // H: 30%
	levelEnd              // sentinel
)

// QuietZone is the number of light modules drawn around the symbol.
const QuietZone = 4

// MinSymbolMM is the smallest printed width of the symbol (without its
// quiet zone) nudge accepts: smaller codes fail on older phone cameras.
const MinSymbolMM = 20

// Code is an encoded QR symbol.
type Code struct {
	// Content is exactly what the code encodes.
	Content string
	// Modules is the module matrix without the quiet zone: Modules[y][x]
	// is true for a dark module.
	Modules [][]bool
}

// Encode encodes content at level.
func Encode(content string, level Level) (*Code, error) {
	if content == "" {
		return nil, errors.New("qr: nothing to encode")
	}
	var rl qrcode.RecoveryLevel
	switch level {
	case Medium:
		rl = qrcode.Medium
	case High:
		rl = qrcode.High
	case Highest:
		rl = qrcode.Highest
	default:
		return nil, fmt.Errorf("qr: unknown error correction level %d", level)
	}
	q, err := qrcode.New(content, rl)
	if err != nil {
		return nil, fmt.Errorf("qr: %w", err)
	}
	q.DisableBorder = true // the quiet zone is ours to draw
	return &Code{Content: content, Modules: q.Bitmap()}, nil
}

// Size is the number of modules on a side, without the quiet zone.
func (c *Code) Size() int { return len(c.Modules) }

// TotalMM is the printed width of the whole code, quiet zone included,
// when the symbol is symbolMM wide.
func (c *Code) TotalMM(symbolMM float64) float64 {
	n := float64(c.Size())
	return symbolMM * (n + 2*QuietZone) / n
}

// SVG returns the code as an inline SVG element whose symbol (dark modules)
// is symbolMM millimetres wide, with a white quiet zone around it. It fails
// when symbolMM is below MinSymbolMM.
func (c *Code) SVG(symbolMM float64) (string, error) {
	if symbolMM < MinSymbolMM {
		return "", fmt.Errorf("qr: a %.4g mm code is too small to scan reliably: use at least %d mm", symbolMM, MinSymbolMM)
	}
	n := c.Size()
	total := n + 2*QuietZone
	mm := strconv.FormatFloat(c.TotalMM(symbolMM), 'f', 3, 64)
	var b strings.Builder
	b.Grow(64 * n)
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="qr" width="%smm" height="%smm" viewBox="0 0 %d %d" shape-rendering="crispEdges" role="img">`, mm, mm, total, total)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="`, total, total)
	// One rectangle per horizontal run of dark modules keeps the path
	// short without changing what is drawn.
	for y, row := range c.Modules {
		for x := 0; x < n; {
			if !row[x] {
				x++
				continue
			}
			run := 1
			for x+run < n && row[x+run] {
				run++
			}
			fmt.Fprintf(&b, "M%d %dh%dv1h-%dz", x+QuietZone, y+QuietZone, run, run)
			x += run
		}
	}
	b.WriteString(`"/></svg>`)
	return b.String(), nil
}
