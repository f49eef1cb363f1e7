package graphtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// Mailbox time zones. Exchange reports a mailbox's time zone
// (mailboxSettings.timeZone) as a Windows zone name for most mailboxes,
// and as an IANA name for some set up by other clients; a mailbox whose
// owner built a zone of their own reports "Customized Time Zone". The
// tenants graphtest builds have all three: people not listed in
// Tenant.TimeZones get a Windows name from their office or country (see
// timeZone in mail.go).

// regionIANA are IANA zones people of a country may have set instead of
// a Windows name.
var regionIANA = map[string][]string{
	"US": {"America/Los_Angeles", "America/New_York", "America/Chicago", "America/Denver"},
	"GB": {"Europe/London"},
	"DE": {"Europe/Berlin"},
	"FR": {"Europe/Paris"},
	"AU": {"Australia/Sydney", "Australia/Melbourne", "Australia/Perth"},
	"IN": {"Asia/Kolkata"},
	"JP": {"Asia/Tokyo"},
	"NL": {"Europe/Amsterdam"},
	"ES": {"Europe/Madrid"},
	"IT": {"Europe/Rome"},
	"CA": {"America/Toronto", "America/Vancouver"},
	"BR": {"America/Sao_Paulo"},
	"PL": {"Europe/Warsaw"},
	"SE": {"Europe/Stockholm"},
}

// customZone is what Exchange reports for a zone its owner defined.
const customZone = "Customized Time Zone"

// synthZone is the mailbox time zone Synthesize gives person i of a
// country, when it is not the Windows name timeZone derives: every fifth
// person has an IANA name, one in 499 a custom zone nobody can map.
func synthZone(i int, usage string) (string, bool) {
	switch {
	case i%499 == 0:
		return customZone, true
	case i%5 == 0:
		if z := regionIANA[strings.ToUpper(usage)]; len(z) > 0 {
			return z[(i/5)%len(z)], true
		}
	}
	return "", false
}

// spreadZones gives a loaded tenant's people the same spread of mailbox
// time zones as Synthesize: IANA names for some, a custom zone for a few,
// Windows names (derived from office and country) for the rest.
func spreadZones(users []json.RawMessage) map[string]string {
	zones := map[string]string{}
	for i, raw := range users {
		var u struct {
			ID            string `json:"id"`
			UsageLocation string `json:"usageLocation"`
		}
		if json.Unmarshal(raw, &u) != nil || u.ID == "" {
			continue
		}
		if z, ok := synthZone(i, u.UsageLocation); ok {
			zones[u.ID] = z
		}
	}
	return zones
}

// mailboxSettingsFile is the mailbox time zones of a snapshot folder, as
// nudge pull saves them (internal/graph.MailboxSettingsFile).
const mailboxSettingsFile = "mailboxSettings.json"

// readTimeZones reads a snapshot's mailboxSettings rows into a map of user
// id to time zone name.
func readTimeZones(rows []json.RawMessage) (map[string]string, error) {
	zones := make(map[string]string, len(rows))
	for _, raw := range rows {
		var r struct {
			ID              string `json:"id"`
			MailboxSettings struct {
				TimeZone string `json:"timeZone"`
			} `json:"mailboxSettings"`
		}
		if err := json.Unmarshal(raw, &r); err != nil || r.ID == "" {
			return nil, fmt.Errorf("graphtest: %s: a row without an id", mailboxSettingsFile)
		}
		zones[r.ID] = r.MailboxSettings.TimeZone
	}
	return zones, nil
}

// mailboxTimeZone serves GET /users/{id | userPrincipalName}/mailboxSettings/timeZone:
// one setting of the mailbox, which user-get-mailboxsettings documents
// alongside the whole object, as {"value": "Pacific Standard Time"}.
func (s *Server) mailboxTimeZone(w http.ResponseWriter, r *http.Request, who string) {
	if _, e := options(r, nil, nil); e != nil {
		s.writeError(w, r, e)
		return
	}
	p, ok := s.mailbox(w, r, who)
	if !ok {
		return
	}
	b, _ := json.Marshal(map[string]string{
		"@odata.context": s.URL() + "/v1.0/$metadata#users('" + p.id + "')/mailboxSettings/timeZone",
		"value":          s.timeZone(p),
	})
	s.writeObject(w, r, http.StatusOK, "", b)
}
