package graphtest

import (
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/nudge-passkeys/nudge/content"
	"io/fs"
	"path"
	"strings"
)

// Default credentials of the app that LoadSnapshot and Synthesize register in
// a tenant, so a test can sign in with a client secret without setting up an
// app of its own. They open nothing but a graphtest server.
const (
	DefaultTenantID     = "6a1c9e2f-3b7d-4e58-9f0a-2c4d8e6b1a73"
	DefaultClientID     = "0e8f4b2a-7c1d-4a39-b6e5-93f2d1c08a47"
	DefaultClientSecret = "graphtest-client-secret"
)

// Tenant is the fake Entra ID tenant a Server serves. Every Graph object is
// kept as the JSON Graph returns for it with all properties; the server
// applies $select, paging and annotations. Start reads the tenant once:
// changing it afterwards has no effect on a running server.
type Tenant struct {
	// ID is the tenant id (a GUID), accepted in token URLs and written in
	// issuer and id tokens.
	ID string
	// Users are microsoft.graph.user objects, served by GET /users in this
	// order. Each needs an "id"; "userPrincipalName", "mail", "userType" and
	// "accountEnabled" decide how sendMail and mailboxSettings treat the
	// user (no mail or a Guest: no mailbox).
	Users []json.RawMessage
	// Registrations are userRegistrationDetails objects, served by the
	// authentication methods report in this order.
	Registrations []json.RawMessage
	// Groups are served by /groups and their transitiveMembers.
	Groups []Group
	// Policy is the authenticationMethodsPolicy object, served as is with an
	// @odata.context added when it has none. Nil serves 404.
	Policy json.RawMessage
	// ConditionalAccess are conditionalAccessPolicy objects.
	ConditionalAccess []json.RawMessage
	// AuthenticationStrengths are authenticationStrengthPolicy objects.
	AuthenticationStrengths []json.RawMessage
	// Apps are the client applications allowed to get tokens.
	Apps []App
	// TimeZones maps a user id to the time zone name that
	// GET /users/{id}/mailboxSettings reports: a Windows name, an IANA
	// name or anything else Exchange may hold. Users not listed get a
	// Windows name derived from their officeLocation and usageLocation.
	TimeZones map[string]string

	// trusted marks rows produced by Synthesize: well-formed and compact,
	// so Start need not validate them, which matters at 100,000 users.
	trusted bool
}

// Group is a directory group with its transitive user members.
type Group struct {
	ID          string
	DisplayName string
	// Members are the ids of the users in the group, directly or through
	// nested groups (what transitiveMembers returns).
	Members []string
	// Raw is the full group object as Graph returns it. Optional: without
	// it the server builds a security group from ID and DisplayName.
	Raw json.RawMessage
}

// App is a client application registered in the tenant. A confidential
// client signs in with Secret or with a client assertion signed by the key of
// Certificate; a public client (device code flow) needs only ClientID.
type App struct {
	ClientID    string
	Secret      string
	Certificate *x509.Certificate
	// Roles are the Microsoft Graph application permissions granted to the
	// app with admin consent ("User.Read.All", "Mail.Send", …). An app-only
	// token carries them, and a Graph endpoint answers 403, with the error
	// Graph gives, when none of the permissions its documentation lists is
	// among them. Nil grants every permission; an empty, non-nil slice
	// grants none. Delegated tokens (device code) are not checked.
	Roles []string
}

// File names of the demo-tenant snapshot format (see internal/snapshot).
const (
	usersFile         = "users.json"
	registrationsFile = "userRegistrationDetails.json"
	policyFile        = "authenticationMethodsPolicy.json"
	groupsFile        = "groups.json"
	membersPrefix     = "groupMembers-" // + group id + ".json"
	caFile            = "conditionalAccessPolicies.json"
	strengthsFile     = "authenticationStrengthPolicies.json"
)

// LoadSnapshot reads a folder in the demo-tenant snapshot format: users.json
// and userRegistrationDetails.json (each may continue over pages named by
// "@odata.nextLink": "users-002.json"), authenticationMethodsPolicy.json, and
// optionally groups.json with groupMembers-<group id>.json per group,
// conditionalAccessPolicies.json and authenticationStrengthPolicies.json,
// and mailboxSettings.json (the mailbox time zones nudge pull saves) into
// TimeZones. The tenant gets DefaultTenantID and the default app.
func LoadSnapshot(fsys fs.FS) (*Tenant, error) {
	t := &Tenant{
		ID:   DefaultTenantID,
		Apps: []App{{ClientID: DefaultClientID, Secret: DefaultClientSecret}},
	}
	var err error
	if t.Users, err = readCollection(fsys, usersFile, true); err != nil {
		return nil, err
	}
	if t.Registrations, err = readCollection(fsys, registrationsFile, true); err != nil {
		return nil, err
	}
	if t.ConditionalAccess, err = readCollection(fsys, caFile, false); err != nil {
		return nil, err
	}
	if t.AuthenticationStrengths, err = readCollection(fsys, strengthsFile, false); err != nil {
		return nil, err
	}
	switch data, err := fs.ReadFile(fsys, policyFile); {
	case err == nil:
		if !json.Valid(data) {
			return nil, fmt.Errorf("graphtest: %s is not valid JSON", policyFile)
		}
		t.Policy = data
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("graphtest: %w", err)
	}
	zones, err := readCollection(fsys, mailboxSettingsFile, false)
	if err != nil {
		return nil, err
	}
	if zones != nil {
		if t.TimeZones, err = readTimeZones(zones); err != nil {
			return nil, err
		}
	}
	groups, err := readCollection(fsys, groupsFile, false)
	if err != nil {
		return nil, err
	}
	for _, raw := range groups {
		var g struct {
			ID          string `json:"id"`
			DisplayName string `json:"displayName"`
		}
		if err := json.Unmarshal(raw, &g); err != nil || g.ID == "" {
			return nil, fmt.Errorf("graphtest: %s: a group without an id", groupsFile)
		}
		rows, err := readCollection(fsys, membersPrefix+g.ID+".json", false)
		if err != nil {
			return nil, err
		}
		group := Group{ID: g.ID, DisplayName: g.DisplayName, Raw: raw}
		for _, row := range rows {
			var m struct {
				Type string `json:"@odata.type"`
				ID   string `json:"id"`
			}
			if err := json.Unmarshal(row, &m); err != nil {
				return nil, fmt.Errorf("graphtest: %s%s.json: %w", membersPrefix, g.ID, err)
			}
			if m.ID != "" && (m.Type == "" || m.Type == "#microsoft.graph.user") {
				group.Members = append(group.Members, m.ID)
			}
		}
		t.Groups = append(t.Groups, group)
	}
	return t, nil
}

// readCollection reads the "value" rows of a saved Graph collection and of
// the pages its "@odata.nextLink" file names chain to. A missing first file
// is an error only when required.
func readCollection(fsys fs.FS, first string, required bool) ([]json.RawMessage, error) {
	var rows []json.RawMessage
	seen := map[string]bool{}
	for name := first; name != ""; {
		if seen[name] {
			return nil, fmt.Errorf("graphtest: %s: @odata.nextLink chain loops back to %s", first, name)
		}
		seen[name] = true
		data, err := fs.ReadFile(fsys, name)
		if errors.Is(err, fs.ErrNotExist) && name == first && !required {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("graphtest: %w", err)
		}
		var page struct {
			Value    []json.RawMessage `json:"value"`
			NextLink string            `json:"@odata.nextLink"`
		}
		if err := json.Unmarshal(data, &page); err != nil {
			return nil, fmt.Errorf("graphtest: %s: %w", name, err)
		}
		rows = append(rows, page.Value...)
		next := page.NextLink
		if next != "" && (strings.Contains(next, ":") || strings.Contains(next, "/") || !fs.ValidPath(next)) {
			return nil, fmt.Errorf("graphtest: %s: @odata.nextLink %q is not a file name in the folder", name, next)
		}
		name = path.Clean(next)
		if next == "" {
			name = ""
		}
	}
	return rows, nil
}

// Demo is the demo tenant embedded in nudge (content/demo-tenant), served
// as a live one. Its mailboxes report a spread of time zones: Windows
// names from people's offices and countries, IANA names for every fifth
// person, "Customized Time Zone" for a few; people without mail and
// guests have no mailbox.
func Demo() (*Tenant, error) {
	sub, err := fs.Sub(content.FS, "demo-tenant")
	if err != nil {
		return nil, err
	}
	t, err := LoadSnapshot(sub)
	if err != nil {
		return nil, err
	}
	if t.TimeZones == nil {
		t.TimeZones = spreadZones(t.Users)
	}
	return t, nil
}
