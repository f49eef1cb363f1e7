package render

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"sync/atomic"
	"testing"
	"text/template"
	"time"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"

	"github.com/nudge-passkeys/nudge/content"
	"github.com/nudge-passkeys/nudge/internal/campaign"
	"github.com/nudge-passkeys/nudge/internal/deliver"
	"github.com/nudge-passkeys/nudge/internal/directory"
	"github.com/nudge-passkeys/nudge/templates"
)

func demoEngine(b *testing.B) (*Engine, *campaign.Campaign) {
	data, err := fs.ReadFile(content.FS, "campaign.yaml")
	if err != nil {
		b.Fatal(err)
	}
	c, err := campaign.Parse("campaign.yaml", data)
	if err != nil {
		b.Fatal(err)
	}
	return New(templates.FS, "templates", c), c
}

func benchPeople(n int) []directory.Person {
	people := make([]directory.Person, n)
	for i := range people {
		people[i] = directory.Person{
			ID: fmt.Sprintf("id-%d", i), UserPrincipalName: fmt.Sprintf("person%d@contoso.example", i),
			Mail: fmt.Sprintf("person%d@contoso.example", i), DisplayName: fmt.Sprintf("Person %d Müller", i),
			GivenName: fmt.Sprintf("Person%d", i), Surname: "Müller", Department: "Finance", PreferredLanguage: "en-GB",
			AccountEnabled: true, IsMFACapable: true, MethodsRegistered: []string{directory.MethodAuthenticatorPush},
		}
	}
	return people
}

// renderBench prepares the demo announce template (parsed, layout inlined,
// as after the first email of a build) and returns nudge's whole per-email
// path for it, and the people to send it to.
func renderBench(b *testing.B) (func(*directory.Person) error, []directory.Person) {
	e, c := demoEngine(b)
	people := benchPeople(1024)
	ctx := Context{WaveID: "announce", WaveName: "Announcement", Audience: "ready"}
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	if _, err := e.Email("announce", &people[0], ctx); err != nil {
		b.Fatal(err)
	}
	return func(p *directory.Person) error { return renderAndEncode(e, c, p, ctx, now) }, people
}

// renderAndEncode is nudge's whole per-email path.
func renderAndEncode(e *Engine, c *campaign.Campaign, p *directory.Person, ctx Context, now time.Time) error {
	doc, err := e.Email("announce", p, ctx)
	if err != nil {
		return err
	}
	m := &deliver.Message{
		ID: deliver.MessageID("contoso.example", c.ID, "announce", p.ID), Date: now,
		From: deliver.Address{Name: c.Sender.Name, Email: c.Sender.Address}, To: deliver.Address{Name: p.DisplayName, Email: p.Mail},
		Subject: doc.Subject, Text: doc.Text, HTML: doc.HTML,
	}
	_, err = m.WriteTo(io.Discard)
	return err
}

// BenchmarkRender is nudge's whole per-email path: template, Markdown,
// styles, layout, plain text, and the MIME message written out.
func BenchmarkRender(b *testing.B) {
	send, people := renderBench(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := send(&people[i%len(people)]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "emails/s")
}

// BenchmarkRenderParallel is BenchmarkRender on every core, as nudge build
// runs it.
func BenchmarkRenderParallel(b *testing.B) {
	send, people := renderBench(b)
	var next atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := send(&people[int(next.Add(1))%len(people)]); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "emails/s")
}

// BenchmarkBare is the work nudge wraps, done plainly: text/template
// executes the same Markdown with the same data, and goldmark renders it.
func BenchmarkBare(b *testing.B) {
	e, c := demoEngine(b)
	people := benchPeople(1024)
	src, err := fs.ReadFile(templates.FS, "emails/en/announce.md")
	if err != nil {
		b.Fatal(err)
	}
	_, body, _, err := splitFrontMatter("announce.md", src)
	if err != nil {
		b.Fatal(err)
	}
	t := template.New("bare").Funcs(markdownFuncs(c, "en"))
	if err := e.addPartials(t, "en"); err != nil {
		b.Fatal(err)
	}
	if _, err := t.Parse(body); err != nil {
		b.Fatal(err)
	}
	ctx := Context{WaveID: "announce", WaveName: "Announcement", Audience: "ready"}
	_, guide := guideFuncs(c, "en", ctx.Audience) // the guide links are the audience's
	t.Funcs(guide)
	md := goldmark.New(goldmark.WithExtensions(extension.Table, extension.Strikethrough, extension.TaskList))
	var mdBuf, htmlBuf bytes.Buffer
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p := &people[i%len(people)]
		mdBuf.Reset()
		htmlBuf.Reset()
		if err := t.Execute(&mdBuf, newData[mdText](c, p, ctx, "en")); err != nil {
			b.Fatal(err)
		}
		if err := md.Convert(mdBuf.Bytes(), &htmlBuf); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "emails/s")
	if !strings.Contains(htmlBuf.String(), "<p>") {
		b.Fatal("bare render produced no paragraphs")
	}
}
