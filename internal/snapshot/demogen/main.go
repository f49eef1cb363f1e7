// Command demogen writes the demo tenant: a fictional Entra ID tenant saved in
// exactly the JSON shapes Microsoft Graph v1.0 returns, so the snapshot source
// reads it the same way it reads what `nudge pull` saves.
//
// Output is a pure function of the flags. A fixed PCG seed stands in for
// randomness and a fixed reference time (-now) for the clock, so two runs give
// byte-identical files and the committed demo tenant changes only when this
// program does. Rows are encoded one at a time straight to the file, so a
// 100,000-person benchmark tenant costs little more than the people slice.
//
// Usage:
//
//	go run ./internal/snapshot/demogen -out content/demo-tenant -page 200
//	go run ./internal/snapshot/demogen -n 100000 -out /tmp/big
package main

import (
	"bufio"
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// hostileNamesJSON is a copy of the shared test corpus, embedded so that
// generating the demo tenant depends on nothing outside the repository.
//
//go:embed hostile-names.json
var hostileNamesJSON []byte

// Files written, with the Graph requests whose responses they hold.
const (
	usersBase        = "users"                   // GET /users?$select=…
	registrationBase = "userRegistrationDetails" // GET /reports/authenticationMethods/userRegistrationDetails
	policyFile       = "authenticationMethodsPolicy.json"

	domain      = "contoso.example"
	graphPrefix = "https://graph.microsoft.com/v1.0/$metadata#"
	userSelect  = "id,userPrincipalName,mail,displayName,givenName,surname,preferredLanguage,usageLocation,department,jobTitle,officeLocation,accountEnabled,userType"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

// options are the validated flags.
type options struct {
	n    int       // ordinary people, before the hostile-name extras
	page int       // rows per file before an @odata.nextLink page
	seed uint64    // PCG seed
	now  time.Time // reference time for every timestamp
	out  string    // folder to write
}

func run(args []string, stderr io.Writer) int {
	fl := flag.NewFlagSet("demogen", flag.ContinueOnError)
	fl.SetOutput(stderr)
	n := fl.Int("n", 300, "number of fictional people (one extra person per hostile name is added)")
	page := fl.Int("page", 999, "rows per page file; more rows continue in NAME-002.json via @odata.nextLink")
	seed := fl.Uint64("seed", 20261120, "seed of the PCG random generator")
	now := fl.String("now", "2026-11-20T08:00:00Z", "reference time (RFC 3339) for every timestamp written")
	out := fl.String("out", "", "folder to write the snapshot into (created if missing)")
	if err := fl.Parse(args); err != nil {
		return 2
	}
	// Validate everything before touching the disk.
	usage := func(msg string) int {
		fmt.Fprintf(stderr, "demogen: %s\nhint: go run ./internal/snapshot/demogen -out DIR [-n 300] [-page 999] [-seed N] [-now RFC3339]\n", msg)
		return 2
	}
	if fl.NArg() > 0 {
		return usage(fmt.Sprintf("unexpected argument %q", fl.Arg(0)))
	}
	if *out == "" {
		return usage("-out is required")
	}
	if *n < 0 {
		return usage(fmt.Sprintf("-n must be 0 or more, not %d", *n))
	}
	if *page < 1 {
		return usage(fmt.Sprintf("-page must be 1 or more, not %d", *page))
	}
	t, err := time.Parse(time.RFC3339, *now)
	if err != nil {
		return usage(fmt.Sprintf("-now: %v", err))
	}
	o := options{n: *n, page: *page, seed: *seed, now: t.UTC(), out: *out}
	if err := generate(o); err != nil {
		fmt.Fprintf(stderr, "demogen: %v\n", err)
		return 1
	}
	return 0
}

// generate writes the whole tenant into o.out.
func generate(o options) error {
	people, err := newTenant(o)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	users := make([]any, len(people))
	var rows []any
	for i := range people {
		p := &people[i]
		users[i] = p.user()
		// Like Graph, the registration report leaves disabled accounts out.
		if p.enabled {
			rows = append(rows, p.registration(o.now))
		}
	}
	usersContext := graphPrefix + "users(" + userSelect + ")"
	if err := writePages(o.out, usersBase, usersContext, users, o.page); err != nil {
		return err
	}
	regContext := graphPrefix + "reports/authenticationMethods/userRegistrationDetails"
	if err := writePages(o.out, registrationBase, regContext, rows, o.page); err != nil {
		return err
	}
	err = writeFileAtomic(o.out, policyFile, func(w io.Writer) error {
		return encodeIndented(w, demoPolicy(o.now), "")
	})
	if err != nil {
		return err
	}
	return writeGroupsAndCA(o, people)
}

// state is the registration situation a fictional person is generated in.
type state int

const (
	stateMFA      state = iota // MFA-capable, no passkey: the main audience
	statePasskey               // already has a passkey
	stateAdmin                 // isAdmin, mostly without phishing-resistant methods
	stateNoMFA                 // nothing registered
	stateDisabled              // account disabled: absent from the report
	stateGuest                 // B2B guest
)

// shares are the percentages of -n people in each state; the rest are
// stateMFA, the largest group in a tenant that has just started on passkeys.
var shares = []struct {
	s   state
	pct int
}{
	{statePasskey, 20},
	{stateAdmin, 5},
	{stateNoMFA, 12},
	{stateDisabled, 4},
	{stateGuest, 3},
}

// person is one generated user with the facts both files need.
type person struct {
	id, upn, mail                string
	noMail                       bool
	displayName, given, surname  string
	lang, usage                  string
	department, jobTitle, office string
	enabled, guest, admin        bool
	state                        state
	methods                      []string
	updatedAgo                   time.Duration
}

func newTenant(o options) ([]person, error) {
	var hostile []struct {
		ID          string `json:"id"`
		DisplayName string `json:"displayName"`
	}
	if err := json.Unmarshal(hostileNamesJSON, &hostile); err != nil {
		return nil, fmt.Errorf("hostile-names.json: %w", err)
	}
	rng := rand.New(rand.NewPCG(o.seed, o.seed^0x9e3779b97f4a7c15))

	states := make([]state, 0, o.n)
	for _, sh := range shares {
		for range o.n * sh.pct / 100 {
			states = append(states, sh.s)
		}
	}
	for len(states) < o.n {
		states = append(states, stateMFA)
	}
	rng.Shuffle(len(states), func(i, j int) { states[i], states[j] = states[j], states[i] })

	g := &gen{rng: rng, upns: make(map[string]int, o.n)}
	people := make([]person, 0, o.n+len(hostile))
	noMail, future := 0, 0
	for _, s := range states {
		p := g.person(s)
		// A couple of people without a mailbox and a couple with a method
		// name nudge does not know yet: both happen in real tenants and the
		// rest of the pipeline must cope.
		if s == stateMFA && noMail < 2 {
			p.noMail = true
			noMail++
		} else if s == stateMFA && future < 2 {
			p.methods = append(p.methods, "passKeyFutureKind")
			future++
		}
		people = append(people, p)
	}
	for i, h := range hostile {
		p := g.person(stateMFA)
		p.displayName, p.given = h.DisplayName, h.DisplayName
		p.surname = englishLast[i%len(englishLast)]
		p.upn = "hostile." + h.ID + "@" + domain
		p.mail = p.upn
		people = append(people, p)
	}
	return people, nil
}

// gen holds what person generation shares: the random source and the UPNs
// taken so far.
type gen struct {
	rng  *rand.Rand
	upns map[string]int
}

func (g *gen) pick(list []string) string { return list[g.rng.IntN(len(list))] }

func (g *gen) chance(pct int) bool { return g.rng.IntN(100) < pct }

// uuid returns a random (version 4 shaped) object id from the seeded source.
func (g *gen) uuid() string {
	a, b := g.rng.Uint64(), g.rng.Uint64()
	a = a&^0xf000 | 0x4000     // version 4
	b = b&^(0xc<<60) | 0x8<<60 // RFC 4122 variant
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", a>>32, a>>16&0xffff, a&0xffff, b>>48, b&0xffffffffffff)
}

func (g *gen) person(s state) person {
	c := countries[g.rng.IntN(len(countries))]
	origin := c.names
	if g.chance(10) { // mixed teams: some people live away from where their name is from
		origin = countries[g.rng.IntN(len(countries))].names
	}
	given, surname := g.pick(origin.first), g.pick(origin.last)
	dept := departments[g.rng.IntN(len(departments))]
	p := person{
		id:          g.uuid(),
		displayName: given + " " + surname,
		given:       given,
		surname:     surname,
		lang:        g.pick(c.langs),
		usage:       c.code,
		department:  dept.name,
		jobTitle:    g.pick(dept.titles),
		office:      g.pick(c.cities),
		enabled:     s != stateDisabled,
		state:       s,
		updatedAgo:  time.Duration(g.rng.Int64N(int64(120 * 24 * time.Hour))).Truncate(time.Millisecond),
	}
	if g.chance(5) {
		p.lang = "" // not set on the account
	}
	local := g.localPart(given, surname)
	p.upn = local + "@" + domain
	p.mail = p.upn
	if s == stateGuest {
		p.guest = true
		partner := g.pick(partnerDomains)
		p.mail = asciiLower(given) + "." + asciiLower(surname) + "@" + partner
		// Entra's guest UPN: the external address with @ as _, then #EXT#.
		p.upn = strings.ReplaceAll(p.mail, "@", "_") + "#EXT#@" + domain
		p.department, p.jobTitle, p.office = "", "", ""
	}
	p.methods = g.methods(&p)
	return p
}

// localPart returns given.surname in ASCII, numbered when already taken.
func (g *gen) localPart(given, surname string) string {
	base := asciiLower(given) + "." + asciiLower(surname)
	g.upns[base]++
	if k := g.upns[base]; k > 1 {
		return fmt.Sprintf("%s%d", base, k)
	}
	return base
}

// methods picks methodsRegistered for the person's state, using Graph's
// names.
func (g *gen) methods(p *person) []string {
	var m []string
	everyday := func() {
		switch g.rng.IntN(10) {
		case 0, 1, 2, 3, 4:
			m = append(m, "microsoftAuthenticatorPush")
		case 5, 6:
			m = append(m, "microsoftAuthenticatorPush", "softwareOneTimePasscode")
		case 7, 8:
			m = append(m, "mobilePhone")
		default:
			m = append(m, "softwareOneTimePasscode")
		}
		if g.chance(40) && !contains(m, "mobilePhone") {
			m = append(m, "mobilePhone")
		}
		if g.chance(15) {
			m = append(m, "email")
		}
	}
	switch p.state {
	case stateMFA, stateDisabled:
		everyday()
		if g.chance(5) {
			// Phishing-resistant but no passkey: audiences must tell these apart.
			m = append(m, "windowsHelloForBusiness")
		}
	case statePasskey:
		if g.chance(80) {
			m = append(m, "microsoftAuthenticatorPush")
		}
		m = append(m, g.pick(passkeyKinds))
		if g.chance(15) {
			m = append(m, "fido2SecurityKey")
		}
		if g.chance(30) {
			m = append(m, "windowsHelloForBusiness")
		}
	case stateAdmin:
		p.admin = true
		m = append(m, "microsoftAuthenticatorPush", "softwareOneTimePasscode")
		if g.chance(25) {
			m = append(m, "passKeyDeviceBound")
		}
	case stateGuest:
		if g.chance(65) {
			m = append(m, "mobilePhone")
		}
	case stateNoMFA:
	}
	return dedupe(m)
}

var passkeyKinds = []string{
	"passKeySynced", "passKeySynced", "passKeySynced",
	"passKeyDeviceBoundAuthenticator", "passKeyDeviceBoundAuthenticator",
	"passKeyDeviceBound", "passKeyDeviceBound",
	"fido2SecurityKey",
}

// graphUser is one row of GET /users with the $select nudge uses. Graph
// returns null for unset properties, hence the pointers.
type graphUser struct {
	ID                string  `json:"id"`
	UserPrincipalName string  `json:"userPrincipalName"`
	Mail              *string `json:"mail"`
	DisplayName       string  `json:"displayName"`
	GivenName         *string `json:"givenName"`
	Surname           *string `json:"surname"`
	PreferredLanguage *string `json:"preferredLanguage"`
	UsageLocation     *string `json:"usageLocation"`
	Department        *string `json:"department"`
	JobTitle          *string `json:"jobTitle"`
	OfficeLocation    *string `json:"officeLocation"`
	AccountEnabled    bool    `json:"accountEnabled"`
	UserType          string  `json:"userType"`
}

func (p *person) user() graphUser {
	u := graphUser{
		ID:                p.id,
		UserPrincipalName: p.upn,
		Mail:              nullable(p.mail),
		DisplayName:       p.displayName,
		GivenName:         nullable(p.given),
		Surname:           nullable(p.surname),
		PreferredLanguage: nullable(p.lang),
		UsageLocation:     nullable(p.usage),
		Department:        nullable(p.department),
		JobTitle:          nullable(p.jobTitle),
		OfficeLocation:    nullable(p.office),
		AccountEnabled:    p.enabled,
		UserType:          "Member",
	}
	if p.noMail {
		u.Mail = nil
	}
	if p.guest {
		u.UserType = "Guest"
	}
	return u
}

// registrationRow is one row of the userRegistrationDetails report (v1.0).
type registrationRow struct {
	ID                                            string   `json:"id"`
	UserPrincipalName                             string   `json:"userPrincipalName"`
	UserDisplayName                               string   `json:"userDisplayName"`
	UserType                                      string   `json:"userType"`
	IsAdmin                                       bool     `json:"isAdmin"`
	IsSsprRegistered                              bool     `json:"isSsprRegistered"`
	IsSsprEnabled                                 bool     `json:"isSsprEnabled"`
	IsSsprCapable                                 bool     `json:"isSsprCapable"`
	IsMfaRegistered                               bool     `json:"isMfaRegistered"`
	IsMfaCapable                                  bool     `json:"isMfaCapable"`
	IsPasswordlessCapable                         bool     `json:"isPasswordlessCapable"`
	MethodsRegistered                             []string `json:"methodsRegistered"`
	IsSystemPreferredAuthenticationMethodEnabled  bool     `json:"isSystemPreferredAuthenticationMethodEnabled"`
	SystemPreferredAuthenticationMethods          []string `json:"systemPreferredAuthenticationMethods"`
	UserPreferredMethodForSecondaryAuthentication string   `json:"userPreferredMethodForSecondaryAuthentication"`
	LastUpdatedDateTime                           string   `json:"lastUpdatedDateTime"`
}

func (p *person) registration(now time.Time) registrationRow {
	strong, passwordless, passkey, sspr := 0, false, false, 0
	for _, m := range p.methods {
		switch m {
		case "microsoftAuthenticatorPush", "softwareOneTimePasscode", "hardwareOneTimePasscode", "mobilePhone":
			strong++
		case "passKeyDeviceBound", "passKeyDeviceBoundAuthenticator", "passKeySynced", "fido2SecurityKey":
			strong++
			passwordless, passkey = true, true
		case "windowsHelloForBusiness":
			strong++
			passwordless = true
		}
		switch m {
		case "microsoftAuthenticatorPush", "softwareOneTimePasscode", "mobilePhone", "email":
			sspr++
		}
	}
	r := registrationRow{
		ID:                    p.id,
		UserPrincipalName:     p.upn,
		UserDisplayName:       p.displayName,
		UserType:              "member", // the report uses signInUserType: member, guest
		IsAdmin:               p.admin,
		IsSsprEnabled:         !p.guest,
		IsSsprRegistered:      sspr >= 1,
		IsMfaRegistered:       strong > 0,
		IsMfaCapable:          strong > 0,
		IsPasswordlessCapable: passwordless,
		MethodsRegistered:     append([]string{}, p.methods...),
		IsSystemPreferredAuthenticationMethodEnabled:  true,
		SystemPreferredAuthenticationMethods:          []string{},
		UserPreferredMethodForSecondaryAuthentication: "none",
		LastUpdatedDateTime:                           now.Add(-p.updatedAgo).Format("2006-01-02T15:04:05.000Z07:00"),
	}
	r.IsSsprCapable = r.IsSsprEnabled && r.IsSsprRegistered
	if p.guest {
		r.UserType = "guest"
	}
	switch {
	case passkey:
		r.SystemPreferredAuthenticationMethods = []string{"Fido2"}
	case contains(p.methods, "microsoftAuthenticatorPush"):
		r.SystemPreferredAuthenticationMethods = []string{"push"}
	case contains(p.methods, "softwareOneTimePasscode"):
		r.SystemPreferredAuthenticationMethods = []string{"oath"}
	case contains(p.methods, "mobilePhone"):
		r.SystemPreferredAuthenticationMethods = []string{"sms"}
	}
	switch {
	case contains(p.methods, "microsoftAuthenticatorPush"):
		r.UserPreferredMethodForSecondaryAuthentication = "push"
	case contains(p.methods, "softwareOneTimePasscode"):
		r.UserPreferredMethodForSecondaryAuthentication = "oath"
	case contains(p.methods, "mobilePhone"):
		r.UserPreferredMethodForSecondaryAuthentication = "sms"
	}
	return r
}

// writePages writes rows as a chain of Graph collection pages: base.json,
// base-002.json, … each naming the next in "@odata.nextLink" by its file name,
// which is how a saved pull rewrites Graph's nextLink URLs.
func writePages(dir, base, context string, rows []any, size int) error {
	pages := max(1, (len(rows)+size-1)/size)
	for i := range pages {
		next := ""
		if i+1 < pages {
			next = pageName(base, i+1)
		}
		chunk := rows[i*size : min(len(rows), (i+1)*size)]
		err := writeFileAtomic(dir, pageName(base, i), func(w io.Writer) error {
			return writePage(w, context, next, chunk)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func pageName(base string, i int) string {
	if i == 0 {
		return base + ".json"
	}
	return fmt.Sprintf("%s-%03d.json", base, i+1)
}

// writePage streams one collection response, encoding a row at a time.
// "@odata.nextLink" comes before "value", where Graph puts it.
func writePage(w io.Writer, context, next string, rows []any) error {
	var buf bytes.Buffer
	str := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	buf.WriteString("{\n  \"@odata.context\": " + str(context) + ",\n")
	if next != "" {
		buf.WriteString("  \"@odata.nextLink\": " + str(next) + ",\n")
	}
	buf.WriteString("  \"value\": [")
	if _, err := w.Write(buf.Bytes()); err != nil {
		return err
	}
	for i, r := range rows {
		sep := ",\n    "
		if i == 0 {
			sep = "\n    "
		}
		if _, err := io.WriteString(w, sep); err != nil {
			return err
		}
		if err := encodeIndented(w, r, "    "); err != nil {
			return err
		}
	}
	end := "\n  ]\n}\n"
	if len(rows) == 0 {
		end = "]\n}\n"
	}
	_, err := io.WriteString(w, end)
	return err
}

// encodeIndented writes v as indented JSON without a trailing newline and
// without HTML escaping: Graph sends "<" as is, and the hostile names should
// read in the files the way an administrator would see them.
func encodeIndented(w io.Writer, v any, prefix string) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent(prefix, "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
	return err
}

// writeFileAtomic writes name in dir through a temporary file in the same
// folder and a rename, so a reader never sees a half-written page.
func writeFileAtomic(dir, name string, write func(io.Writer) error) (err error) {
	f, err := os.CreateTemp(dir, "."+name+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	bw := bufio.NewWriterSize(f, 64<<10)
	if err := write(bw); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), filepath.Join(dir, name)); err != nil {
		return errors.Join(err, os.Remove(f.Name()))
	}
	return nil
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func dedupe(list []string) []string {
	out := list[:0]
	for _, v := range list {
		if !contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// asciiLower folds a name to the lower-case ASCII used in addresses.
func asciiLower(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-':
			b.WriteRune(r)
		case r == '\'' || r == ' ':
		default:
			if f, ok := fold[r]; ok {
				b.WriteString(f)
			}
		}
	}
	return b.String()
}

var fold = map[rune]string{
	'à': "a", 'â': "a", 'ä': "ae", 'á': "a", 'ç': "c", 'é': "e", 'è': "e", 'ê': "e", 'ë': "e",
	'î': "i", 'ï': "i", 'í': "i", 'ô': "o", 'ö': "oe", 'ó': "o", 'ù': "u", 'û': "u", 'ü': "ue",
	'ú': "u", 'ß': "ss", 'ñ': "n", 'œ': "oe", 'æ': "ae", 'ÿ': "y",
}

// Fictional people: names are common first and last names recombined at
// random, so they look real without being anyone in particular.
type names struct{ first, last []string }

var (
	englishLast = []string{"Thompson", "Walker", "Hughes", "Clarke", "Patel", "Wright", "Robinson", "Hall", "Green", "Wood", "Harris", "Baker", "Turner", "Cooper", "Bennett", "Foster", "Marsh", "Fletcher", "Holloway", "Pemberton"}

	english = names{
		first: []string{"Oliver", "Amelia", "Harry", "Isla", "George", "Ava", "Jack", "Emily", "Charlotte", "Thomas", "Sophie", "James", "Grace", "William", "Lucy", "Daniel", "Hannah", "Samuel", "Megan", "Rhys"},
		last:  englishLast,
	}
	american = names{
		first: []string{"Ethan", "Madison", "Tyler", "Brianna", "Jordan", "Kayla", "Austin", "Morgan", "Logan", "Taylor", "Mason", "Avery", "Carter", "Riley", "Hunter", "Savannah", "Dylan", "Peyton", "Chase", "Brooke"},
		last:  []string{"Johnson", "Miller", "Davis", "Garcia", "Rodriguez", "Martinez", "Anderson", "Jackson", "Lee", "Gonzalez", "Nguyen", "Ramirez", "Campbell", "Mitchell", "Carter", "Reyes", "Brooks", "Sullivan", "Price", "Hayes"},
	}
	french = names{
		first: []string{"Camille", "Léa", "Hugo", "Chloé", "Louis", "Manon", "Théo", "Inès", "Lucas", "Élodie", "Mathis", "Océane", "Noémie", "Julien", "Clément", "Margaux", "Benoît", "Zoé", "François", "Anaïs"},
		last:  []string{"Martin", "Bernard", "Dubois", "Lefèvre", "Moreau", "Girard", "Rousseau", "Fontaine", "Chevalier", "Garnier", "Faure", "Lemaire", "Mercier", "Dupont", "Lambert", "Bonnet", "François", "Roux", "Laurent", "Gauthier"},
	}
	german = names{
		first: []string{"Lukas", "Lena", "Jonas", "Anna", "Felix", "Marie", "Leon", "Sophie", "Maximilian", "Johanna", "Paul", "Katharina", "Niklas", "Jana", "Tobias", "Lea", "Sebastian", "Franziska", "Moritz", "Jürgen"},
		last:  []string{"Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann", "Koch", "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Schwarz", "Zimmermann", "Braun", "Krüger"},
	}
	indian = names{
		first: []string{"Aarav", "Priya", "Vivaan", "Ananya", "Aditya", "Diya", "Arjun", "Kavya", "Rohan", "Ishita", "Karthik", "Meera", "Siddharth", "Neha", "Rahul", "Lakshmi", "Vikram", "Pooja", "Arnav", "Sneha"},
		last:  []string{"Sharma", "Iyer", "Reddy", "Nair", "Gupta", "Menon", "Rao", "Kulkarni", "Bhat", "Chatterjee", "Banerjee", "Joshi", "Pillai", "Desai", "Mehta", "Krishnan", "Subramanian", "Verma", "Agarwal", "Naidu"},
	}
	australian = names{
		first: []string{"Mia", "Cooper", "Matilda", "Lachlan", "Zara", "Riley", "Ruby", "Harrison", "Chloe", "Flynn", "Sienna", "Angus", "Matilda", "Jye", "Tahlia", "Bailey", "Kirra", "Darcy", "Indi", "Hamish"},
		last:  []string{"Smith", "Jones", "Williams", "Brown", "Wilson", "Taylor", "Anderson", "White", "Kelly", "Ryan", "O'Connor", "Murphy", "McDonald", "Campbell", "Stewart", "Byrne", "Mitchell", "Fraser", "Doyle", "Quinn"},
	}
)

// countries pairs each usageLocation with plausible languages, offices and
// names.
var countries = []struct {
	code   string
	langs  []string
	cities []string
	names  names
}{
	{"GB", []string{"en-GB"}, []string{"London", "Manchester", "Edinburgh"}, english},
	{"US", []string{"en-US"}, []string{"New York", "Seattle", "Chicago"}, american},
	{"FR", []string{"fr-FR", "fr-FR", "fr-FR", "en-GB"}, []string{"Paris", "Lyon"}, french},
	{"DE", []string{"de-DE", "de-DE", "de-DE", "en-US"}, []string{"Berlin", "Munich"}, german},
	{"IN", []string{"en-GB", "en-US"}, []string{"Bangalore", "Pune"}, indian},
	{"AU", []string{"en-GB"}, []string{"Sydney", "Melbourne"}, australian},
}

var departments = []struct {
	name   string
	titles []string
}{
	{"Engineering", []string{"Software Engineer", "Senior Software Engineer", "Engineering Manager", "Site Reliability Engineer", "QA Analyst"}},
	{"Finance", []string{"Accountant", "Financial Analyst", "Payroll Specialist", "Finance Manager"}},
	{"Human Resources", []string{"HR Business Partner", "Recruiter", "HR Coordinator", "Learning and Development Lead"}},
	{"Sales", []string{"Account Executive", "Sales Manager", "Business Development Representative", "Key Account Manager"}},
	{"Marketing", []string{"Marketing Specialist", "Content Writer", "Brand Manager", "Events Coordinator"}},
	{"Operations", []string{"Operations Analyst", "Facilities Coordinator", "Supply Chain Planner", "Operations Manager"}},
	{"Legal", []string{"Legal Counsel", "Paralegal", "Compliance Officer"}},
	{"Customer Support", []string{"Support Agent", "Support Team Lead", "Customer Success Manager"}},
	{"IT", []string{"Service Desk Analyst", "Systems Administrator", "Identity Engineer", "IT Manager"}},
}

var partnerDomains = []string{"fabrikam.example", "northwind.example", "tailspin.example", "adatum.example"}

// Fixed object ids for the groups the policy names, so the policy file does
// not change with -n.
const (
	defaultProfileID = "00000000-0000-0000-0000-000000000001"
	adminProfileID   = "6f1c2a7e-3b0d-4c57-9a51-0d2e8b7f4c10"
	tier0GroupID     = "8b0f6d2c-5e1a-4f7b-9c3d-2a6e1f0b7d45"
	breakGlassID     = "c3d9e7a1-0f4b-4a2e-8d6c-7b1e5f9a2c30"
)

// demoPolicy is GET /policies/authenticationMethodsPolicy for a tenant that
// has migrated to passkey profiles: everyone may register any passkey through
// the default profile, Tier 0 admins only attested device-bound keys of two
// models, break-glass accounts are excluded, and the Microsoft-managed
// registration campaign (state "default") targets passkeys.
func demoPolicy(now time.Time) any {
	type obj = map[string]any // only for the small leaf objects below
	keyRestrictions := func(enforced bool, typ string, aaguids ...string) obj {
		return obj{"isEnforced": enforced, "enforcementType": typ, "aaGuids": append([]string{}, aaguids...)}
	}
	type target struct {
		TargetType             string   `json:"targetType"`
		ID                     string   `json:"id"`
		IsRegistrationRequired bool     `json:"isRegistrationRequired"`
		AllowedPasskeyProfiles []string `json:"allowedPasskeyProfiles,omitempty"`
	}
	type exclude struct {
		ID         string `json:"id"`
		TargetType string `json:"targetType"`
	}
	type profile struct {
		ID                     string `json:"id"`
		Name                   string `json:"name"`
		PasskeyTypes           string `json:"passkeyTypes"` // a flags enum: Graph sends "deviceBound,synced"
		AttestationEnforcement string `json:"attestationEnforcement"`
		KeyRestrictions        obj    `json:"keyRestrictions"`
	}
	type fido2 struct {
		ODataType                        string    `json:"@odata.type"`
		ID                               string    `json:"id"`
		State                            string    `json:"state"`
		IsSelfServiceRegistrationAllowed bool      `json:"isSelfServiceRegistrationAllowed"`
		IsAttestationEnforced            bool      `json:"isAttestationEnforced"`
		KeyRestrictions                  obj       `json:"keyRestrictions"`
		DefaultPasskeyProfile            string    `json:"defaultPasskeyProfile"`
		PasskeyProfiles                  []profile `json:"passkeyProfiles"`
		IncludeTargets                   []target  `json:"includeTargets"`
		ExcludeTargets                   []exclude `json:"excludeTargets"`
	}
	type campaignTarget struct {
		ID                           string `json:"id"`
		TargetType                   string `json:"targetType"`
		TargetedAuthenticationMethod string `json:"targetedAuthenticationMethod"`
	}
	type campaign struct {
		SnoozeDurationInDays                   int              `json:"snoozeDurationInDays"`
		EnforceRegistrationAfterAllowedSnoozes bool             `json:"enforceRegistrationAfterAllowedSnoozes"`
		State                                  string           `json:"state"`
		ExcludeTargets                         []exclude        `json:"excludeTargets"`
		IncludeTargets                         []campaignTarget `json:"includeTargets"`
	}
	type policy struct {
		ODataContext            string `json:"@odata.context"`
		ID                      string `json:"id"`
		DisplayName             string `json:"displayName"`
		Description             string `json:"description"`
		LastModifiedDateTime    string `json:"lastModifiedDateTime"`
		PolicyVersion           string `json:"policyVersion"`
		PolicyMigrationState    string `json:"policyMigrationState"`
		RegistrationEnforcement struct {
			Campaign campaign `json:"authenticationMethodsRegistrationCampaign"`
		} `json:"registrationEnforcement"`
		Configurations []any `json:"authenticationMethodConfigurations"`
	}
	// AAGUIDs of two FIDO2 security key models, as published in the FIDO
	// Metadata Service.
	yubikey5 := []string{"cb69481e-8ff7-4039-93ec-0a2729a154a8", "ee882879-721c-4913-9775-3dfcce97072a"}
	p := policy{
		ODataContext:         graphPrefix + "authenticationMethodsPolicy",
		ID:                   "authenticationMethodsPolicy",
		DisplayName:          "Authentication Methods Policy",
		Description:          "The tenant-wide policy that controls which authentication methods are allowed in the tenant, authentication method registration requirements, and self-service password reset settings",
		LastModifiedDateTime: now.Add(-41 * 24 * time.Hour).Format("2006-01-02T15:04:05.0000000Z07:00"),
		PolicyVersion:        "1.5",
		PolicyMigrationState: "migrationComplete",
	}
	p.RegistrationEnforcement.Campaign = campaign{
		SnoozeDurationInDays:                   1,
		EnforceRegistrationAfterAllowedSnoozes: true,
		State:                                  "default",
		ExcludeTargets:                         []exclude{{ID: breakGlassID, TargetType: "group"}},
		IncludeTargets:                         []campaignTarget{{ID: "all_users", TargetType: "group", TargetedAuthenticationMethod: "fido2"}},
	}
	p.Configurations = []any{
		fido2{
			ODataType:                        "#microsoft.graph.fido2AuthenticationMethodConfiguration",
			ID:                               "Fido2",
			State:                            "enabled",
			IsSelfServiceRegistrationAllowed: true,
			IsAttestationEnforced:            false,
			// Still returned after migration, mirroring the default profile.
			KeyRestrictions:       keyRestrictions(false, "block"),
			DefaultPasskeyProfile: defaultProfileID,
			PasskeyProfiles: []profile{
				{ID: defaultProfileID, Name: "Default passkey profile", PasskeyTypes: "deviceBound,synced", AttestationEnforcement: "disabled", KeyRestrictions: keyRestrictions(false, "block")},
				{ID: adminProfileID, Name: "Tier 0 admins: attested security keys", PasskeyTypes: "deviceBound", AttestationEnforcement: "registrationOnly", KeyRestrictions: keyRestrictions(true, "allow", yubikey5...)},
			},
			IncludeTargets: []target{
				{TargetType: "group", ID: "all_users", AllowedPasskeyProfiles: []string{defaultProfileID}},
				{TargetType: "group", ID: tier0GroupID, AllowedPasskeyProfiles: []string{adminProfileID}},
			},
			ExcludeTargets: []exclude{{ID: breakGlassID, TargetType: "group"}},
		},
		obj{
			"@odata.type": "#microsoft.graph.microsoftAuthenticatorAuthenticationMethodConfiguration",
			"id":          "MicrosoftAuthenticator",
			"state":       "enabled",
			"includeTargets": []obj{{
				"targetType": "group", "id": "all_users", "isRegistrationRequired": false, "authenticationMode": "any",
			}},
			"excludeTargets": []obj{},
		},
		obj{
			"@odata.type":              "#microsoft.graph.temporaryAccessPassAuthenticationMethodConfiguration",
			"id":                       "TemporaryAccessPass",
			"state":                    "enabled",
			"defaultLifetimeInMinutes": 60,
			"defaultLength":            8,
			"minimumLifetimeInMinutes": 60,
			"maximumLifetimeInMinutes": 480,
			"isUsableOnce":             true,
			"includeTargets":           []obj{{"targetType": "group", "id": "all_users", "isRegistrationRequired": false}},
			"excludeTargets":           []obj{},
		},
	}
	return p
}
