package render

// Handouts (printed key-kit inserts) go through the same pipeline as emails
// (front matter → text/template over untrusted-text data → goldmark without
// raw HTML), but their front matter describes paper, not a message, so the
// caller (package handout) decodes it into its own struct, strictly, and the
// page around the Markdown is the caller's too.

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"sync"
	"text/template"

	"github.com/goccy/go-yaml"

	"github.com/nudge-passkeys/nudge/internal/directory"
)

// KindHandout is the kind of a printed-insert template.
const KindHandout = "handout"

// HandoutPath is where handout template name for locale lives in the
// template folder.
func HandoutPath(name, locale string) string {
	return path.Join("handouts", locale, name+".md")
}

// HandoutExists reports whether handout template name exists in locale.
func (e *Engine) HandoutExists(name, locale string) bool {
	_, err := fs.Stat(e.fsys, HandoutPath(name, locale))
	return err == nil
}

// Handout is a parsed handout template.
type Handout struct {
	// File is the template's name for messages.
	File   string
	e      *Engine
	locale string
	body   *template.Template
	bound  sync.Map // audience → *template.Template with its guide helper
}

// ParseHandout reads handout template name in locale, decodes its front
// matter strictly into front (keys lists the allowed keys for messages),
// and parses its Markdown body with the locale's partials.
func (e *Engine) ParseHandout(name, locale string, front any, keys string) (*Handout, error) {
	rel := HandoutPath(name, locale)
	file := e.display(rel)
	data, err := fs.ReadFile(e.fsys, rel)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s: handout template not found", file)
		}
		return nil, err
	}
	body, bodyLine, err := decodeFrontMatter(file, data, front, keys)
	if err != nil {
		return nil, err
	}
	padded := strings.Repeat("\n", bodyLine-1) + body
	t := template.New(file).Funcs(markdownFuncs(e.c, locale)).Option("missingkey=error")
	if err := e.addPartials(t, locale); err != nil {
		return nil, err
	}
	if _, err := t.Parse(padded); err != nil {
		return nil, cleanParseError(err)
	}
	h := &Handout{File: file, e: e, locale: locale, body: t}
	// Execute once against a sample person, so that an unknown field fails
	// before anything is printed.
	if _, err := h.HTML(SamplePerson(), Context{Audience: "sample"}); err != nil {
		return nil, err
	}
	return h, nil
}

// HTML renders the handout's body for p (nil for a generic insert) as an
// HTML fragment, without page or styles.
func (h *Handout) HTML(p *directory.Person, ctx Context) ([]byte, error) {
	t, err := h.forAudience(ctx.Audience)
	if err != nil {
		return nil, err
	}
	who := "a generic insert"
	if p != nil {
		who = p.UserPrincipalName
	}
	src := getBuf()
	defer putBuf(src)
	if err := t.Execute(src, newData[mdText](h.e.c, p, ctx, h.locale)); err != nil {
		return nil, fmt.Errorf("%w (rendering for %s)", cleanExecError(err), who)
	}
	var html, text bytes.Buffer
	if err := h.e.markdown(&html, &text, src.Bytes(), nil); err != nil {
		return nil, fmt.Errorf("%s: %w", h.File, err)
	}
	return html.Bytes(), nil
}

// forAudience returns the body with the guide helper bound to audience,
// cloned once per audience.
func (h *Handout) forAudience(audience string) (*template.Template, error) {
	if v, ok := h.bound.Load(audience); ok {
		return v.(*template.Template), nil
	}
	t, err := h.body.Clone()
	if err != nil {
		return nil, err
	}
	_, md := guideFuncs(h.e.c, h.locale, audience)
	t.Funcs(md)
	v, _ := h.bound.LoadOrStore(audience, t)
	return v.(*template.Template), nil
}

// decodeFrontMatter separates the YAML front matter from the body and
// decodes it strictly into front; keys lists the allowed keys for
// messages. bodyLine is the line of the file the body starts on.
func decodeFrontMatter(file string, data []byte, front any, keys string) (body string, bodyLine int, err error) {
	s := string(data)
	s = strings.TrimPrefix(s, "\ufeff")
	if !strings.HasPrefix(s, "---\n") && !strings.HasPrefix(s, "---\r\n") {
		return "", 0, fmt.Errorf("%s:1: front matter missing: start the file with --- and a YAML block (kind, …) closed by ---", file)
	}
	first := strings.Index(s, "\n") + 1
	loc := frontMatterEnd.FindStringIndex(s[first:])
	if loc == nil {
		return "", 0, fmt.Errorf("%s:1: front matter not closed: end the YAML block with a line ---", file)
	}
	yml := s[first : first+loc[0]]
	rest := s[first+loc[1]:]
	rest = strings.TrimPrefix(strings.TrimPrefix(rest, "\r"), "\n")
	bodyLine = strings.Count(s[:len(s)-len(rest)], "\n") + 1
	if err := yaml.UnmarshalWithOptions([]byte(yml), front, yaml.Strict()); err != nil {
		var ye yaml.Error
		if errors.As(err, &ye) && ye.GetToken() != nil && ye.GetToken().Position != nil {
			return "", 0, fmt.Errorf("%s:%d: front matter: %s (keys: %s)", file, ye.GetToken().Position.Line+1, ye.GetMessage(), keys)
		}
		return "", 0, fmt.Errorf("%s: front matter: %v", file, err)
	}
	return rest, bodyLine, nil
}
