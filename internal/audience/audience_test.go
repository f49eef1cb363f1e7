package audience

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/nudge-passkeys/nudge/internal/directory"
)

// demoRules are the audiences of the shipped campaign.yaml.
var demoRules = []Rule{
	{Name: "ready", Description: "MFA-capable people without a passkey", Where: "isMfaCapable && !hasPasskey && !isAdmin", File: "content/campaign.yaml", Line: 10},
	{Name: "admins", Where: "isAdmin && !hasPhishingResistant", File: "content/campaign.yaml", Line: 13},
	{Name: "onboard", Where: "!isMfaCapable", File: "content/campaign.yaml", Line: 15},
	{Name: "done", Where: "hasPasskey", File: "content/campaign.yaml", Line: 17},
	{Name: "paris-sales", Where: `officeLocation == "Paris" && department.startsWith("Sales") && memberOf("Passkey pilot")`, File: "content/campaign.yaml", Line: 19},
}

func mustCompile(t testing.TB, rules ...Rule) *Set {
	t.Helper()
	s, err := Compile(rules)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return s
}

func TestDemoRules(t *testing.T) {
	s := mustCompile(t, demoRules...)
	tests := []struct {
		name string
		p    directory.Person
		want []string
	}{
		{"mfa capable, no passkey", directory.Person{IsMFACapable: true, MethodsRegistered: []string{directory.MethodAuthenticatorPush}}, []string{"ready"}},
		{"mfa capable admin without phishing-resistant", directory.Person{IsMFACapable: true, IsAdmin: true}, []string{"admins"}},
		{"admin with windows hello", directory.Person{IsMFACapable: true, IsAdmin: true, MethodsRegistered: []string{directory.MethodWindowsHelloForBusiness}}, nil},
		{"admin with passkey", directory.Person{IsMFACapable: true, IsAdmin: true, MethodsRegistered: []string{directory.MethodPasskeySynced}}, []string{"done"}},
		{"not mfa capable", directory.Person{}, []string{"onboard"}},
		{"has security key", directory.Person{IsMFACapable: true, MethodsRegistered: []string{directory.MethodFIDO2SecurityKey}}, []string{"done"}},
		{"paris sales in pilot", directory.Person{IsMFACapable: true, OfficeLocation: "Paris", Department: "Sales EMEA", Groups: []string{"passkey PILOT"}}, []string{"ready", "paris-sales"}},
		{"paris sales not in pilot", directory.Person{IsMFACapable: true, OfficeLocation: "Paris", Department: "Sales EMEA", Groups: []string{"Other"}}, []string{"ready"}},
		{"paris marketing in pilot", directory.Person{IsMFACapable: true, OfficeLocation: "Paris", Department: "Marketing", Groups: []string{"Passkey pilot"}}, []string{"ready"}},
		{"lyon sales in pilot", directory.Person{OfficeLocation: "Lyon", Department: "Sales", Groups: []string{"Passkey pilot"}}, []string{"onboard"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Matches(&tt.p)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Matches (-want +got):\n%s", diff)
			}
		})
	}
	if diff := cmp.Diff([]string{"ready", "admins", "onboard", "done", "paris-sales"}, s.Names()); diff != "" {
		t.Errorf("Names (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"Passkey pilot"}, s.Groups()); diff != "" {
		t.Errorf("Groups (-want +got):\n%s", diff)
	}
}

func TestCompileErrors(t *testing.T) {
	rule := func(name, where string, line int) Rule {
		return Rule{Name: name, Where: where, File: "content/campaign.yaml", Line: line}
	}
	tests := []struct {
		name  string
		rules []Rule
		want  []string // each must appear in the error, in this order
	}{
		{
			name:  "typo in variable",
			rules: []Rule{rule("ready", "isMfaCapabel && !hasPasskey", 42)},
			want: []string{
				`content/campaign.yaml:42: audience "ready": where: isMfaCapabel && !hasPasskey: undeclared reference to 'isMfaCapabel' (did you mean 'isMfaCapable'?)`,
				"\t| isMfaCapabel && !hasPasskey\n\t| ^",
			},
		},
		{
			name:  "wrong case",
			rules: []Rule{rule("x", "hasPassKey", 3)},
			want:  []string{`(did you mean 'hasPasskey'?)`},
		},
		{
			name:  "hasMethod wrong argument type",
			rules: []Rule{rule("h", "hasMethod(1)", 6)},
			want:  []string{`content/campaign.yaml:6: audience "h": where: hasMethod(1): found no matching overload for 'hasMethod' applied to '(int)'`},
		},
		{
			name:  "non-bool result",
			rules: []Rule{rule("dept", "department", 7)},
			want:  []string{`content/campaign.yaml:7: audience "dept": where: department: result is string, want bool (true or false)`},
		},
		{
			name:  "type error",
			rules: []Rule{rule("t", `isAdmin == "yes"`, 8)},
			want:  []string{`content/campaign.yaml:8: audience "t": where: isAdmin == "yes": found no matching overload for '_==_' applied to '(bool, string)'`},
		},
		{
			name:  "syntax error",
			rules: []Rule{rule("s", `isAdmin &&`, 9)},
			want:  []string{`content/campaign.yaml:9: audience "s": where: isAdmin &&: `},
		},
		{
			name: "several bad rules all reported",
			rules: []Rule{
				rule("a", "isMfaCapabel", 10),
				rule("ok", "isAdmin", 12),
				rule("b", "jobTitle", 14),
				rule("c", "departmnt == 'x'", 16),
			},
			want: []string{
				`content/campaign.yaml:10: audience "a": where: isMfaCapabel: undeclared reference to 'isMfaCapabel'`,
				`content/campaign.yaml:14: audience "b": where: jobTitle: result is string`,
				`content/campaign.yaml:16: audience "c": where: departmnt == 'x': undeclared reference to 'departmnt' (did you mean 'department'?)`,
			},
		},
		{
			name:  "duplicate names",
			rules: []Rule{rule("ready", "isAdmin", 20), rule("ready", "hasPasskey", 22)},
			want:  []string{`content/campaign.yaml:22: audience "ready": duplicate name, first defined at content/campaign.yaml:20`},
		},
		{
			name:  "empty name",
			rules: []Rule{rule(" ", "isAdmin", 30)},
			want:  []string{`content/campaign.yaml:30: audience " ": name is empty`},
		},
		{
			name:  "empty where",
			rules: []Rule{rule("nothing", "  ", 31)},
			want:  []string{`content/campaign.yaml:31: audience "nothing": where: is empty`},
		},
		{
			name:  "memberOf needs a literal",
			rules: []Rule{rule("g", "memberOf(department)", 32)},
			want:  []string{`content/campaign.yaml:32: audience "g": where: memberOf(department): memberOf takes a group name or id in quotes`},
		},
		{
			name:  "multi-line rule quoted on one line",
			rules: []Rule{rule("m", "isAdmin &&\n  isGuestt", 33)},
			want:  []string{`content/campaign.yaml:33: audience "m": where: isAdmin && isGuestt: undeclared reference to 'isGuestt' (did you mean 'isGuest'?)`, "\t|   isGuestt\n\t|   ^"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Compile(tt.rules)
			if err == nil {
				t.Fatalf("Compile = %v, want error", s.Names())
			}
			msg := err.Error()
			rest := msg
			for _, w := range tt.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("error does not contain (in order) %q; got:\n%s", w, msg)
				}
				rest = rest[i+len(w):]
			}
		})
	}
}

func TestMemberOfAndHasMethod(t *testing.T) {
	p := &directory.Person{
		Groups:            []string{"Passkey Pilot", "0b1c2d3e-0000-4000-8000-000000000001"},
		MethodsRegistered: []string{"passKeyFutureKind", directory.MethodAuthenticatorPush},
	}
	tests := []struct {
		where string
		want  bool
	}{
		{`memberOf("Passkey Pilot")`, true},
		{`memberOf("passkey pilot")`, true},
		{`memberOf("0B1C2D3E-0000-4000-8000-000000000001")`, true},
		{`memberOf("Passkey")`, false},
		{`memberOf("")`, false},
		{`hasMethod("passKeyFutureKind")`, true},
		{`hasMethod("passkeyfuturekind")`, true},
		{`"passKeyFutureKind" in methodsRegistered`, true},
		{`hasMethod("passKeySynced")`, false},
		{`!hasPasskey && hasMethod("microsoftAuthenticatorPush")`, true},
		{`methodsRegistered.exists(m, m.startsWith("passKey"))`, true},
		{`size(groups) == 2`, true},
	}
	for _, tt := range tests {
		t.Run(tt.where, func(t *testing.T) {
			s := mustCompile(t, Rule{Name: "r", Where: tt.where})
			got, err := s.Matches(p)
			if err != nil {
				t.Fatal(err)
			}
			if (len(got) == 1) != tt.want {
				t.Errorf("matched = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestEveryField(t *testing.T) {
	p := &directory.Person{
		ID: "id-1", UserPrincipalName: "ana@contoso.com", Mail: "ana.m@contoso.com",
		DisplayName: "Ana M", GivenName: "Ana", Surname: "M", PreferredLanguage: "fr-FR",
		UsageLocation: "FR", TimeZone: "Europe/Paris", Department: "Sales", JobTitle: "Rep",
		OfficeLocation: "Paris", Manager: "boss@contoso.com", AccountEnabled: true, UserType: "Member",
		HasRegistration: true, IsAdmin: true, IsMFACapable: true, IsMFARegistered: true,
		IsPasswordlessCapable: true, IsSSPRRegistered: true,
		MethodsRegistered: []string{directory.MethodPasskeySynced}, Groups: []string{"g"}, MicrosoftNudge: true,
	}
	want := map[string]string{
		"id": "id-1", "userPrincipalName": "ana@contoso.com", "mail": "ana.m@contoso.com",
		"displayName": "Ana M", "givenName": "Ana", "surname": "M", "preferredLanguage": "fr-FR",
		"language": "fr", "usageLocation": "FR", "timeZone": "Europe/Paris", "department": "Sales",
		"jobTitle": "Rep", "officeLocation": "Paris", "manager": "boss@contoso.com", "userType": "Member",
		"accountEnabled": "true", "isGuest": "false", "isAdmin": "true", "isMfaCapable": "true",
		"isMfaRegistered": "true", "isPasswordlessCapable": "true", "isSsprRegistered": "true",
		"hasPasskey": "true", "hasPhishingResistant": "true", "hasRegistration": "true", "microsoftNudge": "true",
		"methodsRegistered": `["passKeySynced"]`, "groups": `["g"]`,
	}
	for _, f := range Fields() {
		t.Run(f.Name, func(t *testing.T) {
			w, ok := want[f.Name]
			if !ok {
				t.Fatalf("no expected value for %s: add one", f.Name)
			}
			var where string
			switch f.Type {
			case "string":
				where = fmt.Sprintf("%s == %q", f.Name, w)
			case "bool":
				where = fmt.Sprintf("%s == %s", f.Name, w)
			default:
				where = fmt.Sprintf("%s == %s", f.Name, w)
			}
			s := mustCompile(t, Rule{Name: "r", Where: where})
			got, err := s.Matches(p)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 {
				t.Errorf("%s is false", where)
			}
		})
	}
}

func TestLanguage(t *testing.T) {
	for tag, want := range map[string]string{"fr-FR": "fr", "EN-us": "en", "de": "de", "": "", "zh_Hant_TW": "zh", " pt-BR": "pt"} {
		if got := primaryLanguage(tag); got != want {
			t.Errorf("primaryLanguage(%q) = %q, want %q", tag, got, want)
		}
	}
}

// TestFieldsMatchEnv keeps the documentation honest: Fields lists exactly
// the variables the CEL environment declares, with the same types, and
// every documented function compiles.
func TestFieldsMatchEnv(t *testing.T) {
	env, err := newEnv()
	if err != nil {
		t.Fatal(err)
	}
	var declared []Field
	for _, v := range env.Variables() {
		declared = append(declared, Field{Name: v.Name(), Type: v.Type().String()})
	}
	var documented []Field
	for _, f := range Fields() {
		if f.Doc == "" || strings.Contains(f.Doc, "\n") {
			t.Errorf("%s: doc must be one non-empty line, got %q", f.Name, f.Doc)
		}
		documented = append(documented, Field{Name: f.Name, Type: f.Type})
	}
	byName := func(a, b Field) int { return strings.Compare(a.Name, b.Name) }
	slices.SortFunc(declared, byName)
	slices.SortFunc(documented, byName)
	if diff := cmp.Diff(documented, declared); diff != "" {
		t.Errorf("env variables differ from Fields (-documented +declared):\n%s", diff)
	}
	for _, f := range Functions() {
		name, _, _ := strings.Cut(f.Name, "(")
		where := name + `("x")`
		if f.Type != "bool" {
			t.Fatalf("%s: tests assume bool functions", f.Name)
		}
		if _, err := Compile([]Rule{{Name: "f", Where: where}}); err != nil {
			t.Errorf("documented function %s does not compile: %v", f.Name, err)
		}
	}
}

func TestStringExtensions(t *testing.T) {
	p := &directory.Person{Department: "SALES emea", DisplayName: "a,b"}
	s := mustCompile(t,
		Rule{Name: "lower", Where: `department.lowerAscii() == "sales emea"`},
		Rule{Name: "split", Where: `displayName.split(",").size() == 2`},
		Rule{Name: "regex", Where: `department.matches("(?i)^sales")`},
	)
	got, err := s.Matches(p)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"lower", "split", "regex"}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestHostileStringsAreData(t *testing.T) {
	hostile := []string{`"); DROP TABLE people; --`, `{{.Secret}}`, `' || true || '`, "\x00\n\u202e", `isAdmin`}
	s := mustCompile(t,
		Rule{Name: "sales", Where: `department == "Sales"`},
		Rule{Name: "any-dept", Where: `department != ""`},
	)
	for _, h := range hostile {
		t.Run(h, func(t *testing.T) {
			p := &directory.Person{Department: h, UserPrincipalName: h, Groups: []string{h}}
			got, err := s.Matches(p)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]string{"any-dept"}, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestCostLimit(t *testing.T) {
	// Rules whose cost grows with the data are stopped at CostLimit and
	// reported with the person and the rule rather than running on.
	tests := []struct {
		name  string
		where string
		p     directory.Person
	}{
		{"nested comprehension", `groups.all(a, groups.all(b, a.size() + b.size() >= 0))`, directory.Person{Groups: make([]string, 500)}},
		{"string function on huge input", `department.lowerAscii() == "sales"`, directory.Person{Department: strings.Repeat("A", 1<<20)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustCompile(t, Rule{Name: "slow", Where: tt.where, File: "c.yaml", Line: 5})
			tt.p.UserPrincipalName = "big@contoso.com"
			_, err := s.Matches(&tt.p)
			if err == nil {
				t.Fatal("Matches: want cost limit error")
			}
			for _, w := range []string{`c.yaml:5: audience "slow"`, `"big@contoso.com"`, "cost limit exceeded"} {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			tt.p = directory.Person{Groups: []string{"a"}, Department: "Sales"}
			if _, err := s.Matches(&tt.p); err != nil {
				t.Errorf("small input: %v", err)
			}
		})
	}
}
