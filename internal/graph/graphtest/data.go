package graphtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// data is a Tenant split and indexed for serving; it does not change while
// the server runs.
type data struct {
	tenantID string
	domains  map[string]bool // lower-case domains of member UPNs

	users   *entitySet
	userIdx map[string]int // lower-case id and userPrincipalName -> index
	people  []person

	regs   [][]byte       // compact userRegistrationDetails rows
	regIdx map[string]int // lower-case id -> row

	groups   *entitySet
	groupIdx map[string]int // lower-case id -> index
	members  [][]string     // transitive member ids by group index

	policy    []byte
	tap       tapPolicy
	ca        [][]byte
	strengths [][]byte
	timeZones map[string]string
}

// person is what the server itself needs to know of a user.
type person struct {
	id, upn, mail, userType, displayName string
	office, usage, language              string
	enabled                              bool
}

// hasMailbox says whether Exchange Online would have a mailbox for p: the
// test tenant's rule is a mail address on a member account.
func (p *person) hasMailbox() bool {
	return p.mail != "" && !strings.EqualFold(p.userType, "Guest")
}

// userSchema follows the v1.0 user resource.
var userSchema = schema{
	typeName: "Microsoft.DirectoryServices.User",
	known: []string{
		"aboutMe", "accountEnabled", "ageGroup", "assignedLicenses", "assignedPlans", "authorizationInfo",
		"birthday", "businessPhones", "city", "companyName", "consentProvidedForMinor", "country",
		"createdDateTime", "creationType", "customSecurityAttributes", "deletedDateTime", "department",
		"displayName", "employeeHireDate", "employeeId", "employeeLeaveDateTime", "employeeOrgData",
		"employeeType", "externalUserState", "externalUserStateChangeDateTime", "faxNumber", "givenName",
		"hireDate", "id", "identities", "imAddresses", "interests", "isManagementRestricted",
		"isResourceAccount", "jobTitle", "lastPasswordChangeDateTime", "legalAgeGroupClassification",
		"licenseAssignmentStates", "mail", "mailboxSettings", "mailNickname", "mobilePhone", "mySite",
		"officeLocation", "onPremisesDistinguishedName", "onPremisesDomainName",
		"onPremisesExtensionAttributes", "onPremisesImmutableId", "onPremisesLastSyncDateTime",
		"onPremisesProvisioningErrors", "onPremisesSamAccountName", "onPremisesSecurityIdentifier",
		"onPremisesSyncEnabled", "onPremisesUserPrincipalName", "otherMails", "passwordPolicies",
		"passwordProfile", "pastProjects", "postalCode", "preferredDataLocation", "preferredLanguage",
		"preferredName", "provisionedPlans", "proxyAddresses", "responsibilities", "schools",
		"securityIdentifier", "serviceProvisioningErrors", "showInAddressList", "signInActivity",
		"signInSessionsValidFromDateTime", "skills", "state", "streetAddress", "surname", "usageLocation",
		"userPrincipalName", "userType",
	},
	defaults: []string{"businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone",
		"officeLocation", "preferredLanguage", "surname", "userPrincipalName"},
	single: []string{"aboutMe", "birthday", "hireDate", "interests", "mySite", "pastProjects",
		"preferredName", "responsibilities", "schools", "skills", "mailboxSettings"},
}

// groupSchema follows the v1.0 group resource; without $select graphtest
// returns every property it has.
var groupSchema = schema{
	typeName: "Microsoft.DirectoryServices.Group",
	known: []string{
		"id", "classification", "createdDateTime", "creationOptions", "deletedDateTime", "description",
		"displayName", "expirationDateTime", "groupTypes", "isAssignableToRole", "mail", "mailEnabled",
		"mailNickname", "membershipRule", "membershipRuleProcessingState", "onPremisesDomainName",
		"onPremisesLastSyncDateTime", "onPremisesNetBiosName", "onPremisesProvisioningErrors",
		"onPremisesSamAccountName", "onPremisesSecurityIdentifier", "onPremisesSyncEnabled",
		"preferredDataLocation", "preferredLanguage", "proxyAddresses", "renewedDateTime",
		"resourceBehaviorOptions", "resourceProvisioningOptions", "securityEnabled", "securityIdentifier",
		"serviceProvisioningErrors", "theme", "uniqueName", "visibility",
	},
}

// prepare splits and indexes t.
func prepare(t *Tenant) (*data, error) {
	d := &data{
		tenantID:  t.ID,
		domains:   map[string]bool{},
		users:     newEntitySet(userSchema),
		userIdx:   make(map[string]int, len(t.Users)*2),
		people:    make([]person, 0, len(t.Users)),
		regIdx:    make(map[string]int, len(t.Registrations)),
		groups:    newEntitySet(groupSchema),
		groupIdx:  map[string]int{},
		timeZones: t.TimeZones,
	}
	if d.tenantID == "" {
		d.tenantID = DefaultTenantID
	}
	u := d.users
	u.rows = make([]row, 0, len(t.Users))
	k := struct{ id, upn, mail, userType, enabled, display, office, usage, lang int }{
		u.key("id"), u.key("userPrincipalName"), u.key("mail"), u.key("userType"), u.key("accountEnabled"),
		u.key("displayName"), u.key("officeLocation"), u.key("usageLocation"), u.key("preferredLanguage"),
	}
	// The people's strings are cut from one string per chunk of users
	// rather than allocated one by one: at 100,000 users that is the
	// difference between a few allocations and a million.
	const chunk = 4096
	var (
		buf  []byte
		ends [][8]int
	)
	flush := func() {
		all := string(buf)
		base := len(d.people) - len(ends)
		start := 0
		for i, e := range ends {
			p := &d.people[base+i]
			for j, dst := range []*string{&p.id, &p.upn, &p.mail, &p.userType, &p.displayName, &p.office, &p.usage, &p.language} {
				*dst = all[start:e[j]]
				start = e[j]
			}
		}
		buf, ends = buf[:0], ends[:0]
	}
	for i, raw := range t.Users {
		r, err := u.add(raw, t.trusted)
		if err != nil {
			return nil, fmt.Errorf("user %d: %v", i, err)
		}
		var e [8]int
		for j, key := range []int{k.id, k.upn, k.mail, k.userType, k.display, k.office, k.usage, k.lang} {
			buf = appendString(buf, r.value(key))
			e[j] = len(buf)
		}
		ends = append(ends, e)
		d.people = append(d.people, person{enabled: string(r.value(k.enabled)) != "false"})
		if len(ends) == chunk {
			flush()
		}
	}
	flush()
	for i := range d.people {
		p := &d.people[i]
		if p.id == "" {
			return nil, fmt.Errorf("user %d has no id", i)
		}
		if _, dup := d.userIdx[strings.ToLower(p.id)]; dup {
			return nil, fmt.Errorf("user id %s appears twice", p.id)
		}
		d.userIdx[strings.ToLower(p.id)] = i
		if p.upn != "" {
			d.userIdx[strings.ToLower(p.upn)] = i
			if at := strings.LastIndexByte(p.upn, '@'); at > 0 && !strings.Contains(p.upn, "#EXT#") {
				d.domains[strings.ToLower(p.upn[at+1:])] = true
			}
		}
	}

	// The report "doesn't work for disabled users"
	// (https://learn.microsoft.com/graph/api/authenticationmethodsroot-list-userregistrationdetails):
	// a row for a user of the tenant whose account is disabled is left out,
	// so a hand-made tenant cannot serve what Graph would not.
	d.regs = make([][]byte, 0, len(t.Registrations))
	for i, raw := range t.Registrations {
		b := []byte(raw)
		if !t.trusted {
			var buf bytes.Buffer
			if err := json.Compact(&buf, raw); err != nil {
				return nil, fmt.Errorf("registration row %d: %v", i, err)
			}
			b = buf.Bytes()
		}
		var id []byte
		err := scanObject(b, func(name []byte, start, end int) error {
			if string(name) == "id" {
				id = b[start:end]
				return errStop
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("registration row %d: %v", i, err)
		}
		key := ""
		ui, ok := d.userIdx[string(unquote(id))]
		if !ok {
			ui, ok = d.userIdx[strings.ToLower(string(appendString(nil, id)))]
		}
		if ok {
			if !d.people[ui].enabled {
				continue
			}
			key = strings.ToLower(d.people[ui].id)
		} else {
			key = strings.ToLower(string(appendString(nil, id)))
		}
		d.regIdx[key] = len(d.regs)
		d.regs = append(d.regs, b)
	}

	for i, g := range t.Groups {
		raw := g.Raw
		if len(raw) == 0 {
			raw = synthGroup(g.ID, g.DisplayName)
		}
		r, err := d.groups.add(raw, false)
		if err != nil {
			return nil, fmt.Errorf("group %d: %v", i, err)
		}
		id := r.str(d.groups.key("id"))
		if id == "" {
			id = g.ID
		}
		d.groupIdx[strings.ToLower(id)] = i
		d.members = append(d.members, g.Members)
	}

	var err error
	d.tap = defaultTAP
	if t.Policy != nil {
		var buf bytes.Buffer
		if err := json.Compact(&buf, t.Policy); err != nil {
			return nil, fmt.Errorf("policy: %v", err)
		}
		d.policy = buf.Bytes()
		if d.tap, err = readTAPPolicy(d.policy); err != nil {
			return nil, fmt.Errorf("policy: %v", err)
		}
	}
	if d.ca, err = compactAll(t.ConditionalAccess); err != nil {
		return nil, fmt.Errorf("conditional access policy: %v", err)
	}
	if d.strengths, err = compactAll(t.AuthenticationStrengths); err != nil {
		return nil, fmt.Errorf("authentication strength policy: %v", err)
	}
	return d, nil
}

// tapPolicy is the Temporary Access Pass method configuration of the
// authentication methods policy: what POST temporaryAccessPassMethods
// applies and enforces
// (https://learn.microsoft.com/graph/api/resources/temporaryaccesspassauthenticationmethodconfiguration).
type tapPolicy struct {
	enabled                   bool
	defaultLifetime, min, max int
	usableOnce                bool // only one-time passes may be created
	defaultLength             int
}

// defaultTAP applies when the tenant has no policy document: the defaults
// Entra documents for the method, enabled.
var defaultTAP = tapPolicy{enabled: true, defaultLifetime: 60, min: 60, max: 480, defaultLength: 8}

// readTAPPolicy finds the TemporaryAccessPass configuration in a compact
// policy. A policy without one has the method disabled, as in Entra.
func readTAPPolicy(policy []byte) (tapPolicy, error) {
	var doc struct {
		Configs []struct {
			ODataType  string `json:"@odata.type"`
			ID         string `json:"id"`
			State      string `json:"state"`
			Default    *int   `json:"defaultLifetimeInMinutes"`
			Min        *int   `json:"minimumLifetimeInMinutes"`
			Max        *int   `json:"maximumLifetimeInMinutes"`
			Length     *int   `json:"defaultLength"`
			UsableOnce bool   `json:"isUsableOnce"`
		} `json:"authenticationMethodConfigurations"`
	}
	if err := json.Unmarshal(policy, &doc); err != nil {
		return tapPolicy{}, err
	}
	for _, c := range doc.Configs {
		if !strings.EqualFold(c.ID, "TemporaryAccessPass") && c.ODataType != "#microsoft.graph.temporaryAccessPassAuthenticationMethodConfiguration" {
			continue
		}
		p := defaultTAP
		p.enabled = strings.EqualFold(c.State, "enabled")
		p.usableOnce = c.UsableOnce
		for _, f := range []struct {
			v   *int
			dst *int
		}{{c.Default, &p.defaultLifetime}, {c.Min, &p.min}, {c.Max, &p.max}, {c.Length, &p.defaultLength}} {
			if f.v != nil {
				*f.dst = *f.v
			}
		}
		return p, nil
	}
	return tapPolicy{}, nil
}

func compactAll(rows []json.RawMessage) ([][]byte, error) {
	out := make([][]byte, len(rows))
	for i, raw := range rows {
		var buf bytes.Buffer
		if err := json.Compact(&buf, raw); err != nil {
			return nil, err
		}
		out[i] = buf.Bytes()
	}
	return out, nil
}

// synthGroup is the object of a group known only by id and name: a
// security group, as most groups a passkey campaign targets are.
func synthGroup(id, name string) []byte {
	nick := strings.Map(func(r rune) rune {
		if r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return r
		}
		return -1
	}, name)
	if nick == "" {
		nick = "group"
	}
	obj := map[string]any{
		"id": id, "displayName": name, "description": nil, "groupTypes": []string{},
		"mail": nil, "mailEnabled": false, "mailNickname": nick, "securityEnabled": true,
		"visibility": nil, "createdDateTime": "2025-01-15T09:00:00Z",
	}
	b, _ := json.Marshal(obj)
	return b
}

// appendString appends the JSON string v, decoded, to dst; nothing when v
// is absent, null or not a string.
func appendString(dst, v []byte) []byte {
	if len(v) < 2 || v[0] != '"' {
		return dst
	}
	if bytes.IndexByte(v, '\\') < 0 {
		return append(dst, v[1:len(v)-1]...)
	}
	var s string
	if json.Unmarshal(v, &s) != nil {
		return dst
	}
	return append(dst, s...)
}

// unquote is the inside of the JSON string v when it has no escapes, for
// a map lookup; anything else gives nil.
func unquote(v []byte) []byte {
	if len(v) < 2 || v[0] != '"' || bytes.IndexByte(v, '\\') >= 0 {
		return nil
	}
	return v[1 : len(v)-1]
}

// user finds a user by id or userPrincipalName.
func (d *data) user(idOrUPN string) (*person, int, bool) {
	i, ok := d.userIdx[strings.ToLower(idOrUPN)]
	if !ok {
		return nil, 0, false
	}
	return &d.people[i], i, true
}
