package snapshot

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"
)

// TestMailboxZones: a pull's mailboxSettings.json gives people their zone,
// Windows names mapped to IANA ones; a name nudge cannot map is a problem
// for that person, not a failure; a folder without the file loads as
// before.
func TestMailboxZones(t *testing.T) {
	users := `{"value":[
		{"id":"u1","userPrincipalName":"win@contoso.example","accountEnabled":true},
		{"id":"u2","userPrincipalName":"iana@contoso.example","accountEnabled":true},
		{"id":"u3","userPrincipalName":"custom@contoso.example","accountEnabled":true},
		{"id":"u4","userPrincipalName":"nomailbox@contoso.example","accountEnabled":true},
		{"id":"u5","userPrincipalName":"unset@contoso.example","accountEnabled":true}]}`
	regs := `{"value":[{"id":"u1"},{"id":"u2"},{"id":"u3"},{"id":"u4"},{"id":"u5"}]}`
	mailbox := `{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#users(id,userPrincipalName,mailboxSettings)","value":[
		{"id":"u1","userPrincipalName":"win@contoso.example","mailboxSettings":{"timeZone":"Romance Standard Time"}},
		{"id":"u2","mailboxSettings":{"timeZone":"Asia/Kolkata"}},
		{"id":"u3","mailboxSettings":{"timeZone":"Customized Time Zone"}},
		{"id":"u5","mailboxSettings":{"timeZone":""}},
		{"id":"nobody","mailboxSettings":{"timeZone":"Tokyo Standard Time"}}]}`
	want := map[string]string{"u1": "Europe/Paris", "u2": "Asia/Kolkata", "u3": "", "u4": "", "u5": ""}
	for _, tc := range []struct {
		name    string
		files   fstest.MapFS
		zones   map[string]string
		problem bool
	}{
		{"with mailbox settings", fstest.MapFS{
			UsersFile: {Data: []byte(users)}, RegistrationFile: {Data: []byte(regs)}, MailboxSettingsFile: {Data: []byte(mailbox)},
		}, want, true},
		{"an older pull", fstest.MapFS{
			UsersFile: {Data: []byte(users)}, RegistrationFile: {Data: []byte(regs)},
		}, map[string]string{"u1": "", "u2": "", "u3": "", "u4": "", "u5": ""}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := (&Source{FS: tc.files, Dir: ".", Name: "snap"}).Load(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range d.People {
				if p.TimeZone != tc.zones[p.ID] {
					t.Errorf("%s: zone %q, want %q", p.UserPrincipalName, p.TimeZone, tc.zones[p.ID])
				}
			}
			found := false
			for _, p := range d.Problems {
				if p.Who == "custom@contoso.example" && p.Source == "snap/"+MailboxSettingsFile && strings.Contains(p.What, `"Customized Time Zone"`) {
					found = true
				}
			}
			if found != tc.problem {
				t.Errorf("problem about the custom zone: %v, want %v (%v)", found, tc.problem, d.Problems)
			}
		})
	}

	bad := fstest.MapFS{UsersFile: {Data: []byte(users)}, RegistrationFile: {Data: []byte(regs)}, MailboxSettingsFile: {Data: []byte(`{"value":[{"id":"u1","mailboxSettings":{"timeZone":3}}]}`)}}
	if _, err := (&Source{FS: bad, Dir: ".", Name: "snap"}).Load(context.Background()); err == nil || !strings.Contains(err.Error(), MailboxSettingsFile) {
		t.Errorf("a malformed mailboxSettings.json: %v, want an error naming the file", err)
	}
}
