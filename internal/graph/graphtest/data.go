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

	regs   *projection
	regIdx map[string]int // lower-case id -> row

	groups   *entitySet
	groupIdx map[string]int // lower-case id -> index
	members  [][]string     // transitive member ids by group index

	policy    []byte
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
	for i, raw := range t.Users {
		r, err := u.add(raw, t.trusted)
		if err != nil {
			return nil, fmt.Errorf("user %d: %v", i, err)
		}
		p := person{
			id: r.str(k.id), upn: r.str(k.upn), mail: r.str(k.mail), userType: r.str(k.userType),
			displayName: r.str(k.display), office: r.str(k.office), usage: r.str(k.usage), language: r.str(k.lang),
			enabled: string(r.value(k.enabled)) != "false",
		}
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
		d.people = append(d.people, p)
	}

	d.regs = &projection{ends: make([]int, 0, len(t.Registrations))}
	for i, raw := range t.Registrations {
		b := []byte(raw)
		if !t.trusted {
			var buf bytes.Buffer
			if err := json.Compact(&buf, raw); err != nil {
				return nil, fmt.Errorf("registration row %d: %v", i, err)
			}
			b = buf.Bytes()
		}
		props, err := splitObject(b, false)
		if err != nil {
			return nil, fmt.Errorf("registration row %d: %v", i, err)
		}
		for _, p := range props {
			if p.name == "id" {
				var id string
				json.Unmarshal(p.val, &id)
				d.regIdx[strings.ToLower(id)] = i
			}
		}
		d.regs.data = append(d.regs.data, b...)
		d.regs.ends = append(d.regs.ends, len(d.regs.data))
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

	if t.Policy != nil {
		var buf bytes.Buffer
		if err := json.Compact(&buf, t.Policy); err != nil {
			return nil, fmt.Errorf("policy: %v", err)
		}
		d.policy = buf.Bytes()
	}
	var err error
	if d.ca, err = compactAll(t.ConditionalAccess); err != nil {
		return nil, fmt.Errorf("conditional access policy: %v", err)
	}
	if d.strengths, err = compactAll(t.AuthenticationStrengths); err != nil {
		return nil, fmt.Errorf("authentication strength policy: %v", err)
	}
	return d, nil
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

// user finds a user by id or userPrincipalName.
func (d *data) user(idOrUPN string) (*person, int, bool) {
	i, ok := d.userIdx[strings.ToLower(idOrUPN)]
	if !ok {
		return nil, 0, false
	}
	return &d.people[i], i, true
}
