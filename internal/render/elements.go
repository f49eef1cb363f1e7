package render

import (
	"strings"

	"golang.org/x/net/html"
)

// Element is a start tag met by EachElement.
type Element struct {
	Tag  string
	attr []html.Attribute
}

// Attr returns the value of the element's attribute key, and whether it
// has one.
func (e Element) Attr(key string) (string, bool) {
	for _, a := range e.attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

// EachElement calls fn for every start tag of an HTML document, in order,
// and stops at the first error fn returns.
func EachElement(doc string, fn func(Element) error) error {
	z := html.NewTokenizer(strings.NewReader(doc))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return nil
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			continue
		}
		tok := z.Token()
		if err := fn(Element{Tag: tok.Data, attr: tok.Attr}); err != nil {
			return err
		}
	}
}
