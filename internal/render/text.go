package render

// The plain-text alternative is rendered from the same Markdown syntax tree
// as the HTML, so the two parts of an email always say the same thing, and
// no HTML is parsed back per person.

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/yuin/goldmark/ast"
	east "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/util"
)

type textWriter struct {
	b      *bytes.Buffer
	src    []byte
	prefix []string // per nesting level: list indentation, "> " for quotes
	bol    bool     // at the beginning of a line
}

// renderText writes the plain-text form of doc.
func renderText(b *bytes.Buffer, doc ast.Node, src []byte) {
	w := &textWriter{b: b, src: src, bol: true}
	w.blocks(doc)
	trimTrailingNewlines(b)
}

func trimTrailingNewlines(b *bytes.Buffer) {
	for b.Len() > 0 && b.Bytes()[b.Len()-1] == '\n' {
		b.Truncate(b.Len() - 1)
	}
}

func (w *textWriter) write(s string) {
	if s == "" {
		return
	}
	if w.bol {
		for _, p := range w.prefix {
			w.b.WriteString(p)
		}
		w.bol = false
	}
	w.b.WriteString(s)
}

func (w *textWriter) newline() {
	w.b.WriteByte('\n')
	w.bol = true
}

// blankLine ends the current block with one empty line, unless output is
// empty or already ends so.
func (w *textWriter) blankLine() {
	n := w.b.Len()
	if n == 0 {
		return
	}
	if !w.bol {
		w.newline()
	}
	data := w.b.Bytes()
	if len(data) >= 2 && data[len(data)-2] == '\n' {
		return
	}
	for _, p := range w.prefix {
		w.b.WriteString(strings.TrimRight(p, " "))
	}
	w.newline()
}

func (w *textWriter) blocks(parent ast.Node) {
	for n := parent.FirstChild(); n != nil; n = n.NextSibling() {
		w.block(n)
	}
}

func (w *textWriter) block(n ast.Node) {
	switch n := n.(type) {
	case *ast.Paragraph, *ast.TextBlock:
		if n.PreviousSibling() != nil || n.Parent().Kind() == ast.KindDocument {
			if _, tight := n.(*ast.TextBlock); !tight {
				w.blankLine()
			}
		}
		w.inlines(n)
		if !w.bol {
			w.newline()
		}
	case *ast.Heading:
		w.blankLine()
		start := w.b.Len()
		w.inlines(n)
		width := len([]rune(w.b.String()[start:]))
		w.newline()
		if n.Level <= 2 {
			ch := "="
			if n.Level == 2 {
				ch = "-"
			}
			w.write(strings.Repeat(ch, max(width, 3)))
			w.newline()
		}
	case *ast.ThematicBreak:
		w.blankLine()
		w.write("----------")
		w.newline()
	case *ast.Blockquote:
		w.blankLine()
		w.prefix = append(w.prefix, "> ")
		w.blocks(n)
		w.prefix = w.prefix[:len(w.prefix)-1]
	case *ast.List:
		w.blankLine()
		num := n.Start
		for item := n.FirstChild(); item != nil; item = item.NextSibling() {
			marker := "- "
			if n.IsOrdered() {
				marker = strconv.Itoa(num) + ". "
				num++
			}
			w.write(marker)
			w.prefix = append(w.prefix, strings.Repeat(" ", len(marker)))
			w.bol = false
			w.listItem(item)
			w.prefix = w.prefix[:len(w.prefix)-1]
		}
	case *ast.FencedCodeBlock, *ast.CodeBlock:
		w.blankLine()
		lines := n.Lines()
		for i := 0; i < lines.Len(); i++ {
			seg := lines.At(i)
			w.write(strings.TrimRight(string(seg.Value(w.src)), "\n"))
			w.newline()
		}
	case *east.Table:
		w.blankLine()
		for row := n.FirstChild(); row != nil; row = row.NextSibling() {
			for cell := row.FirstChild(); cell != nil; cell = cell.NextSibling() {
				if cell.PreviousSibling() != nil {
					w.write(" | ")
				}
				w.inlines(cell)
			}
			w.newline()
		}
	case *ast.HTMLBlock:
		// Raw HTML is not rendered in HTML either.
	default:
		w.blocks(n)
	}
}

func (w *textWriter) listItem(item ast.Node) {
	first := true
	for c := item.FirstChild(); c != nil; c = c.NextSibling() {
		if !first {
			w.blankLine()
		}
		switch c.(type) {
		case *ast.Paragraph, *ast.TextBlock:
			w.inlines(c)
			if !w.bol {
				w.newline()
			}
		default:
			if first {
				w.newline()
			}
			w.block(c)
		}
		first = false
	}
	if !w.bol {
		w.newline()
	}
}

func (w *textWriter) inlines(parent ast.Node) {
	for n := parent.FirstChild(); n != nil; n = n.NextSibling() {
		w.inline(n)
	}
}

func (w *textWriter) inline(n ast.Node) {
	switch n := n.(type) {
	case *ast.Text:
		seg := n.Segment.Value(w.src)
		if !n.IsRaw() {
			seg = util.UnescapePunctuations(seg)
			seg = util.ResolveNumericReferences(seg)
			seg = util.ResolveEntityNames(seg)
		}
		w.write(string(seg))
		if n.HardLineBreak() || n.SoftLineBreak() {
			w.newline()
		}
	case *ast.String:
		w.write(string(n.Value))
	case *ast.CodeSpan:
		for c := n.FirstChild(); c != nil; c = c.NextSibling() {
			if t, ok := c.(*ast.Text); ok {
				w.write(string(t.Segment.Value(w.src)))
			}
		}
	case *ast.Link:
		start := w.b.Len()
		w.inlines(n)
		label := w.b.String()[start:]
		dest := string(n.Destination)
		switch {
		case strings.HasPrefix(dest, "mailto:") && strings.Contains(dest, label):
			// The label is the address.
		case isButton(n):
			w.write(": " + dest)
		default:
			w.write(" (" + dest + ")")
		}
	case *ast.AutoLink:
		w.write(string(n.URL(w.src)))
	case *ast.Image:
		w.inlines(n) // the alt text
	case *ast.RawHTML:
		// dropped, as in HTML
	case *east.TaskCheckBox:
		if n.IsChecked {
			w.write("[x] ")
		} else {
			w.write("[ ] ")
		}
	default:
		w.inlines(n)
	}
}

// isButton reports whether the link was written by the button helper.
func isButton(n *ast.Link) bool {
	if v, ok := n.AttributeString("class"); ok {
		if b, ok := v.([]byte); ok && string(b) == "button" {
			return true
		}
	}
	return string(n.Title) == buttonTitle
}
