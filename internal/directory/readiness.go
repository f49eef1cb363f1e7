package directory

// Whether Entra's own registration campaign can prompt a person for a
// passkey. The rules follow Microsoft's documentation, not the April 2026
// seed of this project:
//
//   - "Run a registration campaign to set up a passkey or Microsoft
//     Authenticator" (Microsoft Learn): the campaign targets one method at a
//     time; the prompt follows a completed MFA sign-in; include and exclude
//     lists, exclude wins.
//   - Message center MC1279092 "Microsoft Entra: Passkeys in registration
//     campaigns update" (updated 23 April 2026): passkeys are supported in
//     both the Enabled and the Microsoft managed state; the tenant needs the
//     Passkey (FIDO2) method enabled with self-service setup; people are
//     prompted when their passkey profile allows device-bound and synced
//     passkeys with no restriction (attestation, AAGUID list). A restriction
//     on one profile no longer takes the whole tenant out.
//   - Graph resource types authenticationMethodsRegistrationCampaign and
//     authenticationMethodsRegistrationCampaignIncludeTarget (state default,
//     enabled or disabled; targetedAuthenticationMethod fido2),
//     fido2AuthenticationMethodConfiguration (defaultPasskeyProfile,
//     passkeyProfiles; keyRestrictions on the method is the legacy setting),
//     passkeyProfile (passkeyTypes, attestationEnforcement, keyRestrictions)
//     and passkeyAuthenticationMethodTarget (allowedPasskeyProfiles).
//
// Where the documentation leaves room, the answer is no. Someone wrongly
// counted as prompted by Microsoft might be skipped by a campaign and hear
// nothing; someone wrongly counted as not prompted only gets an email they
// could have done without. So a restricted profile is not eligible even in
// the Enabled state, where Microsoft says the prompt may still appear but
// its registration experience may not fit the profile: those people are
// better served by the campaign's own guides.

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
// this id can be prompted by the registration campaign, and why (the
// restrictions that stop it, or what makes it eligible).
func (pol *Policy) ProfileEligible(id string) (ok bool, why string) {
	if pol == nil {
		return false, "policy not read"
	}
	prof := pol.Passkey.Profile(id)
	if prof == nil {
		return false, fmt.Sprintf("passkey profile %s is not in the policy", id)
	}
	return profileEligible(prof.PasskeyTypes, prof.AttestationEnforcement, prof.KeyRestrictions)
}

// LegacyEligible is ProfileEligible for a tenant that has not migrated to
// passkey profiles: the method's own settings act as one implicit profile.
// Before profiles, the method offered device-bound passkeys only, and
// Microsoft's prompt needs synced passkeys allowed too, so such a tenant is
// never eligible; the reason says what to change.
func (pol *Policy) LegacyEligible() (ok bool, why string) {
	if pol == nil {
		return false, "policy not read"
	}
	att := AttestationDisabled
	if pol.Passkey.IsAttestationEnforced {
		att = AttestationRegistrationOnly
	}
	ok, why = profileEligible([]string{PasskeyTypeDeviceBound}, att, pol.Passkey.LegacyKeyRestrictions)
	return ok, "not migrated to passkey profiles: " + why
}

// profileEligible applies MC1279092's rule to one profile's settings.
// Values nudge does not know are named in the reason, not treated as
// errors.
func profileEligible(types []string, attestation string, kr *KeyRestrictions) (bool, string) {
	var problems []string
	hasType := func(t string) bool {
		return slices.ContainsFunc(types, func(v string) bool { return strings.EqualFold(v, t) })
	}
	if !hasType(PasskeyTypeDeviceBound) || !hasType(PasskeyTypeSynced) {
		list := strings.Join(types, ",")
		if list == "" {
			list = "none"
		}
		problems = append(problems, fmt.Sprintf("passkey types %s (the prompt needs deviceBound and synced)", list))
	}
	switch {
	case attestation == "" || strings.EqualFold(attestation, AttestationDisabled):
	case strings.EqualFold(attestation, AttestationRegistrationOnly):
		problems = append(problems, "attestation enforced")
	default:
		problems = append(problems, fmt.Sprintf("attestation enforcement %q", attestation))
	}
	if r := kr.restricts(); r != "" {
		problems = append(problems, r)
	}
	if len(problems) > 0 {
		return false, strings.Join(problems, "; ")
	}
	return true, "device-bound and synced passkeys, no attestation, no AAGUID restriction"
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
