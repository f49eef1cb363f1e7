// Package snapshot reads directories saved as files: Graph-shaped JSON
// snapshots (the demo tenant, nudge pull), so everything after the directory
// source works the same with or without a tenant to talk to.
//
// A snapshot folder holds Microsoft Graph v1.0 responses saved as they came
// back:
//
//	users.json                        GET /users?$select=…
//	userRegistrationDetails.json      GET /reports/authenticationMethods/userRegistrationDetails
//	authenticationMethodsPolicy.json  GET /policies/authenticationMethodsPolicy (optional)
//	groups.json                       the groups read (GET /groups/{id}?$select=id,displayName), optional
//	groupMembers-{id}.json            GET /groups/{id}/transitiveMembers/microsoft.graph.user, one per group
//	conditionalAccessPolicies.json    GET /identity/conditionalAccess/policies (optional)
//	authenticationStrengthPolicies.json GET /policies/authenticationStrengthPolicies (optional)
//	mailboxSettings.json              each person's mailboxSettings.timeZone, as rows of
//	                                  GET /users/{id}?$select=id,userPrincipalName,mailboxSettings (optional)
//
// A person's mailbox time zone, when the folder has one for them, becomes
// Person.TimeZone: Windows names ("W. Europe Standard Time") are mapped to
// IANA zones, IANA names are kept, and anything else is a Problem and
// leaves the zone empty. Folders without mailboxSettings.json (older pulls,
// the demo tenant) load as before.
//
// Each person is told whether Entra's own registration campaign reaches
// them (Person.MicrosoftNudge), from the policy, their groups and their
// registration state. CSVSource reads the admin center's User registration
// details download instead, for tenants without Entra ID P1 or P2.
//
// A collection may continue over several files: each page names the next in
// "@odata.nextLink" by its file name in the same folder, which is how a pull
// rewrites Graph's nextLink URLs.
//
// Reading policy. Pages are decoded one row at a time, so a 100,000-person
// tenant is never held as one byte slice. A link may not leave the folder and
// a chain may not loop. A malformed file fails the load with file:line:col
// and what to check; a problem with one person's data (no registration row,
// a row for nobody, a duplicate) is reported as a directory.Problem and the
// load goes on, because one odd account should not stop a campaign.
package snapshot

//go:generate go run ./demogen -out ../../content/demo-tenant -page 200

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"io/fs"
	"math"
	"path"
	"reflect"
	"strings"
	"time"

	"github.com/nudge-passkeys/nudge/internal/directory"
)

// File names of a snapshot folder.
const (
	UsersFile        = "users.json"
	RegistrationFile = "userRegistrationDetails.json"
	PolicyFile       = "authenticationMethodsPolicy.json"
	GroupsFile       = "groups.json"
	// MailboxSettingsFile holds people's mailbox time zones (nudge pull
	// with sessions.mailbox_settings).
	MailboxSettingsFile = "mailboxSettings.json"
)

// GroupMembersFile is the first page of a group's transitive user members
// (GET /groups/{id}/transitiveMembers/microsoft.graph.user).
func GroupMembersFile(id string) string { return "groupMembers-" + id + ".json" }

// Source reads a snapshot folder from fsys (os.DirFS or an embed.FS).
type Source struct {
	FS   fs.FS
	Dir  string // folder inside FS ("." allowed)
	Name string // how to name the folder in messages, e.g. "content/demo-tenant"
	// Now gives Directory.ReadAt. Optional: without it ReadAt is the newest
	// lastUpdatedDateTime in the report, else the modification time of
	// users.json, else zero.
	Now func() time.Time
}

var _ directory.Source = (*Source)(nil)

// Load reads the folder: people in users.json order, joined by id with their
// registration rows, and the policy when the folder has one.
func (s *Source) Load(ctx context.Context) (*directory.Directory, error) {
	return collect(ctx, s)
}

var _ directory.Streamer = (*Source)(nil)

// regEntry is what the join keeps of a registration row until its user
// comes by, 24 bytes since there is one per person: flags instead of
// bools, the time as a number, the method list and user type as indexes
// into lists shared among everyone with the same, the page as an index.
type regEntry struct {
	updated int64  // Unix nanoseconds; 0 when the row had none
	page    uint32 // index into the report's pages
	methods uint32 // index into the report's method lists
	kind    uint16 // index into the report's user types
	flags   uint8
}

const (
	regAdmin uint8 = 1 << iota
	regSSPR
	regMFARegistered
	regMFACapable
	regPasswordless
	regUsed
)

// row rebuilds the registration row for apply.
func (r *regEntry) row(userTypes []string, methods [][]string) registrationRow {
	row := registrationRow{
		UserType:              userTypes[r.kind],
		IsAdmin:               r.flags&regAdmin != 0,
		IsSsprRegistered:      r.flags&regSSPR != 0,
		IsMfaRegistered:       r.flags&regMFARegistered != 0,
		IsMfaCapable:          r.flags&regMFACapable != 0,
		IsPasswordlessCapable: r.flags&regPasswordless != 0,
		MethodsRegistered:     methods[r.methods],
	}
	if r.updated != 0 {
		row.LastUpdatedDateTime = time.Unix(0, r.updated).UTC().Format(time.RFC3339Nano)
	}
	return row
}

// Stream reads the folder and calls each for every person in users.json
// order. Only the registration report is held in memory (indexed by id, in
// a compact form); people are handed over one at a time as their page is
// read, so memory does not grow with the number of users. The returned
// Directory has no People. each must not keep p, which is reused.
func (s *Source) Stream(ctx context.Context, each func(p *directory.Person) error) (*directory.Directory, error) {
	if s.FS == nil {
		return nil, errors.New("snapshot: Source has no FS to read from")
	}
	l := &loader{src: s, ctx: ctx}
	d := &directory.Directory{}

	// The report first: it is smaller per row than a user, and users can
	// then be joined and handed on as they are read.
	// Indexed by a 128-bit hash of the id rather than the id, which would
	// keep a string per person alive.
	reg := make(map[[2]uint64]regEntry)
	seeds := [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}
	key := func(id string) [2]uint64 {
		return [2]uint64{maphash.String(seeds[0], id), maphash.String(seeds[1], id)}
	}
	methodSets := make(map[string]uint32)
	var methodLists [][]string
	kinds := map[string]uint16{}
	var userTypes []string
	var newest time.Time
	err := l.readPages(RegistrationFile, func(page string, dec *json.Decoder) error {
		var r registrationRow
		if err := dec.Decode(&r); err != nil {
			return err
		}
		k := key(r.ID)
		if _, dup := reg[k]; dup {
			d.Problems = append(d.Problems, directory.Problem{Who: who(r.UserPrincipalName, r.ID), Source: s.display(page), What: "second registration row: left out"})
			return nil
		}
		set := strings.Join(r.MethodsRegistered, "\x00")
		methods, ok := methodSets[set]
		if !ok {
			methods = uint32(len(methodLists))
			methodSets[set] = methods
			methodLists = append(methodLists, r.MethodsRegistered)
		}
		e := regEntry{methods: methods, page: uint32(len(l.pages) - 1)}
		kind, ok := kinds[r.UserType]
		if !ok {
			if len(userTypes) == math.MaxUint16 {
				return fmt.Errorf("%s: more than %d different userType values", s.display(page), math.MaxUint16)
			}
			kind = uint16(len(userTypes))
			kinds[r.UserType] = kind
			userTypes = append(userTypes, r.UserType)
		}
		e.kind = kind
		for _, f := range []struct {
			on   bool
			flag uint8
		}{{r.IsAdmin, regAdmin}, {r.IsSsprRegistered, regSSPR}, {r.IsMfaRegistered, regMFARegistered}, {r.IsMfaCapable, regMFACapable}, {r.IsPasswordlessCapable, regPasswordless}} {
			if f.on {
				e.flags |= f.flag
			}
		}
		if r.LastUpdatedDateTime != "" {
			if t, err := time.Parse(time.RFC3339, r.LastUpdatedDateTime); err == nil {
				e.updated = t.UnixNano()
			} else {
				d.Problems = append(d.Problems, directory.Problem{Who: who(r.UserPrincipalName, r.ID), Source: s.display(page), What: fmt.Sprintf("lastUpdatedDateTime %q is not an RFC 3339 time: left empty", r.LastUpdatedDateTime)})
			}
		}
		reg[k] = e
		return nil
	})
	if err != nil {
		return nil, err
	}

	regPages := l.pages
	l.pages = nil

	// Group memberships, by the same hashed ids, as indexes into d.Groups.
	memberOf, err := s.readGroups(l, d, key)
	if err != nil {
		return nil, err
	}
	// The policy before the people, so that each person can be told
	// whether Entra's own prompt reaches them.
	if d.Policy, err = s.readPolicy(); err != nil {
		return nil, err
	}
	if d.ConditionalAccess, err = ReadConditionalAccess(s.FS, s.Dir, s.Name); err != nil {
		return nil, err
	}
	zones, err := s.readMailboxZones(l, key)
	if err != nil {
		return nil, err
	}
	// Ids seen, by hash: a set of strings would keep every id alive.
	seen := make(map[uint64]struct{})
	seed := maphash.MakeSeed()
	var p directory.Person
	err = l.eachUser(func(page string, u *userRow) error {
		if u.ID == "" {
			d.Problems = append(d.Problems, directory.Problem{Who: who(u.UserPrincipalName, "(no id)"), Source: s.display(page), What: "user has no id: left out"})
			return nil
		}
		h := maphash.String(seed, u.ID)
		if _, dup := seen[h]; dup {
			d.Problems = append(d.Problems, directory.Problem{Who: who(u.UserPrincipalName, u.ID), Source: s.display(page), What: "user appears twice: second row left out"})
			return nil
		}
		seen[h] = struct{}{}
		p = u.person()
		k := key(u.ID)
		if z, ok := zones.of[k]; ok {
			name := zones.names[z]
			if iana, known := zones.resolve(z); known {
				p.TimeZone = iana
			} else {
				d.Problems = append(d.Problems, directory.Problem{Who: who(u.UserPrincipalName, u.ID), Source: s.display(MailboxSettingsFile),
					What: fmt.Sprintf("mailbox time zone %q is neither a Windows zone nudge knows nor an IANA zone: the campaign's zone tables decide", name)})
			}
		}
		for _, g := range memberOf[k] {
			p.Groups = append(p.Groups, d.Groups[g].ID)
			if n := d.Groups[g].DisplayName; n != "" {
				p.Groups = append(p.Groups, n)
			}
		}
		if r, ok := reg[k]; ok {
			r.flags |= regUsed
			reg[k] = r
			row := r.row(userTypes, methodLists)
			if err := row.apply(&p); err != nil {
				d.Problems = append(d.Problems, directory.Problem{Who: who(p.UserPrincipalName, p.ID), Source: s.display(regPages[r.page]), What: err.Error()})
			}
			if p.RegistrationUpdated.After(newest) {
				newest = p.RegistrationUpdated
			}
		} else if p.AccountEnabled {
			// The report leaves disabled accounts out, so only a missing
			// enabled account is news.
			d.Problems = append(d.Problems, directory.Problem{Who: who(p.UserPrincipalName, p.ID), Source: s.display(page), What: "no row in " + RegistrationFile + ": registration state unknown"})
		}
		p.MicrosoftNudge, _ = d.Policy.Reaches(&p)
		return each(&p)
	})
	if err != nil {
		return nil, err
	}

	orphans := 0
	for _, r := range reg {
		if r.flags&regUsed == 0 {
			orphans++
		}
	}
	if orphans > 0 {
		// Rows nobody claimed are rare: read the report again for their
		// ids and names rather than keep those for everyone.
		l.pages = nil
		err := l.readPages(RegistrationFile, func(page string, dec *json.Decoder) error {
			var r struct {
				ID                string `json:"id"`
				UserPrincipalName string `json:"userPrincipalName"`
			}
			if err := dec.Decode(&r); err != nil {
				return err
			}
			k := key(r.ID)
			if e, ok := reg[k]; ok && e.flags&regUsed == 0 {
				e.flags |= regUsed // report a duplicated id once
				reg[k] = e
				d.Problems = append(d.Problems, directory.Problem{Who: who(r.UserPrincipalName, r.ID), Source: s.display(page), What: "registration row for nobody in " + UsersFile + ": left out (is users.json from the same pull?)"})
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}

	switch {
	case s.Now != nil:
		d.ReadAt = s.Now()
	case !newest.IsZero():
		d.ReadAt = newest
	default:
		if fi, err := fs.Stat(s.FS, s.path(UsersFile)); err == nil {
			d.ReadAt = fi.ModTime()
		}
	}
	return d, nil
}

// mailboxZones are the mailbox time zones of a folder: for each person (by
// hashed id) an index into names, so that 100,000 people share a few
// dozen strings.
type mailboxZones struct {
	of    map[[2]uint64]uint16
	names []string
	// iana and known cache directory.MailboxZone by name, worked out the
	// first time a name comes up (it loads the zone): there are a few
	// names for 100,000 people.
	iana  []string
	known []int8 // 0 not yet resolved, 1 known, -1 unknown
}

// resolve returns the IANA zone of names[z], and whether there is one.
func (z *mailboxZones) resolve(i uint16) (string, bool) {
	if z.known == nil {
		z.iana, z.known = make([]string, len(z.names)), make([]int8, len(z.names))
	}
	if z.known[i] == 0 {
		z.known[i] = -1
		if iana, kind := directory.MailboxZone(z.names[i]); kind != directory.ZoneUnknown {
			z.iana[i], z.known[i] = iana, 1
		}
	}
	return z.iana[i], z.known[i] == 1
}

// readMailboxZones reads mailboxSettings.json when the folder has one.
func (s *Source) readMailboxZones(l *loader, key func(string) [2]uint64) (*mailboxZones, error) {
	z := &mailboxZones{}
	if _, err := fs.Stat(s.FS, s.path(MailboxSettingsFile)); errors.Is(err, fs.ErrNotExist) {
		return z, nil
	}
	z.of = make(map[[2]uint64]uint16)
	index := map[string]uint16{}
	err := l.readPages(MailboxSettingsFile, func(page string, dec *json.Decoder) error {
		var r struct {
			ID              string `json:"id"`
			MailboxSettings *struct {
				TimeZone string `json:"timeZone"`
			} `json:"mailboxSettings"`
		}
		if err := dec.Decode(&r); err != nil {
			return err
		}
		if r.ID == "" || r.MailboxSettings == nil || strings.TrimSpace(r.MailboxSettings.TimeZone) == "" {
			return nil
		}
		name := strings.TrimSpace(r.MailboxSettings.TimeZone)
		i, ok := index[name]
		if !ok {
			if len(z.names) == 1<<16 {
				return fmt.Errorf("more than %d different time zones", 1<<16)
			}
			i = uint16(len(z.names))
			index[name] = i
			z.names = append(z.names, name)
		}
		z.of[key(r.ID)] = i
		return nil
	})
	l.pages = nil
	if err != nil {
		return nil, err
	}
	return z, nil
}

// readGroups reads groups.json and each group's member pages, returning
// for every member (by hashed id) the indexes of its groups in d.Groups.
// A folder without groups.json has no groups.
func (s *Source) readGroups(l *loader, d *directory.Directory, key func(string) [2]uint64) (map[[2]uint64][]uint16, error) {
	if _, err := fs.Stat(s.FS, s.path(GroupsFile)); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	err := l.readPages(GroupsFile, func(page string, dec *json.Decoder) error {
		var g struct {
			ID          string `json:"id"`
			DisplayName string `json:"displayName"`
		}
		if err := dec.Decode(&g); err != nil {
			return err
		}
		if g.ID == "" || strings.ContainsAny(g.ID, `/\:`) {
			return fmt.Errorf("group %q has no usable id", g.DisplayName)
		}
		d.Groups = append(d.Groups, directory.Group{ID: g.ID, DisplayName: g.DisplayName})
		return nil
	})
	l.pages = nil
	if err != nil {
		return nil, err
	}
	if len(d.Groups) > 1<<16 {
		return nil, fmt.Errorf("snapshot: %s: %d groups: nudge reads at most 65536", s.display(GroupsFile), len(d.Groups))
	}
	memberOf := make(map[[2]uint64][]uint16)
	for i := range d.Groups {
		g := &d.Groups[i]
		err := l.readPages(GroupMembersFile(g.ID), func(page string, dec *json.Decoder) error {
			var m struct {
				ID string `json:"id"`
			}
			if err := dec.Decode(&m); err != nil {
				return err
			}
			k := key(m.ID)
			if list := memberOf[k]; len(list) > 0 && list[len(list)-1] == uint16(i) {
				return nil // listed twice
			}
			memberOf[k] = append(memberOf[k], uint16(i))
			g.Members++
			return nil
		})
		l.pages = nil
		if err != nil {
			return nil, err
		}
	}
	return memberOf, nil
}

func (s *Source) path(name string) string {
	dir := s.Dir
	if dir == "" {
		dir = "."
	}
	return path.Join(dir, name)
}

// display is how messages name a file of the folder.
func (s *Source) display(name string) string {
	base := s.Name
	if base == "" {
		base = s.Dir
	}
	return path.Join(base, name)
}

func who(upn, id string) string {
	if upn != "" {
		return upn
	}
	return id
}

// userRow is one row of GET /users. Unselected or null properties decode as
// empty strings.
type userRow struct {
	ID                string `json:"id"`
	UserPrincipalName string `json:"userPrincipalName"`
	Mail              string `json:"mail"`
	DisplayName       string `json:"displayName"`
	GivenName         string `json:"givenName"`
	Surname           string `json:"surname"`
	PreferredLanguage string `json:"preferredLanguage"`
	UsageLocation     string `json:"usageLocation"`
	Department        string `json:"department"`
	JobTitle          string `json:"jobTitle"`
	OfficeLocation    string `json:"officeLocation"`
	AccountEnabled    *bool  `json:"accountEnabled"`
	UserType          string `json:"userType"`
}

func (u *userRow) person() directory.Person {
	return directory.Person{
		ID:                u.ID,
		UserPrincipalName: u.UserPrincipalName,
		Mail:              u.Mail,
		DisplayName:       u.DisplayName,
		GivenName:         u.GivenName,
		Surname:           u.Surname,
		PreferredLanguage: u.PreferredLanguage,
		UsageLocation:     u.UsageLocation,
		Department:        u.Department,
		JobTitle:          u.JobTitle,
		OfficeLocation:    u.OfficeLocation,
		// A pull that did not select accountEnabled still lists people who
		// can sign in far more often than not; treating them as enabled
		// keeps them in audiences and in the "no row" check.
		AccountEnabled: u.AccountEnabled == nil || *u.AccountEnabled,
		UserType:       u.UserType,
	}
}

// registrationRow is one row of the userRegistrationDetails report.
type registrationRow struct {
	ID                    string   `json:"id"`
	UserPrincipalName     string   `json:"userPrincipalName"`
	UserType              string   `json:"userType"`
	IsAdmin               bool     `json:"isAdmin"`
	IsSsprRegistered      bool     `json:"isSsprRegistered"`
	IsMfaRegistered       bool     `json:"isMfaRegistered"`
	IsMfaCapable          bool     `json:"isMfaCapable"`
	IsPasswordlessCapable bool     `json:"isPasswordlessCapable"`
	MethodsRegistered     []string `json:"methodsRegistered"`
	LastUpdatedDateTime   string   `json:"lastUpdatedDateTime"`
}

// apply copies the row into p. A bad timestamp is returned as an error for
// a Problem; everything else is applied anyway.
func (r *registrationRow) apply(p *directory.Person) error {
	p.HasRegistration = true
	p.IsAdmin = r.IsAdmin
	p.IsMFACapable = r.IsMfaCapable
	p.IsMFARegistered = r.IsMfaRegistered
	p.IsPasswordlessCapable = r.IsPasswordlessCapable
	p.IsSSPRRegistered = r.IsSsprRegistered
	// Verbatim, unknown names included: audiences may name methods nudge
	// has not heard of yet.
	p.MethodsRegistered = r.MethodsRegistered
	if p.UserType == "" {
		// The report spells signInUserType in lower case.
		switch r.UserType {
		case "member":
			p.UserType = "Member"
		case "guest":
			p.UserType = "Guest"
		default:
			p.UserType = r.UserType
		}
	}
	if r.LastUpdatedDateTime == "" {
		return nil
	}
	t, err := time.Parse(time.RFC3339, r.LastUpdatedDateTime)
	if err != nil {
		return fmt.Errorf("lastUpdatedDateTime %q is not an RFC 3339 time: left empty", r.LastUpdatedDateTime)
	}
	p.RegistrationUpdated = t.UTC()
	return nil
}

// loader follows page chains for one Load.
type loader struct {
	src   *Source
	ctx   context.Context
	pages []string // pages read in the current chain, in order
}

// readPages reads the page chain that starts at first, calling row with the
// decoder positioned at each element of every page's "value" array.
func (l *loader) readPages(first string, row func(page string, dec *json.Decoder) error) error {
	seen := make(map[string]bool)
	from := ""
	for name := first; name != ""; {
		if err := l.ctx.Err(); err != nil {
			return fmt.Errorf("snapshot: %w", err)
		}
		if seen[name] {
			return fmt.Errorf("snapshot: %s: @odata.nextLink %q points back to a page already read: the pages form a loop", l.src.display(from), name)
		}
		seen[name] = true
		l.pages = append(l.pages, name)
		link, err := l.readPage(name, from, row)
		if err != nil {
			return err
		}
		next, err := pageLink(link)
		if err != nil {
			return fmt.Errorf("snapshot: %s: %w", l.src.display(name), err)
		}
		from, name = name, next
	}
	return nil
}

// userBatch is a run of decoded users of one page, handed from the
// decoding goroutine to the joining one.
type userBatch struct {
	page string
	rows []userRow
}

// eachUser calls row for every user of the users pages, in order. The
// pages are decoded on a second goroutine, a batch ahead of row, so that
// JSON decoding and what row does with each person (join, audiences,
// templates) use both cores; at most two batches are in memory. An error
// from row stops the decoding.
func (l *loader) eachUser(row func(page string, u *userRow) error) error {
	const batchSize = 256
	batches := make(chan userBatch, 1)
	stop := make(chan struct{})
	decoded := make(chan error, 1)
	go func() {
		defer close(batches)
		b := userBatch{rows: make([]userRow, 0, batchSize)}
		send := func() bool {
			select {
			case batches <- b:
				b = userBatch{page: b.page, rows: make([]userRow, 0, batchSize)}
				return true
			case <-stop:
				return false
			}
		}
		errStopped := errors.New("stopped")
		err := l.readPages(UsersFile, func(page string, dec *json.Decoder) error {
			if page != b.page && len(b.rows) > 0 && !send() {
				return errStopped
			}
			b.page = page
			b.rows = append(b.rows, userRow{})
			if err := dec.Decode(&b.rows[len(b.rows)-1]); err != nil {
				return err
			}
			if len(b.rows) == batchSize && !send() {
				return errStopped
			}
			return nil
		})
		if err == nil && len(b.rows) > 0 {
			send()
		}
		if errors.Is(err, errStopped) {
			err = nil
		}
		decoded <- err
	}()
	var rowErr error
	for b := range batches {
		for i := range b.rows {
			if rowErr = row(b.page, &b.rows[i]); rowErr != nil {
				break
			}
		}
		if rowErr != nil {
			close(stop)
			for range batches { // let the decoder see stop and finish
			}
			break
		}
	}
	if err := <-decoded; err != nil && rowErr == nil {
		return err
	}
	return rowErr
}

// pageLink checks an @odata.nextLink and returns the file it names, or "" at
// the end of the chain.
func pageLink(link string) (string, error) {
	if link == "" {
		return "", nil
	}
	if strings.Contains(link, ":") {
		return "", fmt.Errorf("@odata.nextLink %q is a URL, not a file name in this folder (a saved snapshot names its next page by file name, e.g. \"users-002.json\")", link)
	}
	clean := path.Clean(link)
	if strings.Contains(link, `\`) || strings.HasPrefix(link, "/") || !fs.ValidPath(clean) || clean == "." || clean == ".." || strings.HasPrefix(clean, "../") {
		return "", fmt.Errorf("@odata.nextLink %q leaves the snapshot folder: pages must be files in the same folder", link)
	}
	return clean, nil
}

// readPage decodes one Graph collection page and returns its nextLink.
func (l *loader) readPage(name, from string, row func(page string, dec *json.Decoder) error) (next string, err error) {
	s := l.src
	f, err := s.FS.Open(s.path(name))
	switch {
	case errors.Is(err, fs.ErrNotExist) && from == "":
		if name == UsersFile {
			return "", fmt.Errorf("snapshot: %s: no %s: a snapshot folder holds %s and %s, optionally %s, each a Microsoft Graph response saved as-is (run nudge pull to make one)",
				s.display("."), UsersFile, UsersFile, RegistrationFile, PolicyFile)
		}
		if name != RegistrationFile {
			return "", fmt.Errorf("snapshot: %s: no %s, which %s lists (was the snapshot copied only in part?)", s.display("."), name, GroupsFile)
		}
		return "", fmt.Errorf("snapshot: %s: no %s next to %s: without the registration report nobody's passkey state is known (save GET /reports/authenticationMethods/userRegistrationDetails there)",
			s.display("."), name, UsersFile)
	case errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("snapshot: %s: @odata.nextLink names %s, which is not in the folder (was the snapshot copied only in part?)", s.display(from), name)
	case err != nil:
		return "", fmt.Errorf("snapshot: %w", err)
	}
	defer f.Close()

	dec := json.NewDecoder(f)
	// fail places err at the byte offset off (or at the decoder when off
	// is negative) as file:line:col.
	fail := func(err error, off int64, what string) error {
		return l.located(name, dec, err, off, what)
	}
	off := dec.InputOffset()
	tok, err := dec.Token()
	if err != nil {
		return "", fail(err, -1, "")
	}
	if tok != json.Delim('{') {
		return "", fail(fmt.Errorf("the file holds %s, not a Graph response object", describe(tok)), off, "")
	}
	sawValue := false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return "", fail(err, -1, "")
		}
		key, _ := tok.(string)
		switch key {
		case "value":
			sawValue = true
			off = dec.InputOffset()
			tok, err := dec.Token()
			if err != nil {
				return "", fail(err, -1, "")
			}
			if tok != json.Delim('[') {
				return "", fail(fmt.Errorf("\"value\" is %s, not an array", describe(tok)), off, "")
			}
			for n := 0; dec.More(); n++ {
				if n%4096 == 4095 {
					if err := l.ctx.Err(); err != nil {
						return "", fmt.Errorf("snapshot: %w", err)
					}
				}
				off = dec.InputOffset()
				if err := row(name, dec); err != nil {
					return "", fail(err, off, "row")
				}
			}
			if _, err := dec.Token(); err != nil { // ']'
				return "", fail(err, -1, "")
			}
		case "@odata.nextLink":
			off = dec.InputOffset()
			var link *string
			if err := dec.Decode(&link); err != nil {
				return "", fail(err, off, "@odata.nextLink")
			}
			if link != nil {
				next = *link
			}
		default:
			// Other annotations (@odata.context, @odata.count, …) are
			// Graph's business; skip them without keeping them.
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return "", fail(err, -1, "")
			}
		}
	}
	if _, err := dec.Token(); err != nil { // '}'
		return "", fail(err, -1, "")
	}
	off = dec.InputOffset()
	if _, err := dec.Token(); err != io.EOF {
		if err == nil {
			err = errors.New("more data after the end of the response object")
		}
		return "", fail(err, off, "")
	}
	if !sawValue {
		return "", fmt.Errorf("snapshot: %s: no \"value\" array: a saved Graph collection response has one (is this a Graph JSON response saved as-is?)", s.display(name))
	}
	return next, nil
}

// describe names a JSON token for messages.
func describe(tok json.Token) string {
	switch v := tok.(type) {
	case json.Delim:
		if v == '[' {
			return "an array"
		}
		return fmt.Sprintf("%q", string(v))
	case string:
		return "a string"
	case nil:
		return "null"
	case bool:
		return "a boolean"
	default:
		return "a number"
	}
}

// located turns a decoding error in file name into a fileError at
// file:line:col. off is the input offset before the failing call; what names
// the value being read, for type errors that carry no field name.
func (l *loader) located(name string, dec *json.Decoder, err error, off int64, what string) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	msg, hint := err.Error(), "is this a Graph JSON response saved as-is?"
	exact := false // off is the offending byte itself, not a point before it
	if off < 0 {
		// A failed Token or Decode leaves the decoder at the value it
		// could not read.
		off = dec.InputOffset()
	}
	switch {
	case errors.As(err, &syn):
		// The offsets json.Decoder puts in a SyntaxError are not file
		// offsets once the stream is read token by token, so decode again
		// from off with a fresh decoder, whose offsets start there.
		if f, oerr := l.src.FS.Open(l.src.path(name)); oerr == nil {
			if o := syntaxOffset(f, off, badChar(syn)); o >= 0 {
				off, exact = o, true
			}
			f.Close()
		}
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		off, exact = dec.InputOffset(), true
		msg, hint = "unexpected end of file", "was the file cut off while saving?"
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = what
		}
		msg = fmt.Sprintf("%s is a JSON %s where Graph sends %s", field, typ.Value, kind(typ.Type))
	}
	where := l.src.display(name)
	if f, oerr := l.src.FS.Open(l.src.path(name)); oerr == nil {
		line, col := position(f, off, !exact)
		f.Close()
		where = fmt.Sprintf("%s:%d:%d", where, line, col)
	}
	return &fileError{where: where, msg: msg + " (" + hint + ")", err: err}
}

// syntaxOffset returns the file offset of the first syntax error in the
// value that starts at byte off of r, after white space and at most one
// separator, or -1 when that value decodes cleanly. bad is the character the
// error complains about: when the separator is that character, the separator
// itself is the error (as in "[,").
func syntaxOffset(r io.Reader, off int64, bad byte) int64 {
	br := bufio.NewReader(r)
	if _, err := io.CopyN(io.Discard, br, off); err != nil {
		return -1
	}
	skipped, sep := int64(0), false
	for {
		b, err := br.ReadByte()
		if err != nil {
			return -1
		}
		if !sep && (b == ',' || b == ':') && b == bad {
			return off + skipped
		}
		if isSpace(b) || !sep && (b == ',' || b == ':') {
			sep = sep || b == ',' || b == ':'
			skipped++
			continue
		}
		br.UnreadByte()
		break
	}
	var skip json.RawMessage
	var syn *json.SyntaxError
	if err := json.NewDecoder(br).Decode(&skip); !errors.As(err, &syn) {
		return -1
	}
	return off + skipped + max(syn.Offset-1, 0)
}

// badChar returns the character a syntax error names ("invalid character
// ',' …"), or 0.
func badChar(err *json.SyntaxError) byte {
	m := err.Error()
	const p = "invalid character '"
	if i := strings.Index(m, p); i >= 0 && len(m) > i+len(p)+1 && m[i+len(p)+1] == '\'' {
		return m[i+len(p)]
	}
	return 0
}

func isSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\r' || b == '\n' }

// fileError is a malformed snapshot file, located as file:line:col when
// possible. It wraps the decoder's error without repeating its text when the
// message already says it better.
type fileError struct {
	where, msg string
	err        error
}

func (e *fileError) Error() string { return "snapshot: " + e.where + ": " + e.msg }
func (e *fileError) Unwrap() error { return e.err }

// kind says what JSON Graph sends for a Go type.
func kind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Pointer:
		return kind(t.Elem())
	default:
		return "a number"
	}
}

// position returns the 1-based line and column (in characters) of byte
// offset off in r. With skipSpace it first moves past white space and
// separators, so a position taken before a value lands on the value.
func position(r io.Reader, off int64, skipSpace bool) (line, col int) {
	br := bufio.NewReader(r)
	line, col = 1, 1
	for i := int64(0); ; i++ {
		b, err := br.ReadByte()
		if err != nil {
			return line, col
		}
		if i >= off && !(skipSpace && (isSpace(b) || b == ',' || b == ':')) {
			return line, col
		}
		switch {
		case b == '\n':
			line, col = line+1, 1
		case b&0xC0 != 0x80: // count characters, not UTF-8 continuation bytes
			col++
		}
	}
}

// Policy file shapes. One struct covers every authenticationMethodConfigurations
// entry: the FIDO2 one is picked by its @odata.type or id.
type (
	policyJSON struct {
		RegistrationEnforcement *struct {
			Campaign *campaignJSON `json:"authenticationMethodsRegistrationCampaign"`
		} `json:"registrationEnforcement"`
		Configurations []methodJSON `json:"authenticationMethodConfigurations"`
	}
	methodJSON struct {
		ODataType                        string               `json:"@odata.type"`
		ID                               string               `json:"id"`
		State                            string               `json:"state"`
		IsSelfServiceRegistrationAllowed bool                 `json:"isSelfServiceRegistrationAllowed"`
		IsAttestationEnforced            bool                 `json:"isAttestationEnforced"`
		KeyRestrictions                  *keyRestrictionsJSON `json:"keyRestrictions"`
		DefaultPasskeyProfile            string               `json:"defaultPasskeyProfile"`
		PasskeyProfiles                  []profileJSON        `json:"passkeyProfiles"`
		IncludeTargets                   []targetJSON         `json:"includeTargets"`
		ExcludeTargets                   []targetJSON         `json:"excludeTargets"`
	}
	profileJSON struct {
		ID                     string               `json:"id"`
		Name                   string               `json:"name"`
		PasskeyTypes           passkeyTypes         `json:"passkeyTypes"`
		AttestationEnforcement string               `json:"attestationEnforcement"`
		KeyRestrictions        *keyRestrictionsJSON `json:"keyRestrictions"`
	}
	keyRestrictionsJSON struct {
		IsEnforced      bool     `json:"isEnforced"`
		EnforcementType string   `json:"enforcementType"`
		AAGUIDs         []string `json:"aaGuids"`
	}
	targetJSON struct {
		ID                           string   `json:"id"`
		TargetType                   string   `json:"targetType"`
		AllowedPasskeyProfiles       []string `json:"allowedPasskeyProfiles"`
		TargetedAuthenticationMethod string   `json:"targetedAuthenticationMethod"`
	}
	campaignJSON struct {
		State                                  string       `json:"state"`
		SnoozeDurationInDays                   int          `json:"snoozeDurationInDays"`
		EnforceRegistrationAfterAllowedSnoozes *bool        `json:"enforceRegistrationAfterAllowedSnoozes"`
		IncludeTargets                         []targetJSON `json:"includeTargets"`
		ExcludeTargets                         []targetJSON `json:"excludeTargets"`
	}
)

// passkeyTypes is Graph's passkeyTypes flags enum. Graph serialises flags as
// one comma-separated string ("deviceBound,synced"); an array is accepted too
// for hand-written files.
type passkeyTypes []string

func (p *passkeyTypes) UnmarshalJSON(b []byte) error {
	var s *string
	if err := json.Unmarshal(b, &s); err == nil {
		*p = nil
		if s != nil {
			for v := range strings.SplitSeq(*s, ",") {
				if v = strings.TrimSpace(v); v != "" {
					*p = append(*p, v)
				}
			}
		}
		return nil
	}
	var list []string
	if err := json.Unmarshal(b, &list); err != nil {
		return errors.New(`passkeyTypes is neither a string like "deviceBound,synced" nor an array of strings`)
	}
	*p = list
	return nil
}

// readPolicy reads the optional policy file; a folder without one gives nil.
func (s *Source) readPolicy() (*directory.Policy, error) {
	data, err := fs.ReadFile(s.FS, s.path(PolicyFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	var pj policyJSON
	if err := json.Unmarshal(data, &pj); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		hint := " (is this a Graph JSON response saved as-is?)"
		switch {
		case errors.As(err, &syn):
			line, col := position(bytes.NewReader(data), max(syn.Offset-1, 0), false)
			return nil, &fileError{where: fmt.Sprintf("%s:%d:%d", s.display(PolicyFile), line, col), msg: err.Error() + hint, err: err}
		case errors.As(err, &typ):
			// Offset is just past the offending value: its line is what
			// helps.
			line, _ := position(bytes.NewReader(data), max(typ.Offset-1, 0), false)
			msg := fmt.Sprintf("%s is a JSON %s where Graph sends %s", typ.Field, typ.Value, kind(typ.Type))
			return nil, &fileError{where: fmt.Sprintf("%s:%d", s.display(PolicyFile), line), msg: msg + hint, err: err}
		}
		return nil, &fileError{where: s.display(PolicyFile), msg: err.Error(), err: err}
	}

	pol := &directory.Policy{}
	for _, m := range pj.Configurations {
		if m.ODataType != "#microsoft.graph.fido2AuthenticationMethodConfiguration" && !strings.EqualFold(m.ID, "fido2") {
			continue
		}
		pk := &pol.Passkey
		pk.State = m.State
		pk.IsSelfServiceRegistrationAllowed = m.IsSelfServiceRegistrationAllowed
		pk.IsAttestationEnforced = m.IsAttestationEnforced
		pk.DefaultPasskeyProfile = m.DefaultPasskeyProfile
		for _, p := range m.PasskeyProfiles {
			pk.Profiles = append(pk.Profiles, directory.PasskeyProfile{
				ID:                     p.ID,
				Name:                   p.Name,
				PasskeyTypes:           p.PasskeyTypes,
				AttestationEnforcement: p.AttestationEnforcement,
				KeyRestrictions:        p.KeyRestrictions.restrictions(),
			})
		}
		pk.IncludeTargets = targets(m.IncludeTargets)
		pk.ExcludeTargets = targets(m.ExcludeTargets)
		// Migrated tenants still get the method-level keyRestrictions
		// (deprecated, mirroring the default profile); only a tenant without
		// profiles is governed by it.
		if len(m.PasskeyProfiles) == 0 && m.DefaultPasskeyProfile == "" {
			pk.LegacyKeyRestrictions = m.KeyRestrictions.restrictions()
		}
		break
	}
	if re := pj.RegistrationEnforcement; re != nil && re.Campaign != nil {
		c := re.Campaign
		pol.Campaign = directory.RegistrationCampaign{
			State:                c.State,
			SnoozeDurationInDays: c.SnoozeDurationInDays,
			// Graph documents true as the default when the property is
			// absent.
			EnforceRegistrationAfterAllowedSnoozes: c.EnforceRegistrationAfterAllowedSnoozes == nil || *c.EnforceRegistrationAfterAllowedSnoozes,
			ExcludeTargets:                         targets(c.ExcludeTargets),
		}
		for _, t := range c.IncludeTargets {
			pol.Campaign.IncludeTargets = append(pol.Campaign.IncludeTargets, directory.CampaignTarget{
				ID:                           t.ID,
				TargetType:                   t.TargetType,
				TargetedAuthenticationMethod: t.TargetedAuthenticationMethod,
			})
		}
	}
	return pol, nil
}

func (k *keyRestrictionsJSON) restrictions() *directory.KeyRestrictions {
	if k == nil {
		return nil
	}
	return &directory.KeyRestrictions{IsEnforced: k.IsEnforced, EnforcementType: k.EnforcementType, AAGUIDs: k.AAGUIDs}
}

func targets(list []targetJSON) []directory.Target {
	var out []directory.Target
	for _, t := range list {
		out = append(out, directory.Target{ID: t.ID, TargetType: t.TargetType, AllowedPasskeyProfiles: t.AllowedPasskeyProfiles})
	}
	return out
}
