package directory

import (
	"slices"
	"strings"
)

// ConditionalAccess holds the tenant's Conditional Access policies and
// authentication strengths: the second lever of a passkey rollout, which
// forces people to sign in with a phishing-resistant method. Shapes follow
// the Graph resource types conditionalAccessPolicy, conditionalAccessUsers,
// conditionalAccessGrantControls and authenticationStrengthPolicy.
type ConditionalAccess struct {
	Policies  []ConditionalAccessPolicy
	Strengths []AuthenticationStrength
}

// Conditional Access policy states (conditionalAccessPolicyState).
const (
	CAStateOn         = "enabled"
	CAStateReportOnly = "enabledForReportingButNotEnforced"
	CAStateOff        = "disabled"
)

// Special values of conditionalAccessUsers.includeUsers and excludeUsers.
const (
	CAAllUsers       = "All"
	CANoUsers        = "None"
	CAGuestsOrExtern = "GuestsOrExternalUsers"
)

// PhishingResistantStrengthID is the id of the built-in "Phishing-resistant
// MFA" authentication strength (Graph: List authenticationStrengthPolicies).
const PhishingResistantStrengthID = "00000000-0000-0000-0000-000000000004"

// phishingResistantModes are the authenticationMethodModes the built-in
// phishing-resistant strength allows: passkeys (fido2, synced or
// device-bound), Windows Hello for Business and certificate-based MFA.
var phishingResistantModes = []string{"fido2", "windowsHelloForBusiness", "x509CertificateMultiFactor"}

// ConditionalAccessPolicy is one Conditional Access policy, with what
// readiness needs: whom it applies to and what it requires.
type ConditionalAccessPolicy struct {
	ID          string
	DisplayName string
	State       string // CAStateOn, CAStateReportOnly, CAStateOff, or a value kept as is
	Users       ConditionalAccessUsers
	Grant       *GrantControls // nil for a policy with session controls only
}

// ConditionalAccessUsers are the users, groups and directory roles a policy
// includes and excludes. Roles are role template ids.
type ConditionalAccessUsers struct {
	IncludeUsers  []string // object ids, or All, None, GuestsOrExternalUsers
	ExcludeUsers  []string
	IncludeGroups []string
	ExcludeGroups []string
	IncludeRoles  []string
	ExcludeRoles  []string
	// Guest and external user kinds (Graph's guestOrExternalUserTypes flags,
	// e.g. "internalGuest,b2bCollaborationGuest"), "" when not set.
	IncludeGuestsOrExternalUsers string
	ExcludeGuestsOrExternalUsers string
}

// GrantControls are what a policy requires to grant access.
type GrantControls struct {
	Operator                    string   // "AND" or "OR"
	BuiltInControls             []string // block, mfa, compliantDevice, …
	CustomAuthenticationFactors []string
	AuthenticationStrength      *AuthenticationStrength
}

// AuthenticationStrength is an authentication strength policy: the
// combinations of methods that satisfy it.
type AuthenticationStrength struct {
	ID                    string
	DisplayName           string
	PolicyType            string // "builtIn" or "custom"
	RequirementsSatisfied string // "mfa" or "none"
	// AllowedCombinations are authenticationMethodModes joined by commas,
	// e.g. "fido2" or "password, microsoftAuthenticatorPush".
	AllowedCombinations []string
}

// PhishingResistant reports whether the strength only admits
// phishing-resistant sign-ins: the built-in one, or one every combination of
// which includes a passkey (fido2), Windows Hello for Business or a
// certificate with MFA. A strength with no known combinations is not.
func (s *AuthenticationStrength) PhishingResistant() bool {
	if s == nil {
		return false
	}
	if strings.EqualFold(s.ID, PhishingResistantStrengthID) {
		return true
	}
	if len(s.AllowedCombinations) == 0 {
		return false
	}
	for _, c := range s.AllowedCombinations {
		strong := false
		for m := range strings.SplitSeq(c, ",") {
			if slices.ContainsFunc(phishingResistantModes, func(v string) bool { return strings.EqualFold(v, strings.TrimSpace(m)) }) {
				strong = true
				break
			}
		}
		if !strong {
			return false
		}
	}
	return true
}

// Strength returns the authentication strength with this id, or nil.
func (ca *ConditionalAccess) Strength(id string) *AuthenticationStrength {
	if ca == nil {
		return nil
	}
	for i := range ca.Strengths {
		if strings.EqualFold(ca.Strengths[i].ID, id) {
			return &ca.Strengths[i]
		}
	}
	return nil
}

// RequiredStrength returns the authentication strength the policy requires,
// completed from the tenant's list of strengths when the policy carries only
// its id, or nil. alternatives are the other grant controls that satisfy
// the policy instead ("OR mfa"): with any, the strength is not forced.
func (ca *ConditionalAccess) RequiredStrength(p *ConditionalAccessPolicy) (s *AuthenticationStrength, alternatives []string) {
	if p.Grant == nil || p.Grant.AuthenticationStrength == nil {
		return nil, nil
	}
	s = p.Grant.AuthenticationStrength
	if full := ca.Strength(s.ID); full != nil && len(s.AllowedCombinations) == 0 {
		merged := *full
		if s.DisplayName != "" {
			merged.DisplayName = s.DisplayName
		}
		s = &merged
	}
	if !strings.EqualFold(p.Grant.Operator, "AND") {
		alternatives = append(append(alternatives, p.Grant.BuiltInControls...), p.Grant.CustomAuthenticationFactors...)
	}
	return s, alternatives
}
