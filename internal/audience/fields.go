package audience

import (
	"strings"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/interpreter"

	"github.com/nudge-passkeys/nudge/internal/directory"
)

// Field documents one variable that audience rules can use.
type Field struct {
	Name string // as written in a rule, in Graph's camelCase spelling
	Type string // CEL type: "string", "bool" or "list(string)"
	Doc  string // one line
}

// field is a documented variable with its CEL type and how to read it from
// a Person. The CEL environment, the activation and Fields are all built
// from this one table, so they cannot disagree.
type field struct {
	Field
	typ *cel.Type
	get func(p *directory.Person) ref.Val
}

func str(name, doc string, get func(p *directory.Person) string) field {
	return field{
		Field: Field{Name: name, Type: "string", Doc: doc},
		typ:   cel.StringType,
		get:   func(p *directory.Person) ref.Val { return types.String(get(p)) },
	}
}

func boolean(name, doc string, get func(p *directory.Person) bool) field {
	return field{
		Field: Field{Name: name, Type: "bool", Doc: doc},
		typ:   cel.BoolType,
		get:   func(p *directory.Person) ref.Val { return types.Bool(get(p)) },
	}
}

func list(name, doc string, get func(p *directory.Person) []string) field {
	return field{
		Field: Field{Name: name, Type: "list(string)", Doc: doc},
		typ:   cel.ListType(cel.StringType),
		get: func(p *directory.Person) ref.Val {
			return types.NewStringList(types.DefaultTypeAdapter, get(p))
		},
	}
}

var fields = []field{
	str("id", "Entra object id", func(p *directory.Person) string { return p.ID }),
	str("userPrincipalName", "sign-in name (UPN)", func(p *directory.Person) string { return p.UserPrincipalName }),
	str("mail", "primary email address", func(p *directory.Person) string { return p.Mail }),
	str("displayName", "display name", func(p *directory.Person) string { return p.DisplayName }),
	str("givenName", "first name", func(p *directory.Person) string { return p.GivenName }),
	str("surname", "last name", func(p *directory.Person) string { return p.Surname }),
	str("preferredLanguage", `preferred language as a BCP 47 tag, e.g. "fr-FR"`, func(p *directory.Person) string { return p.PreferredLanguage }),
	str("language", `primary subtag of preferredLanguage, lower-cased: "fr" for "fr-FR"`, func(p *directory.Person) string { return primaryLanguage(p.PreferredLanguage) }),
	str("usageLocation", `two-letter country code, e.g. "FR"`, func(p *directory.Person) string { return p.UsageLocation }),
	str("timeZone", "IANA time zone when known, else empty", func(p *directory.Person) string { return p.TimeZone }),
	str("department", "department", func(p *directory.Person) string { return p.Department }),
	str("jobTitle", "job title", func(p *directory.Person) string { return p.JobTitle }),
	str("officeLocation", "office location", func(p *directory.Person) string { return p.OfficeLocation }),
	str("manager", "manager's UPN when known, else empty", func(p *directory.Person) string { return p.Manager }),
	str("userType", `"Member" or "Guest"`, func(p *directory.Person) string { return p.UserType }),
	boolean("accountEnabled", "the account can sign in", func(p *directory.Person) bool { return p.AccountEnabled }),
	boolean("isGuest", "B2B guest (userType is Guest)", (*directory.Person).IsGuest),
	boolean("isAdmin", "holds an admin role (registration report)", func(p *directory.Person) bool { return p.IsAdmin }),
	boolean("isMfaCapable", "registered a strong method allowed by policy (registration report)", func(p *directory.Person) bool { return p.IsMFACapable }),
	boolean("isMfaRegistered", "registered any MFA method (registration report)", func(p *directory.Person) bool { return p.IsMFARegistered }),
	boolean("isPasswordlessCapable", "registered a passwordless method allowed by policy (registration report)", func(p *directory.Person) bool { return p.IsPasswordlessCapable }),
	boolean("isSsprRegistered", "registered for self-service password reset (registration report)", func(p *directory.Person) bool { return p.IsSSPRRegistered }),
	boolean("hasPasskey", "has a passkey: synced, device-bound or FIDO2 security key", (*directory.Person).HasPasskey),
	boolean("hasPhishingResistant", "has a phishing-resistant method: passkey, Windows Hello for Business or certificate", (*directory.Person).HasPhishingResistant),
	boolean("microsoftNudge", "Entra's own registration campaign can prompt this person for a passkey (campaign on, targeted, eligible passkey profile, MFA-capable, no passkey yet, not a guest)", func(p *directory.Person) bool { return p.MicrosoftNudge }),
	boolean("hasRegistration", "the registration report has a row for the person", func(p *directory.Person) bool { return p.HasRegistration }),
	list("methodsRegistered", `registered methods in Graph's spelling, e.g. "passKeySynced"; unknown values kept`, func(p *directory.Person) []string { return p.MethodsRegistered }),
	list("groups", "ids and names of the campaign's groups the person is a member of", func(p *directory.Person) []string { return p.Groups }),
}

// functions documents nudge's own functions; the standard CEL functions and
// the string extensions (lowerAscii, split, …) come on top.
var functions = []Field{
	{Name: "memberOf(string)", Type: "bool", Doc: "member of the group with this name or id (quoted literal, case-insensitive)"},
	{Name: "hasMethod(string)", Type: "bool", Doc: `registered this method, e.g. hasMethod("passKeySynced") (case-insensitive)`},
}

// Fields returns the variables audience rules can use, in the order to
// document them.
func Fields() []Field {
	out := make([]Field, len(fields))
	for i, f := range fields {
		out[i] = f.Field
	}
	return out
}

// Functions returns nudge's own functions for audience rules; CEL's standard
// functions and string extensions are available too.
func Functions() []Field {
	return append([]Field(nil), functions...)
}

var fieldByName = func() map[string]*field {
	m := make(map[string]*field, len(fields))
	for i := range fields {
		m[fields[i].Name] = &fields[i]
	}
	return m
}()

// primaryLanguage returns the primary subtag of a language tag, lower-cased.
func primaryLanguage(tag string) string {
	if i := strings.IndexAny(tag, "-_"); i >= 0 {
		tag = tag[:i]
	}
	return strings.ToLower(strings.TrimSpace(tag))
}

// activation resolves rule variables from one person on demand, so
// evaluating a rule reads only the fields it uses and allocates no map.
type activation struct {
	p *directory.Person
}

var _ interpreter.Activation = (*activation)(nil)

func (a *activation) ResolveName(name string) (any, bool) {
	f, ok := fieldByName[name]
	if !ok {
		return nil, false
	}
	return f.get(a.p), true
}

func (a *activation) Parent() interpreter.Activation { return nil }
