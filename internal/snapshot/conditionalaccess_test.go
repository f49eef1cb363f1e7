package snapshot

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/nudge-passkeys/nudge/internal/directory"
)

// caPolicies is GET /identity/conditionalAccess/policies as Graph returns
// it (shortened: conditions other than users left out), over two pages.
const caPolicies = `{
  "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#identity/conditionalAccess/policies",
  "@odata.nextLink": "conditionalAccessPolicies-002.json",
  "value": [
    {
      "id": "p1",
      "templateId": null,
      "displayName": "Require phishing-resistant MFA for admins",
      "createdDateTime": "2026-09-01T10:00:00.0000000Z",
      "modifiedDateTime": null,
      "state": "enabled",
      "conditions": {
        "userRiskLevels": [],
        "clientAppTypes": ["all"],
        "applications": {"includeApplications": ["All"], "excludeApplications": []},
        "users": {
          "includeUsers": [],
          "excludeUsers": [],
          "includeGroups": [],
          "excludeGroups": ["g-breakglass"],
          "includeRoles": ["62e90394-69f5-4237-9190-012177145e10"],
          "excludeRoles": [],
          "includeGuestsOrExternalUsers": null,
          "excludeGuestsOrExternalUsers": null
        }
      },
      "grantControls": {
        "operator": "OR",
        "builtInControls": [],
        "customAuthenticationFactors": [],
        "termsOfUse": [],
        "authenticationStrength@odata.context": "https://graph.microsoft.com/v1.0/$metadata#identity/conditionalAccess/policies('p1')/grantControls/authenticationStrength/$entity",
        "authenticationStrength": {
          "id": "00000000-0000-0000-0000-000000000004",
          "displayName": "Phishing-resistant MFA",
          "policyType": "builtIn",
          "requirementsSatisfied": "mfa",
          "allowedCombinations": ["windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor"]
        }
      },
      "sessionControls": null
    }
  ]
}`

const caPolicies2 = `{
  "value": [
    {
      "id": "p2",
      "displayName": "Guests: MFA",
      "state": "enabledForReportingButNotEnforced",
      "conditions": {"users": {
        "includeUsers": [],
        "includeGuestsOrExternalUsers": {"guestOrExternalUserTypes": "internalGuest,b2bCollaborationGuest", "externalTenants": {"membershipKind": "all"}}
      }},
      "grantControls": {"operator": "OR", "builtInControls": ["mfa"]}
    },
    {"id": "p3", "displayName": "Sign-in frequency", "state": "somethingNew", "conditions": {}, "grantControls": null}
  ]
}`

const strengths = `{
  "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#policies/authenticationStrengthPolicies",
  "value": [
    {
      "id": "00000000-0000-0000-0000-000000000004",
      "createdDateTime": "2022-09-30T10:59:01Z",
      "modifiedDateTime": "2022-09-30T10:59:01Z",
      "displayName": "Phishing-resistant MFA",
      "description": "Phishing-resistant, Passwordless methods for the strongest authentication, such as a FIDO2 security key",
      "policyType": "builtIn",
      "requirementsSatisfied": "mfa",
      "allowedCombinations": ["windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor"],
      "combinationConfigurations@odata.context": "https://graph.microsoft.com/v1.0/$metadata#policies/authenticationStrengthPolicies('00000000-0000-0000-0000-000000000004')/combinationConfigurations",
      "combinationConfigurations": []
    },
    {
      "id": "c1",
      "displayName": "Passkeys only",
      "policyType": "custom",
      "requirementsSatisfied": "mfa",
      "allowedCombinations": ["fido2"]
    }
  ]
}`

func TestReadConditionalAccess(t *testing.T) {
	fsys := mapFS(map[string]string{
		"snap/" + ConditionalAccessFile:           caPolicies,
		"snap/conditionalAccessPolicies-002.json": caPolicies2,
		"snap/" + StrengthsFile:                   strengths,
	})
	got, err := ReadConditionalAccess(fsys, "snap", "tenant")
	if err != nil {
		t.Fatal(err)
	}
	phish := &directory.AuthenticationStrength{
		ID: directory.PhishingResistantStrengthID, DisplayName: "Phishing-resistant MFA", PolicyType: "builtIn", RequirementsSatisfied: "mfa",
		AllowedCombinations: []string{"windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor"},
	}
	want := &directory.ConditionalAccess{
		Policies: []directory.ConditionalAccessPolicy{
			{
				ID: "p1", DisplayName: "Require phishing-resistant MFA for admins", State: directory.CAStateOn,
				Users: directory.ConditionalAccessUsers{
					IncludeUsers: []string{}, ExcludeUsers: []string{}, IncludeGroups: []string{}, ExcludeGroups: []string{"g-breakglass"},
					IncludeRoles: []string{"62e90394-69f5-4237-9190-012177145e10"}, ExcludeRoles: []string{},
				},
				Grant: &directory.GrantControls{Operator: "OR", BuiltInControls: []string{}, CustomAuthenticationFactors: []string{}, AuthenticationStrength: phish},
			},
			{
				ID: "p2", DisplayName: "Guests: MFA", State: directory.CAStateReportOnly,
				Users: directory.ConditionalAccessUsers{IncludeUsers: []string{}, IncludeGuestsOrExternalUsers: "internalGuest,b2bCollaborationGuest"},
				Grant: &directory.GrantControls{Operator: "OR", BuiltInControls: []string{"mfa"}},
			},
			// An unknown state is kept as data.
			{ID: "p3", DisplayName: "Sign-in frequency", State: "somethingNew"},
		},
		Strengths: []directory.AuthenticationStrength{*phish, {ID: "c1", DisplayName: "Passkeys only", PolicyType: "custom", RequirementsSatisfied: "mfa", AllowedCombinations: []string{"fido2"}}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestReadConditionalAccessOptional(t *testing.T) {
	got, err := ReadConditionalAccess(mapFS(map[string]string{"users.json": page("")}), ".", "tenant")
	if got != nil || err != nil {
		t.Errorf("empty folder: %v, %v; want nil, nil", got, err)
	}
	// Either file alone is enough.
	got, err = ReadConditionalAccess(mapFS(map[string]string{StrengthsFile: strengths}), ".", "tenant")
	if err != nil || got == nil || len(got.Policies) != 0 || len(got.Strengths) != 2 {
		t.Errorf("strengths only: %+v, %v", got, err)
	}
}

func TestReadConditionalAccessErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{
			"syntax error",
			map[string]string{ConditionalAccessFile: "{\"value\": [\n  {\"id\": \"p1\",,}\n]}"},
			"snapshot: snap/conditionalAccessPolicies.json:2:15: invalid character ','",
		},
		{
			"wrong type",
			map[string]string{StrengthsFile: "{\"value\": [\n  {\"id\": \"s\", \"allowedCombinations\": \"fido2\"}\n]}"},
			"snapshot: snap/authenticationStrengthPolicies.json:2:3: allowedCombinations is a JSON string where Graph sends an array",
		},
		{
			"state not a string",
			map[string]string{ConditionalAccessFile: "{\"value\": [\n  {\"id\": \"p\",\n   \"state\": 1}\n]}"},
			"conditionalAccessPolicies.json:2:3: state is a JSON number where Graph sends a string",
		},
		{
			"missing next page",
			map[string]string{ConditionalAccessFile: page("conditionalAccessPolicies-002.json")},
			"snap/conditionalAccessPolicies.json: @odata.nextLink names conditionalAccessPolicies-002.json, which is not in the folder",
		},
		{
			"not a collection",
			map[string]string{StrengthsFile: `{"id": "x"}`},
			`snap/authenticationStrengthPolicies.json: no "value" array`,
		},
		{
			"cut off",
			map[string]string{ConditionalAccessFile: "{\"value\": [\n  {\"id\": \"p1\""},
			"conditionalAccessPolicies.json:2:3: unexpected end of file (was the file cut off while saving?)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadConditionalAccess(mapFS(tt.files), ".", "snap")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want it to contain %q", err, tt.want)
			}
		})
	}
}
