// Package readiness reports whether a tenant is set up for Entra's own
// passkey registration campaign, whom that campaign can reach, and whom
// Conditional Access forces onto phishing-resistant sign-in.
//
// The criteria are Microsoft's current ones (see directory.Policy.Reaches
// for the documents they come from). Each is a Check with what was observed
// and, when it does not pass, what to change and where in the Entra admin
// center. People are counted as they stream by (Tally.Add keeps a few bytes
// per person, not the person), and judged once the directory's policy is
// known, since a streaming source hands the policy over last.
package readiness

import (
	"encoding/json"
	"fmt"
	"hash/maphash"
	"slices"
	"strings"
	"time"

	"github.com/nudge-passkeys/nudge/internal/directory"
	"github.com/nudge-passkeys/nudge/internal/untrusted"
)

// Status is the outcome of one check.
type Status string

// Check outcomes. Warn does not fail the report; Unknown does, since a
// criterion nobody could confirm is not met.
const (
	Pass    Status = "pass"
	Fail    Status = "fail"
	Warn    Status = "warn"
	Unknown Status = "unknown"
)

// Check is one criterion of Microsoft's registration campaign.
type Check struct {
	ID       string `json:"id"`
	Title    string `json:"title"`
	Status   Status `json:"status"`
	Observed string `json:"observed"`
	// Fix says what to change and where, when the check does not pass.
	Fix string `json:"fix,omitempty"`
}

// Profile is one passkey profile (or, for a tenant that has not migrated,
// the method's own settings) and whether people given it can be prompted.
type Profile struct {
	ID                     string   `json:"id,omitempty"`
	Name                   string   `json:"name"`
	Default                bool     `json:"default,omitempty"`
	PasskeyTypes           []string `json:"passkeyTypes"`
	AttestationEnforcement string   `json:"attestationEnforcement"`
	KeyRestrictions        string   `json:"keyRestrictions"` // "none", or e.g. "allow list of 2"
	Targets                []string `json:"targets"`         // include targets that allow it
	Eligible               bool     `json:"eligible"`
	Why                    string   `json:"why"`
}

// CAPolicy is a Conditional Access policy that requires a phishing-resistant
// authentication strength, with the people it covers.
type CAPolicy struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	State string `json:"state"` // as Graph spells it
	// Enforcement is the state in words: on, report-only, off, or the
	// unknown value quoted.
	Enforcement string `json:"enforcement"`
	// Forces says when the people in scope have to use a phishing-resistant
	// method: now, when switched on, or not (off, or other controls
	// accepted instead).
	Forces       string   `json:"forces"`
	Strength     string   `json:"strength"`
	Alternatives []string `json:"alternatives,omitempty"` // other grant controls accepted instead
	Includes     []string `json:"includes"`
	Excludes     []string `json:"excludes,omitempty"`
	// InScope counts enabled accounts the policy applies to;
	// WithoutPhishingResistant those of them without a phishing-resistant
	// method, who will be asked to register one.
	InScope                  int  `json:"inScope"`
	WithoutPhishingResistant int  `json:"withoutPhishingResistant"`
	Approximate              bool `json:"approximate,omitempty"` // roles, or groups not read
}

// Counts are the numbers a change manager wants beside the checks. All but
// People, Guests and Disabled count enabled member accounts.
type Counts struct {
	People   int `json:"people"`
	Members  int `json:"members"`
	Guests   int `json:"guests"`
	Disabled int `json:"disabled"`
	// Reached are the people Entra's own prompt can reach at their next
	// MFA sign-in. ReachedUnlessExcluded would be too, unless they are in an
	// exclude group whose members were not read.
	Reached                        int `json:"reachedByMicrosoftPrompt"`
	ReachedUnlessExcluded          int `json:"reachedUnlessInUnreadGroup,omitempty"`
	WithPasskey                    int `json:"withPasskey"`
	MFACapableWithoutPasskey       int `json:"mfaCapableWithoutPasskey"`
	Admins                         int `json:"admins"`
	AdminsWithoutPhishingResistant int `json:"adminsWithoutPhishingResistant"`
	NoMFA                          int `json:"noMfaNeedTap"`
	NoRegistration                 int `json:"noRegistrationDetails"`
}

// Reason is why a number of people are not reached by Microsoft's prompt.
type Reason struct {
	Why    string `json:"why"`
	People int    `json:"people"`
}

// Report is the readiness of one tenant.
type Report struct {
	Source string    `json:"source,omitempty"`
	ReadAt time.Time `json:"readAt,omitzero"`
	Checks []Check   `json:"checks"`
	// Legacy is set for a tenant not yet migrated to passkey profiles,
	// whose restrictions live on the method (keyRestrictions).
	Legacy   bool      `json:"legacyKeyRestrictions"`
	Profiles []Profile `json:"passkeyProfiles"`
	// ConditionalAccess lists the policies requiring phishing-resistant
	// sign-in; nil when the source read no Conditional Access policies.
	ConditionalAccess []CAPolicy `json:"conditionalAccess"`
	Counts            Counts     `json:"counts"`
	NotReached        []Reason   `json:"notReached"`
	// Caveats are what the report cannot know.
	Caveats []string `json:"caveats"`
}

// Passed reports whether every check passed or only warned.
func (r *Report) Passed() bool {
	for _, c := range r.Checks {
		if c.Status == Fail || c.Status == Unknown {
			return false
		}
	}
	return true
}

// MarshalJSON adds "passed" to the report's fields.
func (r *Report) MarshalJSON() ([]byte, error) {
	type plain Report
	return json.Marshal(struct {
		Passed bool `json:"passed"`
		*plain
	}{r.Passed(), (*plain)(r)})
}

// Tally counts people as a source streams them. The zero value is ready to
// use. It keeps a hash of each person's id, their groups (shared among
// everyone with the same set) and a few flags, so that Report can judge
// everyone against a policy that a streaming source hands over last.
type Tally struct {
	seed      maphash.Seed
	records   []record
	groupSets [][]string
	groupIdx  map[string]uint32
	counts    Counts
}

type record struct {
	id     uint64 // maphash of the object id
	groups uint32 // index into Tally.groupSets
	flags  uint8
}

const (
	fEnabled uint8 = 1 << iota
	fGuest
	fRegistration
	fMFACapable
	fAdmin
	fPasskey
	fPhishingResistant
)

// init readies a zero Tally, for Add or for a Report of nobody.
func (t *Tally) init() {
	if t.groupIdx == nil {
		t.seed = maphash.MakeSeed()
		t.groupIdx = map[string]uint32{"": 0}
		t.groupSets = [][]string{nil}
	}
}

// Add counts one person; p is not kept.
func (t *Tally) Add(p *directory.Person) {
	t.init()
	var f uint8
	for _, b := range []struct {
		on   bool
		flag uint8
	}{
		{p.AccountEnabled, fEnabled}, {p.IsGuest(), fGuest}, {p.HasRegistration, fRegistration}, {p.IsMFACapable, fMFACapable},
		{p.IsAdmin, fAdmin}, {p.HasPasskey(), fPasskey}, {p.HasPhishingResistant(), fPhishingResistant},
	} {
		if b.on {
			f |= b.flag
		}
	}
	key := strings.Join(p.Groups, "\x00")
	gi, ok := t.groupIdx[key]
	if !ok {
		gi = uint32(len(t.groupSets))
		t.groupIdx[key] = gi
		t.groupSets = append(t.groupSets, slices.Clone(p.Groups))
	}
	t.records = append(t.records, record{id: maphash.String(t.seed, p.ID), groups: gi, flags: f})

	c := &t.counts
	c.People++
	switch {
	case !p.AccountEnabled:
		c.Disabled++
		return
	case p.IsGuest():
		c.Guests++
		return
	}
	c.Members++
	switch {
	case !p.HasRegistration:
		c.NoRegistration++
	case p.HasPasskey():
		c.WithPasskey++
	case p.IsMFACapable:
		c.MFACapableWithoutPasskey++
	default:
		c.NoMFA++
	}
	if p.IsAdmin {
		c.Admins++
		if !p.HasPhishingResistant() {
			c.AdminsWithoutPhishingResistant++
		}
	}
}

// Methods that stand for a person's flags when Report rebuilds them.
var (
	somePasskey           = []string{directory.MethodPasskeySynced}
	somePhishingResistant = []string{directory.MethodWindowsHelloForBusiness}
)

// person rebuilds what Reaches and the Conditional Access scope look at.
// id is the person's object id when the policies name it, else "".
func (r record) person(id string, groups []string) directory.Person {
	p := directory.Person{
		ID:              id,
		UserType:        "Member",
		AccountEnabled:  r.flags&fEnabled != 0,
		HasRegistration: r.flags&fRegistration != 0,
		IsMFACapable:    r.flags&fMFACapable != 0,
		IsAdmin:         r.flags&fAdmin != 0,
		Groups:          groups,
	}
	if r.flags&fGuest != 0 {
		p.UserType = "Guest"
	}
	switch {
	case r.flags&fPasskey != 0:
		p.MethodsRegistered = somePasskey
	case r.flags&fPhishingResistant != 0:
		p.MethodsRegistered = somePhishingResistant
	}
	return p
}

// Report judges everyone counted against the directory's policies.
func (t *Tally) Report(d *directory.Directory) *Report {
	t.init() // a source with nobody in it never called Add
	r := &Report{ReadAt: d.ReadAt, Counts: t.counts}
	pol := d.Policy
	n := &namer{d: d}

	r.Checks = policyChecks(pol, n)
	r.Profiles = profiles(pol, n)
	r.Legacy = pol != nil && !pol.Passkey.Migrated()

	// The ids the policies name one by one, by hash, to recognise those
	// people among the records.
	ids := map[uint64]string{}
	addID := func(id string) {
		if id != "" {
			ids[maphash.String(t.seed, id)] = id
		}
	}
	for _, id := range append(pol.Groups(), pol.UserIDs()...) {
		addID(id)
	}
	ca := caPolicies(d)
	for _, c := range ca {
		for _, id := range append(slices.Clone(c.pol.Users.IncludeUsers), c.pol.Users.ExcludeUsers...) {
			addID(id)
		}
	}
	var unread []string
	for _, g := range pol.ExcludeGroups() {
		if !d.KnowsGroup(g) {
			unread = append(unread, g)
		}
	}

	reasons := map[string]int{}
	for _, rec := range t.records {
		p := rec.person(ids[rec.id], t.groupSets[rec.groups])
		ok, why := pol.Reaches(&p)
		switch {
		case ok && len(unread) > 0:
			r.Counts.ReachedUnlessExcluded++
		case ok:
			r.Counts.Reached++
		default:
			reasons[why]++
		}
		if !p.AccountEnabled {
			continue
		}
		for _, c := range ca {
			if in, approx := c.applies(&p, d); in {
				c.out.InScope++
				if !p.HasPhishingResistant() {
					c.out.WithoutPhishingResistant++
				}
				c.out.Approximate = c.out.Approximate || approx
			} else if approx {
				c.out.Approximate = true
			}
		}
	}
	for why, k := range reasons {
		r.NotReached = append(r.NotReached, Reason{Why: why, People: k})
	}
	slices.SortFunc(r.NotReached, func(a, b Reason) int {
		if a.People != b.People {
			return b.People - a.People
		}
		return strings.Compare(a.Why, b.Why)
	})
	if d.ConditionalAccess != nil {
		r.ConditionalAccess = []CAPolicy{}
		for _, c := range ca {
			r.ConditionalAccess = append(r.ConditionalAccess, *c.out)
		}
	}

	r.Checks = append(r.Checks, reachedCheck(pol, r.Counts, unread, n), groupsCheck(pol, d, n))
	r.Caveats = caveats(pol, d, r, unread, n)
	return r
}

// Where things are in the Entra admin center, as Microsoft's current
// documentation names the path ("Entra ID" was "Protection" before 2025).
const (
	adminMethods  = "Entra admin center > Entra ID > Authentication methods"
	adminPasskey  = adminMethods + " > Policies > Passkey (FIDO2)"
	adminCampaign = adminMethods + " > Registration campaign > Edit"
)

// policyChecks are the tenant-level criteria.
func policyChecks(pol *directory.Policy, n *namer) []Check {
	checks := []Check{
		{ID: "passkey-method", Title: "Passkey (FIDO2) method enabled", Fix: adminPasskey + " > Enable and target: Enable, and include the people to prompt"},
		{ID: "self-service", Title: "Self-service passkey setup allowed", Fix: adminPasskey + " > Configure: Allow self-service set up = Yes"},
		{ID: "campaign-state", Title: "Registration campaign on", Fix: adminCampaign + ": State = Microsoft managed or Enabled"},
		{ID: "campaign-target", Title: "Campaign targets passkeys", Fix: adminCampaign + ": Authentication method = Passkey (FIDO2), include the people to prompt"},
		// The Microsoft managed check on profiles, and the way around it
		// (https://learn.microsoft.com/entra/identity/authentication/how-to-mfa-registration-campaign#passkey-profile-eligibility-for-microsoft-managed-registration-campaign).
		{ID: "passkey-profile", Title: "Eligible passkey profile targeted", Fix: adminPasskey + " > Configure: a passkey profile with no AAGUID allow list, or one that allows iCloud Keychain, Google Password Manager, Microsoft Authenticator or Microsoft Entra passkey on Windows, or device-bound passkeys with attestation enforced; assign it under Enable and target. Or " + adminCampaign + ": State = Enabled, which prompts people in any passkey profile"},
		{ID: "passkey-profiles-migrated", Title: "Passkey profiles in use", Fix: adminPasskey + ": opt in to passkey profiles (today's settings become the Default passkey profile)"},
	}
	if pol == nil {
		for i := range checks {
			checks[i].Status, checks[i].Observed = Unknown, "authentication methods policy not read"
			checks[i].Fix = "read a source that has the policy: Microsoft Graph, or a snapshot folder with authenticationMethodsPolicy.json (GET /policies/authenticationMethodsPolicy); the admin center's CSV download never has it"
		}
		return checks
	}
	pk, camp := &pol.Passkey, &pol.Campaign
	setFix := func(id, fix string) {
		for i := range checks {
			if checks[i].ID == id {
				checks[i].Fix = fix
			}
		}
	}
	set := func(id string, st Status, observed string) {
		for i := range checks {
			if checks[i].ID == id {
				checks[i].Status, checks[i].Observed = st, observed
				if st == Pass {
					checks[i].Fix = ""
				}
			}
		}
	}

	switch st := pk.State; {
	case strings.EqualFold(st, directory.StateEnabled):
		set("passkey-method", Pass, "enabled")
	case strings.EqualFold(st, directory.StateDisabled):
		set("passkey-method", Fail, "disabled")
	case st == "":
		set("passkey-method", Fail, "not in the policy")
	default:
		set("passkey-method", Unknown, fmt.Sprintf("state %q", st))
	}
	if pk.IsSelfServiceRegistrationAllowed {
		set("self-service", Pass, "allowed")
	} else {
		set("self-service", Fail, "not allowed")
	}

	managed := strings.EqualFold(camp.State, directory.CampaignMicrosoftManaged)
	observed := directory.CampaignStateName(camp.State)
	if managed {
		observed += " (default)"
	}
	switch on, _ := pol.CampaignOn(); {
	case on && managed:
		// Microsoft managed ignores the policy's snooze values: for passkeys
		// it snoozes 1 day, as often as people like
		// (https://learn.microsoft.com/entra/identity/authentication/how-to-mfa-registration-campaign#microsoft-managed-state).
		observed += "; snooze set by Microsoft: 1 day, unlimited for passkeys"
		set("campaign-state", Pass, observed)
	case on:
		observed += fmt.Sprintf("; snooze %s", plural(camp.SnoozeDurationInDays, "day"))
		if camp.EnforceRegistrationAfterAllowedSnoozes {
			observed += ", registration required after 3 snoozes"
		} else {
			observed += ", unlimited snoozes"
		}
		set("campaign-state", Pass, observed)
	case strings.EqualFold(camp.State, directory.StateDisabled) || camp.State == "":
		set("campaign-state", Fail, observed)
	default:
		set("campaign-state", Unknown, observed)
	}

	var targets []string
	for _, t := range camp.IncludeTargets {
		method := t.TargetedAuthenticationMethod
		if method == "" {
			method = "(no method)"
		}
		targets = append(targets, n.target(t.ID)+": "+untrusted.OneLine(method))
	}
	observed = "includes " + list(targets, "nobody")
	if ex := n.targets(camp.ExcludeTargets); len(ex) > 0 {
		observed += "; excludes " + strings.Join(ex, ", ")
	}
	if pol.CampaignTargetsPasskeys() {
		set("campaign-target", Pass, observed)
	} else {
		set("campaign-target", Fail, observed)
		if managed && len(camp.IncludeTargets) > 0 {
			// The method is not the admin's to choose in this state.
			setFix("campaign-target", "Microsoft managed chooses the method itself and targets passkeys for people in scope of the Passkey (FIDO2) method; to choose it now, "+adminCampaign+": State = Enabled, Authentication method = Passkey (FIDO2)")
		}
	}

	// Per profile: does some FIDO2 include target allow an eligible one?
	var eligible, ineligible []string
	for _, t := range pk.IncludeTargets {
		if ok, _ := pol.TargetEligible(t); ok {
			eligible = append(eligible, n.target(t.ID))
		} else {
			ineligible = append(ineligible, n.target(t.ID))
		}
	}
	observed = "eligible for " + list(eligible, "no target")
	if len(ineligible) > 0 {
		observed += "; not for " + strings.Join(ineligible, ", ") + " (see the profiles)"
	}
	switch {
	case len(pk.IncludeTargets) == 0:
		set("passkey-profile", Fail, "the Passkey (FIDO2) method includes nobody")
	case len(eligible) > 0:
		set("passkey-profile", Pass, observed)
	default:
		set("passkey-profile", Fail, observed)
		switch {
		case !pk.Migrated():
			setFix("passkey-profile", adminPasskey+": opt in to passkey profiles, then assign the Default passkey profile (or another) under Enable and target")
		case strings.EqualFold(camp.State, directory.StateEnabled):
			setFix("passkey-profile", adminPasskey+" > Enable and target: include the people to prompt with at least one passkey profile")
		}
	}

	if pk.Migrated() {
		def := untrusted.OneLine(pk.DefaultPasskeyProfile)
		if prof := pk.Profile(pk.DefaultPasskeyProfile); prof != nil && prof.Name != "" {
			def = untrusted.OneLine(prof.Name)
		}
		set("passkey-profiles-migrated", Pass, fmt.Sprintf("%s; default: %s", plural(len(pk.Profiles), "profile"), def))
	} else {
		att := "attestation off"
		if pk.IsAttestationEnforced {
			att = "attestation enforced"
		}
		set("passkey-profiles-migrated", Warn, fmt.Sprintf("not migrated: method-level settings (keyRestrictions %s, %s)", pk.LegacyKeyRestrictions.Describe(), att))
	}
	return checks
}

// profiles describes every passkey profile, or the legacy settings.
func profiles(pol *directory.Policy, n *namer) []Profile {
	if pol == nil {
		return nil
	}
	pk := &pol.Passkey
	if !pk.Migrated() {
		ok, why := pol.LegacyEligible()
		att := directory.AttestationDisabled
		if pk.IsAttestationEnforced {
			att = directory.AttestationRegistrationOnly
		}
		return []Profile{{
			Name:                   "(method settings, no passkey profiles)",
			PasskeyTypes:           []string{directory.PasskeyTypeDeviceBound},
			AttestationEnforcement: att,
			KeyRestrictions:        pk.LegacyKeyRestrictions.Describe(),
			Targets:                n.targets(pk.IncludeTargets),
			Eligible:               ok,
			Why:                    why,
		}}
	}
	out := []Profile{}
	for _, prof := range pk.Profiles {
		ok, why := pol.ProfileEligible(prof.ID)
		var targets []string
		for _, t := range pk.IncludeTargets {
			if slices.ContainsFunc(pk.TargetProfiles(t), func(id string) bool { return strings.EqualFold(id, prof.ID) }) {
				targets = append(targets, n.target(t.ID))
			}
		}
		types := make([]string, len(prof.PasskeyTypes))
		for i, v := range prof.PasskeyTypes {
			types[i] = untrusted.OneLine(v)
		}
		out = append(out, Profile{
			ID:                     untrusted.OneLine(prof.ID),
			Name:                   untrusted.OneLine(prof.Name),
			Default:                strings.EqualFold(prof.ID, pk.DefaultPasskeyProfile),
			PasskeyTypes:           types,
			AttestationEnforcement: untrusted.OneLine(prof.AttestationEnforcement),
			KeyRestrictions:        prof.KeyRestrictions.Describe(),
			Targets:                targets,
			Eligible:               ok,
			Why:                    untrusted.OneLine(why),
		})
	}
	return out
}

// reachedCheck says whether anyone is left for the prompt once targets,
// exclusions, profiles and people's own state are applied.
func reachedCheck(pol *directory.Policy, c Counts, unread []string, n *namer) Check {
	ch := Check{ID: "people-reached", Title: "People the prompt can reach",
		Fix: "see why people are not reached below; include and exclude lists are under " + adminCampaign + " and " + adminPasskey + " > Enable and target"}
	of := fmt.Sprintf("%d of %s", c.Reached, plural(c.Members, "enabled member"))
	switch {
	case pol == nil:
		ch.Status, ch.Observed = Unknown, "authentication methods policy not read"
		ch.Fix = ""
	case c.People == 0:
		ch.Status, ch.Observed = Unknown, "no people read"
		ch.Fix = ""
	case c.Reached > 0:
		ch.Status, ch.Observed, ch.Fix = Pass, of, ""
	case c.ReachedUnlessExcluded > 0:
		ch.Status = Warn
		ch.Observed = fmt.Sprintf("%s unless in %s, whose members were not read", plural(c.ReachedUnlessExcluded, "person"), strings.Join(n.names(unread), ", "))
		ch.Fix = "read the members of the exclude groups (see the groups check)"
	default:
		ch.Status, ch.Observed = Fail, of
	}
	return ch
}

// groupsCheck says whether the source read the members of every group the
// policies name: without them, membership of those groups is unknown.
func groupsCheck(pol *directory.Policy, d *directory.Directory, n *namer) Check {
	ch := Check{ID: "groups-read", Title: "Members read for every group named"}
	named := pol.Groups()
	for _, c := range caPolicies(d) {
		for _, g := range append(slices.Clone(c.pol.Users.IncludeGroups), c.pol.Users.ExcludeGroups...) {
			if !slices.ContainsFunc(named, func(v string) bool { return strings.EqualFold(v, g) }) {
				named = append(named, g)
			}
		}
	}
	var missing []string
	for _, g := range named {
		if !d.KnowsGroup(g) {
			missing = append(missing, g)
		}
	}
	switch {
	case len(named) == 0:
		ch.Status, ch.Observed = Pass, "the policies name no groups"
	case len(missing) == 0:
		ch.Status, ch.Observed = Pass, fmt.Sprintf("%d of %d", len(named), len(named))
	default:
		ch.Status = Warn
		ch.Observed = fmt.Sprintf("%d of %d; not read: %s", len(named)-len(missing), len(named), strings.Join(n.names(missing), ", "))
		ch.Fix = "read the members of these groups (a snapshot holds them as groups.json and groupMembers-<id>.json): until then their members count as outside them"
	}
	return ch
}

// caveats are what the report cannot know, for this tenant.
func caveats(pol *directory.Policy, d *directory.Directory, r *Report, unread []string, n *namer) []string {
	out := []string{
		"Entra decides per operating system and browser: never on Linux, not in every app, and not where the person already has a passkey that works there (so someone with a passkey may still be prompted on another device); nudge cannot see which devices people sign in from.",
		"The prompt follows an MFA sign-in, after any Conditional Access policy for registering security info (for example, registration only from the office network); people who rarely sign in interactively may not see it for weeks.",
	}
	if pol != nil && strings.EqualFold(pol.Campaign.State, directory.CampaignMicrosoftManaged) {
		out = append(out, "Microsoft managed campaigns get passkey prompts in waves; a tenant that meets every criterion may not be prompting yet.")
	}
	notEligible := slices.ContainsFunc(r.Profiles, func(p Profile) bool { return !p.Eligible && len(p.Targets) > 0 })
	if pol != nil && notEligible && pol.Passkey.Migrated() && !strings.EqualFold(pol.Campaign.State, directory.StateEnabled) {
		out = append(out, "A passkey profile that fails the Microsoft managed check keeps people who have no other profile from the prompt; the Enabled state prompts people in any passkey profile.")
	}
	if len(unread) > 0 {
		out = append(out, fmt.Sprintf("Members of %s were not read: people in them may be excluded from the prompt.", strings.Join(n.names(unread), ", ")))
	}
	for _, c := range r.ConditionalAccess {
		if c.Approximate {
			out = append(out, "Conditional Access counts are approximate where a policy names directory roles (every admin in the registration report is counted, as it does not say which role) or groups whose members were not read; they also assume the policy's apps and other conditions apply.")
			break
		}
	}
	if d.ConditionalAccess == nil {
		out = append(out, "Conditional Access policies were not read: nudge cannot say who is forced onto phishing-resistant sign-in.")
	}
	return out
}

// namer turns ids into names people recognise.
type namer struct{ d *directory.Directory }

// target names an include or exclude target.
func (n *namer) target(id string) string {
	if strings.EqualFold(id, directory.AllUsers) {
		return "All users"
	}
	for _, g := range n.d.Groups {
		if strings.EqualFold(g.ID, id) && g.DisplayName != "" {
			return untrusted.OneLine(g.DisplayName)
		}
	}
	return untrusted.OneLine(id)
}

func (n *namer) targets(list []directory.Target) []string {
	var out []string
	for _, t := range list {
		out = append(out, n.target(t.ID))
	}
	return out
}

func (n *namer) names(ids []string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = n.target(id)
	}
	return out
}

func list(items []string, none string) string {
	if len(items) == 0 {
		return none
	}
	return strings.Join(items, ", ")
}

func plural(n int, noun string) string {
	switch {
	case n == 1:
		return "1 " + noun
	case noun == "person":
		return fmt.Sprintf("%d people", n)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
