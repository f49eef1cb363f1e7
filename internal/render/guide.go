package render

// Guide pages go through the same pipeline as emails (front matter →
// text/template → goldmark without raw HTML), with two differences: they see
// the campaign, never a person, and their links may be relative, since a
// guide site is copied as a whole to wherever it is published. The page's
// layout, navigation and checks belong to package guide.

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path"
	"strings"
	"text/template"
)

// GuidePath is where guide page name for locale lives in the template
// folder.
func GuidePath(name, locale string) string {
	return path.Join("guides", locale, name+".md")
}

// Page is one guide page rendered to an HTML fragment, without layout.
type Page struct {
	Name, Locale string
	// File is the template the page was rendered from, for messages.
	File    string
	Title   string
	Sources []string
	// Body is the HTML of the page's content; its headings start at h2,
	// since the layout shows Title as the page's only h1.
	Body []byte
}

// GuidePage renders guide page name in locale for ctx.Audience. link turns
// a page name given to {{ guide "name" }} into the address the page links
// to (relative, within the site).
func (e *Engine) GuidePage(name, locale string, ctx Context, link func(page string) (string, error)) (*Page, error) {
	rel := GuidePath(name, locale)
	file := e.display(rel)
	data, err := fs.ReadFile(e.fsys, rel)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s: guide page not found", file)
		}
		return nil, err
	}
	front, body, bodyLine, err := splitFrontMatter(file, data)
	if err != nil {
		return nil, err
	}
	if front.Kind != KindGuide {
		return nil, fmt.Errorf("%s:2: kind: %q: a guide page needs kind: guide", file, front.Kind)
	}
	if strings.TrimSpace(front.Title) == "" {
		return nil, fmt.Errorf("%s: front matter: title: missing (it is the page's heading)", file)
	}
	if front.Subject != "" || front.Preheader != "" {
		return nil, fmt.Errorf("%s: front matter: subject and preheader are for emails; a guide page has a title", file)
	}
	for _, s := range front.Sources {
		if u, err := url.Parse(s); err != nil || u.Scheme != "https" || u.Host == "" || strings.Contains(s, "--") || strings.ContainsAny(s, "<> ") {
			return nil, fmt.Errorf("%s: front matter: sources: %q: give the https address of the public document the steps follow", file, s)
		}
	}
	guide := func(page any) (string, error) {
		p := raw(page)
		if !ValidGuideName(p) {
			return "", fmt.Errorf("guide %q: give a page name such as authenticator (lower-case letters, digits, -)", p)
		}
		return link(p)
	}
	md := markdownFuncs(e.c, locale)
	md["guide"] = guide
	// Links within the site are relative; everything else is an absolute
	// https or mailto address, as in emails.
	md["link"] = func(label, href any) (string, error) {
		h := raw(href)
		if isRelativePage(h) {
			return "[" + escapeMarkdown(raw(label)) + "](<" + h + ">)", nil
		}
		u, err := checkLink(h)
		if err != nil {
			return "", fmt.Errorf("link: %w", err)
		}
		return "[" + escapeMarkdown(raw(label)) + "](<" + u + ">)", nil
	}
	md["button"] = func(label, href any) (string, error) {
		h := raw(href)
		if !isRelativePage(h) {
			u, err := checkLink(h)
			if err != nil {
				return "", fmt.Errorf("button: %w", err)
			}
			h = u
		}
		return "[" + escapeMarkdown(raw(label)) + "](<" + h + "> \"" + buttonTitle + "\")", nil
	}
	ln := lineFuncs(e.c, locale)
	ln["guide"] = guide

	d := newData[mdText](e.c, nil, ctx, locale).Shared()
	tt, err := template.New(file).Funcs(ln).Option("missingkey=error").Parse(front.Title)
	if err != nil {
		return nil, fmt.Errorf("%s: title: %w", file, cleanParseError(err))
	}
	title, err := execLine(tt, newData[lineText](e.c, nil, ctx, locale).Shared())
	if err != nil {
		return nil, fmt.Errorf("%s: title: %w", file, cleanExecError(err))
	}
	padded := strings.Repeat("\n", bodyLine-1) + body
	bt := template.New(file).Funcs(md).Option("missingkey=error")
	if err := e.addPartials(bt, locale); err != nil {
		return nil, err
	}
	if _, err := bt.Parse(padded); err != nil {
		return nil, cleanParseError(err)
	}
	var src, html, text bytes.Buffer
	if err := bt.Execute(&src, d); err != nil {
		return nil, fmt.Errorf("%w (a guide page sees the campaign, never a person)", cleanExecError(err))
	}
	if err := e.markdown(&html, &text, src.Bytes(), nil); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return &Page{Name: name, Locale: locale, File: file, Title: title, Sources: front.Sources, Body: html.Bytes()}, nil
}

// isRelativePage reports whether h is a link to a page of the same site:
// "faq.html", "faq.html#lost", "../fr/index.html", "#top".
func isRelativePage(h string) bool {
	if h == "" || strings.ContainsAny(h, " <>\\\r\n") || strings.HasPrefix(h, "/") {
		return false
	}
	u, err := url.Parse(h)
	return err == nil && u.Scheme == "" && u.Host == "" && u.Opaque == ""
}
