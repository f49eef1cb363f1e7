package graphtest

import (
	"encoding/json"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// synthNow is the reference time of synthesized timestamps.
var synthNow = time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)

// region is where a synthesized person works.
type region struct {
	usage, language string
	offices         []string
	given, surnames []string
}

var regions = []region{
	{"US", "en-US", []string{"Seattle", "New York", "Chicago"},
		[]string{"Avery", "Jordan", "Taylor", "Morgan", "Riley", "Casey", "Jamie", "Quinn", "Harper", "Logan"},
		[]string{"Carter", "Nguyen", "Johnson", "Garcia", "Miller", "Davis", "Lopez", "Wilson", "Brooks", "Reed"}},
	{"GB", "en-GB", []string{"London", "Edinburgh", "Manchester"},
		[]string{"Charlotte", "Oliver", "Amelia", "Harry", "Isla", "George", "Freya", "Alfie", "Poppy", "Arthur"},
		[]string{"Walker", "Thompson", "Hughes", "Evans", "Wright", "Patel", "Clarke", "Hall", "Wood", "Turner"}},
	{"DE", "de-DE", []string{"Munich", "Berlin"},
		[]string{"Katharina", "Lukas", "Sophie", "Jonas", "Lena", "Felix", "Marie", "Jürgen", "Anna", "Maximilian"},
		[]string{"Schulz", "Müller", "Schmidt", "Fischer", "Weber", "Wagner", "Becker", "Hoffmann", "Schäfer", "Koch"}},
	{"FR", "fr-FR", []string{"Paris", "Lyon"},
		[]string{"Léa", "Hugo", "Chloé", "Louis", "Camille", "Jules", "Manon", "Gabriel", "Inès", "Théo"},
		[]string{"Fontaine", "Martin", "Bernard", "Dubois", "Lefèvre", "Moreau", "Girard", "Roux", "Fournier", "Mercier"}},
	{"AU", "en-AU", []string{"Sydney", "Melbourne"},
		[]string{"Mia", "Jack", "Chloe", "Noah", "Ruby", "Lachlan", "Zoe", "Cooper", "Ella", "Hamish"},
		[]string{"Smith", "Jones", "Williams", "Brown", "Wilson", "Taylor", "Kelly", "Ryan", "Murphy", "Campbell"}},
	{"IN", "en-IN", []string{"Bangalore", "Pune"},
		[]string{"Aarav", "Priya", "Vihaan", "Ananya", "Arjun", "Diya", "Rohan", "Kavya", "Ishaan", "Meera"},
		[]string{"Sharma", "Iyer", "Reddy", "Gupta", "Nair", "Menon", "Kulkarni", "Rao", "Bose", "Desai"}},
}

var jobs = []struct{ department, title string }{
	{"Finance", "Financial Analyst"}, {"Finance", "Accounts Payable Clerk"},
	{"Sales", "Account Executive"}, {"Sales", "Sales Manager"},
	{"Marketing", "Brand Manager"}, {"Engineering", "Software Engineer"},
	{"Engineering", "Site Reliability Engineer"}, {"Operations", "Warehouse Supervisor"},
	{"Human Resources", "HR Business Partner"}, {"Legal", "Compliance Officer"},
	{"Customer Support", "Support Specialist"}, {"IT", "Service Desk Analyst"},
}

// methodMix is the registration states synthesized, with their weights in
// thousandths: a tenant early in a passkey campaign.
var methodMix = []struct {
	weight   int
	methods  []string
	system   string // systemPreferredAuthenticationMethods and the secondary method
	phishRes bool
}{
	{150, nil, "", false}, // no MFA yet
	{100, []string{"mobilePhone"}, "sms", false},
	{330, []string{"microsoftAuthenticatorPush", "softwareOneTimePasscode"}, "push", false},
	{60, []string{"microsoftAuthenticatorPush", "email"}, "push", false},
	{120, []string{"microsoftAuthenticatorPush", "passKeyDeviceBoundAuthenticator"}, "push", true},
	{80, []string{"passKeySynced", "microsoftAuthenticatorPush"}, "push", true},
	{60, []string{"passKeyDeviceBound", "microsoftAuthenticatorPush", "mobilePhone"}, "push", true},
	{20, []string{"fido2SecurityKey", "mobilePhone"}, "sms", true},
	{80, []string{"windowsHelloForBusiness", "microsoftAuthenticatorPush"}, "push", true},
}

// Synthesize returns a deterministic fictional tenant of n users (and a
// registration row for each enabled one) in the shapes Graph returns: about
// 3% guests, 2% disabled accounts, 4% admins, 15% without MFA and a third
// with a passkey or Windows Hello; four groups, an authentication methods
// policy with FIDO2 enabled and a registration campaign, two conditional
// access policies and the built-in authentication strengths. Mailboxes
// report time zones as Windows names, IANA names for every fifth person
// and "Customized Time Zone" for one in 499 (see synthZone); the 3% of
// members without mail, and guests, have no mailbox. 100,000 users take
// well under a second.
func Synthesize(n int) *Tenant {
	rng := rand.New(rand.NewPCG(20261120, uint64(n)))
	uuid := func() [16]byte {
		var b [16]byte
		a, c := rng.Uint64(), rng.Uint64()
		for i := range 8 {
			b[i], b[8+i] = byte(a>>(8*i)), byte(c>>(8*i))
		}
		return b
	}
	t := &Tenant{
		ID:            DefaultTenantID,
		Users:         make([]json.RawMessage, 0, n),
		Registrations: make([]json.RawMessage, 0, n),
		Apps:          []App{{ClientID: DefaultClientID, Secret: DefaultClientSecret}},
		TimeZones:     map[string]string{},
		trusted:       true,
	}
	const domain = "contoso.example"
	// Rows are written into 1 MB chunks, never into a buffer that grows:
	// growing would copy, and leave the rows already cut from the old
	// array holding it alive.
	const chunk, roomy = 1 << 20, 4 << 10
	var userBuf, regBuf []byte
	fresh := func(b []byte) []byte {
		if cap(b)-len(b) < roomy {
			return make([]byte, 0, min(chunk, roomy+n*640))
		}
		return b
	}
	seen := map[[2]string]int{}
	var all, pilot, admins, finance []string
	for i := range n {
		ri := rng.IntN(len(regions))
		rg, fg := &regions[ri], &folded[ri]
		gi := rng.IntN(len(rg.given))
		si := rng.IntN(len(rg.surnames))
		given, surname := rg.given[gi], rg.surnames[si]
		name := [2]string{fg.given[gi], fg.surnames[si]}
		seen[name]++
		k := seen[name]
		var idb [36]byte
		formatUUIDTo(idb[:], uuid())
		guest := rng.IntN(1000) < 30
		enabled := rng.IntN(1000) >= 20
		admin := !guest && rng.IntN(1000) < 40
		job := jobs[rng.IntN(len(jobs))]
		if admin {
			job = jobs[len(jobs)-1]
		}
		// local is given.surname, and a number from the second namesake on.
		appendLocal := func(b []byte) []byte {
			b = append(b, name[0]...)
			b = append(b, '.')
			b = append(b, name[1]...)
			if k > 1 {
				b = strconv.AppendInt(b, int64(k), 10)
			}
			return b
		}
		appendUPN := func(b []byte) []byte {
			b = append(b, '"')
			b = appendLocal(b)
			if guest {
				b = append(b, "_fabrikam.example#EXT#"...)
			}
			return append(b, "@"+domain+`"`...)
		}
		appendDisplay := func(b []byte) []byte {
			b = append(b, '"')
			b = appendRaw(b, given)
			b = append(b, ' ')
			b = appendRaw(b, surname)
			return append(b, '"')
		}

		userBuf = fresh(userBuf)
		start := len(userBuf)
		b := userBuf
		b = append(b, `{"id":"`...)
		b = append(b, idb[:]...)
		b = append(b, `","userPrincipalName":`...)
		b = appendUPN(b)
		b = append(b, `,"mail":`...)
		if rng.IntN(100) < 3 { // a few members without a mailbox
			b = append(b, "null"...)
		} else {
			b = append(b, '"')
			b = appendLocal(b)
			if guest {
				b = append(b, "@fabrikam.example"...)
			} else {
				b = append(b, "@"+domain...)
			}
			b = append(b, '"')
		}
		b = append(b, `,"displayName":`...)
		b = appendDisplay(b)
		b = append(b, `,"givenName":`...)
		b = appendStr(b, given)
		b = append(b, `,"surname":`...)
		b = appendStr(b, surname)
		b = append(b, `,"preferredLanguage":`...)
		if rng.IntN(100) < 7 {
			b = append(b, "null"...)
		} else {
			b = appendStr(b, rg.language)
		}
		b = append(b, `,"usageLocation":`...)
		b = appendStr(b, rg.usage)
		if guest {
			b = append(b, `,"department":null,"jobTitle":null,"officeLocation":null`...)
		} else {
			b = append(b, `,"department":`...)
			b = appendStr(b, job.department)
			b = append(b, `,"jobTitle":`...)
			b = appendStr(b, job.title)
			b = append(b, `,"officeLocation":`...)
			b = appendStr(b, rg.offices[rng.IntN(len(rg.offices))])
		}
		b = append(b, `,"accountEnabled":`...)
		b = strconv.AppendBool(b, enabled)
		b = append(b, `,"userType":`...)
		if guest {
			b = append(b, `"Guest"`...)
		} else {
			b = append(b, `"Member"`...)
		}
		b = append(b, `,"businessPhones":[],"mobilePhone":null}`...)
		userBuf = b
		t.Users = append(t.Users, userBuf[start:len(userBuf):len(userBuf)])
		if z, ok := synthZone(i, rg.usage); ok && !guest {
			t.TimeZones[string(idb[:])] = z
		}

		if (!guest && enabled) || admin {
			id := string(idb[:])
			if !guest && enabled {
				all = append(all, id)
				if i%10 == 0 {
					pilot = append(pilot, id)
				}
				if job.department == "Finance" {
					finance = append(finance, id)
				}
			}
			if admin {
				admins = append(admins, id)
			}
		}
		if !enabled {
			continue // the report leaves disabled accounts out
		}

		pick := rng.IntN(1000)
		mix := methodMix[len(methodMix)-1]
		for _, m := range methodMix {
			if pick < m.weight {
				mix = m
				break
			}
			pick -= m.weight
		}
		mfa := len(mix.methods) > 0
		sspr := mfa && rng.IntN(10) < 7
		regBuf = fresh(regBuf)
		start = len(regBuf)
		b = regBuf
		b = append(b, `{"id":"`...)
		b = append(b, idb[:]...)
		b = append(b, `","userPrincipalName":`...)
		b = appendUPN(b)
		b = append(b, `,"userDisplayName":`...)
		b = appendDisplay(b)
		if guest {
			b = append(b, `,"userType":"guest"`...)
		} else {
			b = append(b, `,"userType":"member"`...)
		}
		b = append(b, `,"isAdmin":`...)
		b = strconv.AppendBool(b, admin)
		b = append(b, `,"isSsprRegistered":`...)
		b = strconv.AppendBool(b, sspr)
		b = append(b, `,"isSsprEnabled":true,"isSsprCapable":`...)
		b = strconv.AppendBool(b, sspr)
		b = append(b, `,"isMfaRegistered":`...)
		b = strconv.AppendBool(b, mfa)
		b = append(b, `,"isMfaCapable":`...)
		b = strconv.AppendBool(b, mfa)
		b = append(b, `,"isPasswordlessCapable":`...)
		b = strconv.AppendBool(b, mix.phishRes)
		b = append(b, `,"methodsRegistered":[`...)
		for j, m := range mix.methods {
			if j > 0 {
				b = append(b, ',')
			}
			b = appendStr(b, m)
		}
		b = append(b, `],"isSystemPreferredAuthenticationMethodEnabled":true,"systemPreferredAuthenticationMethods":[`...)
		if mix.system != "" {
			b = appendStr(b, mix.system)
		}
		b = append(b, `],"userPreferredMethodForSecondaryAuthentication":`...)
		if mix.system != "" {
			b = appendStr(b, mix.system)
		} else {
			b = append(b, `"none"`...)
		}
		b = append(b, `,"lastUpdatedDateTime":`...)
		updated := synthNow.Add(-time.Duration(rng.IntN(90*24*3600)) * time.Second)
		b = append(b, '"')
		b = updated.AppendFormat(b, "2006-01-02T15:04:05.000Z")
		b = append(b, `"}`...)
		regBuf = b
		t.Registrations = append(t.Registrations, regBuf[start:len(regBuf):len(regBuf)])
	}

	group := func(name string, members []string) Group {
		return Group{ID: formatUUID(uuid()), DisplayName: name, Members: members}
	}
	t.Groups = []Group{
		group("All Staff", all),
		group("Passkey Pilot", pilot),
		group("Privileged Admins", admins),
		group("Finance", finance),
	}
	t.Policy = json.RawMessage(synthPolicy(t.Groups[1].ID, t.Groups[2].ID))
	t.ConditionalAccess = []json.RawMessage{
		json.RawMessage(`{"id":"` + formatUUID(uuid()) + `","displayName":"Require phishing-resistant MFA for admins","state":"enabledForReportingButNotEnforced","createdDateTime":"2026-09-01T10:00:00Z","modifiedDateTime":null,"conditions":{"clientAppTypes":["all"],"applications":{"includeApplications":["All"],"excludeApplications":[]},"users":{"includeUsers":[],"excludeUsers":[],"includeGroups":["` + t.Groups[2].ID + `"],"excludeGroups":[],"includeRoles":["62e90394-69f5-4237-9190-012177145e10"],"excludeRoles":[]}},"grantControls":{"operator":"OR","builtInControls":[],"customAuthenticationFactors":[],"termsOfUse":[],"authenticationStrength":{"id":"00000000-0000-0000-0000-000000000004","displayName":"Phishing-resistant MFA","policyType":"builtIn","requirementsSatisfied":"mfa","allowedCombinations":["windowsHelloForBusiness","fido2","x509CertificateMultiFactor"]}},"sessionControls":null}`),
		json.RawMessage(`{"id":"` + formatUUID(uuid()) + `","displayName":"Require MFA for all users","state":"enabled","createdDateTime":"2025-03-10T09:00:00Z","modifiedDateTime":null,"conditions":{"clientAppTypes":["all"],"applications":{"includeApplications":["All"],"excludeApplications":[]},"users":{"includeUsers":["All"],"excludeUsers":[],"includeGroups":[],"excludeGroups":[],"includeRoles":[],"excludeRoles":[]}},"grantControls":{"operator":"OR","builtInControls":["mfa"],"customAuthenticationFactors":[],"termsOfUse":[]},"sessionControls":null}`),
	}
	t.AuthenticationStrengths = []json.RawMessage{
		builtinStrength("2", "Multifactor authentication", "Combinations of methods that satisfy strong authentication, such as a password + SMS",
			"windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor", "deviceBasedPush", "temporaryAccessPassOneTime",
			"temporaryAccessPassMultiUse", "password,microsoftAuthenticatorPush", "password,softwareOath", "password,hardwareOath",
			"password,sms", "password,voice", "federatedMultiFactor", "microsoftAuthenticatorPush,federatedSingleFactor",
			"softwareOath,federatedSingleFactor", "hardwareOath,federatedSingleFactor", "sms,federatedSingleFactor", "voice,federatedSingleFactor"),
		builtinStrength("3", "Passwordless MFA", "Passwordless methods that satisfy strong authentication, such as Passwordless sign-in with the Microsoft Authenticator",
			"windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor", "deviceBasedPush"),
		builtinStrength("4", "Phishing-resistant MFA", "Phishing-resistant, Passwordless methods for the strongest authentication, such as a FIDO2 security key",
			"windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor"),
	}
	return t
}

func builtinStrength(n, name, desc string, combos ...string) json.RawMessage {
	b, _ := json.Marshal(map[string]any{
		"id":                        "00000000-0000-0000-0000-00000000000" + n,
		"createdDateTime":           "2021-12-01T00:00:00Z",
		"modifiedDateTime":          "2021-12-01T00:00:00Z",
		"displayName":               name,
		"description":               desc,
		"policyType":                "builtIn",
		"requirementsSatisfied":     "mfa",
		"allowedCombinations":       combos,
		"combinationConfigurations": []any{},
	})
	return b
}

// synthPolicy is an authentication methods policy in the middle of a passkey
// rollout: FIDO2 (passkeys) enabled for everyone with an attested profile
// for admins, Microsoft Authenticator enabled, and the registration
// campaign nudging the pilot group.
func synthPolicy(pilot, admins string) string {
	return `{"id":"authenticationMethodsPolicy","displayName":"Authentication Methods Policy","description":"The tenant-wide policy that controls which authentication methods are allowed in the tenant, authentication method registration requirements, and self-service password reset settings","lastModifiedDateTime":"2026-10-10T08:00:00Z","policyVersion":"1.5","policyMigrationState":"migrationComplete",` +
		`"registrationEnforcement":{"authenticationMethodsRegistrationCampaign":{"snoozeDurationInDays":1,"enforceRegistrationAfterAllowedSnoozes":true,"state":"enabled","excludeTargets":[],"includeTargets":[{"id":"` + pilot + `","targetType":"group","targetedAuthenticationMethod":"microsoftAuthenticator"}]}},` +
		`"authenticationMethodConfigurations":[` +
		`{"@odata.type":"#microsoft.graph.fido2AuthenticationMethodConfiguration","id":"Fido2","state":"enabled","isSelfServiceRegistrationAllowed":true,"isAttestationEnforced":false,"keyRestrictions":{"isEnforced":false,"enforcementType":"block","aaGuids":[]},"defaultPasskeyProfile":"00000000-0000-0000-0000-000000000001","passkeyProfiles":[{"id":"00000000-0000-0000-0000-000000000001","name":"Default passkey profile","passkeyTypes":"deviceBound,synced","attestationEnforcement":"disabled","keyRestrictions":{"isEnforced":false,"enforcementType":"block","aaGuids":[]}},{"id":"3c9a7f1e-52b4-4d8a-a6e0-1f2b3c4d5e6f","name":"Admins: attested security keys","passkeyTypes":"deviceBound","attestationEnforcement":"registrationOnly","keyRestrictions":{"isEnforced":true,"enforcementType":"allow","aaGuids":["cb69481e-8ff7-4039-93ec-0a2729a154a8","ee882879-721c-4913-9775-3dfcce97072a"]}}],"includeTargets":[{"targetType":"group","id":"all_users","isRegistrationRequired":false,"allowedPasskeyProfiles":["00000000-0000-0000-0000-000000000001"]},{"targetType":"group","id":"` + admins + `","isRegistrationRequired":false,"allowedPasskeyProfiles":["3c9a7f1e-52b4-4d8a-a6e0-1f2b3c4d5e6f"]}],"excludeTargets":[]},` +
		`{"@odata.type":"#microsoft.graph.microsoftAuthenticatorAuthenticationMethodConfiguration","id":"MicrosoftAuthenticator","state":"enabled","isSoftwareOathEnabled":false,"includeTargets":[{"targetType":"group","id":"all_users","isRegistrationRequired":false,"authenticationMode":"any"}],"excludeTargets":[]},` +
		`{"@odata.type":"#microsoft.graph.temporaryAccessPassAuthenticationMethodConfiguration","id":"TemporaryAccessPass","state":"enabled","defaultLifetimeInMinutes":60,"defaultLength":8,"minimumLifetimeInMinutes":60,"maximumLifetimeInMinutes":480,"isUsableOnce":false,"includeTargets":[{"targetType":"group","id":"all_users","isRegistrationRequired":false}],"excludeTargets":[]},` +
		`{"@odata.type":"#microsoft.graph.smsAuthenticationMethodConfiguration","id":"Sms","state":"enabled","includeTargets":[{"targetType":"group","id":"all_users","isRegistrationRequired":false,"isUsableForSignIn":false}],"excludeTargets":[]}` +
		`]}`
}

// folded are the regions' names as fold spells them, for addresses.
var folded = func() []struct{ given, surnames []string } {
	out := make([]struct{ given, surnames []string }, len(regions))
	for i, rg := range regions {
		for _, g := range rg.given {
			out[i].given = append(out[i].given, fold(g))
		}
		for _, s := range rg.surnames {
			out[i].surnames = append(out[i].surnames, fold(s))
		}
	}
	return out
}()

// fold spells a name in lower-case ASCII for an address.
func fold(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case 'é', 'è', 'ê', 'ë', 'É':
			r = 'e'
		case 'à', 'â', 'ä':
			r = 'a'
		case 'ô', 'ö':
			r = 'o'
		case 'ü', 'û', 'ù':
			r = 'u'
		case 'ç':
			r = 'c'
		case 'î', 'ï':
			r = 'i'
		case 'ß':
			b.WriteString("ss")
			continue
		}
		if r < utf8.RuneSelf {
			b.WriteByte(byte(r | 0x20))
		}
	}
	return b.String()
}

// appendStr appends s as a JSON string.
func appendStr(b []byte, s string) []byte {
	b = append(b, '"')
	b = appendRaw(b, s)
	return append(b, '"')
}

// appendRaw appends s escaped for the inside of a JSON string. Synthesized
// text has no characters that need escaping, so the common case is one
// copy; quotes, backslashes and control characters are handled anyway.
func appendRaw(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' {
			return appendEscaped(append(b, s[:i]...), s[i:])
		}
	}
	return append(b, s...)
}

func appendEscaped(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, `\u00`...)
			b = append(b, "0123456789abcdef"[c>>4], "0123456789abcdef"[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return b
}
