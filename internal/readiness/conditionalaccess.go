package readiness

import (
	"fmt"
	"slices"
	"strings"

	"github.com/nudge-passkeys/nudge/internal/directory"
	"github.com/nudge-passkeys/nudge/internal/untrusted"
)

// Conditional Access, the rollout's second lever: policies that require a
// phishing-resistant authentication strength force the people they cover
// to register such a method (or block them until they do). nudge lists
// them with their state and whom they cover, counted from the same people
// as the rest of the report. Person-level data has no directory roles, so a
// policy for roles is counted with every admin in the registration report,
// and says it is approximate.

// caEval is one policy being counted.
type caEval struct {
	pol *directory.ConditionalAccessPolicy
	out *CAPolicy
}

// caPolicies returns the policies requiring a phishing-resistant strength,
// in the tenant's order.
func caPolicies(d *directory.Directory) []caEval {
	ca := d.ConditionalAccess
	if ca == nil {
		return nil
	}
	n := &namer{d: d}
	var out []caEval
	for i := range ca.Policies {
		p := &ca.Policies[i]
		s, alt := ca.RequiredStrength(p)
		if !s.PhishingResistant() {
			continue
		}
		name := s.DisplayName
		if name == "" {
			name = s.ID
		}
		c := &CAPolicy{
			ID:       untrusted.OneLine(p.ID),
			Name:     untrusted.OneLine(p.DisplayName),
			State:    untrusted.OneLine(p.State),
			Strength: untrusted.OneLine(name),
		}
		for _, a := range alt {
			c.Alternatives = append(c.Alternatives, untrusted.OneLine(a))
		}
		c.Enforcement, c.Forces = enforcement(p.State, c.Alternatives)
		c.Includes = n.caUsers(p.Users.IncludeUsers, p.Users.IncludeGuestsOrExternalUsers, p.Users.IncludeGroups, p.Users.IncludeRoles)
		c.Excludes = n.caUsers(p.Users.ExcludeUsers, p.Users.ExcludeGuestsOrExternalUsers, p.Users.ExcludeGroups, p.Users.ExcludeRoles)
		if c.Includes == nil {
			c.Includes = []string{"nobody"}
		}
		out = append(out, caEval{pol: p, out: c})
	}
	return out
}

// enforcement puts a policy state in words, and says when the people in
// scope are forced.
func enforcement(state string, alternatives []string) (words, forces string) {
	switch state {
	case directory.CAStateOn:
		words, forces = "on", "now"
	case directory.CAStateReportOnly:
		words, forces = "report-only", "when switched on"
	case directory.CAStateOff:
		return "off", "not while off"
	default:
		return fmt.Sprintf("%q", untrusted.OneLine(state)), "unknown"
	}
	if len(alternatives) > 0 {
		forces = "no: " + strings.Join(alternatives, ", ") + " also accepted"
	}
	return words, forces
}

// applies reports whether the policy covers the person, and whether that
// answer is a guess (roles, or groups whose members were not read).
func (c caEval) applies(p *directory.Person, d *directory.Directory) (in, approx bool) {
	u := &c.pol.Users
	has := func(list []string, v string) bool {
		return v != "" && slices.ContainsFunc(list, func(s string) bool { return strings.EqualFold(s, v) })
	}
	inGroups := func(groups []string) bool {
		found := false
		for _, g := range groups {
			if p.InGroup(g) {
				found = true
			} else if !d.KnowsGroup(g) {
				approx = true
			}
		}
		return found
	}
	guest := p.IsGuest()
	in = has(u.IncludeUsers, directory.CAAllUsers) || has(u.IncludeUsers, p.ID) ||
		guest && (has(u.IncludeUsers, directory.CAGuestsOrExtern) || u.IncludeGuestsOrExternalUsers != "")
	if inGroups(u.IncludeGroups) {
		in = true
	}
	if len(u.IncludeRoles) > 0 && p.IsAdmin {
		in, approx = true, true
	}
	if !in {
		return false, approx
	}
	if has(u.ExcludeUsers, p.ID) || guest && (has(u.ExcludeUsers, directory.CAGuestsOrExtern) || u.ExcludeGuestsOrExternalUsers != "") {
		return false, approx
	}
	if inGroups(u.ExcludeGroups) {
		return false, approx
	}
	if len(u.ExcludeRoles) > 0 && p.IsAdmin {
		approx = true
	}
	return true, approx
}

// caUsers describes one side (include or exclude) of a policy's users.
// The kinds of guests (guestOrExternalUserTypes) are left out: the people
// nudge reads are members or guests, nothing finer.
func (n *namer) caUsers(users []string, guests string, groups, roles []string) []string {
	var out []string
	ids := 0
	for _, u := range users {
		switch {
		case strings.EqualFold(u, directory.CAAllUsers):
			out = append(out, "All users")
		case strings.EqualFold(u, directory.CANoUsers):
			out = append(out, "nobody")
		case strings.EqualFold(u, directory.CAGuestsOrExtern):
			out = append(out, "guests and external users")
		default:
			ids++
		}
	}
	if ids > 0 {
		out = append(out, plural(ids, "user"))
	}
	if guests != "" && !slices.Contains(out, "guests and external users") {
		out = append(out, "guests and external users")
	}
	if len(groups) > 0 {
		out = append(out, "groups: "+strings.Join(n.names(groups), ", "))
	}
	if len(roles) > 0 {
		names := make([]string, len(roles))
		for i, r := range roles {
			names[i] = roleName(r)
		}
		out = append(out, "roles: "+strings.Join(names, ", "))
	}
	return out
}

// roleName names a directory role template id (the ids are the same in
// every tenant); an id nudge does not know is shown as is.
func roleName(id string) string {
	if name, ok := roleNames[strings.ToLower(id)]; ok {
		return name
	}
	return "role " + untrusted.OneLine(id)
}

// roleNames are the built-in roles Conditional Access policies for admins
// name most ("Microsoft Entra built-in roles").
var roleNames = map[string]string{
	"62e90394-69f5-4237-9190-012177145e10": "Global Administrator",
	"e8611ab8-c189-46e8-94e1-60213ab1f814": "Privileged Role Administrator",
	"7be44c8a-adaf-4e2a-84d6-ab2649e08a13": "Privileged Authentication Administrator",
	"194ae4cb-b126-40b2-bd5b-6091b380977d": "Security Administrator",
	"b1be1c3e-b65d-4f19-8427-f6fa0d97feb9": "Conditional Access Administrator",
	"0526716b-113d-4c15-b2c8-68e3c22b9f80": "Authentication Policy Administrator",
	"c4e39bd9-1100-46d3-8c65-fb160da0071f": "Authentication Administrator",
	"29232cdf-9323-42fd-ade2-1d097af3e4de": "Exchange Administrator",
	"f28a1f50-f6e7-4571-818b-6a12f2af6b6c": "SharePoint Administrator",
	"fe930be7-5e62-47db-91af-98c3a49a38b1": "User Administrator",
	"729827e3-9c14-49f7-bb1b-9608f156bbb8": "Helpdesk Administrator",
	"9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3": "Application Administrator",
	"158c047a-c907-4556-b7ef-446551a6b5f7": "Cloud Application Administrator",
	"b0f54661-2d74-4c50-afa3-1ec803f12efe": "Billing Administrator",
	"3a2c62db-5318-420d-8d74-23affee5d9d5": "Intune Administrator",
}
