package directory

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const (
	defaultProfile = "00000000-0000-0000-0000-000000000001"
	strictProfile  = "p-strict"
	pilotGroup     = "g-pilot"
	breakGlass     = "g-breakglass"
	tier0          = "g-tier0"
)

// readyPolicy is a tenant where the campaign prompts everyone but the
// break-glass group: the shape of the demo tenant.
func readyPolicy() *Policy {
	return &Policy{
		Passkey: PasskeyMethod{
			State:                            "enabled",
			IsSelfServiceRegistrationAllowed: true,
			DefaultPasskeyProfile:            defaultProfile,
			Profiles: []PasskeyProfile{
				{ID: defaultProfile, Name: "Default passkey profile", PasskeyTypes: []string{"deviceBound", "synced"}, AttestationEnforcement: "disabled", KeyRestrictions: &KeyRestrictions{EnforcementType: "block"}},
				{ID: strictProfile, Name: "Tier 0", PasskeyTypes: []string{"deviceBound"}, AttestationEnforcement: "registrationOnly", KeyRestrictions: &KeyRestrictions{IsEnforced: true, EnforcementType: "allow", AAGUIDs: []string{"a", "b"}}},
			},
			IncludeTargets: []Target{
				{ID: "all_users", TargetType: "group", AllowedPasskeyProfiles: []string{defaultProfile}},
				{ID: tier0, TargetType: "group", AllowedPasskeyProfiles: []string{strictProfile}},
			},
			ExcludeTargets: []Target{{ID: breakGlass, TargetType: "group"}},
		},
		Campaign: RegistrationCampaign{
			State:          "default",
			IncludeTargets: []CampaignTarget{{ID: "all_users", TargetType: "group", TargetedAuthenticationMethod: "fido2"}},
			ExcludeTargets: []Target{{ID: breakGlass, TargetType: "group"}},
		},
	}
}

// member is an MFA-capable member without a passkey: the person the
// campaign is for.
func member(groups ...string) *Person {
	return &Person{ID: "u1", UserType: "Member", AccountEnabled: true, HasRegistration: true, IsMFACapable: true, MethodsRegistered: []string{MethodAuthenticatorPush}, Groups: groups}
}

func TestReaches(t *testing.T) {
	tests := []struct {
		name    string
		policy  func(p *Policy) *Policy
		person  func(p *Person)
		want    bool
		wantWhy string
	}{
		{name: "ready", want: true, wantWhy: "campaign on, targeted, eligible passkey profile"},
		{name: "no policy", policy: func(*Policy) *Policy { return nil }, wantWhy: "policy not read"},
		{name: "guest", person: func(p *Person) { p.UserType = "Guest" }, wantWhy: "guest"},
		{name: "disabled account", person: func(p *Person) { p.AccountEnabled = false }, wantWhy: "account disabled"},
		{name: "method off", policy: func(p *Policy) *Policy { p.Passkey.State = "disabled"; return p }, wantWhy: "Passkey (FIDO2) method is disabled"},
		{name: "method state unknown", policy: func(p *Policy) *Policy { p.Passkey.State = "paused"; return p }, wantWhy: `Passkey (FIDO2) method is "paused"`},
		{name: "no self-service", policy: func(p *Policy) *Policy { p.Passkey.IsSelfServiceRegistrationAllowed = false; return p }, wantWhy: "self-service passkey setup is not allowed"},
		{name: "campaign disabled", policy: func(p *Policy) *Policy { p.Campaign.State = "disabled"; return p }, wantWhy: "registration campaign is disabled"},
		{name: "campaign state unknown", policy: func(p *Policy) *Policy { p.Campaign.State = "unknownFutureValue"; return p }, wantWhy: `registration campaign state "unknownFutureValue" is not one nudge knows`},
		{name: "campaign enabled for passkeys", policy: func(p *Policy) *Policy { p.Campaign.State = "enabled"; return p }, want: true},
		{
			name: "campaign enabled for Authenticator",
			policy: func(p *Policy) *Policy {
				p.Campaign.State = "enabled"
				p.Campaign.IncludeTargets[0].TargetedAuthenticationMethod = "microsoftAuthenticator"
				return p
			},
			wantWhy: "does not target passkeys",
		},
		{name: "Graph spells it Fido2 too", policy: func(p *Policy) *Policy { p.Campaign.IncludeTargets[0].TargetedAuthenticationMethod = "Fido2"; return p }, want: true},
		{name: "has a passkey", person: func(p *Person) { p.MethodsRegistered = []string{MethodPasskeySynced} }, wantWhy: "already has a passkey"},
		{name: "no registration row", person: func(p *Person) { p.HasRegistration = false }, wantWhy: "MFA state unknown"},
		{name: "not MFA-capable", person: func(p *Person) { p.IsMFACapable = false }, wantWhy: "not MFA-capable"},
		{name: "campaign exclude", person: func(p *Person) { p.Groups = []string{breakGlass} }, wantWhy: "excluded from the registration campaign"},
		{
			name:    "FIDO2 exclude",
			policy:  func(p *Policy) *Policy { p.Campaign.ExcludeTargets = nil; return p },
			person:  func(p *Person) { p.Groups = []string{breakGlass} },
			wantWhy: "excluded from the Passkey (FIDO2) method",
		},
		{
			name: "exclude wins over an include of the same group",
			policy: func(p *Policy) *Policy {
				p.Campaign.IncludeTargets = []CampaignTarget{{ID: pilotGroup, TargetType: "group", TargetedAuthenticationMethod: "fido2"}}
				p.Campaign.ExcludeTargets = []Target{{ID: pilotGroup, TargetType: "group"}}
				return p
			},
			person:  func(p *Person) { p.Groups = []string{pilotGroup} },
			wantWhy: "excluded from the registration campaign",
		},
		{
			name:    "campaign for a group the person is not in",
			policy:  func(p *Policy) *Policy { p.Campaign.IncludeTargets[0].ID = pilotGroup; return p },
			wantWhy: "not in the registration campaign's passkey targets",
		},
		{
			name:   "campaign for a group the person is in, by display name",
			policy: func(p *Policy) *Policy { p.Campaign.IncludeTargets[0].ID = "Pilot – Passkeys"; return p },
			person: func(p *Person) { p.Groups = []string{pilotGroup, "pilot – passkeys"} },
			want:   true,
		},
		{
			name: "campaign for one user",
			policy: func(p *Policy) *Policy {
				p.Campaign.IncludeTargets[0] = CampaignTarget{ID: "u1", TargetType: "user", TargetedAuthenticationMethod: "fido2"}
				return p
			},
			want: true,
		},
		{
			name:    "not in a FIDO2 include target",
			policy:  func(p *Policy) *Policy { p.Passkey.IncludeTargets = p.Passkey.IncludeTargets[1:]; return p },
			wantWhy: "not in the Passkey (FIDO2) method's include targets",
		},
		{
			name:    "only a restricted profile",
			policy:  func(p *Policy) *Policy { p.Passkey.IncludeTargets = p.Passkey.IncludeTargets[1:]; return p },
			person:  func(p *Person) { p.Groups = []string{tier0} },
			wantWhy: `no eligible passkey profile: "Tier 0": passkey types deviceBound (the prompt needs deviceBound and synced); attestation enforced; AAGUID allow list of 2`,
		},
		{
			name:   "restricted profile and the default one",
			person: func(p *Person) { p.Groups = []string{tier0} },
			want:   true,
		},
		{
			name: "a target allowing several profiles, one eligible",
			policy: func(p *Policy) *Policy {
				p.Passkey.IncludeTargets = []Target{{ID: "all_users", AllowedPasskeyProfiles: []string{strictProfile, defaultProfile}}}
				return p
			},
			want: true,
		},
		{
			name:   "a target naming no profile gets the default",
			policy: func(p *Policy) *Policy { p.Passkey.IncludeTargets[0].AllowedPasskeyProfiles = nil; return p },
			want:   true,
		},
		{
			name: "a target naming a profile that is not there",
			policy: func(p *Policy) *Policy {
				p.Passkey.IncludeTargets[0].AllowedPasskeyProfiles = []string{"gone"}
				return p
			},
			wantWhy: `no eligible passkey profile: "gone": passkey profile gone is not in the policy`,
		},
		{
			name:    "legacy tenant",
			policy:  func(p *Policy) *Policy { return legacy(p, nil) },
			wantWhy: "no eligible passkey profile: not migrated to passkey profiles: passkey types deviceBound (the prompt needs deviceBound and synced)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pol := readyPolicy()
			if tt.policy != nil {
				pol = tt.policy(pol)
			}
			p := member()
			if tt.person != nil {
				tt.person(p)
			}
			got, why := pol.Reaches(p)
			if got != tt.want || !strings.Contains(why, tt.wantWhy) {
				t.Errorf("Reaches = %v, %q; want %v, %q", got, why, tt.want, tt.wantWhy)
			}
		})
	}
}

// legacy turns p into a tenant that has not migrated to passkey profiles.
func legacy(p *Policy, kr *KeyRestrictions) *Policy {
	p.Passkey.Profiles, p.Passkey.DefaultPasskeyProfile = nil, ""
	for i := range p.Passkey.IncludeTargets {
		p.Passkey.IncludeTargets[i].AllowedPasskeyProfiles = nil
	}
	p.Passkey.LegacyKeyRestrictions = kr
	return p
}

func TestProfileEligible(t *testing.T) {
	tests := []struct {
		name    string
		profile PasskeyProfile
		want    bool
		wantWhy string
	}{
		{"open", PasskeyProfile{PasskeyTypes: []string{"deviceBound", "synced"}, AttestationEnforcement: "disabled"}, true, "device-bound and synced passkeys, no attestation, no AAGUID restriction"},
		{"unknown extra type kept", PasskeyProfile{PasskeyTypes: []string{"synced", "deviceBound", "unknownFutureValue"}}, true, ""},
		{"synced only", PasskeyProfile{PasskeyTypes: []string{"synced"}}, false, "passkey types synced (the prompt needs deviceBound and synced)"},
		{"no types", PasskeyProfile{}, false, "passkey types none"},
		{"attestation", PasskeyProfile{PasskeyTypes: []string{"deviceBound", "synced"}, AttestationEnforcement: "registrationOnly"}, false, "attestation enforced"},
		{"unknown attestation value", PasskeyProfile{PasskeyTypes: []string{"deviceBound", "synced"}, AttestationEnforcement: "always"}, false, `attestation enforcement "always"`},
		{"allow list", PasskeyProfile{PasskeyTypes: []string{"deviceBound", "synced"}, KeyRestrictions: &KeyRestrictions{IsEnforced: true, EnforcementType: "allow", AAGUIDs: []string{"x"}}}, false, "AAGUID allow list of 1"},
		{"empty allow list allows nothing", PasskeyProfile{PasskeyTypes: []string{"deviceBound", "synced"}, KeyRestrictions: &KeyRestrictions{IsEnforced: true, EnforcementType: "allow"}}, false, "AAGUID allow list of 0"},
		{"block list", PasskeyProfile{PasskeyTypes: []string{"deviceBound", "synced"}, KeyRestrictions: &KeyRestrictions{IsEnforced: true, EnforcementType: "block", AAGUIDs: []string{"x"}}}, false, "AAGUID block list of 1"},
		{"empty block list blocks nothing", PasskeyProfile{PasskeyTypes: []string{"deviceBound", "synced"}, KeyRestrictions: &KeyRestrictions{IsEnforced: true, EnforcementType: "block"}}, true, ""},
		{"list not enforced", PasskeyProfile{PasskeyTypes: []string{"deviceBound", "synced"}, KeyRestrictions: &KeyRestrictions{EnforcementType: "allow", AAGUIDs: []string{"x"}}}, true, ""},
		{"unknown enforcement type", PasskeyProfile{PasskeyTypes: []string{"deviceBound", "synced"}, KeyRestrictions: &KeyRestrictions{IsEnforced: true, EnforcementType: "audit", AAGUIDs: []string{"x"}}}, false, `AAGUID restriction "audit" of 1`},
		{"everything at once", PasskeyProfile{PasskeyTypes: []string{"deviceBound"}, AttestationEnforcement: "registrationOnly", KeyRestrictions: &KeyRestrictions{IsEnforced: true, EnforcementType: "allow", AAGUIDs: []string{"x", "y"}}}, false,
			"passkey types deviceBound (the prompt needs deviceBound and synced); attestation enforced; AAGUID allow list of 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.profile.ID = "p"
			pol := &Policy{Passkey: PasskeyMethod{Profiles: []PasskeyProfile{tt.profile}}}
			got, why := pol.ProfileEligible("P") // ids compare case-insensitively
			if got != tt.want || !strings.Contains(why, tt.wantWhy) {
				t.Errorf("ProfileEligible = %v, %q; want %v, %q", got, why, tt.want, tt.wantWhy)
			}
		})
	}
	var nilPolicy *Policy
	if ok, why := nilPolicy.ProfileEligible("p"); ok || why != "policy not read" {
		t.Errorf("nil policy: %v, %q", ok, why)
	}
}

func TestLegacyEligible(t *testing.T) {
	pol := legacy(readyPolicy(), &KeyRestrictions{IsEnforced: true, EnforcementType: "allow", AAGUIDs: []string{"x"}})
	pol.Passkey.IsAttestationEnforced = true
	if pol.Passkey.Migrated() {
		t.Fatal("Migrated() = true for a tenant without profiles")
	}
	ok, why := pol.LegacyEligible()
	want := "not migrated to passkey profiles: passkey types deviceBound (the prompt needs deviceBound and synced); attestation enforced; AAGUID allow list of 1"
	if ok || why != want {
		t.Errorf("LegacyEligible = %v, %q; want false, %q", ok, why, want)
	}
}

func TestPolicyGroups(t *testing.T) {
	pol := readyPolicy()
	pol.Campaign.IncludeTargets = append(pol.Campaign.IncludeTargets, CampaignTarget{ID: "u9", TargetType: "user", TargetedAuthenticationMethod: "fido2"}, CampaignTarget{ID: pilotGroup, TargetType: "group"})
	pol.Passkey.ExcludeTargets = append(pol.Passkey.ExcludeTargets, Target{ID: "G-TIER0", TargetType: "group"}, Target{ID: "u8", TargetType: "user"})
	if diff := cmp.Diff([]string{pilotGroup, breakGlass, tier0}, pol.Groups()); diff != "" {
		t.Errorf("Groups (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{breakGlass, "G-TIER0"}, pol.ExcludeGroups()); diff != "" {
		t.Errorf("ExcludeGroups (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"u9", "u8"}, pol.UserIDs()); diff != "" {
		t.Errorf("UserIDs (-want +got):\n%s", diff)
	}
	var none *Policy
	if none.Groups() != nil || none.ExcludeGroups() != nil || none.UserIDs() != nil || none.CampaignTargetsPasskeys() {
		t.Error("a nil policy names something")
	}
}

func TestCampaignStateName(t *testing.T) {
	for in, want := range map[string]string{"default": "Microsoft managed", "enabled": "Enabled", "disabled": "Disabled", "": "(not set)", "paused": `"paused"`} {
		if got := CampaignStateName(in); got != want {
			t.Errorf("CampaignStateName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestKeyRestrictionsDescribe(t *testing.T) {
	for _, tt := range []struct {
		k    *KeyRestrictions
		want string
	}{
		{nil, "none"},
		{&KeyRestrictions{EnforcementType: "allow", AAGUIDs: []string{"x"}}, "none"},
		{&KeyRestrictions{IsEnforced: true, EnforcementType: "allow", AAGUIDs: []string{"x", "y"}}, "allow list of 2"},
	} {
		if got := tt.k.Describe(); got != tt.want {
			t.Errorf("Describe(%+v) = %q, want %q", tt.k, got, tt.want)
		}
	}
}

func TestPhishingResistant(t *testing.T) {
	tests := []struct {
		name string
		s    *AuthenticationStrength
		want bool
	}{
		{"nil", nil, false},
		{"built-in by id alone", &AuthenticationStrength{ID: PhishingResistantStrengthID}, true},
		{"custom passkeys only", &AuthenticationStrength{ID: "c", AllowedCombinations: []string{"fido2"}}, true},
		{"custom with certificates and Hello", &AuthenticationStrength{ID: "c", AllowedCombinations: []string{"windowsHelloForBusiness", "x509CertificateMultiFactor", "x509CertificateSingleFactor, fido2"}}, true},
		{"custom with a password combination", &AuthenticationStrength{ID: "c", AllowedCombinations: []string{"fido2", "password, microsoftAuthenticatorPush"}}, false},
		{"built-in MFA", &AuthenticationStrength{ID: "00000000-0000-0000-0000-000000000002", AllowedCombinations: []string{"fido2", "password,sms"}}, false},
		{"custom with no combinations", &AuthenticationStrength{ID: "c"}, false},
		{"unknown mode alone", &AuthenticationStrength{ID: "c", AllowedCombinations: []string{"qrCodePin"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.s.PhishingResistant(); got != tt.want {
				t.Errorf("PhishingResistant() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRequiredStrength(t *testing.T) {
	ca := &ConditionalAccess{Strengths: []AuthenticationStrength{{ID: "c1", DisplayName: "Passkeys only", AllowedCombinations: []string{"fido2"}}}}
	tests := []struct {
		name      string
		grant     *GrantControls
		wantName  string
		wantCombs []string
		wantAlt   []string
	}{
		{"no grant controls", nil, "", nil, nil},
		{"no strength", &GrantControls{Operator: "OR", BuiltInControls: []string{"mfa"}}, "", nil, nil},
		{"strength by id is completed", &GrantControls{Operator: "OR", AuthenticationStrength: &AuthenticationStrength{ID: "c1"}}, "Passkeys only", []string{"fido2"}, nil},
		{"OR with mfa is not forced", &GrantControls{Operator: "OR", BuiltInControls: []string{"mfa"}, AuthenticationStrength: &AuthenticationStrength{ID: "c1", DisplayName: "Renamed"}}, "Renamed", []string{"fido2"}, []string{"mfa"}},
		{"AND with a compliant device", &GrantControls{Operator: "AND", BuiltInControls: []string{"compliantDevice"}, AuthenticationStrength: &AuthenticationStrength{ID: "c1"}}, "Passkeys only", []string{"fido2"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, alt := ca.RequiredStrength(&ConditionalAccessPolicy{Grant: tt.grant})
			var name string
			var combs []string
			if s != nil {
				name, combs = s.DisplayName, s.AllowedCombinations
			}
			if name != tt.wantName || !cmp.Equal(combs, tt.wantCombs) || !cmp.Equal(alt, tt.wantAlt) {
				t.Errorf("RequiredStrength = %q %v, %v; want %q %v, %v", name, combs, alt, tt.wantName, tt.wantCombs, tt.wantAlt)
			}
		})
	}
	// The tenant's list of strengths is left alone.
	if ca.Strengths[0].DisplayName != "Passkeys only" {
		t.Error("RequiredStrength changed the tenant's strength")
	}
}
