package readiness

import (
	"context"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/nudge-passkeys/nudge/content"
	"github.com/nudge-passkeys/nudge/internal/directory"
	"github.com/nudge-passkeys/nudge/internal/snapshot"
)

// The test tenant has the demo tenant's shape, small enough to count by
// hand: a Microsoft managed campaign for all users but the break-glass
// group, the Default passkey profile for everyone and an attested
// security-key profile for Tier 0 admins, and three Conditional Access
// policies asking for phishing-resistant sign-in.
const (
	gBreak = "c3d9e7a1-0f4b-4a2e-8d6c-7b1e5f9a2c30"
	gTier0 = "8b0f6d2c-5e1a-4f7b-9c3d-2a6e1f0b7d45"
	gPilot = "5d2a8c41-7e3b-4f90-a6d1-93c0b8e4f217"

	defaultProfile = "00000000-0000-0000-0000-000000000001"
	tier0Profile   = "6f1c2a7e-3b0d-4c57-9a51-0d2e8b7f4c10"

	roleGlobalAdmin = "62e90394-69f5-4237-9190-012177145e10"

	aaguidYubiKey = "cb69481e-8ff7-4039-93ec-0a2729a154a8"
	aaguidGPM     = "ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4"

	plainUser = "u-plain-1" // named one by one by a Conditional Access policy
)

var readAt = time.Date(2026, 11, 20, 1, 2, 0, 0, time.UTC)

func policy() *directory.Policy {
	return &directory.Policy{
		Passkey: directory.PasskeyMethod{
			State:                            "enabled",
			IsSelfServiceRegistrationAllowed: true,
			DefaultPasskeyProfile:            defaultProfile,
			Profiles: []directory.PasskeyProfile{
				{ID: defaultProfile, Name: "Default passkey profile", PasskeyTypes: []string{"deviceBound", "synced"}, AttestationEnforcement: "disabled",
					KeyRestrictions: &directory.KeyRestrictions{EnforcementType: "block"}},
				{ID: tier0Profile, Name: "Tier 0 admins: attested security keys", PasskeyTypes: []string{"deviceBound"}, AttestationEnforcement: "registrationOnly",
					KeyRestrictions: &directory.KeyRestrictions{IsEnforced: true, EnforcementType: "allow", AAGUIDs: []string{aaguidYubiKey, "ee882879-721c-4913-9775-3dfcce97072a"}}},
			},
			IncludeTargets: []directory.Target{
				{ID: "all_users", TargetType: "group", AllowedPasskeyProfiles: []string{defaultProfile}},
				{ID: gTier0, TargetType: "group", AllowedPasskeyProfiles: []string{tier0Profile}},
			},
			ExcludeTargets: []directory.Target{{ID: gBreak, TargetType: "group"}},
		},
		Campaign: directory.RegistrationCampaign{
			State:                                  "default",
			SnoozeDurationInDays:                   1,
			EnforceRegistrationAfterAllowedSnoozes: true,
			IncludeTargets:                         []directory.CampaignTarget{{ID: "all_users", TargetType: "group", TargetedAuthenticationMethod: "fido2"}},
			ExcludeTargets:                         []directory.Target{{ID: gBreak, TargetType: "group"}},
		},
	}
}

func conditionalAccess() *directory.ConditionalAccess {
	phishingResistant := &directory.AuthenticationStrength{ID: directory.PhishingResistantStrengthID, DisplayName: "Phishing-resistant MFA", PolicyType: "builtIn"}
	return &directory.ConditionalAccess{
		Policies: []directory.ConditionalAccessPolicy{
			{ID: "ca-admins", DisplayName: "Require phishing-resistant MFA for admins", State: directory.CAStateOn,
				Users: directory.ConditionalAccessUsers{IncludeRoles: []string{roleGlobalAdmin}, ExcludeGroups: []string{gBreak}},
				Grant: &directory.GrantControls{Operator: "OR", AuthenticationStrength: phishingResistant}},
			{ID: "ca-everyone", DisplayName: "Passkeys for everyone (report-only)", State: directory.CAStateReportOnly,
				Users: directory.ConditionalAccessUsers{IncludeUsers: []string{"All"}, ExcludeGroups: []string{gBreak}, ExcludeGuestsOrExternalUsers: "internalGuest,b2bCollaborationGuest"},
				Grant: &directory.GrantControls{Operator: "OR", AuthenticationStrength: &directory.AuthenticationStrength{ID: "s-passkeys"}}},
			{ID: "ca-legacy", DisplayName: "Block legacy authentication", State: directory.CAStateOn,
				Users: directory.ConditionalAccessUsers{IncludeUsers: []string{"All"}},
				Grant: &directory.GrantControls{Operator: "OR", BuiltInControls: []string{"block"}}},
			{ID: "ca-one", DisplayName: "MFA or passkeys for one user", State: directory.CAStateOn,
				Users: directory.ConditionalAccessUsers{IncludeUsers: []string{plainUser}},
				Grant: &directory.GrantControls{Operator: "OR", BuiltInControls: []string{"mfa"}, AuthenticationStrength: &directory.AuthenticationStrength{ID: "s-passkeys"}}},
		},
		Strengths: []directory.AuthenticationStrength{
			{ID: "s-passkeys", DisplayName: "Passkeys only", PolicyType: "custom", AllowedCombinations: []string{"fido2"}},
		},
	}
}

// people are 14 accounts: 12 enabled members, a guest and a disabled
// account. Seven can be prompted: five plain members and two Tier 0 admins.
func people() []directory.Person {
	member := func(id string, mods ...func(*directory.Person)) directory.Person {
		p := directory.Person{ID: id, UserPrincipalName: id + "@contoso.example", UserType: "Member", AccountEnabled: true,
			HasRegistration: true, IsMFACapable: true, MethodsRegistered: []string{directory.MethodAuthenticatorPush}}
		for _, m := range mods {
			m(&p)
		}
		return p
	}
	admin := func(p *directory.Person) { p.IsAdmin = true }
	in := func(groups ...string) func(*directory.Person) {
		return func(p *directory.Person) { p.Groups = groups }
	}
	var out []directory.Person
	for i := 1; i <= 5; i++ {
		out = append(out, member(fmt.Sprintf("u-plain-%d", i)))
	}
	return append(out,
		member("u-passkey-1", func(p *directory.Person) { p.MethodsRegistered = []string{directory.MethodPasskeySynced} }),
		member("u-passkey-2", func(p *directory.Person) { p.MethodsRegistered = []string{directory.MethodFIDO2SecurityKey} }),
		member("u-nomfa", func(p *directory.Person) { p.IsMFACapable, p.MethodsRegistered = false, nil }),
		member("u-noreg", func(p *directory.Person) { p.HasRegistration, p.IsMFACapable, p.MethodsRegistered = false, false, nil }),
		member("u-guest", func(p *directory.Person) { p.UserType = "Guest" }),
		member("u-disabled", func(p *directory.Person) { p.AccountEnabled = false }),
		member("u-admin-1", admin, in(gTier0)),
		member("u-admin-2", admin, in(gTier0), func(p *directory.Person) {
			p.MethodsRegistered = append(p.MethodsRegistered, directory.MethodWindowsHelloForBusiness)
		}),
		member("u-breakglass", admin, in(gBreak)),
	)
}

func groups() []directory.Group {
	return []directory.Group{
		{ID: gBreak, DisplayName: "Break-glass accounts", Members: 1},
		{ID: gTier0, DisplayName: "Tier 0 admins", Members: 2},
	}
}

// tenant is the directory and its people, ready to change.
type tenant struct {
	d      *directory.Directory
	people []directory.Person
}

func newTenant() *tenant {
	return &tenant{
		d:      &directory.Directory{Policy: policy(), ConditionalAccess: conditionalAccess(), Groups: groups(), ReadAt: readAt},
		people: people(),
	}
}

// reportAfter is the report of the test tenant after change, if any.
func reportAfter(change func(tn *tenant)) *Report {
	tn := newTenant()
	if change != nil {
		change(tn)
	}
	return tn.report()
}

// report counts the people one at a time, as a streaming source hands
// them over, and judges them against the directory.
func (tn *tenant) report() *Report {
	var t Tally
	for i := range tn.people {
		t.Add(&tn.people[i])
	}
	return t.Report(tn.d)
}

func statuses(r *Report) map[string]Status {
	out := map[string]Status{}
	for _, c := range r.Checks {
		out[c.ID] = c.Status
	}
	return out
}

func check(t *testing.T, r *Report, id string) Check {
	t.Helper()
	for _, c := range r.Checks {
		if c.ID == id {
			return c
		}
	}
	t.Fatalf("no check %q in %+v", id, r.Checks)
	return Check{}
}

// allPass is every check passing; cases list only what they change.
func allPass(changes map[string]Status) map[string]Status {
	out := map[string]Status{
		"passkey-method": Pass, "self-service": Pass, "campaign-state": Pass, "campaign-target": Pass,
		"passkey-profile": Pass, "passkey-profiles-migrated": Pass, "people-reached": Pass, "groups-read": Pass,
	}
	for id, st := range changes {
		out[id] = st
	}
	return out
}

// notReachedAnyway is the part of NotReached that a policy switched off
// leaves: people the prompt never reaches, judged before the tenant.
var notReachedAnyway = []Reason{
	{Why: "account disabled", People: 1},
	{Why: "guest: Entra does not prompt guests", People: 1},
}

func TestReport(t *testing.T) {
	tests := []struct {
		name   string
		change func(tn *tenant)
		want   map[string]Status
		passed bool
		// Reached, ReachedUnlessExcluded
		reached, unlessExcluded int
		notReached              []Reason
		// observed maps check ids to text their Observed must contain;
		// fix, to text their Fix must contain.
		observed, fix map[string]string
		more          func(t *testing.T, r *Report)
	}{
		{
			name:    "ready, the demo tenant's shape",
			want:    allPass(nil),
			passed:  true,
			reached: 7,
			notReached: []Reason{
				{Why: "already has a passkey", People: 2},
				{Why: "account disabled", People: 1},
				{Why: "excluded from the registration campaign", People: 1},
				{Why: "guest: Entra does not prompt guests", People: 1},
				{Why: "no registration details: MFA state unknown", People: 1},
				{Why: "not MFA-capable: the prompt follows an MFA sign-in", People: 1},
			},
			observed: map[string]string{
				"campaign-state":            "Microsoft managed (default); snooze set by Microsoft: 1 day, unlimited for passkeys",
				"campaign-target":           "includes All users: fido2; excludes Break-glass accounts",
				"passkey-profile":           "eligible for All users, Tier 0 admins",
				"passkey-profiles-migrated": "2 profiles; default: Default passkey profile",
				"people-reached":            "7 of 12 enabled members",
				"groups-read":               "2 of 2",
			},
			more: func(t *testing.T, r *Report) {
				for _, c := range r.Checks {
					if c.Fix != "" {
						t.Errorf("check %s passes but says to change: %s", c.ID, c.Fix)
					}
				}
				if r.Legacy || len(r.Profiles) != 2 || !r.Profiles[0].Default || !r.Profiles[1].Eligible {
					t.Errorf("profiles = %+v, legacy %v", r.Profiles, r.Legacy)
				}
				if r.Profiles[1].KeyRestrictions != "allow list of 2" || !slices.Equal(r.Profiles[1].Targets, []string{"Tier 0 admins"}) {
					t.Errorf("Tier 0 profile = %+v", r.Profiles[1])
				}
			},
		},
		{
			name:       "campaign disabled",
			change:     func(tn *tenant) { tn.d.Policy.Campaign.State = "disabled" },
			want:       allPass(map[string]Status{"campaign-state": Fail, "people-reached": Fail}),
			notReached: append([]Reason{{Why: "registration campaign is disabled", People: 12}}, notReachedAnyway...),
			observed:   map[string]string{"campaign-state": "Disabled", "people-reached": "0 of 12 enabled members"},
			fix:        map[string]string{"campaign-state": "Registration campaign > Edit: State = Microsoft managed or Enabled"},
		},
		{
			name:       "campaign state nudge does not know",
			change:     func(tn *tenant) { tn.d.Policy.Campaign.State = "unknownFutureValue" },
			want:       allPass(map[string]Status{"campaign-state": Unknown, "people-reached": Fail}),
			notReached: append([]Reason{{Why: `registration campaign state "unknownFutureValue" is not one nudge knows`, People: 12}}, notReachedAnyway...),
		},
		{
			name:       "Passkey (FIDO2) method disabled",
			change:     func(tn *tenant) { tn.d.Policy.Passkey.State = "disabled" },
			want:       allPass(map[string]Status{"passkey-method": Fail, "people-reached": Fail}),
			notReached: append([]Reason{{Why: "Passkey (FIDO2) method is disabled", People: 12}}, notReachedAnyway...),
			fix:        map[string]string{"passkey-method": "Policies > Passkey (FIDO2) > Enable and target"},
		},
		{
			name:       "self-service setup off",
			change:     func(tn *tenant) { tn.d.Policy.Passkey.IsSelfServiceRegistrationAllowed = false },
			want:       allPass(map[string]Status{"self-service": Fail, "people-reached": Fail}),
			notReached: append([]Reason{{Why: "self-service passkey setup is not allowed", People: 12}}, notReachedAnyway...),
			fix:        map[string]string{"self-service": "Allow self-service set up = Yes"},
		},
		{
			name: "Enabled campaign for Microsoft Authenticator only",
			change: func(tn *tenant) {
				c := &tn.d.Policy.Campaign
				c.State, c.SnoozeDurationInDays, c.EnforceRegistrationAfterAllowedSnoozes = "enabled", 3, false
				c.IncludeTargets[0].TargetedAuthenticationMethod = "microsoftAuthenticator"
			},
			want:       allPass(map[string]Status{"campaign-target": Fail, "people-reached": Fail}),
			notReached: append([]Reason{{Why: "registration campaign does not target passkeys (fido2)", People: 12}}, notReachedAnyway...),
			observed:   map[string]string{"campaign-state": "Enabled; snooze 3 days, unlimited snoozes", "campaign-target": "includes All users: microsoftAuthenticator"},
			fix:        map[string]string{"campaign-target": "Authentication method = Passkey (FIDO2)"},
		},
		{
			name: "Microsoft managed campaign still showing Microsoft Authenticator",
			change: func(tn *tenant) {
				tn.d.Policy.Campaign.IncludeTargets[0].TargetedAuthenticationMethod = "microsoftAuthenticator"
			},
			want:       allPass(map[string]Status{"campaign-target": Fail, "people-reached": Fail}),
			notReached: append([]Reason{{Why: "registration campaign does not target passkeys (fido2)", People: 12}}, notReachedAnyway...),
			fix:        map[string]string{"campaign-target": "Microsoft managed chooses the method itself"},
		},
		{
			name: "a group's AAGUID allow list of security keys, everyone else on the Default profile",
			change: func(tn *tenant) {
				tn.d.Policy.Passkey.Profiles[1].AttestationEnforcement = "disabled"
			},
			want:       allPass(nil),
			passed:     true,
			reached:    7,
			observed:   map[string]string{"passkey-profile": "eligible for All users; not for Tier 0 admins (see the profiles)"},
			notReached: nil, // as in the first case
			more: func(t *testing.T, r *Report) {
				p := r.Profiles[1]
				if p.Eligible || !strings.Contains(p.Why, "AAGUID allow list of 2 without iCloud Keychain") {
					t.Errorf("Tier 0 profile = %+v, want not eligible for its allow list", p)
				}
				if !slices.ContainsFunc(r.Caveats, func(c string) bool { return strings.Contains(c, "fails the Microsoft managed check") }) {
					t.Errorf("caveats = %q, want the one on profiles that fail the Microsoft managed check", r.Caveats)
				}
			},
		},
		{
			name:    "only the group with the allow list is targeted",
			change:  func(tn *tenant) { tieredOnly(tn, "disabled") },
			want:    allPass(map[string]Status{"passkey-profile": Fail, "people-reached": Fail}),
			reached: 0,
			notReached: []Reason{
				{Why: "not in the Passkey (FIDO2) method's include targets", People: 5},
				{Why: "already has a passkey", People: 2},
				{Why: `no eligible passkey profile: "Tier 0 admins: attested security keys": AAGUID allow list of 2 without iCloud Keychain, Google Password Manager, Microsoft Authenticator or Microsoft Entra passkey on Windows for the passkey types allowed`, People: 2},
				{Why: "account disabled", People: 1},
				{Why: "excluded from the registration campaign", People: 1},
				{Why: "guest: Entra does not prompt guests", People: 1},
				{Why: "no registration details: MFA state unknown", People: 1},
				{Why: "not MFA-capable: the prompt follows an MFA sign-in", People: 1},
			},
			observed: map[string]string{"passkey-profile": "eligible for no target; not for Tier 0 admins"},
			fix:      map[string]string{"passkey-profile": "State = Enabled, which prompts people in any passkey profile"},
		},
		{
			name:     "only the group with attestation enforced is targeted: the list is not checked",
			change:   func(tn *tenant) { tieredOnly(tn, "registrationOnly") },
			want:     allPass(nil),
			passed:   true,
			reached:  2,
			observed: map[string]string{"passkey-profile": "eligible for Tier 0 admins"},
		},
		{
			name: "only the group with the allow list, Enabled campaign",
			change: func(tn *tenant) {
				tieredOnly(tn, "disabled")
				tn.d.Policy.Campaign.State = "enabled"
			},
			want:    allPass(nil),
			passed:  true,
			reached: 2,
			more: func(t *testing.T, r *Report) {
				if !r.Profiles[1].Eligible || r.Profiles[1].Why != "the Enabled state prompts people in any passkey profile" {
					t.Errorf("Tier 0 profile = %+v", r.Profiles[1])
				}
			},
		},
		{
			name: "an allow list naming Google Password Manager",
			change: func(tn *tenant) {
				tieredOnly(tn, "disabled")
				p := &tn.d.Policy.Passkey.Profiles[1]
				p.PasskeyTypes = []string{"synced"}
				p.KeyRestrictions.AAGUIDs = []string{aaguidGPM}
			},
			want:    allPass(nil),
			passed:  true,
			reached: 2,
		},
		{
			name: "legacy tenant with enforced key restrictions",
			change: func(tn *tenant) {
				pk := &tn.d.Policy.Passkey
				pk.Profiles, pk.DefaultPasskeyProfile = nil, ""
				for i := range pk.IncludeTargets {
					pk.IncludeTargets[i].AllowedPasskeyProfiles = nil
				}
				pk.LegacyKeyRestrictions = &directory.KeyRestrictions{IsEnforced: true, EnforcementType: "allow", AAGUIDs: []string{aaguidYubiKey}}
			},
			want: allPass(map[string]Status{"passkey-profile": Fail, "passkey-profiles-migrated": Warn, "people-reached": Fail}),
			observed: map[string]string{
				"passkey-profiles-migrated": "not migrated: method-level settings (keyRestrictions allow list of 1, attestation off)",
				"passkey-profile":           "eligible for no target; not for All users, Tier 0 admins",
			},
			fix: map[string]string{
				"passkey-profile":           "opt in to passkey profiles, then assign the Default passkey profile",
				"passkey-profiles-migrated": "today's settings become the Default passkey profile",
			},
			more: func(t *testing.T, r *Report) {
				if !r.Legacy || len(r.Profiles) != 1 {
					t.Fatalf("legacy %v, profiles %+v", r.Legacy, r.Profiles)
				}
				p := r.Profiles[0]
				want := Profile{
					Name: "(method settings, no passkey profiles)", PasskeyTypes: []string{"deviceBound"}, AttestationEnforcement: "disabled",
					KeyRestrictions: "allow list of 1", Targets: []string{"All users", "Tier 0 admins"},
					Why: "not migrated to passkey profiles, by which Microsoft decides whom to prompt; the Default passkey profile that migration makes of these settings would not be eligible either: " +
						"AAGUID allow list of 1 without iCloud Keychain, Google Password Manager, Microsoft Authenticator or Microsoft Entra passkey on Windows for the passkey types allowed",
				}
				if diff := cmp.Diff(want, p); diff != "" {
					t.Errorf("legacy profile (-want +got):\n%s", diff)
				}
				if r.Counts.Reached != 0 || r.NotReached[0].People != 7 || !strings.HasPrefix(r.NotReached[0].Why, "no eligible passkey profile: not migrated") {
					t.Errorf("reached %d, not reached %+v", r.Counts.Reached, r.NotReached)
				}
			},
		},
		{
			name: "no policy read",
			change: func(tn *tenant) {
				tn.d.Policy = nil
			},
			want: map[string]Status{
				"passkey-method": Unknown, "self-service": Unknown, "campaign-state": Unknown, "campaign-target": Unknown,
				"passkey-profile": Unknown, "passkey-profiles-migrated": Unknown, "people-reached": Unknown, "groups-read": Pass,
			},
			notReached: []Reason{{Why: "policy not read", People: 14}},
			observed:   map[string]string{"passkey-method": "authentication methods policy not read", "groups-read": "1 of 1"},
			fix:        map[string]string{"campaign-state": "the admin center's CSV download never has it"},
			more: func(t *testing.T, r *Report) {
				if r.Profiles != nil || r.Legacy {
					t.Errorf("profiles %+v, legacy %v; want none", r.Profiles, r.Legacy)
				}
				if c := check(t, r, "people-reached"); c.Fix != "" {
					t.Errorf("people-reached says to change %q; the policy checks say it", c.Fix)
				}
			},
		},
		{
			name:           "exclude group whose members were not read",
			change:         unreadBreakGlass,
			want:           allPass(map[string]Status{"people-reached": Warn, "groups-read": Warn}),
			passed:         true,
			unlessExcluded: 8,
			notReached: []Reason{
				{Why: "already has a passkey", People: 2},
				{Why: "account disabled", People: 1},
				{Why: "guest: Entra does not prompt guests", People: 1},
				{Why: "no registration details: MFA state unknown", People: 1},
				{Why: "not MFA-capable: the prompt follows an MFA sign-in", People: 1},
			},
			observed: map[string]string{
				"people-reached": "8 people unless in " + gBreak + ", whose members were not read",
				"groups-read":    "1 of 2; not read: " + gBreak,
			},
			fix: map[string]string{"groups-read": "groupMembers-<id>.json"},
			more: func(t *testing.T, r *Report) {
				if !slices.ContainsFunc(r.Caveats, func(c string) bool { return strings.Contains(c, "Members of "+gBreak+" were not read") }) {
					t.Errorf("caveats = %q, want one on the unread group", r.Caveats)
				}
				// Conditional Access excludes the group too: every count
				// that depends on it is approximate.
				everyone := r.ConditionalAccess[1]
				if everyone.InScope != 12 || everyone.WithoutPhishingResistant != 9 || !everyone.Approximate {
					t.Errorf("everyone policy = %+v, want ~12 in scope, ~9 without", everyone)
				}
			},
		},
		{
			name:     "default passkey profile that is not in the policy, with a hostile id",
			change:   func(tn *tenant) { tn.d.Policy.Passkey.DefaultPasskeyProfile = "gone\nFAIL  Fake row" },
			want:     allPass(nil),
			passed:   true,
			reached:  7,
			observed: map[string]string{"passkey-profiles-migrated": "2 profiles; default: gone FAIL  Fake row"},
		},
		{
			name: "nobody read",
			change: func(tn *tenant) {
				tn.people = nil
			},
			want:   allPass(map[string]Status{"people-reached": Unknown}),
			passed: false,
			more: func(t *testing.T, r *Report) {
				if c := check(t, r, "people-reached"); c.Observed != "no people read" {
					t.Errorf("people-reached observed %q", c.Observed)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := reportAfter(tt.change)
			if diff := cmp.Diff(tt.want, statuses(r)); diff != "" {
				t.Errorf("statuses (-want +got):\n%s", diff)
			}
			if got := r.Passed(); got != tt.passed {
				t.Errorf("Passed() = %v, want %v", got, tt.passed)
			}
			if r.Counts.Reached != tt.reached || r.Counts.ReachedUnlessExcluded != tt.unlessExcluded {
				t.Errorf("reached %d, unless excluded %d; want %d, %d", r.Counts.Reached, r.Counts.ReachedUnlessExcluded, tt.reached, tt.unlessExcluded)
			}
			if tt.notReached != nil {
				if diff := cmp.Diff(tt.notReached, r.NotReached); diff != "" {
					t.Errorf("NotReached (-want +got):\n%s", diff)
				}
			}
			// Everyone is either reached or has a reason.
			sum := r.Counts.Reached + r.Counts.ReachedUnlessExcluded
			for _, rs := range r.NotReached {
				sum += rs.People
			}
			if sum != r.Counts.People {
				t.Errorf("reached and not reached add up to %d of %d people", sum, r.Counts.People)
			}
			for id, want := range tt.observed {
				if c := check(t, r, id); !strings.Contains(c.Observed, want) {
					t.Errorf("%s observed %q, want it to contain %q", id, c.Observed, want)
				}
			}
			for id, want := range tt.fix {
				if c := check(t, r, id); !strings.Contains(c.Fix, want) {
					t.Errorf("%s fix %q, want it to contain %q", id, c.Fix, want)
				}
			}
			for _, c := range r.Checks {
				if c.Status != Pass && c.Fix == "" && c.ID != "people-reached" {
					t.Errorf("check %s is %s but says nothing to change", c.ID, c.Status)
				}
			}
			if tt.more != nil {
				tt.more(t, r)
			}
		})
	}
}

// unreadBreakGlass makes the break-glass group one whose members the
// source did not read: it is not among the directory's groups, nor among
// its members' groups.
func unreadBreakGlass(tn *tenant) {
	tn.d.Groups = slices.DeleteFunc(tn.d.Groups, func(g directory.Group) bool { return g.ID == gBreak })
	for i := range tn.people {
		tn.people[i].Groups = slices.DeleteFunc(tn.people[i].Groups, func(g string) bool { return g == gBreak })
	}
}

// tieredOnly leaves the Tier 0 group as the Passkey (FIDO2) method's only
// include target, with its profile's attestation set.
func tieredOnly(tn *tenant, attestation string) {
	pk := &tn.d.Policy.Passkey
	pk.IncludeTargets = pk.IncludeTargets[1:]
	pk.Profiles[1].AttestationEnforcement = attestation
}

func TestCounts(t *testing.T) {
	r := newTenant().report()
	want := Counts{
		People: 14, Members: 12, Guests: 1, Disabled: 1,
		Reached:     7,
		WithPasskey: 2, MFACapableWithoutPasskey: 8, NoMFA: 1, NoRegistration: 1,
		Admins: 3, AdminsWithoutPhishingResistant: 2,
	}
	if diff := cmp.Diff(want, r.Counts); diff != "" {
		t.Errorf("Counts (-want +got):\n%s", diff)
	}
}

func TestConditionalAccess(t *testing.T) {
	r := newTenant().report()
	want := []CAPolicy{
		{
			ID: "ca-admins", Name: "Require phishing-resistant MFA for admins", State: "enabled", Enforcement: "on", Forces: "now",
			Strength: "Phishing-resistant MFA", Includes: []string{"roles: Global Administrator"}, Excludes: []string{"groups: Break-glass accounts"},
			// Two Tier 0 admins, one with Windows Hello for Business; the
			// break-glass admin is excluded. Roles: approximate.
			InScope: 2, WithoutPhishingResistant: 1, Approximate: true,
		},
		{
			ID: "ca-everyone", Name: "Passkeys for everyone (report-only)", State: "enabledForReportingButNotEnforced", Enforcement: "report-only", Forces: "when switched on",
			Strength: "Passkeys only", Includes: []string{"All users"}, Excludes: []string{"guests and external users", "groups: Break-glass accounts"},
			// 12 enabled members less the break-glass account; 2 passkeys
			// and one Windows Hello among them.
			InScope: 11, WithoutPhishingResistant: 8,
		},
		{
			ID: "ca-one", Name: "MFA or passkeys for one user", State: "enabled", Enforcement: "on", Forces: "no: mfa also accepted",
			Strength: "Passkeys only", Alternatives: []string{"mfa"}, Includes: []string{"1 user"},
			InScope: 1, WithoutPhishingResistant: 1,
		},
	}
	if diff := cmp.Diff(want, r.ConditionalAccess); diff != "" {
		t.Errorf("ConditionalAccess (-want +got):\n%s", diff)
	}
	if !slices.ContainsFunc(r.Caveats, func(c string) bool { return strings.HasPrefix(c, "Conditional Access counts are approximate") }) {
		t.Errorf("caveats = %q, want the one on approximate counts", r.Caveats)
	}

	// Not read at all, and read with no policy that asks for a
	// phishing-resistant strength, are different answers.
	tn := newTenant()
	tn.d.ConditionalAccess = nil
	if r := tn.report(); r.ConditionalAccess != nil || !slices.ContainsFunc(r.Caveats, func(c string) bool { return strings.HasPrefix(c, "Conditional Access policies were not read") }) {
		t.Errorf("CA not read: %+v, caveats %q", r.ConditionalAccess, r.Caveats)
	}
	tn = newTenant()
	tn.d.ConditionalAccess.Policies = tn.d.ConditionalAccess.Policies[2:3]
	if r := tn.report(); r.ConditionalAccess == nil || len(r.ConditionalAccess) != 0 {
		t.Errorf("CA without phishing-resistant policies: %+v, want empty, not nil", r.ConditionalAccess)
	}
}

// TestDemoTenant judges the built-in demo tenant, streamed from its
// snapshot as the CLI does.
func TestDemoTenant(t *testing.T) {
	sub, err := fs.Sub(content.FS, "demo-tenant")
	if err != nil {
		t.Fatal(err)
	}
	var tally Tally
	d, err := (&snapshot.Source{FS: sub, Dir: ".", Name: "demo"}).Stream(context.Background(), func(p *directory.Person) error {
		tally.Add(p)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	r := tally.Report(d)
	if diff := cmp.Diff(allPass(nil), statuses(r)); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	if !r.Passed() {
		t.Error("Passed() = false for the demo tenant")
	}
	want := Counts{
		People: 330, Members: 309, Guests: 9, Disabled: 12, Reached: 209,
		WithPasskey: 63, MFACapableWithoutPasskey: 210, NoMFA: 36,
		Admins: 15, AdminsWithoutPhishingResistant: 12,
	}
	if diff := cmp.Diff(want, r.Counts); diff != "" {
		t.Errorf("Counts (-want +got):\n%s", diff)
	}
	if n := len(r.ConditionalAccess); n != 2 {
		t.Fatalf("%d Conditional Access policies, want 2", n)
	}
	admins, everyone := r.ConditionalAccess[0], r.ConditionalAccess[1]
	if admins.InScope != 12 || admins.WithoutPhishingResistant != 11 || !admins.Approximate || admins.Forces != "now" {
		t.Errorf("admins policy = %+v", admins)
	}
	if everyone.InScope != 306 || everyone.WithoutPhishingResistant != 235 || everyone.Approximate || everyone.Enforcement != "report-only" {
		t.Errorf("everyone policy = %+v", everyone)
	}
}

// TestTallyForgetsPeople checks that a Tally keeps what it needs, not the
// person: names changed after Add do not reach the report.
func TestTallyForgetsPeople(t *testing.T) {
	tn := newTenant()
	var tally Tally
	for i := range tn.people {
		tally.Add(&tn.people[i])
		tn.people[i].Groups = []string{gBreak} // too late to exclude anyone
		tn.people[i].AccountEnabled = false
	}
	if r := tally.Report(tn.d); r.Counts.Reached != 7 {
		t.Errorf("reached %d after the people changed, want 7", r.Counts.Reached)
	}
}
