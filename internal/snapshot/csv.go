package snapshot

// The CSV source reads the "User registration details" download of the
// Entra admin center (Entra ID > Authentication methods > User
// registration details > Download), for a change manager who can download
// a report but cannot be granted Graph access.
//
// Reading policy. Microsoft does not document the download's columns, and
// they follow what the blade shows: the downloads we have seen name them
// after Graph's userRegistrationDetails properties (userPrincipalName,
// isMfaCapable, …), write True/False and a JSON array of Graph method
// names, and have only the columns on screen (no id, isAdmin or userType
// unless they were added). So a header is matched by Graph's name or the
// blade's ("User principal name", "MFA capable", …), ignoring case, spaces
// and punctuation, and values are read as the download, the blade and
// Excel spell them (True/False, Yes/No, 1/0, Capable/Not capable; method
// names Graph's or on-screen). The file is checked before anyone is handed on: a file without
// the columns nudge cannot do without (the UPN and the methods registered)
// fails with what it has and what it lacks, and a row the CSV syntax cannot
// place fails with file:line. A problem with one person's data (a value
// that is not a yes or no, a second row for the same UPN) is a
// directory.Problem and the load goes on. Directory values are data:
// names, however hostile, are handed on as they are.
//
// Rows are read one at a time with encoding/csv, so memory does not grow
// with the file beyond a hash and a line number per person for finding
// duplicates.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"io/fs"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/nudge-passkeys/nudge/internal/directory"
)

// CSVSource reads a "User registration details" CSV download.
//
// The download has no mail addresses, so Person.Mail is empty; it lists
// only enabled accounts (the report leaves disabled users out), so everyone
// is AccountEnabled; and it has no policy, so Directory.Policy is nil.
// Person.ID is the object id when the file has an id ("Object ID") column
// and otherwise the lower-cased UPN, which then keys the person in the
// ledger: a campaign that switches between a CSV without ids and Graph sees
// the same people under two keys. Duplicates are found by UPN
// (case-insensitively) either way.
type CSVSource struct {
	FS   fs.FS
	Path string // the file inside FS
	Name string // how to name the file in messages, e.g. the path the user typed
	// Now gives Directory.ReadAt. Optional: without it ReadAt is the
	// file's modification time, the closest thing to when it was
	// downloaded.
	Now func() time.Time
}

var (
	_ directory.Source   = (*CSVSource)(nil)
	_ directory.Streamer = (*CSVSource)(nil)
)

// Load reads the file: people in file order.
func (s *CSVSource) Load(ctx context.Context) (*directory.Directory, error) {
	return collect(ctx, s)
}

// collect is Load for any Streamer: everyone in a slice.
func collect(ctx context.Context, st directory.Streamer) (*directory.Directory, error) {
	var people []directory.Person
	d, err := st.Stream(ctx, func(p *directory.Person) error {
		people = append(people, *p)
		return nil
	})
	if err != nil {
		return nil, err
	}
	d.People = people
	return d, nil
}

// csvField is a column nudge reads.
type csvField int

const (
	colID csvField = iota
	colUPN
	colDisplayName
	colUserType
	colAdmin
	colMFACapable
	colMFARegistered
	colPasswordless
	colSSPRRegistered
	colMethods
	colUpdated
	numCSVFields
)

// csvColumns names each field as Graph does and as the admin center shows
// it, plus the other names it goes by. All are matched after fold.
// Columns not listed here (isSsprEnabled, defaultMfaMethod, …) are read
// past.
var csvColumns = [numCSVFields]struct {
	graph, screen string
	more          []string
}{
	colID:             {"id", "Object ID", []string{"User ID"}},
	colUPN:            {"userPrincipalName", "User principal name", []string{"UPN"}},
	colDisplayName:    {"userDisplayName", "User display name", []string{"Name", "Display name"}},
	colUserType:       {"userType", "User type", nil},
	colAdmin:          {"isAdmin", "Admin", nil},
	colMFACapable:     {"isMfaCapable", "MFA capable", []string{"Multifactor authentication capable"}},
	colMFARegistered:  {"isMfaRegistered", "MFA registered", []string{"Multifactor authentication registered"}},
	colPasswordless:   {"isPasswordlessCapable", "Passwordless capable", nil},
	colSSPRRegistered: {"isSsprRegistered", "SSPR registered", []string{"Self-service password reset registered"}},
	colMethods:        {"methodsRegistered", "Methods registered", nil},
	colUpdated:        {"lastUpdatedDateTime", "Last updated time", []string{"Last updated"}},
}

// csvRequired are the columns without which the file is refused: nobody
// can be named without the UPN, and without the methods nobody's passkey
// is known, so everyone would look like they still need one.
var csvRequired = []csvField{colUPN, colMethods}

// csvAliases maps every folded column name to its field.
var csvAliases = func() map[string]csvField {
	m := make(map[string]csvField)
	for f, c := range csvColumns {
		for _, name := range append([]string{c.graph, c.screen}, c.more...) {
			m[fold(name)] = csvField(f)
		}
		// The older download spelled the flags without "is"
		// (mfaCapable, ssprRegistered), as the blade does.
		if rest, ok := strings.CutPrefix(c.graph, "is"); ok {
			m[fold(rest)] = csvField(f)
		}
	}
	return m
}()

// fold lower-cases s and drops everything but letters and digits, so that
// "MFA capable", "mfaCapable" and "mfa_capable" are one name, and so are
// "Passkey (device-bound)" and "passKeyDeviceBound".
func fold(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// csvMethods maps folded method names, Graph's and the admin center's, to
// Graph's. Graph's names fold to themselves, which also makes the case of
// a Graph name in the file not matter.
var csvMethods = func() map[string]string {
	m := make(map[string]string)
	for _, graph := range []string{
		directory.MethodPasskeyDeviceBound, // "Passkey (device-bound)" folds to this
		directory.MethodPasskeyDeviceBoundAuthenticator,
		directory.MethodPasskeyDeviceBoundWindowsHello,
		directory.MethodPasskeySynced, // "Passkey (synced)"
		directory.MethodFIDO2SecurityKey,
		directory.MethodWindowsHelloForBusiness,
		directory.MethodAuthenticatorPush,
		directory.MethodAuthenticatorPasswordless, // "Microsoft Authenticator (passwordless)"
		directory.MethodSoftwareOTP,
		directory.MethodHardwareOTP,
		directory.MethodMobilePhone,
		directory.MethodEmail,
		directory.MethodTemporaryAccessPass,
		directory.MethodCertificate,
		"alternateMobilePhone",
		"officePhone",
		"securityQuestion",
	} {
		m[fold(graph)] = graph
	}
	for screen, graph := range map[string]string{
		"Passkey (Microsoft Authenticator)":               directory.MethodPasskeyDeviceBoundAuthenticator,
		"Passkey (Windows Hello)":                         directory.MethodPasskeyDeviceBoundWindowsHello,
		"Synced passkey":                                  directory.MethodPasskeySynced,
		"Security key":                                    directory.MethodFIDO2SecurityKey,
		"Microsoft Authenticator":                         directory.MethodAuthenticatorPush,
		"Microsoft Authenticator app":                     directory.MethodAuthenticatorPush,
		"Microsoft Authenticator app (push notification)": directory.MethodAuthenticatorPush,
		"Microsoft Passwordless phone sign-in":            directory.MethodAuthenticatorPasswordless,
		"Microsoft Authenticator app (passwordless)":      directory.MethodAuthenticatorPasswordless,
		"Software OATH token":                             directory.MethodSoftwareOTP,
		"Hardware OATH token":                             directory.MethodHardwareOTP,
		"Security questions":                              "securityQuestion",
		// "Certificate-based authentication" is left as it is: the blade
		// does not say whether the certificate is single- or multifactor,
		// and only the second is phishing-resistant.
	} {
		m[fold(screen)] = graph
	}
	return m
}()

// csvHint says where a good file comes from.
const csvHint = "download it from the Entra admin center: Entra ID > Authentication methods > User registration details > Download, " +
	"with the Methods registered column shown; a hand-made file can use Graph's names: userPrincipalName, methodsRegistered, isMfaCapable, isAdmin, userType, id"

// Stream reads the file and calls each for every person in file order.
// The header is checked first, so a file that is not a registration
// report fails before anyone is handed on. The returned Directory has no
// People. each must not keep p, which is reused.
func (s *CSVSource) Stream(ctx context.Context, each func(p *directory.Person) error) (*directory.Directory, error) {
	if s.FS == nil {
		return nil, errors.New("snapshot: CSVSource has no FS to read from")
	}
	f, err := s.FS.Open(s.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("snapshot: %s: no such file (%s)", s.display(), csvHint)
	}
	if err != nil {
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	defer f.Close()

	in, err := textReader(f)
	if err != nil {
		return nil, &fileError{where: s.display(), msg: err.Error(), err: err}
	}
	r := csv.NewReader(in)
	r.Comma = sniffComma(in)
	r.ReuseRecord = true
	header, err := r.Read()
	if err == io.EOF {
		return nil, fmt.Errorf("snapshot: %s: the file is empty (%s)", s.display(), csvHint)
	}
	if err != nil {
		return nil, s.syntaxError(err, nil, 0)
	}
	rows, err := s.columns(header)
	if err != nil {
		return nil, err
	}
	rows.where = s.display()

	d := &directory.Directory{}
	rows.missing(d)
	var p directory.Person
	for n := 0; ; n++ {
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("snapshot: %w", err)
			}
		}
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, s.syntaxError(err, rec, len(header))
		}
		line, _ := r.FieldPos(0)
		if !rows.person(rec, line, &p, d) {
			continue
		}
		if err := each(&p); err != nil {
			return nil, err
		}
	}
	rows.finish(d)

	if s.Now != nil {
		d.ReadAt = s.Now()
	} else if fi, err := fs.Stat(s.FS, s.Path); err == nil {
		d.ReadAt = fi.ModTime()
	}
	return d, nil
}

// display is how messages name the file.
func (s *CSVSource) display() string {
	if s.Name != "" {
		return s.Name
	}
	return s.Path
}

// columns matches the header against the known columns. A header without
// the required columns, or with two columns for one field, is an error
// that lists what the header has.
func (s *CSVSource) columns(header []string) (*csvRows, error) {
	rows := &csvRows{
		seed:    maphash.MakeSeed(),
		upns:    make(map[uint64]int32),
		ids:     make(map[uint64]int32),
		methods: make(map[string][]string),
	}
	for f := range rows.col {
		rows.col[f] = -1
	}
	for i, h := range header {
		f, ok := csvAliases[fold(h)]
		if !ok {
			continue
		}
		if j := rows.col[f]; j >= 0 {
			return nil, fmt.Errorf("snapshot: %s:1: columns %s and %s both give %s: keep one of them (%s)",
				s.display(), quoteCell(header[j]), quoteCell(h), csvColumns[f].graph, csvHint)
		}
		rows.col[f] = i
	}
	var lack []string
	for _, f := range csvRequired {
		if rows.col[f] < 0 {
			c := csvColumns[f]
			lack = append(lack, fmt.Sprintf("%s (%s)", c.screen, c.graph))
		}
	}
	if len(lack) == 0 {
		return rows, nil
	}
	found := make([]string, 0, min(len(header), 20))
	for i, h := range header {
		if i == 20 {
			found = append(found, fmt.Sprintf("and %d more", len(header)-20))
			break
		}
		found = append(found, quoteCell(h))
	}
	return nil, fmt.Errorf("snapshot: %s: not a User registration details download: no %s column; the header has %s (%s)",
		s.display(), strings.Join(lack, " or "), strings.Join(found, ", "), csvHint)
}

// quoteCell shows a header cell in a message: as it is when that is
// unambiguous, else Go-quoted, since the file may hold anything.
func quoteCell(h string) string {
	if h == "" || strings.ContainsAny(h, ",;\"") || strings.TrimSpace(h) != h {
		return strconv.Quote(h)
	}
	for _, r := range h {
		if !unicode.IsPrint(r) {
			return strconv.Quote(h)
		}
	}
	return h
}

// syntaxError turns an encoding/csv error into file:line and what to
// check. rec is the record Read returned with the error, if any; fields is
// the header's length.
func (s *CSVSource) syntaxError(err error, rec []string, fields int) error {
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		return fmt.Errorf("snapshot: %s: %w", s.display(), err)
	}
	where := fmt.Sprintf("%s:%d", s.display(), pe.Line)
	var msg string
	switch {
	case errors.Is(pe.Err, csv.ErrFieldCount):
		msg = fmt.Sprintf("the row has %d columns where the header has %d (is a value with a comma or line break missing its double quotes?)", len(rec), fields)
	case errors.Is(pe.Err, csv.ErrQuote) && pe.StartLine != pe.Line:
		where = fmt.Sprintf("%s:%d", s.display(), pe.StartLine)
		msg = fmt.Sprintf("the double quote that opens a value here is not closed by line %d (was the file cut off, or a quote inside a value not doubled?)", pe.Line)
	case errors.Is(pe.Err, csv.ErrQuote), errors.Is(pe.Err, csv.ErrBareQuote):
		where = fmt.Sprintf("%s:%d:%d", s.display(), pe.Line, pe.Column)
		msg = pe.Err.Error() + ` (a value with a double quote in it must be in double quotes, the quote doubled: "O""Brien")`
	default:
		msg = pe.Err.Error() + " (" + csvHint + ")"
	}
	return &fileError{where: where, msg: msg, err: err}
}

// csvRows turns records into people and keeps what that needs between rows.
type csvRows struct {
	where string // the file, for messages
	col   [numCSVFields]int
	seed  maphash.Seed
	// First line of every UPN (folded) and id, by hash: a set of strings
	// would keep every row alive.
	upns, ids map[uint64]int32
	// Method lists by cell, shared by everyone with the same cell; most of
	// a tenant has one of a few dozen.
	methods map[string][]string
	// Times nudge could not read, reported once for the file: a file saved
	// again by Excel has them all in its own format.
	badTimes    int
	badTime     string
	badTimeLine int
}

// maxMethodSets bounds csvRows.methods, so a file where every cell differs
// does not keep them all.
const maxMethodSets = 1024

// missing reports the columns audiences lean on that the file does not
// have, once for the file: a download shows only the blade's visible
// columns, and isAdmin is not one of them by default.
func (c *csvRows) missing(d *directory.Directory) {
	for _, m := range []struct {
		f     csvField
		taken string
	}{
		{colAdmin, "nobody is taken as an admin"},
		{colMFACapable, "nobody is taken as MFA capable"},
	} {
		if c.col[m.f] < 0 {
			col := csvColumns[m.f]
			d.Problems = append(d.Problems, directory.Problem{Who: "every row", Source: c.where,
				What: fmt.Sprintf("no %s (%s) column: %s (add the column in the admin center before downloading)", col.screen, col.graph, m.taken)})
		}
	}
}

// get returns the cell of field f, or "" when the file has no such column.
func (c *csvRows) get(rec []string, f csvField) string {
	if i := c.col[f]; i >= 0 {
		return rec[i]
	}
	return ""
}

// person fills p from rec, read at line, reporting problems in d. It
// returns false when the row is left out.
func (c *csvRows) person(rec []string, line int, p *directory.Person, d *directory.Directory) bool {
	at := func() string { return c.where + ":" + strconv.Itoa(line) }
	problem := func(who, what string) {
		d.Problems = append(d.Problems, directory.Problem{Who: who, Source: at(), What: what})
	}
	upn := strings.TrimSpace(c.get(rec, colUPN))
	id := strings.TrimSpace(c.get(rec, colID))
	name := c.get(rec, colDisplayName)
	kind := strings.TrimSpace(c.get(rec, colUserType))
	badText := false
	for _, v := range []*string{&upn, &id, &name, &kind} {
		if !utf8.ValidString(*v) {
			*v = strings.ToValidUTF8(*v, "\uFFFD")
			badText = true
		}
	}
	who := upn
	if who == "" {
		who = id
	}
	if upn == "" {
		if who == "" {
			who = "(no user principal name)"
		}
		problem(who, "row has no user principal name: left out")
		return false
	}
	// UPNs are case-insensitive in Entra.
	upnKey := maphash.String(c.seed, strings.ToLower(upn))
	if first, dup := c.upns[upnKey]; dup {
		problem(who, fmt.Sprintf("second row for this user principal name (the first is on line %d): left out", first))
		return false
	}
	idKey := maphash.String(c.seed, id)
	if id != "" {
		if first, dup := c.ids[idKey]; dup {
			problem(who, fmt.Sprintf("second row for object id %q (the first is on line %d): left out", id, first))
			return false
		}
		c.ids[idKey] = int32(line)
	}
	c.upns[upnKey] = int32(line)

	if id == "" {
		// Everything downstream (ledger, Message-IDs, adoption) keys people
		// by id: the UPN, lower-cased, stands in for the object id the
		// download does not carry.
		id = strings.ToLower(upn)
	}
	*p = directory.Person{
		ID:                id,
		UserPrincipalName: upn,
		DisplayName:       name,
		// The report leaves disabled accounts out.
		AccountEnabled:  true,
		HasRegistration: true,
	}
	if badText {
		problem(who, `not valid UTF-8, shown with � (was the file saved by Excel as "CSV (Comma delimited)" rather than "CSV UTF-8"?)`)
	}
	switch {
	case strings.EqualFold(kind, "member"):
		p.UserType = "Member"
	case strings.EqualFold(kind, "guest"):
		p.UserType = "Guest"
	case kind != "":
		p.UserType = kind
	case strings.Contains(strings.ToUpper(upn), "#EXT#"):
		// No user type in the file: Entra gives invited guests a UPN
		// with #EXT#. (An external member has one too and is taken as a
		// guest, which errs on the side of not writing to them.)
		p.UserType = "Guest"
	default:
		p.UserType = "Member"
	}
	for _, b := range []struct {
		f  csvField
		to *bool
	}{
		{colAdmin, &p.IsAdmin},
		{colMFACapable, &p.IsMFACapable},
		{colMFARegistered, &p.IsMFARegistered},
		{colPasswordless, &p.IsPasswordlessCapable},
		{colSSPRRegistered, &p.IsSSPRRegistered},
	} {
		v := c.get(rec, b.f)
		on, ok := parseYesNo(v)
		if !ok {
			problem(who, fmt.Sprintf("%s is %q, not Yes/No, True/False or 1/0: taken as No", csvColumns[b.f].graph, v))
		}
		*b.to = on
	}
	cell := strings.TrimSpace(c.get(rec, colMethods))
	if strings.HasPrefix(cell, "System.") && strings.HasSuffix(cell, "[]") {
		problem(who, fmt.Sprintf("methodsRegistered is %q, not a list of methods (a PowerShell script wrote the list without joining it): left empty", cell))
	} else {
		p.MethodsRegistered = c.methodList(cell)
	}
	if v := strings.TrimSpace(c.get(rec, colUpdated)); v != "" {
		if t, ok := parseUpdated(v); ok {
			p.RegistrationUpdated = t
		} else {
			if c.badTimes == 0 {
				c.badTime, c.badTimeLine = strings.ToValidUTF8(strings.Clone(v), "\uFFFD"), line
			}
			c.badTimes++
		}
	}
	return true
}

// finish reports what is reported once for the file.
func (c *csvRows) finish(d *directory.Directory) {
	if c.badTimes == 0 {
		return
	}
	rows := "1 row has"
	if c.badTimes > 1 {
		rows = strconv.Itoa(c.badTimes) + " rows have"
	}
	d.Problems = append(d.Problems, directory.Problem{Who: "lastUpdatedDateTime", Source: c.where,
		What: fmt.Sprintf("%s a time nudge cannot read, such as %q on line %d: left empty (times are read as RFC 3339, 2006-01-02T15:04:05Z, as the download writes them; was the file saved again by Excel?)", rows, c.badTime, c.badTimeLine)})
}

// parseYesNo reads a flag in every spelling the download, the blade and
// Excel give it. An empty cell is no.
func parseYesNo(v string) (on, ok bool) {
	switch v {
	case "True", "true", "TRUE", "Yes", "yes", "1":
		return true, true
	case "False", "false", "FALSE", "No", "no", "0", "":
		return false, true
	}
	switch fold(v) {
	case "true", "yes", "1", "capable", "registered", "enabled":
		return true, true
	case "false", "no", "0", "", "notcapable", "notregistered", "notenabled":
		return false, true
	}
	return false, false
}

// parseUpdated reads lastUpdatedDateTime: RFC 3339 as the download writes
// it, or the same without a zone (taken as UTC, as Graph's times are).
func parseUpdated(v string) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t.UTC(), true
	}
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02 15:04:05Z07:00"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// methodList returns the methods of a methodsRegistered cell, shared with
// everyone whose cell is the same.
func (c *csvRows) methodList(cell string) []string {
	if cell == "" {
		return nil
	}
	if list, ok := c.methods[cell]; ok {
		return list
	}
	list := parseMethods(cell)
	if len(c.methods) < maxMethodSets {
		// Cloned: the cell is part of the row's string, which the map
		// would otherwise keep alive.
		c.methods[strings.Clone(cell)] = list
	}
	return list
}

// parseMethods splits a methodsRegistered cell: a JSON array as the
// download writes it (["microsoftAuthenticatorPush","passKeySynced"]), or
// names separated by commas, semicolons or line breaks, Graph's or the
// admin center's. Known names become Graph's; others are kept as they are.
func parseMethods(cell string) []string {
	if strings.HasPrefix(cell, "[") && strings.HasSuffix(cell, "]") {
		cell = cell[1 : len(cell)-1]
	}
	var list []string
	for part := range strings.FieldsFuncSeq(cell, func(r rune) bool { return r == ',' || r == ';' || r == '\n' || r == '\r' }) {
		part = strings.TrimSpace(strings.Trim(strings.TrimSpace(part), `"'`))
		if part == "" || strings.EqualFold(part, "none") {
			continue
		}
		if graph, ok := csvMethods[fold(part)]; ok {
			list = append(list, graph)
		} else {
			list = append(list, strings.ToValidUTF8(strings.Clone(part), "\uFFFD"))
		}
	}
	return list
}

// textReader returns the file's text as UTF-8: a UTF-8 byte order mark is
// dropped, and UTF-16 with one (Excel's "Unicode text") is converted. A
// file with NUL bytes and no mark is UTF-16 nudge cannot tell the byte
// order of.
func textReader(r io.Reader) (*bufio.Reader, error) {
	const size = 64 << 10
	br := bufio.NewReaderSize(r, size)
	mark, _ := br.Peek(3)
	switch {
	case bytes.HasPrefix(mark, []byte("\xEF\xBB\xBF")):
		br.Discard(3)
	case bytes.HasPrefix(mark, []byte("\xFF\xFE")):
		br.Discard(2)
		return bufio.NewReaderSize(&utf16Reader{r: br}, size), nil
	case bytes.HasPrefix(mark, []byte("\xFE\xFF")):
		br.Discard(2)
		return bufio.NewReaderSize(&utf16Reader{r: br, bigEndian: true}, size), nil
	}
	if head, _ := br.Peek(512); bytes.IndexByte(head, 0) >= 0 {
		return nil, errors.New(`the file has NUL bytes: it looks like UTF-16 without a byte order mark (save it from Excel as "CSV UTF-8 (Comma delimited)")`)
	}
	return br, nil
}

// utf16Reader converts UTF-16 to UTF-8 as it is read. Unpaired surrogates
// and an odd last byte become U+FFFD.
type utf16Reader struct {
	r         *bufio.Reader
	bigEndian bool
	out       []byte // converted, not yet read
	buf       []byte // out's backing array
	err       error
}

func (u *utf16Reader) Read(p []byte) (int, error) {
	for len(u.out) == 0 {
		if u.err != nil {
			return 0, u.err
		}
		u.fill()
	}
	n := copy(p, u.out)
	u.out = u.out[n:]
	return n, nil
}

// fill converts the next few thousand code units.
func (u *utf16Reader) fill() {
	b := u.buf[:0]
	for len(b) < 4096 {
		c, err := u.unit()
		if err != nil {
			u.err = err
			break
		}
		r := rune(c)
		if utf16.IsSurrogate(r) {
			r = unicode.ReplacementChar
			if c < 0xDC00 { // high: pairs with a low one that follows
				if next, err := u.r.Peek(2); err == nil {
					if low := rune(u.decode(next)); low >= 0xDC00 && low < 0xE000 {
						u.r.Discard(2)
						r = utf16.DecodeRune(rune(c), low)
					}
				}
			}
		}
		b = utf8.AppendRune(b, r)
	}
	u.buf, u.out = b, b
}

// unit reads one code unit.
func (u *utf16Reader) unit() (uint16, error) {
	var two [2]byte
	n, err := io.ReadFull(u.r, two[:])
	switch {
	case n == 1:
		return unicode.ReplacementChar, nil // reported as EOF next time
	case err != nil:
		return 0, err
	}
	return u.decode(two[:]), nil
}

func (u *utf16Reader) decode(b []byte) uint16 {
	if u.bigEndian {
		return uint16(b[0])<<8 | uint16(b[1])
	}
	return uint16(b[1])<<8 | uint16(b[0])
}

// sniffComma picks the separator the header line parses into known
// columns with: a comma, or a semicolon (Excel in much of Europe), or a tab
// (Excel's "Unicode text"). Without a known column it picks the one that
// gives the most columns, so the error lists them as the file means them.
func sniffComma(in *bufio.Reader) rune {
	head, _ := in.Peek(in.Size())
	if i := bytes.IndexByte(head, '\n'); i >= 0 {
		head = head[:i+1]
	}
	best, bestScore := ',', -1
	for _, comma := range []rune{',', ';', '\t'} {
		r := csv.NewReader(bytes.NewReader(head))
		r.Comma = comma
		r.LazyQuotes = true
		rec, err := r.Read()
		if err != nil {
			continue
		}
		score := len(rec)
		for _, h := range rec {
			if f, ok := csvAliases[fold(h)]; ok {
				score += 1000
				if f == colUPN {
					score += 100000
				}
			}
		}
		if score > bestScore {
			best, bestScore = comma, score
		}
	}
	return best
}
