package handout

import (
	_ "embed"
	"html/template"
	"strconv"
)

//go:embed page.html
var pageHTML string

// pageTemplate is the print document around the inserts. It is part of
// the program, not of the templates folder: its geometry comes from the
// layout and the front matter, and what people write goes in the Markdown.
var pageTemplate = template.Must(template.New("page.html").Funcs(template.FuncMap{
	"pt":  func(v float64) template.CSS { return template.CSS(strconv.FormatFloat(v, 'f', 1, 64) + "pt") },
	"mul": func(a, b float64) float64 { return a * b },
	"mm":  func(v float64) template.CSS { return template.CSS(strconv.FormatFloat(v, 'f', 3, 64) + "mm") },
}).Parse(pageHTML))
