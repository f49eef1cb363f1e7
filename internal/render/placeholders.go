package render

import (
	"fmt"
	"regexp"
)

// placeholder matches what looks like a mail-merge field that nothing
// filled in: a template action printed rather than run, or another tool's
// syntax pasted into a template ({FirstName}, [[FirstName]], %FIRSTNAME%,
// <<FirstName>>).
var placeholder = regexp.MustCompile(`\{\{.*?\}\}|\{\{|\}\}|\{[A-Za-z_][A-Za-z0-9_.]*\}|\[\[[^\]\n]*\]\]|%[A-Za-z_][A-Za-z0-9_]*%|<<[A-Za-z_][A-Za-z0-9_ ]*>>`)

// Placeholders reports placeholders left in the subject, preheader and
// plain text of doc. Run it on a document rendered for SamplePerson, whose
// values contain no such text: a real person's name may.
func Placeholders(doc *Document) []Finding {
	var fs []Finding
	seen := map[string]bool{}
	for _, part := range []struct{ name, s string }{{"subject", doc.Subject}, {"preheader", doc.Preheader}, {"text", doc.Text}} {
		for _, m := range placeholder.FindAllString(part.s, -1) {
			if seen[m] {
				continue
			}
			seen[m] = true
			fs = append(fs, Finding{Error: true, Msg: fmt.Sprintf("unknown placeholder %s in the %s: it would reach readers as it is", m, part.name)})
		}
	}
	return fs
}
