package track

import (
	"slices"
	"strings"
	"time"

	"github.com/nudge-passkeys/nudge/internal/readiness"
)

// readiness writes the Readiness sheet from o.Readiness: the same report
// as nudge readiness, as tables — the checks, the passkey profiles, the
// counts, why people are not reached, the Conditional Access policies —
// and what nudge cannot know. Group, profile and policy names come from
// the directory: like every directory value they are string cells.
func (b *builder) readiness() error {
	r := b.o.Readiness
	if r == nil {
		return nil
	}
	w := &cells{b: b, sh: sheetReadiness}
	w.put(b.st.title, "Readiness for Entra's passkey registration campaign")
	read := r.ReadAt
	if read.IsZero() {
		read = b.o.DataReadAt
	}
	w.pair("Data read at", b.when(read))
	w.pair("Source", str(r.Source))
	w.pair("Result", verdict(r))

	w.skip()
	w.header("Status", "Check", "Observed", "To change")
	for _, c := range r.Checks {
		w.put(b.st.wrap, strings.ToUpper(string(c.Status)), c.Title, c.Observed, str(c.Fix))
	}

	w.skip()
	if len(r.Profiles) == 0 {
		w.put(b.st.text, "Passkey profiles: none read")
	} else {
		w.header("Passkey profile", "Default", "Passkey types", "Attestation", "AAGUIDs", "Given to", "Prompt", "Why not")
		for _, p := range r.Profiles {
			prompt, why := "eligible", ""
			if !p.Eligible {
				prompt, why = "not eligible", p.Why
			}
			w.put(b.st.text, p.Name, yes(p.Default), join(p.PasskeyTypes, ", ", "none"), str(p.AttestationEnforcement),
				str(p.KeyRestrictions), join(p.Targets, "; ", ""), prompt, str(why))
		}
	}

	c := r.Counts
	w.skip()
	w.header("People", "Count")
	for _, row := range []struct {
		what string
		n    int
	}{
		{"people read", c.People},
		{"enabled members", c.Members},
		{"guests", c.Guests},
		{"disabled accounts", c.Disabled},
		{"reached by Microsoft's prompt at their next MFA sign-in", c.Reached},
		{"reached by Microsoft's prompt unless in an exclude group whose members were not read", c.ReachedUnlessExcluded},
		{"MFA-capable without a passkey: the people a campaign nudges", c.MFACapableWithoutPasskey},
		{"have a passkey", c.WithPasskey},
		{"no MFA method: need a Temporary Access Pass to onboard", c.NoMFA},
		{"admins", c.Admins},
		{"admins without a phishing-resistant method", c.AdminsWithoutPhishingResistant},
		{"no registration details: state unknown", c.NoRegistration},
	} {
		w.put(b.st.text, row.what, row.n)
	}
	if len(r.NotReached) > 0 {
		w.skip()
		w.header("Not reached by Microsoft's prompt because", "People")
		for _, n := range r.NotReached {
			w.put(b.st.text, n.Why, n.People)
		}
	}

	w.skip()
	switch {
	case r.ConditionalAccess == nil:
		w.put(b.st.text, "Conditional Access: not read")
	case len(r.ConditionalAccess) == 0:
		w.put(b.st.text, "Conditional Access: no policy requires a phishing-resistant authentication strength")
	default:
		w.header("Conditional Access policy", "Enforcement", "Forces phishing-resistant sign-in", "Authentication strength",
			"Or instead", "Applies to", "Except", "In scope", "Without a phishing-resistant method", "Approximate")
		for _, p := range r.ConditionalAccess {
			w.put(b.st.text, p.Name, str(p.Enforcement), str(p.Forces), str(p.Strength), join(p.Alternatives, ", ", ""),
				join(p.Includes, "; ", ""), join(p.Excludes, "; ", ""), p.InScope, p.WithoutPhishingResistant, yes(p.Approximate))
		}
	}

	w.skip()
	w.header("What nudge cannot know")
	for _, cv := range r.Caveats {
		w.put(b.st.text, cv)
	}
	if w.err != nil {
		return w.err
	}
	for _, c := range []struct {
		from, to string
		width    float64
	}{{"A", "A", 30}, {"B", "B", 40}, {"C", "C", 60}, {"D", "D", 70}, {"E", "J", 18}} {
		if err := b.f.SetColWidth(sheetReadiness, c.from, c.to, c.width); err != nil {
			return err
		}
	}
	return nil
}

// verdict is the report's result in words, as nudge readiness ends.
func verdict(r *readiness.Report) string {
	switch {
	case !r.Passed():
		return "not ready: change what the FAIL and UNKNOWN rows say"
	case slices.ContainsFunc(r.Checks, func(c readiness.Check) bool { return c.Status == readiness.Warn }):
		return "ready, with the warnings below"
	}
	return "ready: every criterion passes"
}

func yes(b bool) any {
	if b {
		return "yes"
	}
	return nil
}

func join(items []string, sep, none string) any {
	return str(list(items, sep, none))
}

func list(items []string, sep, none string) string {
	if len(items) == 0 {
		return none
	}
	return strings.Join(items, sep)
}

// cells writes a small sheet row by row with ordinary cells, remembering
// the first error, so that a sheet of several tables reads top to bottom.
type cells struct {
	b   *builder
	sh  string
	row int
	err error
}

// put writes values from column A of the next row.
func (c *cells) put(style int, values ...any) {
	c.row++
	for i, v := range values {
		c.set(i+1, v, style)
	}
}

// set writes one cell of the current row: a string as a string cell in
// style (a text format, which keeps it text even when someone edits it),
// a time as a date, a number as a number, nil as no cell.
func (c *cells) set(col int, v any, style int) {
	if c.err != nil || v == nil {
		return
	}
	cell := cellName(col, c.row)
	if c.err = c.b.f.SetCellValue(c.sh, cell, v); c.err != nil {
		return
	}
	switch v.(type) {
	case string:
	case time.Time:
		style = c.b.st.dateTime
	default:
		return
	}
	c.err = c.b.f.SetCellStyle(c.sh, cell, cell, style)
}

// header is a row of column titles.
func (c *cells) header(titles ...any) { c.put(c.b.st.header, titles...) }

// pair is a title and its value on one row.
func (c *cells) pair(title string, v any) {
	c.row++
	c.set(1, title, c.b.st.header)
	c.set(2, v, c.b.st.text)
}

// skip leaves a blank row.
func (c *cells) skip() { c.row++ }
