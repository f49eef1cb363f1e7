package snapshot

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"
	"unicode/utf16"

	"github.com/google/go-cmp/cmp"

	"github.com/nudge-passkeys/nudge/internal/directory"
)

var csvNow = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

// csvFile writes data to a file in a fresh folder and returns a source for
// it, as the CLI builds one.
func csvFile(t testing.TB, data []byte) *CSVSource {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "UserRegistrationDetails.csv"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	return &CSVSource{FS: os.DirFS(dir), Path: "UserRegistrationDetails.csv", Name: "in/UserRegistrationDetails.csv", Now: func() time.Time { return csvNow }}
}

func utf16LE(s string) []byte {
	b := []byte{0xFF, 0xFE}
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u), byte(u>>8))
	}
	return b
}

func utf16BE(s string) []byte {
	b := []byte{0xFE, 0xFF}
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u>>8), byte(u))
	}
	return b
}

func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

// recomma writes the CSV text s again with another separator.
func recomma(t testing.TB, s string, comma rune) string {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(s)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	w := csv.NewWriter(&b)
	w.Comma = comma
	if err := w.WriteAll(recs); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestCSVSample(t *testing.T) {
	s := &CSVSource{FS: os.DirFS("testdata"), Path: "UserRegistrationDetails.csv", Now: func() time.Time { return csvNow }}
	d, err := s.Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Problems) != 0 {
		t.Errorf("problems: %v", d.Problems)
	}
	if d.Policy != nil || !d.ReadAt.Equal(csvNow) {
		t.Errorf("Policy = %v, ReadAt = %v; want nil, %v", d.Policy, d.ReadAt, csvNow)
	}
	type row struct {
		UPN, Name, Type                            string
		Admin, MFA, Passkey, Passwordless, Enabled bool
		Methods                                    string
	}
	var got []row
	for _, p := range d.People {
		if !p.HasRegistration || p.Mail != "" || p.ID == "" || p.RegistrationUpdated.IsZero() {
			t.Errorf("%s: HasRegistration %v, Mail %q, ID %q, RegistrationUpdated %v", p.UserPrincipalName, p.HasRegistration, p.Mail, p.ID, p.RegistrationUpdated)
		}
		got = append(got, row{p.UserPrincipalName, p.DisplayName, p.UserType, p.IsAdmin, p.IsMFACapable, p.HasPasskey(), p.IsPasswordlessCapable, p.AccountEnabled, strings.Join(p.MethodsRegistered, " ")})
	}
	want := []row{
		{"ann.smith@contoso.example", "Ann Smith", "Member", false, true, false, false, true, "microsoftAuthenticatorPush softwareOneTimePasscode"},
		{"bram.devries@contoso.example", "Bram de Vries", "Member", false, true, true, true, true, "microsoftAuthenticatorPush passKeyDeviceBoundAuthenticator"},
		{"chloe.martin@contoso.example", "Chloé Martin", "Member", false, true, true, true, true, "passKeySynced microsoftAuthenticatorPush"},
		{"it.admin@contoso.example", "IT Admin (Priya Nair)", "Member", true, true, true, true, true, "fido2SecurityKey windowsHelloForBusiness"},
		{"new.starter@contoso.example", "Noah Starter", "Member", false, false, false, false, true, ""},
		{"pat.partner_fabrikam.example#EXT#@contoso.example", "Pat Partner (Fabrikam)", "Guest", false, true, false, false, true, "mobilePhone"},
		{"amelie.garcon@contoso.example", "Amélie Garçon", "Member", false, true, false, false, true, "mobilePhone email"},
		{"hostile.formula@contoso.example", `=HYPERLINK("https://evil.example","Open")`, "Member", false, true, false, false, true, "softwareOneTimePasscode"},
		{"ned.obrien@contoso.example", `O'Brien, "Ned"`, "Member", false, true, false, false, true, "microsoftAuthenticatorPush"},
		{"sofia.rossi@contoso.example", "Sofia Rossi", "Member", false, false, false, false, true, "email"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("people (-want +got):\n%s", diff)
	}
}

// The same two people in every header spelling, separator and encoding.
const (
	graphCSV = `userPrincipalName,userDisplayName,userType,isAdmin,isMfaCapable,isMfaRegistered,isPasswordlessCapable,isSsprRegistered,isSsprEnabled,defaultMfaMethod,methodsRegistered,lastUpdatedDateTime,id
ann@contoso.example,"Smith, Ann",member,False,True,True,False,True,True,microsoftAuthenticatorPush,"[""microsoftAuthenticatorPush"",""softwareOneTimePasscode""]",2026-11-24T06:12:41.5820312Z,u1
bob@contoso.example,Bob 🔑 Ng,guest,True,True,True,True,False,False,none,"[""passKeyDeviceBound""]",2026-11-24T06:12:41Z,u2
`
	screenCSV = `User principal name,User display name,User type,Admin,MFA capable,MFA registered,Passwordless capable,SSPR registered,SSPR enabled,Default MFA method,Methods registered,Last updated time,Object ID
ann@contoso.example,"Smith, Ann",Member,No,Capable,Registered,Not Capable,Registered,Enabled,Microsoft Authenticator app,"Microsoft Authenticator app (push notification), Software OATH token",2026-11-24T06:12:41.5820312Z,u1
bob@contoso.example,Bob 🔑 Ng,Guest,Yes,Capable,Registered,Capable,Not Registered,Not Enabled,None,Passkey (device-bound),2026-11-24T06:12:41Z,u2
`
	mixedCSV = ` USER PRINCIPAL NAME ,userdisplayname,User_Type,Is Admin,mfa-capable,Mfa Registered,PASSWORDLESSCAPABLE,ssprRegistered,methods_registered,Last Updated,ID
ann@contoso.example,"Smith, Ann",MEMBER,0,1,1,0,1,microsoftauthenticatorpush; SOFTWAREONETIMEPASSCODE,2026-11-24T06:12:41.5820312Z,u1
bob@contoso.example,Bob 🔑 Ng,guest,1,1,1,1,0,passkeydevicebound,2026-11-24 06:12:41,u2
`
)

func csvWant() []directory.Person {
	return []directory.Person{{
		ID: "u1", UserPrincipalName: "ann@contoso.example", DisplayName: "Smith, Ann", UserType: "Member",
		AccountEnabled: true, HasRegistration: true, IsMFACapable: true, IsMFARegistered: true, IsSSPRRegistered: true,
		MethodsRegistered:   []string{"microsoftAuthenticatorPush", "softwareOneTimePasscode"},
		RegistrationUpdated: time.Date(2026, 11, 24, 6, 12, 41, 582031200, time.UTC),
	}, {
		ID: "u2", UserPrincipalName: "bob@contoso.example", DisplayName: "Bob 🔑 Ng", UserType: "Guest",
		AccountEnabled: true, HasRegistration: true, IsAdmin: true, IsMFACapable: true, IsMFARegistered: true, IsPasswordlessCapable: true,
		MethodsRegistered:   []string{"passKeyDeviceBound"},
		RegistrationUpdated: time.Date(2026, 11, 24, 6, 12, 41, 0, time.UTC),
	}}
}

func TestCSVFormats(t *testing.T) {
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"graph names", []byte(graphCSV)},
		{"admin center names", []byte(screenCSV)},
		{"mixed case and spacing", []byte(mixedCSV)},
		{"UTF-8 BOM", []byte("\uFEFF" + graphCSV)},
		{"CRLF", []byte(crlf(screenCSV))},
		{"BOM and CRLF", []byte("\uFEFF" + crlf(graphCSV))},
		{"UTF-16 LE", utf16LE(crlf(screenCSV))},
		{"UTF-16 BE", utf16BE(graphCSV)},
		{"semicolons", []byte(recomma(t, screenCSV, ';'))},
		{"semicolons and CRLF in UTF-16", utf16LE(crlf(recomma(t, graphCSV, ';')))},
		{"tabs in UTF-16 (Excel Unicode text)", utf16LE(crlf(recomma(t, screenCSV, '\t')))},
		{"no final newline", []byte(strings.TrimSuffix(graphCSV, "\n"))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := csvFile(t, tc.data).Load(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if len(d.Problems) != 0 {
				t.Errorf("problems: %v", d.Problems)
			}
			if diff := cmp.Diff(csvWant(), d.People); diff != "" {
				t.Errorf("people (-want +got):\n%s", diff)
			}
			if !d.People[1].HasPasskey() || d.People[0].HasPasskey() {
				t.Errorf("HasPasskey: ann %v, bob %v; want false, true", d.People[0].HasPasskey(), d.People[1].HasPasskey())
			}
		})
	}
}

func TestCSVWrongColumns(t *testing.T) {
	for _, tc := range []struct {
		name string
		data string
		want []string
	}{
		{
			"users download, not the registration report",
			"userPrincipalName,displayName,mail,accountEnabled\nann@contoso.example,Ann,ann@contoso.example,true\n",
			[]string{"snapshot: in/UserRegistrationDetails.csv: not a User registration details download: no Methods registered (methodsRegistered) column; the header has userPrincipalName, displayName, mail, accountEnabled (download it from the Entra admin center: Entra ID > Authentication methods > User registration details > Download"},
		},
		{
			"nothing known",
			"Date,Email,Status\n2026-01-01,ann@contoso.example,ok\n",
			[]string{"no User principal name (userPrincipalName) or Methods registered (methodsRegistered) column; the header has Date, Email, Status (", "use Graph's names: userPrincipalName, methodsRegistered"},
		},
		{
			"hostile header cells are quoted",
			"\"=cmd|' /C calc'!A0\",\"a\nb\",\"x, y\"\n1,2,3\n",
			[]string{`the header has =cmd|' /C calc'!A0, "a\nb", "x, y" (`},
		},
		{
			"long header is cut",
			"c" + strings.Repeat(",c", 30) + "\n",
			[]string{"c, c, c", "and 11 more ("},
		},
		{
			"two columns for one field",
			"userPrincipalName,User principal name,methodsRegistered\na@x,a@x,[]\n",
			[]string{"in/UserRegistrationDetails.csv:1: columns userPrincipalName and User principal name both give userPrincipalName: keep one of them"},
		},
		{"empty file", "", []string{"in/UserRegistrationDetails.csv: the file is empty ("}},
		{"only a BOM", "\uFEFF", []string{"the file is empty"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			called := 0
			d, err := csvFile(t, []byte(tc.data)).Stream(t.Context(), func(*directory.Person) error { called++; return nil })
			if err == nil {
				t.Fatalf("no error; got %d people, problems %v", called, d.Problems)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n%s\ndoes not contain\n%s", err, w)
				}
			}
			if called != 0 {
				t.Errorf("%d people handed on before the error; want none", called)
			}
		})
	}
}

func TestCSVSyntaxErrors(t *testing.T) {
	const head = "userPrincipalName,userDisplayName,methodsRegistered\n"
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"too few columns", []byte(head + "a@x,A,[]\nb@x,B\n"), "in/UserRegistrationDetails.csv:3: the row has 2 columns where the header has 3 (is a value with a comma or line break missing its double quotes?)"},
		{"unquoted comma", []byte(head + "a@x,Smith, Ann,[]\n"), "in/UserRegistrationDetails.csv:2: the row has 4 columns where the header has 3"},
		{"bare quote", []byte(head + "a@x,O\"Brien,[]\n"), `in/UserRegistrationDetails.csv:2:6: bare " in non-quoted-field (a value with a double quote in it must be in double quotes, the quote doubled: "O""Brien")`},
		{"quote not closed", []byte(head + "a@x,\"Ann,[]\nb@x,B,[]\n"), "in/UserRegistrationDetails.csv:2: the double quote that opens a value here is not closed by line 3 (was the file cut off, or a quote inside a value not doubled?)"},
		{"counted in CRLF UTF-16", utf16LE(crlf(head + "a@x,\"A\nB\",[]\nb@x,B\n")), "in/UserRegistrationDetails.csv:4: the row has 2 columns"},
		{"UTF-16 without a BOM", utf16LE(head)[2:], `in/UserRegistrationDetails.csv: the file has NUL bytes: it looks like UTF-16 without a byte order mark (save it from Excel as "CSV UTF-8 (Comma delimited)")`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := csvFile(t, tc.data).Load(t.Context())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v\nwant it to contain %s", err, tc.want)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "snapshot: ") {
				t.Errorf("error %q does not start with snapshot:", err)
			}
		})
	}
}

func TestCSVProblems(t *testing.T) {
	const head = "userPrincipalName,userDisplayName,isAdmin,isMfaCapable,methodsRegistered,lastUpdatedDateTime,id\n"
	for _, tc := range []struct {
		name  string
		data  string
		upns  []string // people loaded
		probs []string
	}{
		{
			"bad boolean",
			head + "a@x,A,maybe,True,[],,1\nb@x,B,False,True,[],,2\n",
			[]string{"a@x", "b@x"},
			[]string{`in/UserRegistrationDetails.csv:2: a@x: isAdmin is "maybe", not Yes/No, True/False or 1/0: taken as No`},
		},
		{
			"duplicate UPN, any case",
			head + "a@x,A,False,True,[],,1\nb@x,B,False,True,[],,2\nA@X,A again,False,True,[],,3\n",
			[]string{"a@x", "b@x"},
			[]string{"in/UserRegistrationDetails.csv:4: A@X: second row for this user principal name (the first is on line 2): left out"},
		},
		{
			"duplicate id",
			head + "a@x,A,False,True,[],,1\nb@x,B,False,True,[],,1\n",
			[]string{"a@x"},
			[]string{`in/UserRegistrationDetails.csv:3: b@x: second row for object id "1" (the first is on line 2): left out`},
		},
		{
			"no UPN",
			head + ",A,False,True,[],,1\n,B,False,True,[],,\na@x,A,False,True,[],,3\n",
			[]string{"a@x"},
			[]string{
				"in/UserRegistrationDetails.csv:2: 1: row has no user principal name: left out",
				"in/UserRegistrationDetails.csv:3: (no user principal name): row has no user principal name: left out",
			},
		},
		{
			"PowerShell array",
			head + "a@x,A,False,True,System.Object[],,1\n",
			[]string{"a@x"},
			[]string{`in/UserRegistrationDetails.csv:2: a@x: methodsRegistered is "System.Object[]", not a list of methods (a PowerShell script wrote the list without joining it): left empty`},
		},
		{
			"times Excel wrote, reported once",
			head + "a@x,A,False,True,[],24/11/2026 06:12,1\nb@x,B,False,True,[],11/24/2026 6:12 AM,2\nc@x,C,False,True,[],2026-11-24T06:12:41Z,3\n",
			[]string{"a@x", "b@x", "c@x"},
			[]string{`in/UserRegistrationDetails.csv: lastUpdatedDateTime: 2 rows have a time nudge cannot read, such as "24/11/2026 06:12" on line 2: left empty (times are read as RFC 3339, 2006-01-02T15:04:05Z, as the download writes them; was the file saved again by Excel?)`},
		},
		{
			"not UTF-8",
			head + "a@x,Am\xe9lie,False,True,[],,1\n",
			[]string{"a@x"},
			[]string{`in/UserRegistrationDetails.csv:2: a@x: not valid UTF-8, shown with � (was the file saved by Excel as "CSV (Comma delimited)" rather than "CSV UTF-8"?)`},
		},
		{
			"default download columns: no isAdmin, no userType",
			"userPrincipalName,userDisplayName,isMfaCapable,isPasswordlessCapable,isSsprCapable,defaultMfaMethod,methodsRegistered,lastUpdatedDateTime\n" +
				"a@x,A,True,False,True,microsoftAuthenticatorPush,\"[\"\"microsoftAuthenticatorPush\"\"]\",2026-09-18T21:36:33.918907Z\n",
			[]string{"a@x"},
			[]string{"in/UserRegistrationDetails.csv: every row: no Admin (isAdmin) column: nobody is taken as an admin (add the column in the admin center before downloading)"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := csvFile(t, []byte(tc.data)).Load(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			var upns, probs []string
			for _, p := range d.People {
				upns = append(upns, p.UserPrincipalName)
			}
			for _, p := range d.Problems {
				probs = append(probs, p.String())
			}
			if diff := cmp.Diff(tc.upns, upns); diff != "" {
				t.Errorf("people (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.probs, probs); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCSVValues(t *testing.T) {
	const head = "userPrincipalName,userType,isAdmin,isMfaCapable,methodsRegistered\n"
	for _, tc := range []struct {
		name             string
		row              string
		methods          []string
		userType         string
		mfa, passkey, pr bool
	}{
		{"JSON array", `a@x,member,False,True,"[""passKeySynced"",""email""]"`, []string{"passKeySynced", "email"}, "Member", true, true, true},
		{"empty array", `a@x,member,False,False,[]`, nil, "Member", false, false, false},
		{"on-screen names", `a@x,Member,False,Yes,"Passkey (Microsoft Authenticator), Mobile phone; Temporary Access Pass"`, []string{"passKeyDeviceBoundAuthenticator", "mobilePhone", "temporaryAccessPass"}, "Member", true, true, true},
		{"security key", `a@x,member,False,yes,Security key`, []string{"fido2SecurityKey"}, "Member", true, true, true},
		{"Windows Hello", `a@x,member,False,TRUE,"Windows Hello for Business"`, []string{"windowsHelloForBusiness"}, "Member", true, false, true},
		{"docs names", `a@x,member,False,true,"Microsoft Authenticator app,Microsoft Passwordless phone sign-in,Hardware OATH token,Alternate Mobile Phone,Office phone,Security questions,Email,FIDO2 security key"`, []string{"microsoftAuthenticatorPush", "microsoftAuthenticatorPasswordless", "hardwareOneTimePasscode", "alternateMobilePhone", "officePhone", "securityQuestion", "email", "fido2SecurityKey"}, "Member", true, true, true},
		{"unknown kept as is", `a@x,member,False,1,"passKeyFutureKind, Certificate-based authentication"`, []string{"passKeyFutureKind", "Certificate-based authentication"}, "Member", true, false, false},
		{"none", `a@x,member,False,0,None`, nil, "Member", false, false, false},
		{"lines in one cell", "a@x,member,False,1,\"Passkey (synced)\nEmail\"", []string{"passKeySynced", "email"}, "Member", true, true, true},
		{"other user type kept", `a@x,unknownFutureValue,False,1,[]`, nil, "unknownFutureValue", true, false, false},
		{"guest from #EXT# without a user type", `a_fabrikam.example#EXT#@contoso.example,,False,1,[]`, nil, "Guest", true, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := csvFile(t, []byte(head+tc.row+"\n")).Load(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if len(d.People) != 1 || len(d.Problems) != 0 {
				t.Fatalf("people %v, problems %v", d.People, d.Problems)
			}
			p := d.People[0]
			if diff := cmp.Diff(tc.methods, p.MethodsRegistered); diff != "" {
				t.Errorf("methods (-want +got):\n%s", diff)
			}
			if p.UserType != tc.userType || p.IsMFACapable != tc.mfa || p.HasPasskey() != tc.passkey || p.HasPhishingResistant() != tc.pr {
				t.Errorf("UserType %q, IsMFACapable %v, HasPasskey %v, HasPhishingResistant %v; want %q, %v, %v, %v",
					p.UserType, p.IsMFACapable, p.HasPasskey(), p.HasPhishingResistant(), tc.userType, tc.mfa, tc.passkey, tc.pr)
			}
		})
	}
}

// Every hostile name of the test corpus comes back as it was written,
// with a comma or a semicolon between columns.
func TestCSVHostileNames(t *testing.T) {
	data, err := os.ReadFile("../testcorpus/hostile-names.json")
	if err != nil {
		t.Fatal(err)
	}
	var names []struct{ ID, DisplayName string }
	if err := json.Unmarshal(data, &names); err != nil {
		t.Fatal(err)
	}
	for _, comma := range []rune{',', ';'} {
		t.Run(string(comma), func(t *testing.T) {
			var b strings.Builder
			w := csv.NewWriter(&b)
			w.Comma = comma
			w.Write([]string{"userPrincipalName", "userDisplayName", "methodsRegistered", "id"})
			for _, n := range names {
				w.Write([]string{"hostile." + n.ID + "@contoso.example", n.DisplayName, "[]", n.ID})
			}
			w.Flush()
			d, err := csvFile(t, []byte(b.String())).Load(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if len(d.People) != len(names) {
				t.Fatalf("%d people, want %d; problems %v", len(d.People), len(names), d.Problems)
			}
			for i, n := range names {
				// encoding/csv reads a CRLF inside a quoted value as LF,
				// which is what a line break in a spreadsheet cell is;
				// nothing else changes.
				want := strings.ReplaceAll(n.DisplayName, "\r\n", "\n")
				if got := d.People[i].DisplayName; got != want {
					t.Errorf("%s: DisplayName = %q, want %q", n.ID, got, want)
				}
			}
		})
	}
}

func TestCSVReadAt(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "UserRegistrationDetails.csv")
	if err := os.WriteFile(file, []byte(graphCSV), 0o644); err != nil {
		t.Fatal(err)
	}
	mod := time.Date(2026, 11, 20, 8, 30, 0, 0, time.UTC)
	if err := os.Chtimes(file, mod, mod); err != nil {
		t.Fatal(err)
	}
	d, err := (&CSVSource{FS: os.DirFS(dir), Path: "UserRegistrationDetails.csv"}).Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !d.ReadAt.Equal(mod) {
		t.Errorf("ReadAt = %v, want the modification time %v", d.ReadAt, mod)
	}
}

func TestCSVStream(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	_, err := csvFile(t, []byte(graphCSV)).Stream(t.Context(), func(*directory.Person) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("Stream = %v after %d people; want the callback's error after 1", err, n)
	}

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := csvFile(t, []byte(graphCSV)).Load(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Load with a canceled context = %v", err)
	}

	if _, err := (&CSVSource{}).Load(t.Context()); err == nil {
		t.Error("no error without an FS")
	}
	s := csvFile(t, nil)
	s.Path = "nope.csv"
	if _, err := s.Load(t.Context()); err == nil || !strings.Contains(err.Error(), "snapshot: in/UserRegistrationDetails.csv: no such file (download it from the Entra admin center") {
		t.Errorf("missing file: %v", err)
	}
}

func FuzzCSV(f *testing.F) {
	for _, seed := range []string{graphCSV, screenCSV, mixedCSV, "\uFEFF" + graphCSV, string(utf16LE(crlf(screenCSV))), string(utf16BE(graphCSV)),
		strings.ReplaceAll(graphCSV, ",", ";"), "userPrincipalName,methodsRegistered\na,\"x\n", "\xFF\xFE\x00\xD8", "userPrincipalName\tmethodsRegistered\n\"\"\"\t\n"} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s := &CSVSource{FS: fstest.MapFS{"r.csv": {Data: data}}, Path: "r.csv"}
		d, err := s.Load(context.Background())
		if err != nil {
			return
		}
		for _, p := range d.People {
			if p.UserPrincipalName == "" || !p.HasRegistration || !p.AccountEnabled {
				t.Errorf("person %+v: no UPN, or not registered and enabled", p)
			}
		}
	})
}

// BenchmarkCSV100k streams a 100,000-row download. Memory per op is the
// duplicate check and the strings of each row, not the file.
func BenchmarkCSV100k(b *testing.B) {
	dir := b.TempDir()
	f, err := os.Create(filepath.Join(dir, "r.csv"))
	if err != nil {
		b.Fatal(err)
	}
	w := csv.NewWriter(f)
	w.UseCRLF = true
	w.Write([]string{"userPrincipalName", "userDisplayName", "userType", "isAdmin", "isMfaCapable", "isMfaRegistered", "isPasswordlessCapable", "isSsprRegistered", "isSsprCapable", "defaultMfaMethod", "methodsRegistered", "lastUpdatedDateTime", "id"})
	methods := []string{`["microsoftAuthenticatorPush"]`, `["microsoftAuthenticatorPush","softwareOneTimePasscode"]`, `["passKeyDeviceBoundAuthenticator","microsoftAuthenticatorPush"]`, `["mobilePhone"]`, `[]`}
	for i := range 100_000 {
		w.Write([]string{fmt.Sprintf("user%06d@contoso.example", i), fmt.Sprintf("User %d, Contoso", i), "member", "False", "True", "True", "False", "True", "True", "microsoftAuthenticatorPush",
			methods[i%len(methods)], "2026-11-24T06:12:41.5820312Z", fmt.Sprintf("3f6d2a10-7b1e-4c55-9a0e-%012d", i)})
	}
	w.Flush()
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	fi, _ := os.Stat(filepath.Join(dir, "r.csv"))
	s := &CSVSource{FS: os.DirFS(dir), Path: "r.csv"}
	b.SetBytes(fi.Size())
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		d, err := s.Stream(context.Background(), func(*directory.Person) error { n++; return nil })
		if err != nil || n != 100_000 || len(d.Problems) != 0 {
			b.Fatalf("%d people, err %v, problems %v", n, err, d.Problems)
		}
	}
}
