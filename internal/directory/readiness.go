package directory

// Whether Entra's own registration campaign can prompt a person for a
// passkey. The rules follow Microsoft's current documentation, not the
// April 2026 seed of this project nor the message-center posts that came
// before the documentation:
//
//   - "Run a registration campaign to set up a passkey or Microsoft
//     Authenticator", updated 2026-09-02,
//     https://learn.microsoft.com/entra/identity/authentication/how-to-mfa-registration-campaign:
//     the campaign targets one method at a time; the passkey prompt follows
//     an MFA sign-in with any method; the tenant needs the Passkey (FIDO2)
//     method enabled with self-service setup, and the people targeted must be
//     in scope of it; include and exclude lists, exclude wins; guests are not
//     prompted for passkeys. Eligibility depends on the campaign state:
//     Enabled prompts people in any passkey profile; Microsoft managed only
//     people in at least one profile that passes its check (no AAGUID allow
//     list; an allow list naming iCloud Keychain, Google Password Manager,
//     Microsoft Authenticator or Microsoft Entra passkey on Windows; or
//     device-bound with attestation enforced, whose list is not looked at).
//     Block lists do not count. In the Microsoft managed state Microsoft also
//     sets the snooze (1 day, unlimited for passkeys) and the method.
//   - Graph resource types authenticationMethodsRegistrationCampaign and
//     authenticationMethodsRegistrationCampaignIncludeTarget (state default,
//     enabled or disabled; targetedAuthenticationMethod fido2),
//     fido2AuthenticationMethodConfiguration (defaultPasskeyProfile,
//     passkeyProfiles; keyRestrictions and isAttestationEnforced on the
//     method are the settings of a tenant not migrated to profiles),
//     passkeyProfile (passkeyTypes, attestationEnforcement, keyRestrictions)
//     and passkeyAuthenticationMethodTarget (allowedPasskeyProfiles).
//
// This replaces the rule of message center post MC1279092 (April 2026) that
// the code followed first: a profile had to allow both device-bound and
// synced passkeys with no attestation and no AAGUID list, in both states.
//
// Where the documentation leaves room, the answer is no. Someone wrongly
// counted as prompted by Microsoft might be skipped by a campaign and hear
// nothing; someone wrongly counted as not prompted only gets an email they
// could have done without. So a tenant not migrated to passkey profiles is
// not eligible (the documentation judges people by their profiles, and has
// none to judge), and a campaign whose include targets name another method
// prompts nobody for a passkey, even in the Microsoft managed state where
// Microsoft chooses the method.

import (
	"fmt"
	"slices"
	"strings"
)

// Values of the authentication methods policy that readiness depends on, in
// Graph's spelling.
const (
	AllUsers = "all_users" // the include or exclude target that means everyone

	StateEnabled  = "enabled"  // a method's state, and the campaign's "Enabled"
	StateDisabled = "disabled" // a method's or the campaign's state
	// CampaignMicrosoftManaged is the campaign state the admin center calls
	// "Microsoft managed".
	CampaignMicrosoftManaged = "default"

	TargetFIDO2 = "fido2" // targetedAuthenticationMethod for passkeys

	PasskeyTypeDeviceBound = "deviceBound"
	PasskeyTypeSynced      = "synced"

	AttestationDisabled         = "disabled"
	AttestationRegistrationOnly = "registrationOnly"

	KeyRestrictionAllow = "allow"
	KeyRestrictionBlock = "block"
)

// promptProvider is a passkey provider whose AAGUID on an allow list makes
// a passkey profile eligible for the Microsoft managed campaign, with the
// passkey type the profile must allow for it to count: Microsoft's
// documentation pairs iCloud Keychain and Google Password Manager with
// synced passkeys, and Microsoft Authenticator and Microsoft Entra passkey
// on Windows with device-bound ones.
type promptProvider struct {
	aaguid, name, passkeyType string
}

// promptProviders are the AAGUIDs of those providers: Windows Hello's from
// https://learn.microsoft.com/entra/identity/authentication/how-to-authentication-entra-passkeys-on-windows,
// Microsoft Authenticator's from Microsoft's passkey (FIDO2) documentation,
// Apple's and Google's from the community-kept list of passkey provider
// AAGUIDs (https://github.com/passkeydeveloper/passkey-authenticator-aaguids).
var promptProviders = []promptProvider{
	{"fbfc3007-154e-4ecc-8c0b-6e020557d7bd", "iCloud Keychain", PasskeyTypeSynced},
	{"dd4ec289-e01d-41c9-bb89-70fa845d4bf2", "iCloud Keychain", PasskeyTypeSynced}, // managed Apple accounts
	{"ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4", "Google Password Manager", PasskeyTypeSynced},
	{"90a3ccdf-635c-4729-a248-9b709135078f", "Microsoft Authenticator", PasskeyTypeDeviceBound}, // iOS
	{"de1e552d-db1d-4423-a619-566b625cdc84", "Microsoft Authenticator", PasskeyTypeDeviceBound}, // Android
	{"08987058-cadc-4b81-b6e1-30de50dcbe96", "Microsoft Entra passkey on Windows", PasskeyTypeDeviceBound},
	{"9ddd1817-af5a-4672-a2b9-3e3dd95000a9", "Microsoft Entra passkey on Windows", PasskeyTypeDeviceBound},
	{"6028b017-b1d4-4c02-b4b3-afcdafc96bb2", "Microsoft Entra passkey on Windows", PasskeyTypeDeviceBound},
}

// Migrated reports whether the tenant uses passkey profiles. A tenant that
// has not migrated keeps its restrictions on the method itself
// (LegacyKeyRestrictions, IsAttestationEnforced).
func (pk *PasskeyMethod) Migrated() bool {
	return len(pk.Profiles) > 0 || pk.DefaultPasskeyProfile != ""
}

// Profile returns the passkey profile with this id, or nil.
func (pk *PasskeyMethod) Profile(id string) *PasskeyProfile {
	for i := range pk.Profiles {
		if strings.EqualFold(pk.Profiles[i].ID, id) {
			return &pk.Profiles[i]
		}
	}
	return nil
}

// TargetProfiles returns the ids of the passkey profiles an include target
// allows. A target of a migrated tenant that names none gets the default
// profile; a tenant that has not migrated has no profiles, and nil is
// returned.
func (pk *PasskeyMethod) TargetProfiles(t Target) []string {
	if len(t.AllowedPasskeyProfiles) > 0 {
		return t.AllowedPasskeyProfiles
	}
	if pk.DefaultPasskeyProfile != "" {
		return []string{pk.DefaultPasskeyProfile}
	}
	return nil
}

// ProfileEligible reports whether people given the passkey profile with
// this id can be prompted by the registration campaign in its current
// state, and why (the setting that stops it, or what makes it eligible).
// The Enabled state takes any profile; any other state is judged by the
// Microsoft managed rules, the state a campaign that is off would most
// likely be switched to.
func (pol *Policy) ProfileEligible(id string) (ok bool, why string) {
	if pol == nil {
		return false, "policy not read"
	}
	prof := pol.Passkey.Profile(id)
	if prof == nil {
		return false, fmt.Sprintf("passkey profile %s is not in the policy", id)
	}
	return pol.profileEligible(prof.PasskeyTypes, prof.AttestationEnforcement, prof.KeyRestrictions)
}

// LegacyEligible is ProfileEligible for a tenant that has not migrated to
// passkey profiles. Microsoft judges people by their passkey profiles, and
// such a tenant has none, so it is never eligible; the reason says whether
// the Default passkey profile that migration makes of the method's settings
// would be (attestation enforced gives device-bound passkeys only, otherwise
// device-bound and synced; the AAGUID list carries over: message center
// post MC1221452).
func (pol *Policy) LegacyEligible() (ok bool, why string) {
	if pol == nil {
		return false, "policy not read"
	}
	types, att := []string{PasskeyTypeDeviceBound, PasskeyTypeSynced}, AttestationDisabled
	if pol.Passkey.IsAttestationEnforced {
		types, att = []string{PasskeyTypeDeviceBound}, AttestationRegistrationOnly
	}
	after := "would be eligible"
	if ok, why := pol.profileEligible(types, att, pol.Passkey.LegacyKeyRestrictions); !ok {
		after = "would not be eligible either: " + why
	}
	return false, "not migrated to passkey profiles, by which Microsoft decides whom to prompt; the Default passkey profile that migration makes of these settings " + after
}

// profileEligible applies the rules of the campaign's state to one
// profile's settings. Values nudge does not know are named in the reason
// and count as not eligible, not as errors.
func (pol *Policy) profileEligible(types []string, attestation string, kr *KeyRestrictions) (bool, string) {
	hasType := func(t string) bool {
		return slices.ContainsFunc(types, func(v string) bool { return strings.EqualFold(v, t) })
	}
	deviceBound, synced := hasType(PasskeyTypeDeviceBound), hasType(PasskeyTypeSynced)
	if !deviceBound && !synced {
		list := strings.Join(types, ",")
		if list == "" {
			list = "none"
		}
		return false, fmt.Sprintf("passkey types %s: neither device-bound nor synced", list)
	}
	if strings.EqualFold(pol.Campaign.State, StateEnabled) {
		return true, "the Enabled state prompts people in any passkey profile"
	}
	// The Microsoft managed check.
	switch {
	case strings.EqualFold(attestation, AttestationRegistrationOnly):
		if !deviceBound {
			return false, "attestation enforced without device-bound passkeys"
		}
		return true, "device-bound passkeys with attestation enforced (AAGUID lists are not checked)"
	case attestation != "" && !strings.EqualFold(attestation, AttestationDisabled):
		return false, fmt.Sprintf("attestation enforcement %q", attestation)
	}
	switch {
	case kr == nil || !kr.IsEnforced || strings.EqualFold(kr.EnforcementType, KeyRestrictionBlock):
		// A block list does not count for the prompt.
		return true, "no AAGUID allow list"
	case !strings.EqualFold(kr.EnforcementType, KeyRestrictionAllow):
		return false, fmt.Sprintf("AAGUID restriction %q of %d", kr.EnforcementType, len(kr.AAGUIDs))
	}
	var names []string
	for _, a := range kr.AAGUIDs {
		for _, pp := range promptProviders {
			if strings.EqualFold(strings.TrimSpace(a), pp.aaguid) && hasType(pp.passkeyType) && !slices.Contains(names, pp.name) {
				names = append(names, pp.name)
			}
		}
	}
	if len(names) > 0 {
		return true, "AAGUID allow list includes " + strings.Join(names, ", ")
	}
	return false, fmt.Sprintf("AAGUID allow list of %d without iCloud Keychain, Google Password Manager, Microsoft Authenticator or Microsoft Entra passkey on Windows for the passkey types allowed", len(kr.AAGUIDs))
}

// restricts describes the AAGUID restriction k imposes, or "" when it
// imposes none: not enforced, or an enforced block list that blocks nothing.
func (k *KeyRestrictions) restricts() string {
	if k == nil || !k.IsEnforced {
		return ""
	}
	n := len(k.AAGUIDs)
	switch {
	case strings.EqualFold(k.EnforcementType, KeyRestrictionBlock) && n == 0:
		return ""
	case strings.EqualFold(k.EnforcementType, KeyRestrictionAllow), strings.EqualFold(k.EnforcementType, KeyRestrictionBlock):
		return fmt.Sprintf("AAGUID %s list of %d", strings.ToLower(k.EnforcementType), n)
	default:
		return fmt.Sprintf("AAGUID restriction %q of %d", k.EnforcementType, n)
	}
}

// Describe summarises an AAGUID restriction for reports: "none", or "allow
// list of 2".
func (k *KeyRestrictions) Describe() string {
	if r := k.restricts(); r != "" {
		return strings.TrimPrefix(r, "AAGUID ")
	}
	return "none"
}

// CampaignOn reports whether the registration campaign runs: Microsoft
// managed (API value default) or Enabled. Any other value, known or not,
// means it does not, and why says so.
func (pol *Policy) CampaignOn() (ok bool, why string) {
	if pol == nil {
		return false, "policy not read"
	}
	switch s := pol.Campaign.State; {
	case strings.EqualFold(s, CampaignMicrosoftManaged), strings.EqualFold(s, StateEnabled):
		return true, "registration campaign is " + CampaignStateName(s)
	case strings.EqualFold(s, StateDisabled):
		return false, "registration campaign is disabled"
	case s == "":
		return false, "registration campaign state not in the policy"
	default:
		return false, fmt.Sprintf("registration campaign state %q is not one nudge knows", s)
	}
}

// CampaignStateName is how the admin center names a campaign state.
func CampaignStateName(state string) string {
	switch {
	case strings.EqualFold(state, CampaignMicrosoftManaged):
		return "Microsoft managed"
	case strings.EqualFold(state, StateEnabled):
		return "Enabled"
	case strings.EqualFold(state, StateDisabled):
		return "Disabled"
	case state == "":
		return "(not set)"
	}
	return fmt.Sprintf("%q", state)
}

// CampaignTargetsPasskeys reports whether an include target of the campaign
// names passkeys (fido2) as the method to register. A campaign targets one
// method at a time, so a campaign for Microsoft Authenticator prompts
// nobody for a passkey.
func (pol *Policy) CampaignTargetsPasskeys() bool {
	if pol == nil {
		return false
	}
	for _, t := range pol.Campaign.IncludeTargets {
		if strings.EqualFold(t.TargetedAuthenticationMethod, TargetFIDO2) {
			return true
		}
	}
	return false
}

// Covers reports whether a target with this id takes in the person: the
// all_users target, the person's own object id (user targets, which
// Microsoft no longer recommends) or a group the person is in. Group
// membership is only known for the groups the source read.
func Covers(id string, p *Person) bool {
	return strings.EqualFold(id, AllUsers) || strings.EqualFold(id, p.ID) || p.InGroup(id)
}

// Reaches reports whether Entra's own registration campaign can prompt the
// person for a passkey at their next sign-in, as far as the policy and the
// person's data tell, and why not (or, when it can, a short "why"). It
// cannot know the person's devices: the prompt is also suppressed per
// operating system and browser.
func (pol *Policy) Reaches(p *Person) (ok bool, why string) {
	if pol == nil {
		return false, "policy not read"
	}
	// The person.
	switch {
	case p.IsGuest():
		return false, "guest: Entra does not prompt guests"
	case !p.AccountEnabled:
		return false, "account disabled"
	}
	// The tenant.
	if !strings.EqualFold(pol.Passkey.State, StateEnabled) {
		return false, "Passkey (FIDO2) method is " + methodState(pol.Passkey.State)
	}
	if !pol.Passkey.IsSelfServiceRegistrationAllowed {
		return false, "self-service passkey setup is not allowed"
	}
	if on, why := pol.CampaignOn(); !on {
		return false, why
	}
	if !pol.CampaignTargetsPasskeys() {
		return false, "registration campaign does not target passkeys (fido2)"
	}
	// The person again: the prompt comes after an MFA sign-in, to people
	// who have not registered the method yet.
	switch {
	case p.HasPasskey():
		return false, "already has a passkey"
	case !p.HasRegistration:
		return false, "no registration details: MFA state unknown"
	case !p.IsMFACapable:
		return false, "not MFA-capable: the prompt follows an MFA sign-in"
	}
	// Targeting; exclude wins over include, in both lists.
	for _, t := range pol.Campaign.ExcludeTargets {
		if Covers(t.ID, p) {
			return false, "excluded from the registration campaign"
		}
	}
	for _, t := range pol.Passkey.ExcludeTargets {
		if Covers(t.ID, p) {
			return false, "excluded from the Passkey (FIDO2) method"
		}
	}
	included := false
	for _, t := range pol.Campaign.IncludeTargets {
		if strings.EqualFold(t.TargetedAuthenticationMethod, TargetFIDO2) && Covers(t.ID, p) {
			included = true
			break
		}
	}
	if !included {
		return false, "not in the registration campaign's passkey targets"
	}
	targeted, firstWhy := false, ""
	for _, t := range pol.Passkey.IncludeTargets {
		if !Covers(t.ID, p) {
			continue
		}
		targeted = true
		if ok, why := pol.TargetEligible(t); ok {
			return true, "campaign on, targeted, eligible passkey profile"
		} else if firstWhy == "" {
			firstWhy = why
		}
	}
	if !targeted {
		return false, "not in the Passkey (FIDO2) method's include targets"
	}
	return false, "no eligible passkey profile: " + firstWhy
}

// TargetEligible reports whether a FIDO2 include target allows at least one
// eligible passkey profile, and why not (the first profile's reason).
func (pol *Policy) TargetEligible(t Target) (bool, string) {
	if pol == nil {
		return false, "policy not read"
	}
	if !pol.Passkey.Migrated() {
		return pol.LegacyEligible()
	}
	firstWhy := "the target allows no passkey profile"
	for i, id := range pol.Passkey.TargetProfiles(t) {
		ok, why := pol.ProfileEligible(id)
		if ok {
			return true, why
		}
		if i == 0 {
			name := id
			if prof := pol.Passkey.Profile(id); prof != nil && prof.Name != "" {
				name = prof.Name
			}
			firstWhy = fmt.Sprintf("%q: %s", name, why)
		}
	}
	return false, firstWhy
}

// methodState names a method state for reasons, keeping unknown values as
// data.
func methodState(s string) string {
	if s == "" {
		return "not configured"
	}
	if strings.EqualFold(s, StateDisabled) {
		return StateDisabled
	}
	return fmt.Sprintf("%q", s)
}

// Groups returns the ids of the groups the policy's targets name, include
// and exclude, campaign and FIDO2, once each, in policy order: the groups a
// source must read for Reaches to be right.
func (pol *Policy) Groups() []string {
	if pol == nil {
		return nil
	}
	var ids []string
	add := func(id string) {
		if id == "" || strings.EqualFold(id, AllUsers) || slices.ContainsFunc(ids, func(v string) bool { return strings.EqualFold(v, id) }) {
			return
		}
		ids = append(ids, id)
	}
	for _, t := range pol.Campaign.IncludeTargets {
		if !strings.EqualFold(t.TargetType, "user") {
			add(t.ID)
		}
	}
	for _, list := range [][]Target{pol.Campaign.ExcludeTargets, pol.Passkey.IncludeTargets, pol.Passkey.ExcludeTargets} {
		for _, t := range list {
			if !strings.EqualFold(t.TargetType, "user") {
				add(t.ID)
			}
		}
	}
	return ids
}

// ExcludeGroups returns the ids of the groups the campaign or the FIDO2
// method exclude.
func (pol *Policy) ExcludeGroups() []string {
	if pol == nil {
		return nil
	}
	var ids []string
	for _, list := range [][]Target{pol.Campaign.ExcludeTargets, pol.Passkey.ExcludeTargets} {
		for _, t := range list {
			if !strings.EqualFold(t.TargetType, "user") && !strings.EqualFold(t.ID, AllUsers) && !slices.Contains(ids, t.ID) {
				ids = append(ids, t.ID)
			}
		}
	}
	return ids
}

// UserIDs returns the object ids of the users the policy targets one by
// one, include and exclude.
func (pol *Policy) UserIDs() []string {
	if pol == nil {
		return nil
	}
	var ids []string
	for _, t := range pol.Campaign.IncludeTargets {
		if strings.EqualFold(t.TargetType, "user") {
			ids = append(ids, t.ID)
		}
	}
	for _, list := range [][]Target{pol.Campaign.ExcludeTargets, pol.Passkey.IncludeTargets, pol.Passkey.ExcludeTargets} {
		for _, t := range list {
			if strings.EqualFold(t.TargetType, "user") {
				ids = append(ids, t.ID)
			}
		}
	}
	return ids
}
