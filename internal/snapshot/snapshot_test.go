package snapshot

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/nudge-passkeys/nudge/internal/directory"
)

func demoTenant() *Source {
	return &Source{FS: os.DirFS("../../content"), Dir: "demo-tenant", Name: "content/demo-tenant"}
}

// class puts a person in exactly one of the groups the demo tenant is built
// from.
func class(p *directory.Person) string {
	switch {
	case !p.AccountEnabled:
		return "disabled"
	case p.IsGuest():
		return "guest"
	case p.IsAdmin:
		return "admin"
	case p.HasPasskey():
		return "passkey"
	case !p.IsMFACapable:
		return "noMFA"
	default:
		return "mfaWithoutPasskey"
	}
}

func TestLoadDemoTenant(t *testing.T) {
	d, err := demoTenant().Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Problems) != 0 {
		t.Errorf("problems in the demo tenant: %v", d.Problems)
	}

	got := map[string]int{}
	for i := range d.People {
		p := &d.People[i]
		got[class(p)]++
		if p.Mail == "" {
			got["noMail"]++
		}
		if p.HasMethod("passKeyFutureKind") {
			got["unknownMethod"]++
		}
		if !p.AccountEnabled && p.HasRegistration {
			t.Errorf("%s: disabled but has a registration row; Graph's report leaves disabled users out", p.UserPrincipalName)
		}
	}
	// 300 generated people plus one per hostile name (30), all of which
	// land in the main audience.
	want := map[string]int{
		"mfaWithoutPasskey": 198,
		"passkey":           60,
		"admin":             15,
		"noMFA":             36,
		"disabled":          12,
		"guest":             9,
		"noMail":            2,
		"unknownMethod":     2,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}

	// More people than one 200-row page holds: the second page was read.
	if _, err := os.Stat("../../content/demo-tenant/users-002.json"); err != nil {
		t.Errorf("demo tenant should span two users pages: %v", err)
	}
	if len(d.People) <= 200 {
		t.Errorf("read %d people: second users page not followed", len(d.People))
	}

	// Every hostile name arrives as it is.
	var hostile []struct{ ID, DisplayName string }
	data, err := os.ReadFile("demogen/hostile-names.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &hostile); err != nil {
		t.Fatal(err)
	}
	byUPN := map[string]*directory.Person{}
	for i := range d.People {
		byUPN[d.People[i].UserPrincipalName] = &d.People[i]
	}
	for _, h := range hostile {
		p := byUPN["hostile."+h.ID+"@contoso.example"]
		if p == nil {
			t.Errorf("hostile name %s missing", h.ID)
			continue
		}
		if p.DisplayName != h.DisplayName || p.GivenName != h.DisplayName || !p.HasRegistration || class(p) != "mfaWithoutPasskey" {
			t.Errorf("hostile %s: got displayName %q givenName %q class %s", h.ID, p.DisplayName, p.GivenName, class(p))
		}
	}

	if d.Policy == nil {
		t.Fatal("demo tenant has no policy")
	}
	if want := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC); !d.ReadAt.Before(want) || d.ReadAt.IsZero() {
		t.Errorf("ReadAt = %v, want the newest lastUpdatedDateTime, before %v", d.ReadAt, want)
	}
}

// page builds a Graph collection page; next goes before "value" as Graph
// puts it.
func page(next string, rows ...string) string {
	s := "{\n  \"@odata.context\": \"https://graph.microsoft.com/v1.0/$metadata#users\",\n"
	if next != "" {
		s += "  \"@odata.nextLink\": \"" + next + "\",\n"
	}
	return s + "  \"value\": [\n    " + strings.Join(rows, ",\n    ") + "\n  ]\n}\n"
}

func user(id string, enabled bool) string {
	e := "true"
	if !enabled {
		e = "false"
	}
	return `{"id": "` + id + `", "userPrincipalName": "` + id + `@contoso.example", "mail": null, "accountEnabled": ` + e + `, "userType": "Member"}`
}

func reg(id string, methods ...string) string {
	m, _ := json.Marshal(append([]string{}, methods...))
	return `{"id": "` + id + `", "userPrincipalName": "` + id + `@contoso.example", "userType": "member", "isMfaCapable": true, "methodsRegistered": ` + string(m) + `, "lastUpdatedDateTime": "2026-11-01T10:00:00.123Z"}`
}

func mapFS(files map[string]string) fstest.MapFS {
	fsys := fstest.MapFS{}
	for name, data := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(data)}
	}
	return fsys
}

func ids(people []directory.Person) []string {
	var out []string
	for _, p := range people {
		out = append(out, p.ID)
	}
	return out
}

func TestLoadPaging(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string
		wantIDs []string
	}{
		{
			name: "one page",
			files: map[string]string{
				UsersFile:        page("", user("a", true), user("b", true)),
				RegistrationFile: page("", reg("b"), reg("a")),
			},
			wantIDs: []string{"a", "b"},
		},
		{
			name: "three pages, order kept",
			files: map[string]string{
				UsersFile:                          page("users-002.json", user("c", true), user("a", true)),
				"users-002.json":                   page("users-003.json", user("b", true)),
				"users-003.json":                   page("", user("d", true)),
				RegistrationFile:                   page("userRegistrationDetails-002.json", reg("d"), reg("a")),
				"userRegistrationDetails-002.json": page("", reg("b"), reg("c")),
			},
			wantIDs: []string{"c", "a", "b", "d"},
		},
		{
			name: "nextLink after value, ./ prefix, other annotations",
			files: map[string]string{
				UsersFile:        `{"value": [` + user("a", true) + `], "@odata.count": 2, "@odata.nextLink": "./more.json"}`,
				"more.json":      `{"@odata.context": {"nested": [1, 2]}, "value": [` + user("b", true) + `], "@odata.nextLink": null}`,
				RegistrationFile: page("", reg("a"), reg("b")),
			},
			wantIDs: []string{"a", "b"},
		},
		{
			name: "empty collection",
			files: map[string]string{
				UsersFile:        `{"value": []}`,
				RegistrationFile: `{"value": []}`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := (&Source{FS: mapFS(tt.files), Dir: "."}).Load(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantIDs, ids(d.People)); diff != "" {
				t.Errorf("people (-want +got):\n%s", diff)
			}
			if len(d.Problems) != 0 {
				t.Errorf("problems: %v", d.Problems)
			}
			for _, p := range d.People {
				if !p.HasRegistration {
					t.Errorf("%s: registration row not joined", p.ID)
				}
			}
		})
	}
}

func TestLoadMapping(t *testing.T) {
	files := map[string]string{
		UsersFile: page("", `{"id": "u1", "userPrincipalName": "ann@contoso.example", "mail": "ann@contoso.example",
			"displayName": "<b>Ann</b>", "givenName": "Ann", "surname": "Lee", "preferredLanguage": "fr-FR",
			"usageLocation": "FR", "department": "Legal", "jobTitle": "Paralegal", "officeLocation": "Lyon",
			"accountEnabled": true, "userType": "Member"}`,
			`{"id": "u2", "userPrincipalName": "x_fabrikam.example#EXT#@contoso.example", "mail": null, "displayName": "X"}`),
		RegistrationFile: page("",
			`{"id": "u1", "userType": "member", "isAdmin": true, "isSsprRegistered": true, "isMfaRegistered": true,
			"isMfaCapable": true, "isPasswordlessCapable": true, "methodsRegistered": ["passKeySynced", "passKeyFutureKind"],
			"lastUpdatedDateTime": "2026-11-01T10:00:00.1234567Z", "someNewProperty": {"x": 1}}`,
			`{"id": "u2", "userType": "guest", "methodsRegistered": null}`),
	}
	d, err := (&Source{FS: mapFS(files)}).Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := []directory.Person{
		{
			ID: "u1", UserPrincipalName: "ann@contoso.example", Mail: "ann@contoso.example",
			DisplayName: "<b>Ann</b>", GivenName: "Ann", Surname: "Lee", PreferredLanguage: "fr-FR",
			UsageLocation: "FR", Department: "Legal", JobTitle: "Paralegal", OfficeLocation: "Lyon",
			AccountEnabled: true, UserType: "Member",
			HasRegistration: true, IsAdmin: true, IsMFACapable: true, IsMFARegistered: true,
			IsPasswordlessCapable: true, IsSSPRRegistered: true,
			MethodsRegistered:   []string{"passKeySynced", "passKeyFutureKind"},
			RegistrationUpdated: time.Date(2026, 11, 1, 10, 0, 0, 123456700, time.UTC),
		},
		{
			// accountEnabled and userType not selected: enabled, and the
			// report's signInUserType fills the type.
			ID: "u2", UserPrincipalName: "x_fabrikam.example#EXT#@contoso.example", DisplayName: "X",
			AccountEnabled: true, UserType: "Guest", HasRegistration: true,
		},
	}
	if diff := cmp.Diff(want, d.People); diff != "" {
		t.Errorf("people (-want +got):\n%s", diff)
	}
	if d.Policy != nil {
		t.Errorf("Policy = %+v, want nil without %s", d.Policy, PolicyFile)
	}
}

func TestLoadProblems(t *testing.T) {
	files := map[string]string{
		UsersFile: page("users-002.json",
			user("ok", true),
			user("noRow", true),
			user("disabledNoRow", false),
			`{"userPrincipalName": "noid@contoso.example"}`,
		),
		"users-002.json": page("", user("ok", true), user("badTime", true), user("twice", true)),
		RegistrationFile: page("",
			reg("ok"),
			reg("ghost"),
			reg("twice"), reg("twice"),
			`{"id": "badTime", "lastUpdatedDateTime": "yesterday"}`,
		),
	}
	d, err := (&Source{FS: mapFS(files), Name: "snap"}).Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := []directory.Problem{
		{Who: "twice@contoso.example", Source: "snap/userRegistrationDetails.json", What: "second registration row: left out"},
		{Who: "badTime", Source: "snap/userRegistrationDetails.json", What: `lastUpdatedDateTime "yesterday" is not an RFC 3339 time: left empty`},
		{Who: "noRow@contoso.example", Source: "snap/users.json", What: "no row in userRegistrationDetails.json: registration state unknown"},
		{Who: "noid@contoso.example", Source: "snap/users.json", What: "user has no id: left out"},
		{Who: "ok@contoso.example", Source: "snap/users-002.json", What: "user appears twice: second row left out"},
		{Who: "ghost@contoso.example", Source: "snap/userRegistrationDetails.json", What: "registration row for nobody in users.json: left out (is users.json from the same pull?)"},
	}
	if diff := cmp.Diff(want, d.Problems); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"ok", "noRow", "disabledNoRow", "badTime", "twice"}, ids(d.People)); diff != "" {
		t.Errorf("people (-want +got):\n%s", diff)
	}
}

func TestLoadErrors(t *testing.T) {
	okReg := page("", reg("a"))
	tests := []struct {
		name  string
		files map[string]string
		want  []string // substrings of the error
	}{
		{
			name:  "not JSON",
			files: map[string]string{UsersFile: "{\n  \"value\": [\n    {\"id\": x}\n  ]\n}\n", RegistrationFile: okReg},
			want:  []string{"snapshot: snap/users.json:3:12: invalid character 'x' looking for beginning of value (is this a Graph JSON response saved as-is?)"},
		},
		{
			name:  "HTML error page saved instead",
			files: map[string]string{UsersFile: "<!DOCTYPE html>", RegistrationFile: okReg},
			want:  []string{"snap/users.json:1:1: invalid character '<'"},
		},
		{
			name:  "character column counts characters",
			files: map[string]string{UsersFile: `{"value": [{"displayName": "Zoë 👩‍💻", "id": x}]}`, RegistrationFile: okReg},
			want:  []string{"snap/users.json:1:45: invalid character 'x'"},
		},
		{
			name:  "wrong type",
			files: map[string]string{UsersFile: "{\"value\": [\n  {\"id\": \"a\",\n   \"accountEnabled\": \"yes\"}]}", RegistrationFile: okReg},
			want:  []string{"snap/users.json:2:3: accountEnabled is a JSON string where Graph sends true or false"},
		},
		{
			name:  "row is not an object",
			files: map[string]string{UsersFile: "{\"value\": [\n  42]}", RegistrationFile: okReg},
			want:  []string{"snap/users.json:2:3: row is a JSON number where Graph sends an object"},
		},
		{
			name:  "truncated",
			files: map[string]string{UsersFile: "{\"value\": [\n  {\"id\": \"a\"", RegistrationFile: okReg},
			want:  []string{"snap/users.json:2:", "unexpected end of file (was the file cut off while saving?)"},
		},
		{
			name:  "top level is an array",
			files: map[string]string{UsersFile: "\n [" + user("a", true) + "]", RegistrationFile: okReg},
			want:  []string{"snap/users.json:2:2: the file holds an array, not a Graph response object"},
		},
		{
			name:  "value is an object",
			files: map[string]string{UsersFile: `{"value": {"id": "a"}}`, RegistrationFile: okReg},
			want:  []string{`snap/users.json:1:11: "value" is "{", not an array`},
		},
		{
			name:  "no value",
			files: map[string]string{UsersFile: `{"id": "a", "displayName": "single user, not a collection"}`, RegistrationFile: okReg},
			want:  []string{`snapshot: snap/users.json: no "value" array`},
		},
		{
			name:  "trailing data",
			files: map[string]string{UsersFile: page("", user("a", true)) + "{}", RegistrationFile: okReg},
			want:  []string{"snap/users.json:", "more data after the end"},
		},
		{
			name:  "no users.json",
			files: map[string]string{RegistrationFile: okReg},
			want:  []string{"snapshot: snap: no users.json: a snapshot folder holds users.json and userRegistrationDetails.json, optionally authenticationMethodsPolicy.json"},
		},
		{
			name:  "no registration report",
			files: map[string]string{UsersFile: page("", user("a", true))},
			want:  []string{"snapshot: snap: no userRegistrationDetails.json next to users.json"},
		},
		{
			name:  "nextLink to a missing page",
			files: map[string]string{UsersFile: page("users-002.json", user("a", true)), RegistrationFile: okReg},
			want:  []string{"snapshot: snap/users.json: @odata.nextLink names users-002.json, which is not in the folder"},
		},
		{
			name:  "nextLink leaves the folder",
			files: map[string]string{UsersFile: page("../secrets/users.json", user("a", true)), RegistrationFile: okReg},
			want:  []string{`snap/users.json: @odata.nextLink "../secrets/users.json" leaves the snapshot folder`},
		},
		{
			name:  "nextLink leaves the folder after cleaning",
			files: map[string]string{UsersFile: page("pages/../../x.json", user("a", true)), RegistrationFile: okReg},
			want:  []string{`leaves the snapshot folder`},
		},
		{
			name:  "nextLink absolute",
			files: map[string]string{UsersFile: page("/etc/passwd", user("a", true)), RegistrationFile: okReg},
			want:  []string{`"/etc/passwd" leaves the snapshot folder`},
		},
		{
			name:  "nextLink Windows path",
			files: map[string]string{UsersFile: page(`..\\x.json`, user("a", true)), RegistrationFile: okReg},
			want:  []string{`leaves the snapshot folder`},
		},
		{
			name:  "nextLink still a Graph URL",
			files: map[string]string{UsersFile: page("https://graph.microsoft.com/v1.0/users?$skiptoken=X", user("a", true)), RegistrationFile: okReg},
			want:  []string{`is a URL, not a file name in this folder`},
		},
		{
			name: "nextLink loop",
			files: map[string]string{
				UsersFile:        page("users-002.json", user("a", true)),
				"users-002.json": page("users.json", user("b", true)),
				RegistrationFile: okReg,
			},
			want: []string{`snapshot: snap/users-002.json: @odata.nextLink "users.json" points back to a page already read: the pages form a loop`},
		},
		{
			name:  "nextLink to itself",
			files: map[string]string{UsersFile: page("./users.json", user("a", true)), RegistrationFile: okReg},
			want:  []string{`form a loop`},
		},
		{
			name:  "nextLink not a string",
			files: map[string]string{UsersFile: `{"value": [], "@odata.nextLink": 7}`, RegistrationFile: okReg},
			want:  []string{`snap/users.json:1:34: @odata.nextLink is a JSON number where Graph sends a string`},
		},
		{
			name:  "registration report not JSON",
			files: map[string]string{UsersFile: page("", user("a", true)), RegistrationFile: "{\"value\": [,]}"},
			want:  []string{"snap/userRegistrationDetails.json:1:12: invalid character ','"},
		},
		{
			name:  "policy not JSON",
			files: map[string]string{UsersFile: page("", user("a", true)), RegistrationFile: okReg, PolicyFile: "{\n\"id\": nope}"},
			want:  []string{"snap/authenticationMethodsPolicy.json:2:8: invalid character 'o' in literal null (expecting 'u')"},
		},
		{
			name: "policy wrong type",
			files: map[string]string{UsersFile: page("", user("a", true)), RegistrationFile: okReg, PolicyFile: `{"registrationEnforcement":
{"authenticationMethodsRegistrationCampaign": {"snoozeDurationInDays": "one"}}}`},
			want: []string{"snap/authenticationMethodsPolicy.json:2: registrationEnforcement.authenticationMethodsRegistrationCampaign.snoozeDurationInDays is a JSON string where Graph sends a number"},
		},
		{
			name: "policy passkeyTypes neither string nor array",
			files: map[string]string{UsersFile: page("", user("a", true)), RegistrationFile: okReg, PolicyFile: `{"authenticationMethodConfigurations":
[{"id": "Fido2", "passkeyProfiles": [{"passkeyTypes": 3}]}]}`},
			want: []string{"snap/authenticationMethodsPolicy.json: passkeyTypes is neither a string"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := (&Source{FS: mapFS(tt.files), Name: "snap"}).Load(t.Context())
			if err == nil {
				t.Fatalf("no error; got %d people", len(d.People))
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n  %v\ndoes not contain\n  %s", err, w)
				}
			}
		})
	}
}

func TestLoadCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := demoTenant().Load(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestLoadNoFS(t *testing.T) {
	if _, err := (&Source{}).Load(t.Context()); err == nil {
		t.Error("no error for a Source without FS")
	}
}

func TestPolicy(t *testing.T) {
	base := map[string]string{UsersFile: page("", user("a", true)), RegistrationFile: page("", reg("a"))}
	tests := []struct {
		name   string
		policy string // "" for no policy file
		src    *Source
		want   *directory.Policy
	}{
		{
			name: "demo tenant",
			src:  demoTenant(),
			want: &directory.Policy{
				Passkey: directory.PasskeyMethod{
					State:                            "enabled",
					IsSelfServiceRegistrationAllowed: true,
					DefaultPasskeyProfile:            "00000000-0000-0000-0000-000000000001",
					Profiles: []directory.PasskeyProfile{
						{
							ID: "00000000-0000-0000-0000-000000000001", Name: "Default passkey profile",
							PasskeyTypes: []string{"deviceBound", "synced"}, AttestationEnforcement: "disabled",
							KeyRestrictions: &directory.KeyRestrictions{EnforcementType: "block", AAGUIDs: []string{}},
						},
						{
							ID: "6f1c2a7e-3b0d-4c57-9a51-0d2e8b7f4c10", Name: "Tier 0 admins: attested security keys",
							PasskeyTypes: []string{"deviceBound"}, AttestationEnforcement: "registrationOnly",
							KeyRestrictions: &directory.KeyRestrictions{IsEnforced: true, EnforcementType: "allow",
								AAGUIDs: []string{"cb69481e-8ff7-4039-93ec-0a2729a154a8", "ee882879-721c-4913-9775-3dfcce97072a"}},
						},
					},
					IncludeTargets: []directory.Target{
						{ID: "all_users", TargetType: "group", AllowedPasskeyProfiles: []string{"00000000-0000-0000-0000-000000000001"}},
						{ID: "8b0f6d2c-5e1a-4f7b-9c3d-2a6e1f0b7d45", TargetType: "group", AllowedPasskeyProfiles: []string{"6f1c2a7e-3b0d-4c57-9a51-0d2e8b7f4c10"}},
					},
					ExcludeTargets: []directory.Target{{ID: "c3d9e7a1-0f4b-4a2e-8d6c-7b1e5f9a2c30", TargetType: "group"}},
				},
				Campaign: directory.RegistrationCampaign{
					State:                                  "default",
					SnoozeDurationInDays:                   1,
					EnforceRegistrationAfterAllowedSnoozes: true,
					IncludeTargets:                         []directory.CampaignTarget{{ID: "all_users", TargetType: "group", TargetedAuthenticationMethod: "fido2"}},
					ExcludeTargets:                         []directory.Target{{ID: "c3d9e7a1-0f4b-4a2e-8d6c-7b1e5f9a2c30", TargetType: "group"}},
				},
			},
		},
		{
			// The response Microsoft documents for a tenant before passkey
			// profiles: restrictions live on the method.
			name: "legacy key restrictions only",
			policy: `{
  "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#authenticationMethodsPolicy",
  "registrationEnforcement": {"authenticationMethodsRegistrationCampaign": {
    "snoozeDurationInDays": 14, "state": "enabled", "excludeTargets": [],
    "includeTargets": [{"id": "3ee3a9de-0a86-4e12-a287-9769accf1ba2", "targetType": "group", "targetedAuthenticationMethod": "microsoftAuthenticator"}]}},
  "authenticationMethodConfigurations": [
    {"@odata.type": "#microsoft.graph.microsoftAuthenticatorAuthenticationMethodConfiguration", "id": "MicrosoftAuthenticator", "state": "enabled",
     "includeTargets": [{"targetType": "group", "id": "all_users", "isRegistrationRequired": false, "authenticationMode": "any"}]},
    {"@odata.type": "#microsoft.graph.fido2AuthenticationMethodConfiguration", "id": "Fido2", "state": "disabled",
     "isSelfServiceRegistrationAllowed": true, "isAttestationEnforced": true,
     "keyRestrictions": {"isEnforced": true, "enforcementType": "block", "aaGuids": ["90a3ccdf-635c-4729-a248-9b709135078f"]},
     "includeTargets": [{"targetType": "group", "id": "all_users", "isRegistrationRequired": false}]}
  ]
}`,
			want: &directory.Policy{
				Passkey: directory.PasskeyMethod{
					State: "disabled", IsSelfServiceRegistrationAllowed: true, IsAttestationEnforced: true,
					IncludeTargets:        []directory.Target{{ID: "all_users", TargetType: "group"}},
					LegacyKeyRestrictions: &directory.KeyRestrictions{IsEnforced: true, EnforcementType: "block", AAGUIDs: []string{"90a3ccdf-635c-4729-a248-9b709135078f"}},
				},
				Campaign: directory.RegistrationCampaign{
					State: "enabled", SnoozeDurationInDays: 14, EnforceRegistrationAfterAllowedSnoozes: true,
					IncludeTargets: []directory.CampaignTarget{{ID: "3ee3a9de-0a86-4e12-a287-9769accf1ba2", TargetType: "group", TargetedAuthenticationMethod: "microsoftAuthenticator"}},
				},
			},
		},
		{
			name: "unknown enum values kept, passkeyTypes as array, fido2 found by id",
			policy: `{"registrationEnforcement": {"authenticationMethodsRegistrationCampaign": {"state": "unknownFutureValue", "enforceRegistrationAfterAllowedSnoozes": false}},
  "authenticationMethodConfigurations": [{"id": "fido2", "state": "paused", "defaultPasskeyProfile": "p",
    "passkeyProfiles": [{"id": "p", "name": "P", "passkeyTypes": ["deviceBound", "quantum"], "attestationEnforcement": "always"}]}]}`,
			want: &directory.Policy{
				Passkey: directory.PasskeyMethod{
					State: "paused", DefaultPasskeyProfile: "p",
					Profiles: []directory.PasskeyProfile{{ID: "p", Name: "P", PasskeyTypes: []string{"deviceBound", "quantum"}, AttestationEnforcement: "always"}},
				},
				Campaign: directory.RegistrationCampaign{State: "unknownFutureValue"},
			},
		},
		{
			name:   "empty policy object",
			policy: `{}`,
			want:   &directory.Policy{},
		},
		{
			name: "no policy file",
			want: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := tt.src
			if src == nil {
				files := map[string]string{}
				for k, v := range base {
					files[k] = v
				}
				if tt.policy != "" {
					files[PolicyFile] = tt.policy
				}
				src = &Source{FS: mapFS(files)}
			}
			d, err := src.Load(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, d.Policy); diff != "" {
				t.Errorf("policy (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadAt(t *testing.T) {
	now := time.Date(2027, 1, 2, 3, 4, 5, 0, time.UTC)
	mod := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	withRows := fstest.MapFS{
		UsersFile:        {Data: []byte(page("", user("a", true), user("b", true)))},
		RegistrationFile: {Data: []byte(page("", reg("a"), `{"id": "b", "lastUpdatedDateTime": "2026-11-03T00:00:00Z"}`))},
	}
	noTimes := fstest.MapFS{
		UsersFile:        {Data: []byte(page("", user("a", true))), ModTime: mod},
		RegistrationFile: {Data: []byte(page("", `{"id": "a"}`))},
	}
	tests := []struct {
		name string
		src  *Source
		want time.Time
	}{
		{"Now wins", &Source{FS: withRows, Now: func() time.Time { return now }}, now},
		{"newest lastUpdatedDateTime", &Source{FS: withRows}, time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC)},
		{"users.json modification time", &Source{FS: noTimes}, mod},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := tt.src.Load(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if !d.ReadAt.Equal(tt.want) {
				t.Errorf("ReadAt = %v, want %v", d.ReadAt, tt.want)
			}
		})
	}
}

// FuzzLoad checks that no users.json, however broken, makes Load panic.
func FuzzLoad(f *testing.F) {
	f.Add(page("", user("a", true)))
	f.Add(page("users.json", user("a", true)))
	f.Add(`{"value": [{"id": "a", "accountEnabled": "x"}], "@odata.nextLink": "../x"}`)
	f.Add(`{"value": [1, null, "s", [], {}]}`)
	f.Add("[")
	f.Fuzz(func(t *testing.T, users string) {
		fsys := fstest.MapFS{
			UsersFile:        {Data: []byte(users)},
			RegistrationFile: {Data: []byte(users)},
			PolicyFile:       {Data: []byte(users)},
		}
		_, _ = (&Source{FS: fsys}).Load(context.Background())
	})
}

// BenchmarkLoad100k loads a 100,000-person tenant written by demogen with
// Graph's largest page size.
func BenchmarkLoad100k(b *testing.B) {
	dir := b.TempDir()
	goTool := filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	if _, err := os.Stat(goTool); err != nil {
		goTool = "go"
	}
	cmd := exec.Command(goTool, "run", "./demogen", "-n", "100000", "-page", "999", "-out", dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Skipf("cannot generate the tenant: %v\n%s", err, out)
	}
	src := &Source{FS: os.DirFS(dir), Dir: "."}
	b.ReportAllocs()
	for b.Loop() {
		d, err := src.Load(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		if len(d.People) != 100030 {
			b.Fatalf("%d people", len(d.People))
		}
	}
}

func TestGroups(t *testing.T) {
	member := func(id string) string {
		return `{"@odata.type": "#microsoft.graph.user", "id": "` + id + `", "userPrincipalName": "` + id + `@contoso.example"}`
	}
	files := map[string]string{
		UsersFile:        page("", user("a", true), user("b", true), user("c", true)),
		RegistrationFile: page("", reg("a"), reg("b"), reg("c")),
		GroupsFile:       page("", `{"id": "g1", "displayName": "Pilot – Passkeys"}`, `{"id": "g2", "displayName": "Finance"}`),
		// g1's members span two pages, b is listed twice (nested groups).
		GroupMembersFile("g1"):     page("groupMembers-g1-002.json", member("a"), member("b")),
		"groupMembers-g1-002.json": page("", member("b"), member("x")),
		GroupMembersFile("g2"):     page("", member("b")),
	}
	d, err := (&Source{FS: mapFS(files), Dir: "."}).Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, p := range d.People {
		got[p.ID] = p.Groups
	}
	want := map[string][]string{"a": {"g1", "Pilot – Passkeys"}, "b": {"g1", "Pilot – Passkeys", "g2", "Finance"}, "c": nil}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Groups = %v, want %v", got, want)
	}
	if len(d.Groups) != 2 || d.Groups[0].Members != 3 || d.Groups[1].Members != 1 {
		t.Errorf("Directory.Groups = %+v", d.Groups)
	}
	if !d.KnowsGroup("finance") || d.KnowsGroup("g3") {
		t.Error("KnowsGroup is wrong")
	}

	delete(files, GroupMembersFile("g2"))
	_, err = (&Source{FS: mapFS(files), Dir: ".", Name: "snap"}).Load(context.Background())
	if err == nil || !strings.Contains(err.Error(), "snap: no groupMembers-g2.json, which groups.json lists") {
		t.Errorf("missing member file: %v", err)
	}
}
