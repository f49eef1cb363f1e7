package render

// CSS inlining policy: email clients (Outlook desktop, Gmail) ignore or strip
// <style> blocks, so every rule is inlined into style attributes. Inlining
// (go-premailer) parses whole documents and is far too slow to run per
// person, so it runs twice per layout and locale, never per person:
//
//  1. on the layout with markers in place of the person-dependent slots
//     (title, preheader, body); the inlined result is split at the markers
//     into static parts;
//  2. on the layout with a specimen body holding one element of every kind
//     Markdown produces; the inlined style of each specimen element is what
//     that kind of element gets in a real body.
//
// Per person, the body's Markdown tree gets those styles as attributes, and
// the email is the static parts joined with the escaped slot values.

import (
	"bytes"
	"fmt"
	htmltemplate "html/template"
	"strings"

	"github.com/vanng822/go-premailer/premailer"
	"golang.org/x/net/html"
)

type slot int

const (
	slotTitle slot = iota
	slotPreheader
	slotBody
)

var slotMarkers = [...]string{
	slotTitle:     "NUDGESLOTTITLE",
	slotPreheader: "NUDGESLOTPREHEADER",
	slotBody:      "NUDGESLOTBODY",
}

// layoutData is the dot of layout templates.
type layoutData struct {
	Lang, Title, Preheader string
	Body, Footer           htmltemplate.HTML
	Org                    struct{ Name, Team, Website string }
	Brand                  struct{ Colour, Logo, LogoAlt string }
	Links                  struct{ Register, Guides, Verify string }
}

// preparedLayout is a layout with CSS inlined, ready to take a body.
type preparedLayout struct {
	parts  []string // static HTML; len(parts) == len(slots)+1
	slots  []slot
	styles map[string][]byte // element kind ("p", "a.button", "h2") → inline style
}

// specimen has one element of every kind the Markdown renderer emits.
const specimen = `<h1 data-nudge="h1">x</h1><h2 data-nudge="h2">x</h2><h3 data-nudge="h3">x</h3>` +
	`<h4 data-nudge="h4">x</h4><p data-nudge="p">x <a data-nudge="a" href="https://x.example/">x</a> ` +
	`<strong data-nudge="strong">x</strong> <em data-nudge="em">x</em> <code data-nudge="code">x</code> <del data-nudge="del">x</del></p>` +
	`<p data-nudge="p.button"><a class="button" data-nudge="a.button" href="https://x.example/">x</a></p>` +
	`<ul data-nudge="ul"><li data-nudge="li">x</li></ul><ol data-nudge="ol"><li>x</li></ol>` +
	`<blockquote data-nudge="blockquote"><p>x</p></blockquote><hr data-nudge="hr">` +
	`<pre data-nudge="pre"><code>x</code></pre><img data-nudge="img" src="https://x.example/x.png" alt="x">` +
	`<table data-nudge="table"><thead><tr><th data-nudge="th">x</th></tr></thead><tbody><tr><td data-nudge="td">x</td></tr></tbody></table>`

func prepareLayout(t *htmltemplate.Template, base layoutData, footer htmltemplate.HTML) (*preparedLayout, error) {
	d := base
	d.Title, d.Preheader = slotMarkers[slotTitle], slotMarkers[slotPreheader]
	d.Body = htmltemplate.HTML(slotMarkers[slotBody])
	d.Footer = footer
	page, err := inline(t, d)
	if err != nil {
		return nil, err
	}
	pl := &preparedLayout{styles: map[string][]byte{}}
	rest := page
	for {
		at, which := -1, slot(0)
		for s, m := range slotMarkers {
			if i := strings.Index(rest, m); i >= 0 && (at < 0 || i < at) {
				at, which = i, slot(s)
			}
		}
		if at < 0 {
			break
		}
		pl.parts = append(pl.parts, rest[:at])
		pl.slots = append(pl.slots, which)
		rest = rest[at+len(slotMarkers[which]):]
	}
	pl.parts = append(pl.parts, rest)
	bodies := 0
	for _, s := range pl.slots {
		if s == slotBody {
			bodies++
		}
	}
	if bodies != 1 {
		return nil, fmt.Errorf("the layout must show {{ .Body }} exactly once, not %d times", bodies)
	}

	d = base
	d.Title, d.Preheader, d.Body = "x", "x", specimen
	styled, err := inline(t, d)
	if err != nil {
		return nil, err
	}
	doc, err := html.Parse(strings.NewReader(styled))
	if err != nil {
		return nil, err
	}
	var visit func(*html.Node)
	visit = func(n *html.Node) {
		if n.Type == html.ElementNode {
			var kind, style string
			for _, a := range n.Attr {
				switch a.Key {
				case "data-nudge":
					kind = a.Val
				case "style":
					style = a.Val
				}
			}
			if kind != "" && style != "" {
				pl.styles[kind] = []byte(style)
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			visit(c)
		}
	}
	visit(doc)
	return pl, nil
}

// inline executes the layout and inlines its CSS.
func inline(t *htmltemplate.Template, d layoutData) (string, error) {
	var b bytes.Buffer
	if err := t.Execute(&b, d); err != nil {
		return "", err
	}
	opts := premailer.NewOptions()
	opts.CssToAttributes = true
	p, err := premailer.NewPremailerFromString(b.String(), opts)
	if err != nil {
		return "", fmt.Errorf("inlining CSS: %w", err)
	}
	out, err := p.Transform()
	if err != nil {
		return "", fmt.Errorf("inlining CSS: %w", err)
	}
	return out, nil
}

// assemble writes the email HTML for one person.
func (pl *preparedLayout) assemble(b *bytes.Buffer, title, preheader string, body []byte) {
	for i, part := range pl.parts {
		b.WriteString(part)
		if i == len(pl.slots) {
			break
		}
		switch pl.slots[i] {
		case slotTitle:
			htmltemplate.HTMLEscape(b, []byte(title))
		case slotPreheader:
			htmltemplate.HTMLEscape(b, []byte(preheader))
		case slotBody:
			b.Write(body)
		}
	}
}
