package main

// Groups and Conditional Access of the demo tenant: the groups the
// authentication methods policy and the Conditional Access policies name,
// two groups a campaign could name, their members, and the policies and
// authentication strengths for the readiness report.
//
// Membership comes from its own PCG stream, seeded apart from the one that
// makes people, so adding these files left users.json and the registration
// report byte for byte as they were.

import (
	"math/rand/v2"
	"time"
)

// Files written, with the Graph requests whose responses they hold.
const (
	groupsBase       = "groups"                         // GET /groups?$select=id,displayName (the groups read)
	groupMembersBase = "groupMembers-"                  // GET /groups/{id}/transitiveMembers/microsoft.graph.user?$select=id,userPrincipalName
	caBase           = "conditionalAccessPolicies"      // GET /identity/conditionalAccess/policies
	strengthsBase    = "authenticationStrengthPolicies" // GET /policies/authenticationStrengthPolicies
)

// Fixed object ids of the groups a campaign could name, and of the
// tenant's own objects, so that the files do not change with -n.
const (
	pilotGroupID = "5d2a8c41-7e3b-4f90-a6d1-93c0b8e4f217"
	salesGroupID = "e7b43f09-2c6d-4a18-b5e3-0f9d71a6c842"

	adminsCAID     = "1f6a3c9e-84b2-4d07-9e5a-c2b7d0f41a63"
	everyoneCAID   = "a4d07e52-3b91-4c6f-8a2e-5e18f9c3b7d0"
	legacyAuthCAID = "c9e25b18-6f47-4a3d-b0c1-7d84e2a9f065"
	passkeysOnlyID = "3b8e6d21-9c4f-4e7a-a1d5-60f2c8b94e17"

	phishingResistantID = "00000000-0000-0000-0000-000000000004"
)

// demoGroup is one group and how its members are picked.
type demoGroup struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
	members     func(p *person, rng *rand.Rand) bool
}

// demoGroups are in the order groups.json lists them. Each pick draws from
// rng for every person, member or not, so that one group's rule never
// shifts another's draws.
var demoGroups = []demoGroup{
	// Tier 0 admins get the strict passkey profile.
	{ID: tier0GroupID, DisplayName: "Tier 0 admins", members: func(p *person, rng *rand.Rand) bool {
		return rng.IntN(100) < 50 && p.admin
	}},
	// Break-glass accounts: excluded from the campaign and every policy.
	{ID: breakGlassID, DisplayName: "Break-glass accounts", members: func(p *person, rng *rand.Rand) bool {
		return rng.IntN(100) < 25 && p.admin
	}},
	{ID: pilotGroupID, DisplayName: "Pilot – Passkeys", members: func(p *person, rng *rand.Rand) bool {
		return rng.IntN(100) < 40 && (p.department == "IT" || p.department == "Engineering")
	}},
	{ID: salesGroupID, DisplayName: "Sales team", members: func(p *person, rng *rand.Rand) bool {
		rng.IntN(100)
		return p.department == "Sales"
	}},
}

// groupMember is one row of GET /groups/{id}/transitiveMembers/microsoft.graph.user.
type groupMember struct {
	ODataType         string `json:"@odata.type"`
	ID                string `json:"id"`
	UserPrincipalName string `json:"userPrincipalName"`
}

// writeGroupsAndCA writes groups.json, one groupMembers-<id>.json chain per
// group, and the Conditional Access files.
func writeGroupsAndCA(o options, people []person) error {
	rng := rand.New(rand.NewPCG(o.seed^0xbb67ae8584caa73b, o.seed^0x3c6ef372fe94f82b))
	members := make([][]any, len(demoGroups))
	for i := range people {
		p := &people[i]
		for g := range demoGroups {
			if demoGroups[g].members(p, rng) {
				members[g] = append(members[g], groupMember{ODataType: "#microsoft.graph.user", ID: p.id, UserPrincipalName: p.upn})
			}
		}
	}
	groups := make([]any, len(demoGroups))
	for i, g := range demoGroups {
		groups[i] = g
	}
	if err := writePages(o.out, groupsBase, graphPrefix+"groups(id,displayName)", groups, o.page); err != nil {
		return err
	}
	for i, g := range demoGroups {
		if err := writePages(o.out, groupMembersBase+g.ID, graphPrefix+"users(id,userPrincipalName)", members[i], o.page); err != nil {
			return err
		}
	}
	if err := writePages(o.out, caBase, graphPrefix+"identity/conditionalAccess/policies", demoCAPolicies(o.now), o.page); err != nil {
		return err
	}
	return writePages(o.out, strengthsBase, graphPrefix+"policies/authenticationStrengthPolicies", demoStrengths(o.now), o.page)
}

// strength is an authenticationStrengthPolicy as Graph returns it.
type strength struct {
	ID                        string   `json:"id"`
	CreatedDateTime           string   `json:"createdDateTime"`
	ModifiedDateTime          string   `json:"modifiedDateTime"`
	DisplayName               string   `json:"displayName"`
	Description               string   `json:"description"`
	PolicyType                string   `json:"policyType"`
	RequirementsSatisfied     string   `json:"requirementsSatisfied"`
	AllowedCombinations       []string `json:"allowedCombinations"`
	CombinationConfigurations []any    `json:"combinationConfigurations"`
}

// The built-in strengths are the same in every tenant (Graph: List
// authenticationStrengthPolicies); Contoso adds one of its own.
func demoStrengths(now time.Time) []any {
	builtIn := "2021-12-01T00:00:00Z"
	custom := now.Add(-60 * 24 * time.Hour).Format(time.RFC3339)
	return []any{
		strength{
			ID: "00000000-0000-0000-0000-000000000002", CreatedDateTime: builtIn, ModifiedDateTime: builtIn,
			DisplayName: "Multifactor authentication", Description: "Combinations of methods that satisfy strong authentication, such as a password + SMS",
			PolicyType: "builtIn", RequirementsSatisfied: "mfa",
			AllowedCombinations: []string{
				"windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor", "deviceBasedPush", "temporaryAccessPassOneTime", "temporaryAccessPassMultiUse",
				"password,microsoftAuthenticatorPush", "password,softwareOath", "password,hardwareOath", "password,sms", "password,voice",
				"federatedMultiFactor", "microsoftAuthenticatorPush,federatedSingleFactor", "softwareOath,federatedSingleFactor",
				"hardwareOath,federatedSingleFactor", "sms,federatedSingleFactor", "voice,federatedSingleFactor",
			},
			CombinationConfigurations: []any{},
		},
		strength{
			ID: "00000000-0000-0000-0000-000000000003", CreatedDateTime: builtIn, ModifiedDateTime: builtIn,
			DisplayName: "Passwordless MFA", Description: "Passwordless methods that satisfy strong authentication, such as Passwordless sign-in with the Microsoft Authenticator",
			PolicyType: "builtIn", RequirementsSatisfied: "mfa",
			AllowedCombinations:       []string{"windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor", "deviceBasedPush"},
			CombinationConfigurations: []any{},
		},
		phishingResistant(),
		strength{
			ID: passkeysOnlyID, CreatedDateTime: custom, ModifiedDateTime: custom,
			DisplayName: "Passkeys only", Description: "Contoso: a passkey, synced or on a security key",
			PolicyType: "custom", RequirementsSatisfied: "mfa",
			AllowedCombinations:       []string{"fido2"},
			CombinationConfigurations: []any{},
		},
	}
}

func phishingResistant() strength {
	builtIn := "2021-12-01T00:00:00Z"
	return strength{
		ID: phishingResistantID, CreatedDateTime: builtIn, ModifiedDateTime: builtIn,
		DisplayName: "Phishing-resistant MFA", Description: "Phishing-resistant, Passwordless methods for the strongest authentication, such as a FIDO2 security key",
		PolicyType: "builtIn", RequirementsSatisfied: "mfa",
		AllowedCombinations:       []string{"windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor"},
		CombinationConfigurations: []any{},
	}
}

// Conditional Access policy shapes (Graph v1.0), with every property a
// list returns so that the file reads like a real pull.
type (
	caPolicy struct {
		ID               string      `json:"id"`
		TemplateID       *string     `json:"templateId"`
		DisplayName      string      `json:"displayName"`
		CreatedDateTime  string      `json:"createdDateTime"`
		ModifiedDateTime *string     `json:"modifiedDateTime"`
		State            string      `json:"state"`
		SessionControls  any         `json:"sessionControls"`
		Conditions       caCondition `json:"conditions"`
		GrantControls    caGrant     `json:"grantControls"`
	}
	caCondition struct {
		UserRiskLevels             []string `json:"userRiskLevels"`
		SignInRiskLevels           []string `json:"signInRiskLevels"`
		ClientAppTypes             []string `json:"clientAppTypes"`
		ServicePrincipalRiskLevels []string `json:"servicePrincipalRiskLevels"`
		Platforms                  any      `json:"platforms"`
		Locations                  any      `json:"locations"`
		Devices                    any      `json:"devices"`
		ClientApplications         any      `json:"clientApplications"`
		Applications               caApps   `json:"applications"`
		Users                      caUsers  `json:"users"`
	}
	caApps struct {
		IncludeApplications []string `json:"includeApplications"`
		ExcludeApplications []string `json:"excludeApplications"`
		IncludeUserActions  []string `json:"includeUserActions"`
	}
	caUsers struct {
		IncludeUsers                 []string  `json:"includeUsers"`
		ExcludeUsers                 []string  `json:"excludeUsers"`
		IncludeGroups                []string  `json:"includeGroups"`
		ExcludeGroups                []string  `json:"excludeGroups"`
		IncludeRoles                 []string  `json:"includeRoles"`
		ExcludeRoles                 []string  `json:"excludeRoles"`
		IncludeGuestsOrExternalUsers *caGuests `json:"includeGuestsOrExternalUsers"`
		ExcludeGuestsOrExternalUsers *caGuests `json:"excludeGuestsOrExternalUsers"`
	}
	caGuests struct {
		GuestOrExternalUserTypes string `json:"guestOrExternalUserTypes"`
		ExternalTenants          struct {
			ODataType      string `json:"@odata.type"`
			MembershipKind string `json:"membershipKind"`
		} `json:"externalTenants"`
	}
	caGrant struct {
		Operator                    string    `json:"operator"`
		BuiltInControls             []string  `json:"builtInControls"`
		CustomAuthenticationFactors []string  `json:"customAuthenticationFactors"`
		TermsOfUse                  []string  `json:"termsOfUse"`
		StrengthContext             string    `json:"authenticationStrength@odata.context,omitempty"`
		AuthenticationStrength      *strength `json:"authenticationStrength"`
	}
)

// Role template ids, the same in every tenant.
var adminRoles = []string{
	"62e90394-69f5-4237-9190-012177145e10", // Global Administrator
	"e8611ab8-c189-46e8-94e1-60213ab1f814", // Privileged Role Administrator
	"7be44c8a-adaf-4e2a-84d6-ab2649e08a13", // Privileged Authentication Administrator
	"194ae4cb-b126-40b2-bd5b-6091b380977d", // Security Administrator
	"b1be1c3e-b65d-4f19-8427-f6fa0d97feb9", // Conditional Access Administrator
	"29232cdf-9323-42fd-ade2-1d097af3e4de", // Exchange Administrator
	"f28a1f50-f6e7-4571-818b-6a12f2af6b6c", // SharePoint Administrator
	"fe930be7-5e62-47db-91af-98c3a49a38b1", // User Administrator
}

// demoCAPolicies: admins must use a phishing-resistant method (on), everyone
// is measured against "Passkeys only" (report-only, the next step of the
// rollout), and an unrelated policy blocks legacy authentication.
func demoCAPolicies(now time.Time) []any {
	at := func(daysAgo int) string {
		return now.Add(-time.Duration(daysAgo) * 24 * time.Hour).Format("2006-01-02T15:04:05.0000000Z07:00")
	}
	modified := at(20)
	conditions := func(users caUsers, clientApps ...string) caCondition {
		if len(clientApps) == 0 {
			clientApps = []string{"all"}
		}
		users.fill()
		return caCondition{
			UserRiskLevels: []string{}, SignInRiskLevels: []string{}, ServicePrincipalRiskLevels: []string{},
			ClientAppTypes: clientApps,
			Applications:   caApps{IncludeApplications: []string{"All"}, ExcludeApplications: []string{}, IncludeUserActions: []string{}},
			Users:          users,
		}
	}
	grant := func(policyID string, s *strength, controls ...string) caGrant {
		g := caGrant{Operator: "OR", BuiltInControls: append([]string{}, controls...), CustomAuthenticationFactors: []string{}, TermsOfUse: []string{}, AuthenticationStrength: s}
		if s != nil {
			g.StrengthContext = graphPrefix + "identity/conditionalAccess/policies('" + policyID + "')/grantControls/authenticationStrength/$entity"
		}
		return g
	}
	noGuests := &caGuests{GuestOrExternalUserTypes: "internalGuest,b2bCollaborationGuest,b2bCollaborationMember,b2bDirectConnectUser,otherExternalUser,serviceProvider"}
	noGuests.ExternalTenants.ODataType = "#microsoft.graph.conditionalAccessAllExternalTenants"
	noGuests.ExternalTenants.MembershipKind = "all"
	pr := phishingResistant()
	passkeys := demoStrengths(now)[3].(strength)
	return []any{
		caPolicy{
			ID: adminsCAID, DisplayName: "Require phishing-resistant MFA for admins", CreatedDateTime: at(90), ModifiedDateTime: &modified,
			State:         "enabled",
			Conditions:    conditions(caUsers{IncludeRoles: adminRoles, ExcludeGroups: []string{breakGlassID}}),
			GrantControls: grant(adminsCAID, &pr),
		},
		caPolicy{
			ID: everyoneCAID, DisplayName: "Passkeys for everyone (report-only)", CreatedDateTime: at(14),
			State:         "enabledForReportingButNotEnforced",
			Conditions:    conditions(caUsers{IncludeUsers: []string{"All"}, ExcludeGroups: []string{breakGlassID}, ExcludeGuestsOrExternalUsers: noGuests}),
			GrantControls: grant(everyoneCAID, &passkeys),
		},
		caPolicy{
			ID: legacyAuthCAID, DisplayName: "Block legacy authentication", CreatedDateTime: at(400),
			State:         "enabled",
			Conditions:    conditions(caUsers{IncludeUsers: []string{"All"}, ExcludeGroups: []string{breakGlassID}}, "exchangeActiveSync", "other"),
			GrantControls: grant(legacyAuthCAID, nil, "block"),
		},
	}
}

// fill gives every list property an empty array where it has none, as
// Graph does.
func (u *caUsers) fill() {
	for _, l := range []*[]string{&u.IncludeUsers, &u.ExcludeUsers, &u.IncludeGroups, &u.ExcludeGroups, &u.IncludeRoles, &u.ExcludeRoles} {
		if *l == nil {
			*l = []string{}
		}
	}
}
