// Package render turns Markdown templates with YAML front matter into
// documents: subject, preheader, HTML with inlined CSS, and plain text.
package render

import (
	"bytes"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"path"
	"regexp"
	"strings"
	"sync"
	"text/template"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	east "github.com/yuin/goldmark/extension/ast"
	gtext "github.com/yuin/goldmark/text"

	"github.com/nudge-passkeys/nudge/internal/campaign"
	"github.com/nudge-passkeys/nudge/internal/directory"
	"github.com/nudge-passkeys/nudge/internal/untrusted"
)

// Document is one rendered piece for one person.
type Document struct {
	Subject   string
	Preheader string
	HTML      string
	Text      string
	Locale    string
	// Template is the file the document was rendered from.
	Template string
}

// FrontMatter is the YAML block at the top of a template.
type FrontMatter struct {
	Kind      string `yaml:"kind"`
	Subject   string `yaml:"subject"`
	Preheader string `yaml:"preheader"`
	Layout    string `yaml:"layout"`
	// Title and Sources are for guide pages: the page's heading, and the
	// public documents its steps follow.
	Title   string   `yaml:"title"`
	Sources []string `yaml:"sources"`
}

// Kinds of template.
const (
	KindEmail = "email"
	KindGuide = "guide"
)

// Engine renders a campaign's templates. It parses each template, layout
// and partial once and is safe for concurrent use.
type Engine struct {
	fsys fs.FS
	root string // how to name fsys's root in messages, e.g. "templates"
	c    *campaign.Campaign
	md   goldmark.Markdown

	mu        sync.Mutex
	templates map[string]*compiled // by "name/locale"
	// exists caches Exists: Locale asks it for every person and wave, and
	// the answer changes no more than the parsed templates do.
	exists  sync.Map // "name/locale" → bool
	layouts map[string]*preparedLayout
	footers map[string]*footer
}

type compiled struct {
	file      string
	front     FrontMatter
	subject   *template.Template
	preheader *template.Template
	body      *template.Template
	layout    *preparedLayout
	footer    *footer
	// bound holds, per audience, copies of the templates whose guide
	// helper links to that audience's guide pages.
	bound sync.Map // audience → *boundTemplates
}

type boundTemplates struct{ subject, preheader, body *template.Template }

// forAudience returns the templates with the guide helper bound to
// audience. Templates are cloned once per audience, not per person.
func (t *compiled) forAudience(c *campaign.Campaign, locale, audience string) (*boundTemplates, error) {
	if v, ok := t.bound.Load(audience); ok {
		return v.(*boundTemplates), nil
	}
	b := &boundTemplates{}
	var err error
	if b.subject, err = t.subject.Clone(); err != nil {
		return nil, err
	}
	if b.preheader, err = t.preheader.Clone(); err != nil {
		return nil, err
	}
	if b.body, err = t.body.Clone(); err != nil {
		return nil, err
	}
	line, md := guideFuncs(c, locale, audience)
	b.subject.Funcs(line)
	b.preheader.Funcs(line)
	b.body.Funcs(md)
	v, _ := t.bound.LoadOrStore(audience, b)
	return v.(*boundTemplates), nil
}

type footer struct {
	html htmltemplate.HTML
	text string
}

// New returns an engine reading templates from fsys. root names fsys in
// messages ("templates").
func New(fsys fs.FS, root string, c *campaign.Campaign) *Engine {
	return &Engine{
		fsys: fsys,
		root: root,
		c:    c,
		md: goldmark.New(
			// GFM without Linkify: a URL in someone's name must stay text.
			goldmark.WithExtensions(extension.Table, extension.Strikethrough, extension.TaskList),
		),
		templates: map[string]*compiled{},
		layouts:   map[string]*preparedLayout{},
		footers:   map[string]*footer{},
	}
}

// EmailPath is where the email template name for locale lives in the
// template folder.
func EmailPath(name, locale string) string {
	return path.Join("emails", locale, name+".md")
}

// Locale picks the locale for a person: their preferred language when the
// campaign has it and the template exists in it, else the campaign default.
func (e *Engine) Locale(name string, p *directory.Person) string {
	if p != nil {
		lang := strings.ToLower(p.PreferredLanguage)
		if i := strings.IndexAny(lang, "-_"); i >= 0 {
			lang = lang[:i]
		}
		if lang != "" && lang != e.c.Defaults.Locale {
			for _, l := range e.c.Defaults.Locales {
				if l == lang {
					if e.Exists(name, lang) {
						return lang
					}
					break
				}
			}
		}
	}
	return e.c.Defaults.Locale
}

// Exists reports whether the email template exists in locale.
func (e *Engine) Exists(name, locale string) bool {
	key := name + "/" + locale
	if v, ok := e.exists.Load(key); ok {
		return v.(bool)
	}
	_, err := fs.Stat(e.fsys, EmailPath(name, locale))
	e.exists.Store(key, err == nil)
	return err == nil
}

// Email renders email template name for p.
func (e *Engine) Email(name string, p *directory.Person, ctx Context) (*Document, error) {
	locale := e.Locale(name, p)
	return e.EmailIn(name, locale, p, ctx)
}

// EmailIn renders email template name in the given locale.
func (e *Engine) EmailIn(name, locale string, p *directory.Person, ctx Context) (*Document, error) {
	t, err := e.Prepare(name, locale)
	if err != nil {
		return nil, err
	}
	return t.render(e, p, ctx, locale)
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func getBuf() *bytes.Buffer {
	b := bufPool.Get().(*bytes.Buffer)
	b.Reset()
	return b
}

func putBuf(b *bytes.Buffer) {
	if b.Cap() <= 1<<20 {
		bufPool.Put(b)
	}
}

func (t *compiled) render(e *Engine, p *directory.Person, ctx Context, locale string) (*Document, error) {
	who := "the sample person"
	if p != nil {
		who = p.UserPrincipalName
	}
	bt, err := t.forAudience(e.c, locale, ctx.Audience)
	if err != nil {
		return nil, err
	}
	line := newData[lineText](e.c, p, ctx, locale)
	subject, err := execLine(bt.subject, line)
	if err != nil {
		return nil, fmt.Errorf("subject: %w (rendering for %s)", cleanExecError(err), who)
	}
	preheader, err := execLine(bt.preheader, line)
	if err != nil {
		return nil, fmt.Errorf("preheader: %w (rendering for %s)", cleanExecError(err), who)
	}

	src := getBuf()
	defer putBuf(src)
	if err := bt.body.Execute(src, newData[mdText](e.c, p, ctx, locale)); err != nil {
		return nil, fmt.Errorf("%w (rendering for %s)", cleanExecError(err), who)
	}
	body, text := getBuf(), getBuf()
	defer putBuf(body)
	defer putBuf(text)
	if err := e.markdown(body, text, src.Bytes(), t.layout.styles); err != nil {
		return nil, fmt.Errorf("%s: %w", t.file, err)
	}
	page := getBuf()
	defer putBuf(page)
	t.layout.assemble(page, subject, preheader, body.Bytes())
	if t.footer != nil && t.footer.text != "" {
		text.WriteString("\n\n-- \n")
		text.WriteString(t.footer.text)
	}
	text.WriteByte('\n')
	return &Document{
		Subject:   subject,
		Preheader: preheader,
		HTML:      page.String(),
		Text:      text.String(),
		Locale:    locale,
		Template:  t.file,
	}, nil
}

func execLine(t *template.Template, d any) (string, error) {
	var b strings.Builder
	if err := t.Execute(&b, d); err != nil {
		return "", err
	}
	return strings.Join(strings.Fields(untrusted.OneLine(b.String())), " "), nil
}

// markdown renders Markdown source to styled HTML and to plain text.
func (e *Engine) markdown(html, text *bytes.Buffer, src []byte, styles map[string][]byte) error {
	doc := e.md.Parser().Parse(gtext.NewReader(src))
	style(doc, styles)
	if err := e.md.Renderer().Render(html, src, doc); err != nil {
		return err
	}
	renderText(text, doc, src)
	return nil
}

// style sets the inline style of every element from the layout's CSS, and
// turns links written by the button helper into buttons.
func style(doc ast.Node, styles map[string][]byte) {
	set := func(n ast.Node, kind string) {
		if s, ok := styles[kind]; ok {
			n.SetAttributeString("style", s)
		}
	}
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Paragraph:
			set(n, "p")
		case *ast.Heading:
			set(n, headings[min(n.Level, len(headings))-1])
		case *ast.Link:
			if string(n.Title) == buttonTitle {
				n.Title = nil
				n.SetAttributeString("class", buttonClass)
				set(n, "a.button")
				if p, ok := n.Parent().(*ast.Paragraph); ok {
					set(p, "p.button")
				}
			} else {
				set(n, "a")
			}
		case *ast.Emphasis:
			if n.Level == 2 {
				set(n, "strong")
			} else {
				set(n, "em")
			}
		case *ast.CodeSpan:
			set(n, "code")
		case *ast.List:
			if n.IsOrdered() {
				set(n, "ol")
			} else {
				set(n, "ul")
			}
		case *ast.ListItem:
			set(n, "li")
		case *ast.Blockquote:
			set(n, "blockquote")
		case *ast.ThematicBreak:
			set(n, "hr")
		case *ast.Image:
			set(n, "img")
		case *east.Strikethrough:
			set(n, "del")
		case *east.Table:
			set(n, "table")
		case *east.TableCell:
			if _, head := n.Parent().(*east.TableHeader); head {
				set(n, "th")
			} else {
				set(n, "td")
			}
		}
		return ast.WalkContinue, nil
	})
}

var (
	headings    = []string{"h1", "h2", "h3", "h4"}
	buttonClass = []byte("button")
)

// Prepare parses template name in locale, with its layout and partials, so
// that errors surface before anything is sent.
func (e *Engine) Prepare(name, locale string) (*compiled, error) {
	key := name + "/" + locale
	e.mu.Lock()
	defer e.mu.Unlock()
	if t, ok := e.templates[key]; ok {
		return t, nil
	}
	t, err := e.compile(name, locale)
	if err != nil {
		return nil, err
	}
	e.templates[key] = t
	return t, nil
}

func (e *Engine) display(p string) string { return path.Join(e.root, p) }

func (e *Engine) compile(name, locale string) (*compiled, error) {
	rel := EmailPath(name, locale)
	file := e.display(rel)
	data, err := fs.ReadFile(e.fsys, rel)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s: template not found (wave template %q, locale %s)", file, name, locale)
		}
		return nil, err
	}
	front, body, bodyLine, err := splitFrontMatter(file, data)
	if err != nil {
		return nil, err
	}
	if front.Kind != KindEmail {
		return nil, fmt.Errorf("%s:2: kind: %q: an email template needs kind: email", file, front.Kind)
	}
	if strings.TrimSpace(front.Subject) == "" {
		return nil, fmt.Errorf("%s: front matter: subject: missing", file)
	}
	if front.Title != "" || len(front.Sources) > 0 {
		return nil, fmt.Errorf("%s: front matter: title and sources are for guide pages; an email has a subject", file)
	}
	t := &compiled{file: file, front: front}
	mdFuncs, lnFuncs := markdownFuncs(e.c, locale), lineFuncs(e.c, locale)
	if t.subject, err = template.New(file).Funcs(lnFuncs).Option("missingkey=error").Parse(front.Subject); err != nil {
		return nil, fmt.Errorf("%s: subject: %w", file, cleanParseError(err))
	}
	if t.preheader, err = template.New(file).Funcs(lnFuncs).Option("missingkey=error").Parse(front.Preheader); err != nil {
		return nil, fmt.Errorf("%s: preheader: %w", file, cleanParseError(err))
	}
	// Pad the body with the front matter's lines so that template errors
	// carry the line numbers of the file.
	padded := strings.Repeat("\n", bodyLine-1) + body
	t.body = template.New(file).Funcs(mdFuncs).Option("missingkey=error")
	if err := e.addPartials(t.body, locale); err != nil {
		return nil, err
	}
	if _, err := t.body.Parse(padded); err != nil {
		return nil, cleanParseError(err)
	}
	layoutName := front.Layout
	if layoutName == "" {
		layoutName = "email"
	}
	if t.footer, err = e.footer(locale); err != nil {
		return nil, err
	}
	if t.layout, err = e.layout(layoutName, locale, t.footer); err != nil {
		return nil, err
	}
	// Execute once against a sample person with every field set, so that
	// an unknown field fails here rather than at send time.
	if _, err := t.render(e, SamplePerson(), Context{WaveID: "sample", WaveName: "sample", Audience: "sample"}, locale); err != nil {
		return nil, err
	}
	return t, nil
}

// addPartials parses templates/partials/<locale>/*.md into t, each under its
// base name.
func (e *Engine) addPartials(t *template.Template, locale string) error {
	dir := path.Join("partials", locale)
	entries, err := fs.ReadDir(e.fsys, dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	for _, ent := range entries {
		if ent.IsDir() || !strings.HasSuffix(ent.Name(), ".md") {
			continue
		}
		rel := path.Join(dir, ent.Name())
		data, err := fs.ReadFile(e.fsys, rel)
		if err != nil {
			return err
		}
		name := strings.TrimSuffix(ent.Name(), ".md")
		// Name the partial by its path for messages; define it under its
		// short name for {{ template "name" . }}.
		src := `{{ define "` + name + `" }}` + strings.TrimRight(string(data), "\n") + `{{ end }}`
		if _, err := t.New(e.display(rel)).Parse(src); err != nil {
			return cleanParseError(err)
		}
	}
	return nil
}

func (e *Engine) footer(locale string) (*footer, error) {
	if f, ok := e.footers[locale]; ok {
		return f, nil
	}
	rel := path.Join("partials", locale, "footer.md")
	data, err := fs.ReadFile(e.fsys, rel)
	if errors.Is(err, fs.ErrNotExist) {
		e.footers[locale] = &footer{}
		return e.footers[locale], nil
	}
	if err != nil {
		return nil, err
	}
	file := e.display(rel)
	t, err := template.New(file).Funcs(markdownFuncs(e.c, locale)).Option("missingkey=error").Parse(string(data))
	if err != nil {
		return nil, cleanParseError(err)
	}
	var src bytes.Buffer
	// The footer is the same for everyone: it sees the campaign, not the
	// person.
	if err := t.Execute(&src, newData[mdText](e.c, nil, Context{}, locale).Shared()); err != nil {
		return nil, fmt.Errorf("%s: %w (the footer is shared by everyone: it cannot use .Person)", file, cleanExecError(err))
	}
	var h, txt bytes.Buffer
	if err := e.markdown(&h, &txt, src.Bytes(), nil); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	f := &footer{html: htmltemplate.HTML(h.String()), text: txt.String()}
	e.footers[locale] = f
	return f, nil
}

func (e *Engine) layout(name, locale string, f *footer) (*preparedLayout, error) {
	key := name + "/" + locale
	if l, ok := e.layouts[key]; ok {
		return l, nil
	}
	if strings.ContainsAny(name, `/\.`) {
		return nil, fmt.Errorf("layout %q: give the name only, e.g. email for layouts/email.html", name)
	}
	rel := path.Join("layouts", name+".html")
	file := e.display(rel)
	data, err := fs.ReadFile(e.fsys, rel)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	t, err := htmltemplate.New(file).Option("missingkey=error").Parse(string(data))
	if err != nil {
		return nil, err
	}
	var d layoutData
	d.Lang = locale
	d.Org.Name, d.Org.Team, d.Org.Website = e.c.Organisation.Name, e.c.Organisation.Team, e.c.Organisation.Website
	d.Brand.Colour, d.Brand.Logo, d.Brand.LogoAlt = e.c.Branding.Colour, e.c.Branding.Logo, e.c.Branding.LogoAlt
	d.Links.Register, d.Links.Guides, d.Links.Verify = e.c.Links.Register, e.c.Links.Guides, e.c.Links.Verify
	l, err := prepareLayout(t, d, f.html)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	e.layouts[key] = l
	return l, nil
}

var frontMatterEnd = regexp.MustCompile(`(?m)^---[ \t]*\r?$`)

// splitFrontMatter separates the YAML front matter from the body. bodyLine
// is the line of the file the body starts on.
func splitFrontMatter(file string, data []byte) (fm FrontMatter, body string, bodyLine int, err error) {
	body, bodyLine, err = decodeFrontMatter(file, data, &fm, "kind, subject, preheader, layout; guides: kind, title, sources, layout")
	return fm, body, bodyLine, err
}

var (
	execPrefix = regexp.MustCompile(`^template: ([^:]+):(\d+):(\d+): executing "[^"]*" at <([^>]*)>: `)
	fieldErr   = regexp.MustCompile(`can't evaluate field (\w+) in type .*`)
)

// cleanExecError rewrites text/template's execution errors into
// "file:line:col: <.Person.Nmae>: no field Nmae" form, without Go type names.
func cleanExecError(err error) error {
	msg := err.Error()
	m := execPrefix.FindStringSubmatch(msg)
	if m == nil {
		return err
	}
	rest := msg[len(m[0]):]
	if f := fieldErr.FindStringSubmatch(rest); f != nil {
		rest = "unknown field " + f[1] + " (see templates/README.md for the fields templates can use)"
	}
	return fmt.Errorf("%s:%s:%s: {{ %s }}: %s", m[1], m[2], m[3], m[4], rest)
}

// cleanParseError drops text/template's "template: " prefix.
func cleanParseError(err error) error {
	return errors.New(strings.TrimPrefix(err.Error(), "template: "))
}

// SamplePerson returns a person with every field set, for checking
// templates.
func SamplePerson() *directory.Person {
	return &directory.Person{
		ID: "00000000-0000-0000-0000-000000000000", UserPrincipalName: "sample.person@example.com",
		Mail: "sample.person@example.com", DisplayName: "Sample Person", GivenName: "Sample", Surname: "Person",
		PreferredLanguage: "en-GB", UsageLocation: "GB", Department: "Sample department", JobTitle: "Sample title",
		OfficeLocation: "Sample office", AccountEnabled: true, UserType: "Member", HasRegistration: true,
		IsMFACapable: true, IsMFARegistered: true, MethodsRegistered: []string{directory.MethodAuthenticatorPush},
	}
}
