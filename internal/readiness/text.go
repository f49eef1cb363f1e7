package readiness

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"unicode"

	"github.com/nudge-passkeys/nudge/internal/untrusted"
)

// WriteText writes the report as plain-text tables for a terminal or a
// ticket. nudge's own words are ASCII; directory values (group, profile and
// policy names) are already folded onto one line, and are written as they
// are otherwise, but for Unicode's bidirectional controls and line and
// paragraph separators: a name with a right-to-left override would turn
// the rest of its row around on a terminal that honours it ("eligible"
// could read as something else), and a separator ends the line for some
// viewers, so those are spelled out, as <U+202E>.
func WriteText(w io.Writer, r *Report) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	var err error
	line := func(format string, args ...any) {
		if err == nil {
			_, err = fmt.Fprintln(tw, spellOut(fmt.Sprintf(format, args...)))
		}
	}
	// flush ends a table: tabwriter aligns each run of lines on its own.
	flush := func() {
		if err == nil {
			err = tw.Flush()
		}
	}

	title := "Readiness for Entra's passkey registration campaign"
	if r.Source != "" {
		title += ": " + untrusted.OneLine(r.Source)
	}
	if !r.ReadAt.IsZero() {
		title += ", data as of " + r.ReadAt.UTC().Format("2006-01-02 15:04 UTC")
	}
	line("%s", title)
	line("")
	// The observed value and the fix end their lines, so that tabwriter
	// does not stretch the columns to their width.
	// The fix goes under the observed value, in the last column, with as
	// many cells before it as a check's line: a line with fewer cells would
	// end tabwriter's column block and misalign the rows after it.
	line("STATUS\tCHECK\tOBSERVED")
	lastFix := ""
	for _, c := range r.Checks {
		line("%s\t%s\t%s", strings.ToUpper(string(c.Status)), c.Title, c.Observed)
		switch {
		case c.Fix == "":
		case c.Fix == lastFix:
			line("\t\tto change: as above")
		default:
			line("\t\tto change: %s", c.Fix)
		}
		if c.Fix != "" {
			lastFix = c.Fix
		}
	}
	flush()

	line("")
	if len(r.Profiles) == 0 {
		line("Passkey profiles: none read")
	} else {
		line("PASSKEY PROFILE\tTYPES\tATTESTATION\tAAGUIDS\tGIVEN TO\tPROMPT")
		for _, p := range r.Profiles {
			name := p.Name
			if p.Default {
				name += " (default)"
			}
			prompt := "eligible"
			if !p.Eligible {
				prompt = "not eligible: " + p.Why
			}
			line("%s\t%s\t%s\t%s\t%s\t%s", name, list(p.PasskeyTypes, "none"), orDash(p.AttestationEnforcement), p.KeyRestrictions, list(p.Targets, "-"), prompt)
		}
	}
	flush()

	c := r.Counts
	line("")
	line("PEOPLE")
	for _, row := range []struct {
		n    int
		what string
	}{
		{c.People, "people read"},
		{c.Members, "enabled members (the rest: " + plural(c.Guests, "guest") + ", " + plural(c.Disabled, "disabled account") + ")"},
		{c.Reached, "reached by Microsoft's prompt at their next MFA sign-in"},
		{c.MFACapableWithoutPasskey, "MFA-capable without a passkey: the people a campaign nudges"},
		{c.WithPasskey, "have a passkey"},
		{c.NoMFA, "no MFA method: need a Temporary Access Pass to onboard"},
		{c.AdminsWithoutPhishingResistant, "admins without a phishing-resistant method (of " + plural(c.Admins, "admin") + ")"},
	} {
		line("%d\t%s", row.n, row.what)
	}
	if c.ReachedUnlessExcluded > 0 {
		line("%d\treached by Microsoft's prompt unless in an exclude group whose members were not read", c.ReachedUnlessExcluded)
	}
	if c.NoRegistration > 0 {
		line("%d\tno registration details: state unknown", c.NoRegistration)
	}
	flush()

	if len(r.NotReached) > 0 {
		line("")
		line("NOT REACHED\tWHY")
		for _, rs := range r.NotReached {
			line("%d\t%s", rs.People, rs.Why)
		}
		flush()
	}

	line("")
	switch {
	case r.ConditionalAccess == nil:
		line("Conditional Access: not read")
	case len(r.ConditionalAccess) == 0:
		line("Conditional Access: no policy requires a phishing-resistant authentication strength")
	default:
		line("Conditional Access policies requiring phishing-resistant sign-in")
		line("STATE\tPOLICY\tSTRENGTH\tFORCED\tIN SCOPE\tWITHOUT ONE")
		for _, p := range r.ConditionalAccess {
			approx := ""
			if p.Approximate {
				approx = "~"
			}
			line("%s\t%s\t%s\t%s\t%s%d\t%s%d", p.Enforcement, p.Name, p.Strength, p.Forces, approx, p.InScope, approx, p.WithoutPhishingResistant)
		}
		// Whom each applies to, under the table: a line with fewer cells
		// would end tabwriter's column blocks.
		flush()
		for _, p := range r.ConditionalAccess {
			whom := "- " + p.Name + ": applies to " + strings.Join(p.Includes, "; ")
			if len(p.Excludes) > 0 {
				whom += "; except " + strings.Join(p.Excludes, "; ")
			}
			line("%s", whom)
		}
	}
	flush()

	line("")
	line("What nudge cannot know:")
	for _, cv := range r.Caveats {
		line("- %s", cv)
	}
	line("")
	warned := slices.ContainsFunc(r.Checks, func(c Check) bool { return c.Status == Warn })
	switch {
	case !r.Passed():
		line("Result: not ready. Change what the FAIL and UNKNOWN rows say.")
	case warned:
		line("Result: ready, with the warnings above.")
	default:
		line("Result: ready. Every criterion passes.")
	}
	flush()
	return err
}

// spellOut spells out the characters of s that could reorder or break a
// line.
func spellOut(s string) string {
	if strings.IndexFunc(s, hidden) < 0 {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if hidden(r) {
			fmt.Fprintf(&b, "<U+%04X>", r)
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func hidden(r rune) bool {
	return unicode.Is(unicode.Bidi_Control, r) || r == '\u2028' || r == '\u2029'
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
