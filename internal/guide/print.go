package guide

// The printed guide: one document per language (and audience) holding
// every page of that site, for a PDF printed by package printpdf. A cover
// names the organisation, lists the pages and says where the guides are
// online and whom to call; then each page starts on a new sheet under its
// own title. Links between pages become links within the document; other
// relative links (the "add to calendar" files) become absolute under
// links.guides, and paper shows every web address after its link text.
// Pages are the ones the site has, already rendered and escaped; the
// cover's campaign values go through html/template.

import (
	"bytes"
	"fmt"
	"html"
	"html/template"
	"net/url"
	"regexp"
	"strings"
)

// PrintPaper is the printed guide's page size in millimetres: A4.
var PrintPaper = struct{ WidthMM, HeightMM float64 }{210, 297}

var printDoc = template.Must(template.New("print").Parse(`<!DOCTYPE html>
<html lang="{{ .Lang }}">
<head>
<meta charset="utf-8">
<title>{{ .Title }}</title>
<style>
@page { size: 210mm 297mm; margin: 18mm 16mm 20mm 16mm; }
* { box-sizing: border-box; }
body { margin: 0; color: #000000; font: 10.5pt/1.5 "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", "DejaVu Sans", sans-serif; }
h1 { font-size: 20pt; line-height: 1.2; margin: 0 0 5mm 0; }
h2 { font-size: 14pt; margin: 6mm 0 2mm 0; break-after: avoid; }
h3 { font-size: 12pt; margin: 4mm 0 1.5mm 0; break-after: avoid; }
section.page { break-before: page; }
a { color: #000000; }
section.page a[href^="http"]::after, section.page a[href^="mailto:"]::after { content: " (" attr(href) ")"; font-size: 90%; word-break: break-all; }
a.button { font-weight: 600; }
table { border-collapse: collapse; margin: 0 0 3mm 0; }
th, td { border: 0.3mm solid #666666; padding: 1mm 2mm; text-align: left; vertical-align: top; }
li, blockquote, table, dl { break-inside: avoid; }
blockquote { margin: 3mm 0; padding: 2mm 4mm; border-left: 1mm solid #000000; }
dt { font-weight: 600; }
dd { margin: 0 0 1.5mm 6mm; }
.cover .org { font-size: 13pt; margin: 0 0 2mm 0; }
.cover ol { font-size: 12pt; }
</style>
</head>
<body>
<section class="cover">
{{ with .Org }}<p class="org">{{ . }}</p>
{{ end }}<h1>{{ .Title }}</h1>
<ol>
{{ range .Pages }}<li><a href="#p-{{ .Name }}">{{ .Title }}</a></li>
{{ end }}</ol>
{{ with .Online }}<p>{{ $.UI.Online }} {{ . }}</p>
{{ end }}<p>{{ .UI.Help }} {{ .Helpdesk.Name }}{{ with .Helpdesk.Email }}: {{ . }}{{ end }}{{ with .Helpdesk.Phone }} · {{ $.UI.Phone }} {{ . }}{{ end }}{{ with .Helpdesk.URL }} · {{ . }}{{ end }}</p>
</section>
{{ range .Pages }}<section class="page" id="p-{{ .Name }}" lang="{{ .Lang }}">
<h1>{{ .Title }}</h1>
{{ .Body }}
</section>
{{ end }}</body>
</html>
`))

type printPage struct {
	Name, Title, Lang string
	Body              template.HTML
}

// PrintHTML returns the guide of one language and audience as a single
// document to print (A4, PrintPaper).
func (s *Site) PrintHTML(locale, audience string) ([]byte, error) {
	pages, ok := s.pages[locale+"/"+audience]
	if !ok {
		return nil, fmt.Errorf("guide: no site for %s/%s", locale, audience)
	}
	c := s.c
	names := map[string]bool{}
	for _, p := range pages {
		names[p.Name] = true
	}
	// Where the site's own pages are published, for links that leave the
	// document.
	var base *url.URL
	if c.Links.Guides != "" {
		if u, err := url.Parse(c.Links.Guides); err == nil && u.Scheme == "https" {
			base = u.JoinPath(locale, audience) // …/<locale>/<audience>
			base.Path += "/"
		}
	}
	w := wordsFor(locale)
	d := struct {
		Lang, Title, Org, Online string
		Helpdesk                 any
		UI                       ui
		Pages                    []printPage
	}{Lang: locale, Org: c.Organisation.Name, Helpdesk: c.Helpdesk, UI: w}
	d.Title = w.Nav
	if c.Name != "" {
		d.Title = c.Name + ": " + w.Nav
	}
	if base != nil {
		d.Online = base.String() + Index + ".html"
	}
	for _, p := range pages {
		d.Pages = append(d.Pages, printPage{Name: p.Name, Title: p.Title, Lang: p.Locale,
			Body: template.HTML(printLinks(p.Body, names, base))})
	}
	var b bytes.Buffer
	if err := printDoc.Execute(&b, d); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// hrefAttr matches the href attributes goldmark and the layouts write:
// double-quoted, their value HTML-escaped.
var hrefAttr = regexp.MustCompile(`href="([^"]*)"`)

// printLinks rewrites a page's relative links for the printed guide: a
// link to another page of the site goes to that page's section, any other
// relative link to its published address under base (left as it is when
// links.guides is not set).
func printLinks(body []byte, pages map[string]bool, base *url.URL) []byte {
	return hrefAttr.ReplaceAllFunc(body, func(m []byte) []byte {
		raw := html.UnescapeString(string(m[len(`href="`) : len(m)-1]))
		if external(raw) || strings.HasPrefix(raw, "#") {
			return m
		}
		u, err := url.Parse(raw)
		if err != nil {
			return m
		}
		if name, ok := strings.CutSuffix(u.Path, ".html"); ok && !strings.Contains(name, "/") && pages[name] {
			return []byte(`href="#p-` + name + `"`)
		}
		if base == nil {
			return m
		}
		abs := base.ResolveReference(u)
		return []byte(`href="` + template.HTMLEscapeString(abs.String()) + `"`)
	})
}
