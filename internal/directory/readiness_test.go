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
			name:   "only an attested device-bound profile: key restrictions not checked",
			policy: func(p *Policy) *Policy { p.Passkey.IncludeTargets = p.Passkey.IncludeTargets[1:]; return p },
			person: func(p *Person) { p.Groups = []string{tier0} },
			want:   true,
		},
		{
			name: "only a profile with an allow list of security keys",
			policy: func(p *Policy) *Policy {
				p.Passkey.IncludeTargets = p.Passkey.IncludeTargets[1:]
				p.Passkey.Profiles[1].AttestationEnforcement = "disabled"
				return p
			},
			person:  func(p *Person) { p.Groups = []string{tier0} },
			wantWhy: `no eligible passkey profile: "Tier 0": AAGUID allow list of 2 without iCloud Keychain, Google Password Manager, Microsoft Authenticator or Microsoft Entra passkey on Windows`,
		},
		{
			name: "the Enabled state takes any profile",
			policy: func(p *Policy) *Policy {
				p.Campaign.State = "enabled"
				p.Passkey.IncludeTargets = p.Passkey.IncludeTargets[1:]
				p.Passkey.Profiles[1].AttestationEnforcement = "disabled"
				return p
			},
			person: func(p *Person) { p.Groups = []string{tier0} },
			want:   true,
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
			wantWhy: "no eligible passkey profile: not migrated to passkey profiles, by which Microsoft decides whom to prompt; the Default passkey profile that migration makes of these settings would be eligible",
		},
		{
			name:    "legacy tenant in the Enabled state",
			policy:  func(p *Policy) *Policy { p.Campaign.State = "enabled"; return legacy(p, nil) },
			wantWhy: "no eligible passkey profile: not migrated to passkey profiles",
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

// AAGUIDs for the profile tests: two providers the Microsoft managed check
// knows, and a security key it does not.
const (
	aaguidGPM           = "ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4"
	aaguidAuthenticator = "90a3ccdf-635c-4729-a248-9b709135078f"
	aaguidYubiKey       = "cb69481e-8ff7-4039-93ec-0a2729a154a8"
)

func TestProfileEligible(t *testing.T) {
	both := []string{"deviceBound", "synced"}
	allow := func(ids ...string) *KeyRestrictions {
		return &KeyRestrictions{IsEnforced: true, EnforcementType: "allow", AAGUIDs: ids}
	}
	tests := []struct {
		name    string
		state   string // the campaign's; "" is Microsoft managed
		profile PasskeyProfile
		want    bool
		wantWhy string
	}{
		{"unrestricted", "", PasskeyProfile{PasskeyTypes: both, AttestationEnforcement: "disabled"}, true, "no AAGUID allow list"},
		{"unknown extra type kept", "", PasskeyProfile{PasskeyTypes: []string{"synced", "deviceBound", "unknownFutureValue"}}, true, ""},
		{"synced only", "", PasskeyProfile{PasskeyTypes: []string{"synced"}}, true, "no AAGUID allow list"},
		{"device-bound only", "", PasskeyProfile{PasskeyTypes: []string{"deviceBound"}, AttestationEnforcement: "disabled"}, true, ""},
		{"no types", "", PasskeyProfile{}, false, "passkey types none: neither device-bound nor synced"},
		{"no types, Enabled", "enabled", PasskeyProfile{}, false, "passkey types none"},
		{"attested device-bound", "", PasskeyProfile{PasskeyTypes: []string{"deviceBound"}, AttestationEnforcement: "registrationOnly"}, true, "attestation enforced (AAGUID lists are not checked)"},
		{"attested, list of security keys not checked", "", PasskeyProfile{PasskeyTypes: []string{"deviceBound"}, AttestationEnforcement: "registrationOnly", KeyRestrictions: allow(aaguidYubiKey)}, true, ""},
		{"attestation without device-bound", "", PasskeyProfile{PasskeyTypes: []string{"synced"}, AttestationEnforcement: "registrationOnly"}, false, "attestation enforced without device-bound passkeys"},
		{"unknown attestation value", "", PasskeyProfile{PasskeyTypes: both, AttestationEnforcement: "always"}, false, `attestation enforcement "always"`},
		{"allow list of security keys", "", PasskeyProfile{PasskeyTypes: both, KeyRestrictions: allow(aaguidYubiKey)}, false, "AAGUID allow list of 1 without iCloud Keychain"},
		{"allow list of security keys, Enabled", "enabled", PasskeyProfile{PasskeyTypes: both, KeyRestrictions: allow(aaguidYubiKey)}, true, "the Enabled state prompts people in any passkey profile"},
		{"allow list naming Google Password Manager", "", PasskeyProfile{PasskeyTypes: both, KeyRestrictions: allow(aaguidYubiKey, strings.ToUpper(aaguidGPM))}, true, "AAGUID allow list includes Google Password Manager"},
		{"Google Password Manager without synced passkeys", "", PasskeyProfile{PasskeyTypes: []string{"deviceBound"}, KeyRestrictions: allow(aaguidGPM)}, false, "AAGUID allow list of 1"},
		{"Authenticator, device-bound", "", PasskeyProfile{PasskeyTypes: []string{"deviceBound"}, KeyRestrictions: allow(aaguidAuthenticator)}, true, "includes Microsoft Authenticator"},
		{"empty allow list allows nothing", "", PasskeyProfile{PasskeyTypes: both, KeyRestrictions: allow()}, false, "AAGUID allow list of 0"},
		{"block list does not count", "", PasskeyProfile{PasskeyTypes: both, KeyRestrictions: &KeyRestrictions{IsEnforced: true, EnforcementType: "block", AAGUIDs: []string{aaguidGPM}}}, true, "no AAGUID allow list"},
		{"list not enforced", "", PasskeyProfile{PasskeyTypes: both, KeyRestrictions: &KeyRestrictions{EnforcementType: "allow", AAGUIDs: []string{aaguidYubiKey}}}, true, ""},
		{"unknown enforcement type", "", PasskeyProfile{PasskeyTypes: both, KeyRestrictions: &KeyRestrictions{IsEnforced: true, EnforcementType: "audit", AAGUIDs: []string{"x"}}}, false, `AAGUID restriction "audit" of 1`},
		{"campaign off: judged as Microsoft managed", "disabled", PasskeyProfile{PasskeyTypes: both, KeyRestrictions: allow(aaguidYubiKey)}, false, "AAGUID allow list of 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.profile.ID = "p"
			state := tt.state
			if state == "" {
				state = "default"
			}
			pol := &Policy{Passkey: PasskeyMethod{Profiles: []PasskeyProfile{tt.profile}}, Campaign: RegistrationCampaign{State: state}}
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
	const prefix = "not migrated to passkey profiles, by which Microsoft decides whom to prompt; the Default passkey profile that migration makes of these settings "
	tests := []struct {
		name     string
		attested bool
		kr       *KeyRestrictions
		want     string
	}{
		{"open", false, nil, prefix + "would be eligible"},
		{"attested, with an allow list", true, &KeyRestrictions{IsEnforced: true, EnforcementType: "allow", AAGUIDs: []string{aaguidYubiKey}}, prefix + "would be eligible"},
		{"allow list of security keys", false, &KeyRestrictions{IsEnforced: true, EnforcementType: "allow", AAGUIDs: []string{aaguidYubiKey}},
			prefix + "would not be eligible either: AAGUID allow list of 1 without iCloud Keychain, Google Password Manager, Microsoft Authenticator or Microsoft Entra passkey on Windows for the passkey types allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pol := legacy(readyPolicy(), tt.kr)
			pol.Passkey.IsAttestationEnforced = tt.attested
			if pol.Passkey.Migrated() {
				t.Fatal("Migrated() = true for a tenant without profiles")
			}
			ok, why := pol.LegacyEligible()
			if ok || why != tt.want {
				t.Errorf("LegacyEligible = %v, %q; want false, %q", ok, why, tt.want)
			}
		})
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
