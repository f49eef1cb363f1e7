package audience

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/nudge-passkeys/nudge/internal/directory"
)

func TestExcluded(t *testing.T) {
	ex := Exclusions{Disabled: true, Guests: true, Listed: ListOf([]string{" CEO@Contoso.com ", "", "ID-42"})}
	tests := []struct {
		name       string
		ex         Exclusions
		p          directory.Person
		wantReason string
		wantOK     bool
	}{
		{"enabled member", ex, directory.Person{AccountEnabled: true, UserType: "Member", UserPrincipalName: "a@contoso.com"}, "", false},
		{"disabled", ex, directory.Person{UserType: "Member"}, ReasonDisabled, true},
		{"disabled kept when not asked", Exclusions{}, directory.Person{}, "", false},
		{"guest", ex, directory.Person{AccountEnabled: true, UserType: "Guest"}, ReasonGuest, true},
		{"disabled guest says disabled", ex, directory.Person{UserType: "Guest"}, ReasonDisabled, true},
		{"listed UPN, other case", ex, directory.Person{AccountEnabled: true, UserPrincipalName: "ceo@CONTOSO.com"}, ReasonListed, true},
		{"listed by mail", ex, directory.Person{AccountEnabled: true, UserPrincipalName: "x@contoso.onmicrosoft.com", Mail: "Ceo@contoso.com"}, ReasonListed, true},
		{"listed by id", ex, directory.Person{AccountEnabled: true, ID: "id-42"}, ReasonListed, true},
		{"empty fields never match blank entries", ex, directory.Person{AccountEnabled: true}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reason, ok := tt.ex.Excluded(&tt.p)
			if reason != tt.wantReason || ok != tt.wantOK {
				t.Errorf("Excluded = %q, %v; want %q, %v", reason, ok, tt.wantReason, tt.wantOK)
			}
		})
	}
}

func TestClassify(t *testing.T) {
	s := mustCompile(t, demoRules...)
	people := []directory.Person{
		0: {UserPrincipalName: "ready1@c", AccountEnabled: true, IsMFACapable: true},
		1: {UserPrincipalName: "onboard@c", AccountEnabled: true},
		2: {UserPrincipalName: "disabled@c", AccountEnabled: false, IsMFACapable: true},
		3: {UserPrincipalName: "guest@c", AccountEnabled: true, UserType: "Guest", IsMFACapable: true},
		4: {UserPrincipalName: "Boss@C", AccountEnabled: true, IsMFACapable: true},
		5: {UserPrincipalName: "pilot@c", AccountEnabled: true, IsMFACapable: true, OfficeLocation: "Paris", Department: "Sales", Groups: []string{"Passkey pilot"}},
		6: {UserPrincipalName: "admin-whfb@c", AccountEnabled: true, IsMFACapable: true, IsAdmin: true, MethodsRegistered: []string{directory.MethodWindowsHelloForBusiness}},
		7: {UserPrincipalName: "ready2@c", AccountEnabled: true, IsMFACapable: true},
		8: {UserPrincipalName: "done@c", AccountEnabled: true, IsMFACapable: true, MethodsRegistered: []string{directory.MethodPasskeyDeviceBound}},
	}
	r, err := Classify(people, s, Exclusions{Disabled: true, Guests: true, Listed: ListOf([]string{"boss@c"})})
	if err != nil {
		t.Fatal(err)
	}
	members := map[string][]int{}
	for _, name := range s.Names() {
		members[name] = r.Members(name)
	}
	want := map[string][]int{
		"ready":       {0, 5, 7},
		"admins":      nil,
		"onboard":     {1},
		"done":        {8},
		"paris-sales": {5},
	}
	if diff := cmp.Diff(want, members); diff != "" {
		t.Errorf("Members (-want +got):\n%s", diff)
	}
	wantExcluded := []Excluded{{2, ReasonDisabled}, {3, ReasonGuest}, {4, ReasonListed}}
	if diff := cmp.Diff(wantExcluded, r.Excluded); diff != "" {
		t.Errorf("Excluded (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int{6}, r.Unmatched); diff != "" {
		t.Errorf("Unmatched (-want +got):\n%s", diff)
	}
	if got := r.Members("nope"); got != nil {
		t.Errorf("Members(unknown) = %v, want nil", got)
	}

	firstTests := []struct {
		name   string
		i      int
		among  []string
		want   string
		wantOK bool
	}{
		{"wave order wins over rule order", 5, []string{"paris-sales", "ready"}, "paris-sales", true},
		{"rule order irrelevant", 5, []string{"ready", "paris-sales"}, "ready", true},
		{"skips audiences not matched", 8, []string{"ready", "done"}, "done", true},
		{"unknown names skipped", 1, []string{"ghost", "onboard"}, "onboard", true},
		{"excluded never matches", 2, []string{"ready", "onboard"}, "", false},
		{"unmatched", 6, s.Names(), "", false},
		{"empty list", 0, nil, "", false},
	}
	for _, tt := range firstTests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := r.First(tt.i, tt.among)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("First(%d, %v) = %q, %v; want %q, %v", tt.i, tt.among, got, ok, tt.want, tt.wantOK)
			}
		})
	}
	if diff := cmp.Diff([]string{"ready", "paris-sales"}, r.Matches(5)); diff != "" {
		t.Errorf("Matches(5) (-want +got):\n%s", diff)
	}
	if got := r.Matches(2); got != nil {
		t.Errorf("Matches(excluded) = %v, want nil", got)
	}
}

// TestClassifyStable checks that Classify agrees with Set.Matches person by
// person and gives the same answer twice, including with more than 64 rules
// (several bitset words per person).
func TestClassifyStable(t *testing.T) {
	var rules []Rule
	for i := range 70 {
		rules = append(rules, Rule{Name: fmt.Sprintf("r%02d", i), Where: fmt.Sprintf("size(displayName) %% %d == 0", i%7+1)})
	}
	rules = append(rules, demoRules...)
	s := mustCompile(t, rules...)
	people := generate(500)
	a, err := Classify(people, s, Exclusions{Disabled: true})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Classify(people, s, Exclusions{Disabled: true})
	if err != nil {
		t.Fatal(err)
	}
	excluded := map[int]bool{}
	for _, e := range a.Excluded {
		excluded[e.Index] = true
	}
	for i := range people {
		want, err := s.Matches(&people[i])
		if err != nil {
			t.Fatal(err)
		}
		if excluded[i] {
			want = nil
		}
		if diff := cmp.Diff(want, a.Matches(i)); diff != "" {
			t.Fatalf("person %d (-Set.Matches +Result.Matches):\n%s", i, diff)
		}
	}
	if diff := cmp.Diff(a, b, cmp.AllowUnexported(Result{}, Set{}), cmp.Comparer(func(x, y *Set) bool { return x == y })); diff != "" {
		t.Errorf("two runs differ:\n%s", diff)
	}
}

func TestClassifyRuntimeError(t *testing.T) {
	s := mustCompile(t, Rule{Name: "idx", Where: `groups[0] == "x"`, File: "c.yaml", Line: 3})
	people := []directory.Person{{UserPrincipalName: "ok@c", Groups: []string{"x"}}, {UserPrincipalName: "nogroups@c"}}
	_, err := Classify(people, s, Exclusions{})
	if err == nil {
		t.Fatal("Classify: want error")
	}
	want := `c.yaml:3: audience "idx": person "nogroups@c": index out of bounds`
	if got := err.Error(); len(got) < len(want) || got[:len(want)] != want {
		t.Errorf("error = %q, want prefix %q", got, want)
	}
}

// generate makes n people with a spread of registration states, fixed seed.
func generate(n int) []directory.Person {
	rng := rand.New(rand.NewPCG(1, 2))
	depts := []string{"Sales", "Sales EMEA", "Marketing", "Engineering", "Finance", "HR"}
	offices := []string{"Paris", "Lyon", "London", "Berlin", "Madrid"}
	langs := []string{"fr-FR", "en-GB", "de-DE", "es-ES", ""}
	methods := []string{
		directory.MethodAuthenticatorPush, directory.MethodMobilePhone, directory.MethodSoftwareOTP,
		directory.MethodPasskeySynced, directory.MethodWindowsHelloForBusiness, directory.MethodEmail,
	}
	people := make([]directory.Person, n)
	for i := range people {
		var ms []string
		for _, m := range methods {
			if rng.IntN(4) == 0 {
				ms = append(ms, m)
			}
		}
		var groups []string
		if rng.IntN(10) == 0 {
			groups = append(groups, "Passkey pilot")
		}
		people[i] = directory.Person{
			ID:                fmt.Sprintf("00000000-0000-4000-8000-%012d", i),
			UserPrincipalName: fmt.Sprintf("user%d@contoso.com", i),
			DisplayName:       fmt.Sprintf("User %d", i),
			PreferredLanguage: langs[rng.IntN(len(langs))],
			Department:        depts[rng.IntN(len(depts))],
			OfficeLocation:    offices[rng.IntN(len(offices))],
			AccountEnabled:    rng.IntN(50) != 0,
			UserType:          "Member",
			HasRegistration:   true,
			IsAdmin:           rng.IntN(40) == 0,
			IsMFACapable:      len(ms) > 0,
			IsMFARegistered:   len(ms) > 0,
			MethodsRegistered: ms,
			Groups:            groups,
		}
	}
	return people
}

func BenchmarkClassify100k(b *testing.B) {
	s := mustCompile(b, demoRules...)
	people := generate(100_000)
	ex := Exclusions{Disabled: true, Guests: true, Listed: ListOf([]string{"user7@contoso.com"})}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Classify(people, s, ex); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(people)), "ns/person")
}
