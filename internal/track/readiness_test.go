package track

import (
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/nudge-passkeys/nudge/internal/readiness"
)

// hostileReport is a readiness report whose directory values (a group,
// a passkey profile, a Conditional Access policy) are named like formulas.
func hostileReport() *readiness.Report {
	const group, profile, policy = `=HYPERLINK("https://evil.example","Group")`, `+cmd|' /C calc'!A0`, `@SUM(1+1)`
	return &readiness.Report{
		Source: "content/tenant",
		ReadAt: time.Date(2026, 11, 24, 7, 30, 0, 0, time.UTC),
		Checks: []readiness.Check{
			{ID: "passkey-method", Title: "Passkey (FIDO2) method enabled", Status: readiness.Pass, Observed: "enabled"},
			{ID: "passkey-profile", Title: "Eligible passkey profile targeted", Status: readiness.Fail,
				Observed: "eligible for no target; not for " + group + " (see the profiles)", Fix: "Entra admin center > assign it"},
		},
		Profiles: []readiness.Profile{{Name: profile, Default: true, PasskeyTypes: []string{"deviceBound"},
			AttestationEnforcement: "registrationOnly", KeyRestrictions: "allow list of 2", Targets: []string{group},
			Why: "attestation enforced"}},
		Counts: readiness.Counts{People: 10, Members: 8, Guests: 1, Disabled: 1, Reached: 0, WithPasskey: 3,
			MFACapableWithoutPasskey: 4, NoMFA: 1, Admins: 2, AdminsWithoutPhishingResistant: 1},
		NotReached: []readiness.Reason{{Why: "passkey profile not eligible", People: 8}},
		ConditionalAccess: []readiness.CAPolicy{{Name: policy, Enforcement: "on", Forces: "now",
			Strength: "Phishing-resistant MFA", Includes: []string{group}, InScope: 5, WithoutPhishingResistant: 2, Approximate: true}},
		Caveats: []string{"nudge cannot see which devices people sign in from."},
	}
}

func TestReadinessSheet(t *testing.T) {
	o := opts()
	o.Readiness = hostileReport()
	_, f := write(t, fixture(t), o)
	eq(t, "sheets", f.GetSheetList(), []string{"Summary", "Recipients", "Adoption", "Errors", "Readiness", "Runs"})
	const sh = "Readiness"
	rows, err := f.GetRows(sh)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"Readiness for Entra's passkey registration campaign"},
		{"Data read at", "2026-11-24 07:30"},
		{"Source", "content/tenant"},
		{"Result", "not ready: change what the FAIL and UNKNOWN rows say"},
		nil,
		{"Status", "Check", "Observed", "To change"},
		{"PASS", "Passkey (FIDO2) method enabled", "enabled"},
		{"FAIL", "Eligible passkey profile targeted", `eligible for no target; not for =HYPERLINK("https://evil.example","Group") (see the profiles)`, "Entra admin center > assign it"},
		nil,
		{"Passkey profile", "Default", "Passkey types", "Attestation", "AAGUIDs", "Given to", "Prompt", "Why not"},
		{`+cmd|' /C calc'!A0`, "yes", "deviceBound", "registrationOnly", "allow list of 2", `=HYPERLINK("https://evil.example","Group")`, "not eligible", "attestation enforced"},
		nil,
		{"People", "Count"},
		{"people read", "10"},
		{"enabled members", "8"},
		{"guests", "1"},
		{"disabled accounts", "1"},
		{"reached by Microsoft's prompt at their next MFA sign-in", "0"},
		{"reached by Microsoft's prompt unless in an exclude group whose members were not read", "0"},
		{"MFA-capable without a passkey: the people a campaign nudges", "4"},
		{"have a passkey", "3"},
		{"no MFA method: need a Temporary Access Pass to onboard", "1"},
		{"admins", "2"},
		{"admins without a phishing-resistant method", "1"},
		{"no registration details: state unknown", "0"},
		nil,
		{"Not reached by Microsoft's prompt because", "People"},
		{"passkey profile not eligible", "8"},
		nil,
		{"Conditional Access policy", "Enforcement", "Forces phishing-resistant sign-in", "Authentication strength", "Or instead",
			"Applies to", "Except", "In scope", "Without a phishing-resistant method", "Approximate"},
		{"@SUM(1+1)", "on", "now", "Phishing-resistant MFA", "", `=HYPERLINK("https://evil.example","Group")`, "", "5", "2", "yes"},
		nil,
		{"What nudge cannot know"},
		{"nudge cannot see which devices people sign in from."},
	}
	eq(t, "Readiness rows", rows, want)

	// Directory values are string cells, never formulas.
	for cell, v := range map[string]string{
		"C8":  want[7][2],
		"A11": `+cmd|' /C calc'!A0`,
		"F11": `=HYPERLINK("https://evil.example","Group")`,
		"A31": "@SUM(1+1)",
		"F31": `=HYPERLINK("https://evil.example","Group")`,
	} {
		checkStringCell(t, f, sh, cell, v)
	}
	// Counts are numbers; the read time is a date.
	for _, cell := range []string{"B14", "B28", "H31", "B2"} {
		typ, err := f.GetCellType(sh, cell)
		if err != nil {
			t.Fatal(err)
		}
		if typ != excelize.CellTypeUnset && typ != excelize.CellTypeNumber {
			t.Errorf("%s!%s type = %v, want a number", sh, cell, typ)
		}
	}
	eq(t, "read at serial", raw(t, f, sh, "B2"), "46350.3125")
}

// TestReadinessVerdicts: the Result row follows the checks, and the
// sections say when there was nothing to show.
func TestReadinessVerdicts(t *testing.T) {
	for _, c := range []struct {
		name   string
		status readiness.Status
		want   string
	}{
		{"pass", readiness.Pass, "ready: every criterion passes"},
		{"warn", readiness.Warn, "ready, with the warnings below"},
		{"unknown", readiness.Unknown, "not ready: change what the FAIL and UNKNOWN rows say"},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := opts()
			o.Readiness = &readiness.Report{Checks: []readiness.Check{{Title: "x", Status: c.status}}}
			_, f := write(t, fixture(t), o)
			eq(t, "result", row(t, f, "Readiness", 4), []string{"Result", c.want})
			// No read time in the report: the workbook's own.
			eq(t, "read at", row(t, f, "Readiness", 2), []string{"Data read at", "2026-05-11 09:00"})
			rows, _ := f.GetRows("Readiness")
			var text []string
			for _, r := range rows {
				if len(r) == 1 {
					text = append(text, r[0])
				}
			}
			eq(t, "one-cell rows", text, []string{"Readiness for Entra's passkey registration campaign", "Source",
				"Passkey profiles: none read", "Conditional Access: not read", "What nudge cannot know"})
		})
	}
}
