// Package directory defines the people a campaign talks to and the sources
// that produce them, independent of where the data comes from.
package directory

import (
	"context"
	"slices"
	"strings"
	"time"
)

// Authentication method names as Microsoft Graph reports them in
// userRegistrationDetails.methodsRegistered. Values nudge does not know are
// kept in Person.MethodsRegistered as they are.
const (
	MethodPasskeyDeviceBound              = "passKeyDeviceBound"
	MethodPasskeyDeviceBoundAuthenticator = "passKeyDeviceBoundAuthenticator"
	MethodPasskeyDeviceBoundWindowsHello  = "passKeyDeviceBoundWindowsHello"
	MethodPasskeySynced                   = "passKeySynced"
	MethodFIDO2SecurityKey                = "fido2SecurityKey"
	MethodWindowsHelloForBusiness         = "windowsHelloForBusiness"
	MethodAuthenticatorPush               = "microsoftAuthenticatorPush"
	MethodAuthenticatorPasswordless       = "microsoftAuthenticatorPasswordless"
	MethodSoftwareOTP                     = "softwareOneTimePasscode"
	MethodHardwareOTP                     = "hardwareOneTimePasscode"
	MethodMobilePhone                     = "mobilePhone"
	MethodEmail                           = "email"
	MethodTemporaryAccessPass             = "temporaryAccessPass"
	MethodCertificate                     = "x509CertificateMultiFactor"
)

// passkeyMethods are the methods that count as "has a passkey": every FIDO2
// credential, whether synced, device-bound in an authenticator app or on a
// security key.
var passkeyMethods = []string{
	MethodPasskeyDeviceBound,
	MethodPasskeyDeviceBoundAuthenticator,
	MethodPasskeyDeviceBoundWindowsHello,
	MethodPasskeySynced,
	MethodFIDO2SecurityKey,
}

// phishingResistantMethods are the methods allowed by Entra's built-in
// "Phishing-resistant MFA" authentication strength.
var phishingResistantMethods = append(slices.Clone(passkeyMethods),
	MethodWindowsHelloForBusiness,
	MethodCertificate,
)

// Person is one directory user with the facts audiences and templates need.
// Every string comes from the directory and is untrusted: renderers escape it
// for each output format.
type Person struct {
	ID                string
	UserPrincipalName string
	Mail              string
	DisplayName       string
	GivenName         string
	Surname           string
	PreferredLanguage string
	UsageLocation     string
	TimeZone          string // IANA zone when known, else empty
	Department        string
	JobTitle          string
	OfficeLocation    string
	Manager           string // manager's UPN when known
	AccountEnabled    bool
	UserType          string // "Member" or "Guest"

	// From the authentication methods registration report. HasRegistration
	// is false when the report has no row for the person.
	HasRegistration       bool
	IsAdmin               bool
	IsMFACapable          bool
	IsMFARegistered       bool
	IsPasswordlessCapable bool
	IsSSPRRegistered      bool
	MethodsRegistered     []string
	RegistrationUpdated   time.Time

	// Groups holds the ids and display names of the groups the person is a
	// (transitive) member of, among those the source read: the groups the
	// campaign names and the groups the passkey policy targets.
	Groups []string

	// MicrosoftNudge is true when Entra's own registration campaign can
	// prompt the person for a passkey at sign-in, as far as the tenant's
	// policy tells (see Policy.Reaches). Set by the source.
	MicrosoftNudge bool
}

// InGroup reports whether the person is a member of the group with this id
// or display name (case-insensitive).
func (p *Person) InGroup(idOrName string) bool {
	for _, g := range p.Groups {
		if strings.EqualFold(g, idOrName) {
			return true
		}
	}
	return false
}

// HasMethod reports whether the person registered the named method.
func (p *Person) HasMethod(name string) bool {
	return slices.Contains(p.MethodsRegistered, name)
}

// HasPasskey reports whether the person has any passkey (FIDO2) credential.
func (p *Person) HasPasskey() bool {
	for _, m := range passkeyMethods {
		if p.HasMethod(m) {
			return true
		}
	}
	return false
}

// PasskeyKind names the person's passkey in words for reports ("synced
// passkey", "security key", …), or "" without one. When there are several,
// the one a person is likeliest to use day to day is named.
func (p *Person) PasskeyKind() string {
	switch {
	case p.HasMethod(MethodPasskeySynced):
		return "synced passkey"
	case p.HasMethod(MethodPasskeyDeviceBoundAuthenticator):
		return "passkey in Microsoft Authenticator"
	case p.HasMethod(MethodFIDO2SecurityKey), p.HasMethod(MethodPasskeyDeviceBound):
		return "security key"
	case p.HasMethod(MethodPasskeyDeviceBoundWindowsHello):
		return "Windows Hello"
	}
	return ""
}

// HasPhishingResistant reports whether the person has a method that satisfies
// the built-in phishing-resistant MFA authentication strength.
func (p *Person) HasPhishingResistant() bool {
	for _, m := range phishingResistantMethods {
		if p.HasMethod(m) {
			return true
		}
	}
	return false
}

// IsGuest reports whether the person is a B2B guest.
func (p *Person) IsGuest() bool { return p.UserType == "Guest" }

// Problem is something wrong with one person's data that a source reports
// instead of failing: a user with no registration row, a registration row
// with no user.
type Problem struct {
	Who    string // UPN or id
	Source string // file or endpoint
	What   string
}

func (p Problem) String() string {
	if p.Source == "" {
		return p.Who + ": " + p.What
	}
	return p.Source + ": " + p.Who + ": " + p.What
}

// Directory is the result of reading a source: everyone, plus the problems
// found on the way and the tenant's authentication methods policy facts.
type Directory struct {
	People   []Person
	Problems []Problem
	Policy   *Policy
	// ConditionalAccess holds the Conditional Access policies and
	// authentication strengths, when the source read them.
	ConditionalAccess *ConditionalAccess
	// Groups are the groups whose transitive members the source read, so
	// that "not in Person.Groups" means "not a member" only for these.
	Groups []Group
	ReadAt time.Time // when the data was read from the tenant
}

// Group is a directory group whose members a source read.
type Group struct {
	ID          string
	DisplayName string
	Members     int // transitive members that are users
}

// KnowsGroup reports whether the source read the members of the group with
// this id or display name (case-insensitive).
func (d *Directory) KnowsGroup(idOrName string) bool {
	for _, g := range d.Groups {
		if strings.EqualFold(g.ID, idOrName) || strings.EqualFold(g.DisplayName, idOrName) {
			return true
		}
	}
	return false
}

// Source reads the directory.
type Source interface {
	Load(ctx context.Context) (*Directory, error)
}

// Streamer is a Source that can hand people over one at a time, so that
// memory does not grow with the size of the tenant. The Directory it
// returns carries everything but People. each must not keep p.
type Streamer interface {
	Stream(ctx context.Context, each func(p *Person) error) (*Directory, error)
}

// Policy holds the facts from the tenant's authentication methods policy
// that decide whether Entra's own registration campaign can prompt people.
type Policy struct {
	Passkey  PasskeyMethod
	Campaign RegistrationCampaign
}

// PasskeyMethod is the Passkey (FIDO2) authentication method configuration.
type PasskeyMethod struct {
	State                            string // "enabled" or "disabled"
	IsSelfServiceRegistrationAllowed bool
	IsAttestationEnforced            bool
	DefaultPasskeyProfile            string
	Profiles                         []PasskeyProfile
	IncludeTargets                   []Target
	ExcludeTargets                   []Target
	// LegacyKeyRestrictions is set for tenants not yet migrated to passkey
	// profiles, whose restrictions live on the method itself.
	LegacyKeyRestrictions *KeyRestrictions
}

// PasskeyProfile is one passkey profile of the FIDO2 method.
type PasskeyProfile struct {
	ID                     string
	Name                   string
	PasskeyTypes           []string // e.g. "deviceBound", "synced"
	AttestationEnforcement string
	KeyRestrictions        *KeyRestrictions
}

// KeyRestrictions is an AAGUID allow or block list.
type KeyRestrictions struct {
	IsEnforced      bool
	EnforcementType string // "allow" or "block"
	AAGUIDs         []string
}

// Target is an include or exclude target of a policy.
type Target struct {
	ID                     string // group id or "all_users"
	TargetType             string // "group" or "user"
	AllowedPasskeyProfiles []string
}

// RegistrationCampaign is the authenticationMethodsRegistrationCampaign.
type RegistrationCampaign struct {
	State                                  string // "default", "enabled", "disabled"
	SnoozeDurationInDays                   int
	EnforceRegistrationAfterAllowedSnoozes bool
	IncludeTargets                         []CampaignTarget
	ExcludeTargets                         []Target
}

// CampaignTarget is an include target of the registration campaign.
type CampaignTarget struct {
	ID                           string
	TargetType                   string
	TargetedAuthenticationMethod string
}
