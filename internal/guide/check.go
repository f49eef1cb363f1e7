package guide

// Check policy: a page fails the build, naming its template, when it would
// fail a reader: more or fewer than one h1, a heading that skips a level, an
// image without alt text, a script, an asset fetched from elsewhere, a lang
// that is not the page's language, or a link to a page the site does not
// have.

import (
	"fmt"
	"net/url"
	"path"
	"sort"
	"strings"

	"github.com/nudge-passkeys/nudge/internal/render"
)

// checkPage checks one page's structure.
func checkPage(page []byte, lang string) error {
	h1, last := 0, 0
	sawLang := false
	err := render.EachElement(string(page), func(el render.Element) error {
		switch el.Tag {
		case "html":
			v, _ := el.Attr("lang")
			if v != lang {
				return fmt.Errorf("<html lang=%q>, want %q", v, lang)
			}
			sawLang = true
		case "h1", "h2", "h3", "h4", "h5", "h6":
			level := int(el.Tag[1] - '0')
			if level == 1 {
				h1++
			}
			if last == 0 && level != 1 {
				return fmt.Errorf("the first heading is <%s>; it must be the page's <h1>", el.Tag)
			}
			if last != 0 && level > last+1 {
				return fmt.Errorf("heading <%s> follows <h%d>: headings must not skip a level (the page title is the h1: start sections at ##)", el.Tag, last)
			}
			last = level
		case "img":
			src, _ := el.Attr("src")
			if alt, ok := el.Attr("alt"); !ok || strings.TrimSpace(alt) == "" {
				return fmt.Errorf("image %s has no alt text", src)
			}
			if external(src) {
				return fmt.Errorf("image %s: guide pages carry no external assets; put the image next to the pages", src)
			}
		case "script", "iframe", "object", "embed":
			return fmt.Errorf("<%s> has no place in a guide page: pages work without JavaScript or plug-ins", el.Tag)
		case "link":
			if href, _ := el.Attr("href"); external(href) {
				return fmt.Errorf("<link href=%q>: guide pages carry no external assets", href)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if !sawLang {
		return fmt.Errorf("no <html lang=%q>", lang)
	}
	if h1 != 1 {
		return fmt.Errorf("%d <h1> headings; a page has exactly one (its title; start sections at ##)", h1)
	}
	return nil
}

// external reports whether ref points outside the site.
func external(ref string) bool {
	u, err := url.Parse(ref)
	return err != nil || u.Scheme != "" || u.Host != "" || strings.HasPrefix(ref, "/")
}

// links returns the targets of a page's a, link and img elements.
func links(page []byte) []string {
	var out []string
	_ = render.EachElement(string(page), func(el render.Element) error {
		key := "href"
		switch el.Tag {
		case "a", "link":
		case "img":
			key = "src"
		default:
			return nil
		}
		if v, ok := el.Attr(key); ok {
			out = append(out, v)
		}
		return nil
	})
	return out
}

// checkLinks checks that every relative link of every page resolves to a
// file of the site.
func (s *Site) checkLinks() error {
	for _, file := range s.Paths() {
		if !strings.HasSuffix(file, ".html") {
			continue
		}
		for _, ref := range links(s.Files[file]) {
			if external(ref) {
				continue
			}
			u, err := url.Parse(ref)
			if err != nil {
				return fmt.Errorf("%s: link %q is not a URL", file, ref)
			}
			if u.Path == "" {
				continue // #fragment on the same page
			}
			target := path.Join(path.Dir(file), u.Path)
			if _, ok := s.Files[target]; !ok {
				who := file
				if t, ok := s.from[file]; ok {
					who = t + " (" + file + ")"
				}
				return fmt.Errorf("%s: links to %s, which the guide site does not have", who, ref)
			}
		}
	}
	return nil
}

// Has reports whether the site has a page at rel, a path relative to the
// site's root; "" and a folder ending in / mean its index.html.
func (s *Site) Has(rel string) bool {
	if rel == "" || strings.HasSuffix(rel, "/") {
		rel += "index.html"
	}
	_, ok := s.Files[path.Clean(rel)]
	return ok && !strings.HasPrefix(path.Clean(rel), "../")
}

// MissingPages returns the guide pages an email links to that the site
// does not have: links under base (links.guides) whose path is not a file
// of the site. Each is returned as the path after base.
func (s *Site) MissingPages(emailHTML []byte, base string) []string {
	if base == "" {
		return nil
	}
	seen := map[string]bool{}
	var out []string
	for _, ref := range links(emailHTML) {
		if !strings.HasPrefix(ref, base) {
			continue
		}
		rest := strings.TrimPrefix(ref, base)
		if u, err := url.Parse(rest); err == nil {
			rest = u.Path
		}
		if s.Has(rest) || seen[rest] {
			continue
		}
		seen[rest] = true
		out = append(out, rest)
	}
	sort.Strings(out)
	return out
}
