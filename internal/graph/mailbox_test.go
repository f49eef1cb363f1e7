package graph_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nudge-passkeys/nudge/internal/directory"
	"github.com/nudge-passkeys/nudge/internal/graph"
	"github.com/nudge-passkeys/nudge/internal/graph/graphtest"
)

// demoUser is what the mailbox tests need to know of a tenant's user.
type demoUser struct {
	ID                string  `json:"id"`
	UserPrincipalName string  `json:"userPrincipalName"`
	Mail              *string `json:"mail"`
	UserType          string  `json:"userType"`
	AccountEnabled    *bool   `json:"accountEnabled"`
}

func (u demoUser) hasMailbox() bool {
	return u.Mail != nil && *u.Mail != "" && u.UserType != "Guest" && (u.AccountEnabled == nil || *u.AccountEnabled)
}

func tenantUsers(t *testing.T, tenant *graphtest.Tenant) []demoUser {
	t.Helper()
	out := make([]demoUser, len(tenant.Users))
	for i, raw := range tenant.Users {
		if err := json.Unmarshal(raw, &out[i]); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestPullMailboxSettings reads the demo tenant's mailbox time zones in
// batches of 20, with three mailboxes throttled once inside their batch:
// only those three are asked again, after their Retry-After, and every
// person ends up with the zone their mailbox reports, as an IANA zone.
func TestPullMailboxSettings(t *testing.T) {
	tenant := demo(t)
	users := tenantUsers(t, tenant)
	var withMailbox, without []demoUser
	for _, u := range users {
		if u.hasMailbox() {
			withMailbox = append(withMailbox, u)
		} else {
			without = append(without, u)
		}
	}
	if len(without) == 0 {
		t.Fatal("the demo tenant has no one without a mailbox: the test tests less than it says")
	}
	// Some zones the test knows for sure, Windows and IANA.
	tenant.TimeZones[withMailbox[1].ID] = "Lord Howe Standard Time"
	tenant.TimeZones[withMailbox[2].ID] = "Asia/Kolkata"
	tenant.TimeZones[withMailbox[3].ID] = "Customized Time Zone"
	tenant.TimeZones[withMailbox[4].ID] = "  "
	throttled := []string{withMailbox[5].ID, withMailbox[30].ID, withMailbox[31].ID}
	var faults []graphtest.Fault
	for _, id := range throttled {
		faults = append(faults, graphtest.Fault{Path: "/v1.0/users/" + id + "/mailboxSettings", Times: 1, Status: 429, RetryAfter: "1"})
	}
	s := graphtest.Start(t, graphtest.Options{Tenant: tenant, Faults: faults})
	c := client(t, config(t, s))
	dir := filepath.Join(t.TempDir(), "snap")
	var last graph.Progress
	res, err := c.Pull(context.Background(), dir, graph.PullOptions{MailboxSettings: true, Progress: func(p graph.Progress) { last = p }})
	if err != nil {
		t.Fatal(err)
	}
	mb := res.Mailboxes
	if mb == nil {
		t.Fatal("no mailbox result")
	}
	if mb.Asked != len(withMailbox) || mb.Skipped != len(without) || mb.Stopped || mb.Denied != 0 || mb.Failed != 0 || mb.Unset != 1 {
		t.Errorf("mailboxes %+v, want %d asked and %d skipped", *mb, len(withMailbox), len(without))
	}
	if mb.Windows == 0 || mb.Windows == mb.Zones {
		t.Errorf("%d zones of which %d Windows names: want both kinds", mb.Zones, mb.Windows)
	}
	if u := mb.Unknown["Customized Time Zone"]; u.People == 0 {
		t.Errorf("unknown zones %v, want Customized Time Zone", mb.Unknown)
	}
	if last.Mailboxes != len(withMailbox) || last.MailboxesQueued != len(withMailbox) {
		t.Errorf("last progress %+v, want %d mailboxes", last, len(withMailbox))
	}
	warned := false
	for _, w := range res.Warnings {
		warned = warned || strings.Contains(w, `"Customized Time Zone"`) && strings.Contains(w, "e.g. ")
	}
	if !warned {
		t.Errorf("no warning about the unknown zone: %q", res.Warnings)
	}

	// The requests: batches of at most 20 GETs, one request per mailbox,
	// and the throttled ones once more, never before their Retry-After.
	batches, asked := 0, map[string]int{}
	for _, r := range s.Requests() {
		switch {
		case r.Method == "POST" && r.Path == "/v1.0/$batch":
			batches++
			var b struct {
				Requests []struct{ ID, Method, URL string }
			}
			if err := json.Unmarshal(r.Body, &b); err != nil || len(b.Requests) == 0 || len(b.Requests) > 20 {
				t.Errorf("batch of %d requests (%v)", len(b.Requests), err)
			}
		case strings.HasSuffix(r.Path, "/mailboxSettings/timeZone"):
			if r.Method != "GET" {
				t.Errorf("%s %s", r.Method, r.Path)
			}
			asked[strings.TrimSuffix(strings.TrimPrefix(r.Path, "/v1.0/users/"), "/mailboxSettings/timeZone")]++
		}
	}
	if want := (len(withMailbox)+19)/20 + 1; batches < want || batches > want+len(throttled) {
		t.Errorf("%d batches for %d mailboxes, want about %d", batches, len(withMailbox), want)
	}
	for _, u := range withMailbox {
		want := 1
		for _, id := range throttled {
			if id == u.ID {
				want = 2
			}
		}
		if asked[u.ID] != want {
			t.Errorf("mailbox of %s asked %d times, want %d", u.UserPrincipalName, asked[u.ID], want)
		}
	}
	for _, u := range without {
		if asked[u.ID] != 0 {
			t.Errorf("asked the mailbox of %s, who has none to ask", u.UserPrincipalName)
		}
	}
	if v := s.Violations(); len(v) > 0 {
		t.Errorf("retried before Retry-After:\n%s", strings.Join(v, "\n"))
	}

	// Read back: each person's zone, as an IANA zone.
	d := load(t, dir)
	byID := map[string]*directory.Person{}
	for i := range d.People {
		byID[d.People[i].ID] = &d.People[i]
	}
	for _, tc := range []struct {
		who  demoUser
		want string
	}{
		{withMailbox[1], "Australia/Lord_Howe"},
		{withMailbox[2], "Asia/Kolkata"},
		{withMailbox[3], ""},
		{withMailbox[4], ""},
		{without[0], ""},
	} {
		if got := byID[tc.who.ID].TimeZone; got != tc.want {
			t.Errorf("zone of %s: %q, want %q", tc.who.UserPrincipalName, got, tc.want)
		}
	}
	asks := map[string]bool{}
	for _, u := range withMailbox {
		asks[u.ID] = true
	}
	for id, name := range tenant.TimeZones {
		p := byID[id]
		if p == nil || !asks[id] || strings.TrimSpace(name) == "" {
			continue
		}
		want, _ := directory.MailboxZone(name)
		if p.TimeZone != want {
			t.Errorf("zone of %s: %q, want %q (the mailbox says %q)", p.UserPrincipalName, p.TimeZone, want, name)
		}
	}
	zoned := 0
	for _, u := range withMailbox {
		if byID[u.ID].TimeZone != "" {
			zoned++
		}
	}
	if zoned != mb.Zones {
		t.Errorf("%d people with a zone read back, the pull counted %d", zoned, mb.Zones)
	}
	problem := false
	for _, p := range d.Problems {
		if p.Who == withMailbox[3].UserPrincipalName && strings.Contains(p.What, "Customized Time Zone") {
			problem = true
		}
	}
	if !problem {
		t.Errorf("no problem reported for the unknown zone: %v", d.Problems)
	}
}

// TestPullMailboxSettingsDenied: an app without MailboxSettings.Read pulls
// everything else, warns naming the permission, and asks no further than
// the first batches.
func TestPullMailboxSettingsDenied(t *testing.T) {
	tenant := demo(t)
	tenant.Apps = []graphtest.App{{ClientID: graphtest.DefaultClientID, Secret: graphtest.DefaultClientSecret,
		Roles: []string{"User.Read.All", "AuditLog.Read.All", "GroupMember.Read.All", "Policy.Read.AuthenticationMethod", "Policy.Read.All"}}}
	s := graphtest.Start(t, graphtest.Options{Tenant: tenant})
	c := client(t, config(t, s))
	dir := filepath.Join(t.TempDir(), "snap")
	res, err := c.Pull(context.Background(), dir, graph.PullOptions{MailboxSettings: true})
	if err != nil {
		t.Fatalf("a missing MailboxSettings.Read failed the pull: %v", err)
	}
	if res.Mailboxes == nil || !res.Mailboxes.Stopped {
		t.Errorf("mailboxes %+v, want stopped", res.Mailboxes)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "MailboxSettings.Read application permission") || !strings.Contains(res.Warnings[0], "office_locations") {
		t.Errorf("warnings %q, want one naming MailboxSettings.Read and the fallback", res.Warnings)
	}
	batches := 0
	for _, r := range s.Requests() {
		if r.Path == "/v1.0/$batch" {
			batches++
		}
	}
	if batches == 0 || batches > 8 { // the first answer stops the workers; the batches in flight finish
		t.Errorf("%d batches sent after the first was refused", batches)
	}
	if _, err := os.Stat(filepath.Join(dir, graph.MailboxSettingsFile)); err == nil {
		t.Error("a mailbox settings file was written with nothing in it")
	}
	if d := load(t, dir); len(d.People) != len(tenant.Users) {
		t.Errorf("read back %d people, want %d", len(d.People), len(tenant.Users))
	}
}

// TestPullMailboxSettingsPartlyDenied: mailboxes an Exchange access policy
// keeps from the app are counted and warned about; the others are read.
func TestPullMailboxSettingsPartlyDenied(t *testing.T) {
	tenant := demo(t)
	users := tenantUsers(t, tenant)
	var faults []graphtest.Fault
	for _, u := range users[40:] {
		if u.hasMailbox() && len(faults) < 2 {
			faults = append(faults, graphtest.Fault{Path: "/v1.0/users/" + u.ID + "/mailboxSettings", Status: 403,
				Body: `{"error":{"code":"ErrorAccessDenied","message":"Access to OData is disabled: an application access policy blocks it."}}`})
		}
	}
	s := graphtest.Start(t, graphtest.Options{Tenant: tenant, Faults: faults})
	c := client(t, config(t, s))
	res, err := c.Pull(context.Background(), filepath.Join(t.TempDir(), "snap"), graph.PullOptions{MailboxSettings: true})
	if err != nil {
		t.Fatal(err)
	}
	if mb := res.Mailboxes; mb == nil || mb.Stopped || mb.Denied != 2 || mb.Zones == 0 {
		t.Errorf("mailboxes %+v, want 2 denied and the rest read", mb)
	}
	found := false
	for _, w := range res.Warnings {
		found = found || strings.Contains(w, "2 mailboxes refused access") && strings.Contains(w, "application access policy")
	}
	if !found {
		t.Errorf("warnings %q", res.Warnings)
	}
}

// TestPullMailboxSettingsThrottledForGood: a mailbox Graph keeps
// throttling is counted as failed and warned about; the pull succeeds.
func TestPullMailboxSettingsThrottledForGood(t *testing.T) {
	tenant := graphtest.Synthesize(40)
	users := tenantUsers(t, tenant)
	var victim demoUser
	for _, u := range users {
		if u.hasMailbox() {
			victim = u
			break
		}
	}
	s := graphtest.Start(t, graphtest.Options{Tenant: tenant, Faults: []graphtest.Fault{{Path: "/v1.0/users/" + victim.ID + "/mailboxSettings", Status: 429, RetryAfter: "0"}}})
	c := client(t, config(t, s))
	res, err := c.Pull(context.Background(), filepath.Join(t.TempDir(), "snap"), graph.PullOptions{MailboxSettings: true})
	if err != nil {
		t.Fatal(err)
	}
	if mb := res.Mailboxes; mb == nil || mb.Failed != 1 {
		t.Fatalf("mailboxes %+v, want one failed", mb)
	}
	found := false
	for _, w := range res.Warnings {
		found = found || strings.Contains(w, "1 mailboxes not read after retries") && strings.Contains(w, victim.UserPrincipalName) && strings.Contains(w, "429")
	}
	if !found {
		t.Errorf("warnings %q", res.Warnings)
	}
}

// TestPullWithoutMailboxSettings: not asked, not read.
func TestPullWithoutMailboxSettings(t *testing.T) {
	s := graphtest.Start(t, graphtest.Options{Tenant: graphtest.Synthesize(30)})
	c := client(t, config(t, s))
	dir := filepath.Join(t.TempDir(), "snap")
	res, err := c.Pull(context.Background(), dir, graph.PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range s.Requests() {
		if r.Path == "/v1.0/$batch" || strings.Contains(r.Path, "/mailboxSettings") {
			t.Errorf("%s %s without mailbox_settings", r.Method, r.Path)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, graph.MailboxSettingsFile)); err == nil || res.Mailboxes != nil {
		t.Error("mailbox settings read without being asked")
	}
}

// TestPullMailboxSettingsBatchFails: a whole batch answered 502 (a proxy,
// a Graph front end) is sent again, as any read would be, and the pull
// ends with every mailbox read.
func TestPullMailboxSettingsBatchFails(t *testing.T) {
	tenant := graphtest.Synthesize(40)
	s := graphtest.Start(t, graphtest.Options{Tenant: tenant, Faults: []graphtest.Fault{{Path: "/v1.0/$batch", Method: "POST", Status: 502, Times: 2}}})
	c := client(t, config(t, s))
	res, err := c.Pull(context.Background(), filepath.Join(t.TempDir(), "snap"), graph.PullOptions{MailboxSettings: true})
	if err != nil {
		t.Fatalf("a batch answered 502 twice failed the pull: %v", err)
	}
	if mb := res.Mailboxes; mb == nil || mb.Failed != 0 || mb.Asked == 0 || mb.Zones == 0 {
		t.Fatalf("mailboxes %+v, want all read", mb)
	}
}
