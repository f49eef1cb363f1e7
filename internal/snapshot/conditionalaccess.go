package snapshot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"

	"github.com/nudge-passkeys/nudge/internal/directory"
)

// Optional files of a snapshot folder for the Conditional Access part of
// the readiness report, each a Graph collection response saved as is:
//
//	conditionalAccessPolicies.json       GET /identity/conditionalAccess/policies
//	authenticationStrengthPolicies.json  GET /policies/authenticationStrengthPolicies
const (
	ConditionalAccessFile = "conditionalAccessPolicies.json"
	StrengthsFile         = "authenticationStrengthPolicies.json"
)

// ReadConditionalAccess reads the Conditional Access policies and
// authentication strengths of the snapshot folder dir in fsys (name is how
// messages call the folder). Either file may be missing; with neither it
// returns nil, nil. Pages and errors work as for users.json: a malformed
// file fails with file:line:col.
func ReadConditionalAccess(fsys fs.FS, dir, name string) (*directory.ConditionalAccess, error) {
	s := &Source{FS: fsys, Dir: dir, Name: name}
	l := &loader{src: s, ctx: context.Background()}
	var ca directory.ConditionalAccess
	found := false
	for _, f := range []struct {
		name string
		row  func(dec *json.Decoder) error
	}{
		{ConditionalAccessFile, func(dec *json.Decoder) error {
			var p caPolicyJSON
			if err := dec.Decode(&p); err != nil {
				return err
			}
			ca.Policies = append(ca.Policies, p.policy())
			return nil
		}},
		{StrengthsFile, func(dec *json.Decoder) error {
			var st strengthJSON
			if err := dec.Decode(&st); err != nil {
				return err
			}
			ca.Strengths = append(ca.Strengths, *st.strength())
			return nil
		}},
	} {
		switch _, err := fs.Stat(fsys, s.path(f.name)); {
		case errors.Is(err, fs.ErrNotExist):
			continue
		case err != nil:
			return nil, fmt.Errorf("snapshot: %w", err)
		}
		found = true
		l.pages = nil
		if err := l.readPages(f.name, func(_ string, dec *json.Decoder) error { return f.row(dec) }); err != nil {
			return nil, err
		}
	}
	if !found {
		return nil, nil
	}
	return &ca, nil
}

// Graph shapes of the two files; properties nudge does not use (conditions
// other than users, session controls, timestamps) are skipped by the
// decoder.
type (
	caPolicyJSON struct {
		ID          string `json:"id"`
		DisplayName string `json:"displayName"`
		State       string `json:"state"`
		Conditions  *struct {
			Users *struct {
				IncludeUsers                 []string    `json:"includeUsers"`
				ExcludeUsers                 []string    `json:"excludeUsers"`
				IncludeGroups                []string    `json:"includeGroups"`
				ExcludeGroups                []string    `json:"excludeGroups"`
				IncludeRoles                 []string    `json:"includeRoles"`
				ExcludeRoles                 []string    `json:"excludeRoles"`
				IncludeGuestsOrExternalUsers *guestsJSON `json:"includeGuestsOrExternalUsers"`
				ExcludeGuestsOrExternalUsers *guestsJSON `json:"excludeGuestsOrExternalUsers"`
			} `json:"users"`
		} `json:"conditions"`
		GrantControls *struct {
			Operator                    string        `json:"operator"`
			BuiltInControls             []string      `json:"builtInControls"`
			CustomAuthenticationFactors []string      `json:"customAuthenticationFactors"`
			AuthenticationStrength      *strengthJSON `json:"authenticationStrength"`
		} `json:"grantControls"`
	}
	guestsJSON struct {
		GuestOrExternalUserTypes string `json:"guestOrExternalUserTypes"`
	}
	strengthJSON struct {
		ID                    string   `json:"id"`
		DisplayName           string   `json:"displayName"`
		PolicyType            string   `json:"policyType"`
		RequirementsSatisfied string   `json:"requirementsSatisfied"`
		AllowedCombinations   []string `json:"allowedCombinations"`
	}
)

func (p *caPolicyJSON) policy() directory.ConditionalAccessPolicy {
	out := directory.ConditionalAccessPolicy{ID: p.ID, DisplayName: p.DisplayName, State: p.State}
	if p.Conditions != nil && p.Conditions.Users != nil {
		u := p.Conditions.Users
		out.Users = directory.ConditionalAccessUsers{
			IncludeUsers:                 u.IncludeUsers,
			ExcludeUsers:                 u.ExcludeUsers,
			IncludeGroups:                u.IncludeGroups,
			ExcludeGroups:                u.ExcludeGroups,
			IncludeRoles:                 u.IncludeRoles,
			ExcludeRoles:                 u.ExcludeRoles,
			IncludeGuestsOrExternalUsers: u.IncludeGuestsOrExternalUsers.types(),
			ExcludeGuestsOrExternalUsers: u.ExcludeGuestsOrExternalUsers.types(),
		}
	}
	if g := p.GrantControls; g != nil {
		out.Grant = &directory.GrantControls{
			Operator:                    g.Operator,
			BuiltInControls:             g.BuiltInControls,
			CustomAuthenticationFactors: g.CustomAuthenticationFactors,
			AuthenticationStrength:      g.AuthenticationStrength.strength(),
		}
	}
	return out
}

func (g *guestsJSON) types() string {
	if g == nil {
		return ""
	}
	return g.GuestOrExternalUserTypes
}

func (s *strengthJSON) strength() *directory.AuthenticationStrength {
	if s == nil {
		return nil
	}
	return &directory.AuthenticationStrength{
		ID:                    s.ID,
		DisplayName:           s.DisplayName,
		PolicyType:            s.PolicyType,
		RequirementsSatisfied: s.RequirementsSatisfied,
		AllowedCombinations:   s.AllowedCombinations,
	}
}
