package deliver_test

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/nudge-passkeys/nudge/internal/deliver"
)

var london = func() *time.Location {
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		panic(err)
	}
	return loc
}()

// message returns a plain message; cases change what they test.
func message() *deliver.Message {
	return &deliver.Message{
		ID:      deliver.MessageID("contoso.example", "passkeys-2026", "announce", "id-1"),
		Date:    time.Date(2026, 12, 1, 9, 0, 5, 0, london),
		From:    deliver.Address{Name: "Contoso IT Security", Email: "it-security@contoso.example"},
		To:      deliver.Address{Name: "Ann Smith", Email: "ann@contoso.example"},
		Subject: "Ann, sign in without a password",
		Text:    "Hello Ann,\n\nAdd a passkey: https://aka.ms/mysecurityinfo\n",
		HTML:    "<!doctype html>\n<p>Hello Ann,</p>\n<p><a href=\"https://aka.ms/mysecurityinfo\">Add a passkey</a></p>\n",
	}
}

func render(t testing.TB, m *deliver.Message) []byte {
	t.Helper()
	var b bytes.Buffer
	n, err := m.WriteTo(&b)
	if err != nil {
		t.Fatalf("WriteTo: %v", err)
	}
	if n != int64(b.Len()) {
		t.Errorf("WriteTo = %d, wrote %d bytes", n, b.Len())
	}
	return b.Bytes()
}

// oneLine is what a header value should carry of s: control characters
// (CR, LF, TAB, …) folded to spaces.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}

// crlf normalises line ends: the quoted-printable writer is in text mode, so
// each \n of a body goes out as \r\n, as RFC 2045 wants; the content is the
// same.
func crlf(s string) string { return strings.ReplaceAll(s, "\r\n", "\n") }

type part struct {
	ContentType string // media type and parameters, as parsed
	Charset     string
	Encoding    string
	Filename    string
	Body        string // decoded
}

type parsed struct {
	Header  mail.Header
	Subject string
	Parts   []part // leaves, in order
	Mixed   bool   // multipart/mixed around the alternative
	Raw     []byte
}

// parse reads a message back with net/mail and mime/multipart, decoding
// every leaf part itself (NextRawPart, so nothing is decoded for us).
func parse(t *testing.T, raw []byte) parsed {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("mail.ReadMessage: %v\n%s", err, raw)
	}
	var dec mime.WordDecoder
	subject, err := dec.DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		t.Fatalf("decoding Subject %q: %v", msg.Header.Get("Subject"), err)
	}
	p := parsed{Header: msg.Header, Subject: subject, Raw: raw}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatalf("Content-Type: %v", err)
	}
	body := msg.Body
	if mt == "multipart/mixed" {
		p.Mixed = true
		mr := multipart.NewReader(body, params["boundary"])
		first, err := mr.NextRawPart()
		if err != nil {
			t.Fatalf("first part of multipart/mixed: %v", err)
		}
		mt, params, err = mime.ParseMediaType(first.Header.Get("Content-Type"))
		if err != nil {
			t.Fatal(err)
		}
		if mt != "multipart/alternative" {
			t.Fatalf("first part of multipart/mixed is %s, want multipart/alternative", mt)
		}
		p.Parts = readParts(t, multipart.NewReader(first, params["boundary"]))
		p.Parts = append(p.Parts, readParts(t, mr)...)
		return p
	}
	if mt != "multipart/alternative" {
		t.Fatalf("Content-Type %s, want multipart/alternative or multipart/mixed", mt)
	}
	p.Parts = readParts(t, multipart.NewReader(body, params["boundary"]))
	return p
}

func readParts(t *testing.T, mr *multipart.Reader) []part {
	t.Helper()
	var parts []part
	for {
		mp, err := mr.NextRawPart()
		if err == io.EOF {
			return parts
		}
		if err != nil {
			t.Fatalf("NextRawPart: %v", err)
		}
		mt, params, err := mime.ParseMediaType(mp.Header.Get("Content-Type"))
		if err != nil {
			t.Fatalf("part Content-Type: %v", err)
		}
		pt := part{ContentType: mt, Charset: params["charset"], Encoding: mp.Header.Get("Content-Transfer-Encoding"), Filename: mp.FileName()}
		var r io.Reader = mp
		switch pt.Encoding {
		case "quoted-printable":
			r = quotedprintable.NewReader(mp)
		case "base64":
			r = base64.NewDecoder(base64.StdEncoding, mp)
		}
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatalf("reading %s part: %v", mt, err)
		}
		pt.Body = string(b)
		parts = append(parts, pt)
	}
}

// headerBlock returns the raw header lines, without their CRLF.
func headerBlock(t *testing.T, raw []byte) []string {
	t.Helper()
	head, _, ok := bytes.Cut(raw, []byte("\r\n\r\n"))
	if !ok {
		t.Fatal("no blank line after the header")
	}
	return strings.Split(string(head), "\r\n")
}

// checkLines checks RFC 5322 §2.1.1 line lengths in the header: never over
// 998 octets, and over 78 only when the line holds a single word after the
// field name (a word nothing could fold).
func checkLines(t *testing.T, raw []byte) {
	t.Helper()
	for _, line := range headerBlock(t, raw) {
		if strings.ContainsAny(line, "\r\n") {
			t.Errorf("bare CR or LF in header line %q", line)
		}
		if len(line) > 998 {
			t.Errorf("header line of %d octets (max 998): %.60q…", len(line), line)
		}
		if len(line) > 78 {
			rest := strings.TrimLeft(line, " \t")
			if rest == line { // first line of a field: skip the name
				_, rest, _ = strings.Cut(line, ": ")
			}
			if strings.ContainsAny(rest, " \t") {
				t.Errorf("header line of %d octets could have been folded: %q", len(line), line)
			}
		}
	}
}

// rawField returns the unfolded value of the one field name (RFC 5322
// §2.2.3: unfolding removes each CRLF before white space and nothing else).
func rawField(t *testing.T, raw []byte, name string) string {
	t.Helper()
	var fields []string
	for _, line := range headerBlock(t, raw) {
		if line != "" && (line[0] == ' ' || line[0] == '\t') {
			fields[len(fields)-1] += line
			continue
		}
		fields = append(fields, line)
	}
	var found []string
	for _, f := range fields {
		if v, ok := strings.CutPrefix(f, name+":"); ok {
			found = append(found, strings.TrimPrefix(v, " "))
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d %s fields, want 1", len(found), name)
	}
	return found[0]
}

func keys(h mail.Header) []string {
	var ks []string
	for k := range h {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func TestWriteToReadsBack(t *testing.T) {
	pdf := bytes.Repeat([]byte("%PDF-1.7\x00\xff\xfe binary \r\n"), 40)
	for _, tc := range []struct {
		name   string
		change func(m *deliver.Message)
	}{
		{"plain", func(m *deliver.Message) {}},
		{"unicode", func(m *deliver.Message) {
			m.To.Name = "Amélie Garçon"
			m.From.Name = "Sécurité informatique"
			m.Subject = "Amélie, connectez-vous sans mot de passe ✓"
			m.Text = "Bonjour Amélie,\n\nÇa prend deux minutes.\n"
			m.HTML = "<p>Bonjour Amélie, ça prend deux minutes.</p>"
		}},
		{"reply-to", func(m *deliver.Message) {
			m.ReplyTo = &deliver.Address{Name: "Helpdesk", Email: "helpdesk@contoso.example"}
		}},
		{"bodies quoted-printable must survive", func(m *deliver.Message) {
			m.Text = "a=b =?utf-8?q?x?= trailing spaces   \n\ttab\n.\nFrom the start\n--nudge-\n" + strings.Repeat("long line ", 30) + "\nno newline at the end"
			m.HTML = "<td style=\"color:#0F6CBD\">" + strings.Repeat("x", 200) + "</td>\r\nCRLF already\n\n\n"
		}},
		{"empty bodies", func(m *deliver.Message) { m.Text, m.HTML = "", "" }},
		{"extra headers", func(m *deliver.Message) {
			m.Headers = []deliver.Header{{Name: "X-Nudge-Wave", Value: "announce"}, {Name: "X-Auto-Response-Suppress", Value: "OOF, AutoReply"}}
		}},
		{"attachments", func(m *deliver.Message) {
			m.Attachments = []deliver.Attachment{
				{Filename: "Passkey guide.pdf", ContentType: "application/pdf", Data: pdf},
				{Filename: `../../Q&A "session"` + "\r\nX: y.ics", ContentType: "text/calendar; method=PUBLISH", Data: []byte("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")},
				{Filename: "", Data: nil},
				{Filename: "Réunion été.txt", Data: []byte("é")},
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := message()
			tc.change(m)
			raw := render(t, m)
			checkLines(t, raw)
			p := parse(t, raw)

			wantKeys := []string{"Content-Type", "Date", "From", "Message-Id", "Mime-Version", "Subject", "To"}
			if m.ReplyTo != nil {
				wantKeys = append(wantKeys, "Reply-To")
			}
			for _, h := range m.Headers {
				wantKeys = append(wantKeys, h.Name)
			}
			sort.Strings(wantKeys)
			if diff := cmp.Diff(wantKeys, keys(p.Header)); diff != "" {
				t.Errorf("header fields (-want +got):\n%s", diff)
			}
			for k, v := range p.Header {
				if len(v) != 1 {
					t.Errorf("%d %s fields, want 1", len(v), k)
				}
			}

			date, err := p.Header.Date()
			if err != nil || !date.Equal(m.Date) {
				t.Errorf("Date = %v, %v; want %v", date, err, m.Date)
			}
			for _, a := range []struct {
				field string
				want  *deliver.Address
			}{{"From", &m.From}, {"To", &m.To}, {"Reply-To", m.ReplyTo}} {
				if a.want == nil {
					continue
				}
				got, err := mail.ParseAddress(p.Header.Get(a.field))
				if err != nil {
					t.Errorf("%s %q: %v", a.field, p.Header.Get(a.field), err)
					continue
				}
				if got.Name != a.want.Name || got.Address != a.want.Email {
					t.Errorf("%s = %q <%s>, want %q <%s>", a.field, got.Name, got.Address, a.want.Name, a.want.Email)
				}
			}
			if got, want := p.Header.Get("Message-Id"), "<"+m.ID+">"; got != want {
				t.Errorf("Message-ID = %q, want %q", got, want)
			}
			if p.Subject != m.Subject {
				t.Errorf("Subject = %q, want %q", p.Subject, m.Subject)
			}
			if got := p.Header.Get("Mime-Version"); got != "1.0" {
				t.Errorf("MIME-Version = %q, want 1.0", got)
			}
			for _, h := range m.Headers {
				if got := p.Header.Get(h.Name); got != h.Value {
					t.Errorf("%s = %q, want %q", h.Name, got, h.Value)
				}
			}

			want := []part{
				{ContentType: "text/plain", Charset: "utf-8", Encoding: "quoted-printable", Body: crlf(m.Text)},
				{ContentType: "text/html", Charset: "utf-8", Encoding: "quoted-printable", Body: crlf(m.HTML)},
			}
			for _, a := range m.Attachments {
				ct, _, _ := mime.ParseMediaType(a.ContentType)
				if ct == "" {
					ct = "application/octet-stream"
				}
				want = append(want, part{ContentType: ct, Encoding: "base64", Body: string(a.Data)})
			}
			got := make([]part, len(p.Parts))
			for i, pt := range p.Parts {
				got[i] = pt
				got[i].Filename = ""
				if pt.Encoding == "quoted-printable" {
					got[i].Body = crlf(pt.Body)
				}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("parts (-want +got):\n%s", diff)
			}
			if p.Mixed != (len(m.Attachments) > 0) {
				t.Errorf("multipart/mixed = %v with %d attachments", p.Mixed, len(m.Attachments))
			}
			for i, pt := range p.Parts[min(2, len(p.Parts)):] {
				checkFilename(t, m.Attachments[i].Filename, pt.Filename)
			}
		})
	}
}

// checkFilename checks that an attachment's name is safe to save as is:
// one plain ASCII file name, no path, nothing a mail client must decode.
func checkFilename(t *testing.T, in, got string) {
	t.Helper()
	if got == "" || got == "." || got == ".." {
		t.Errorf("attachment %q is named %q", in, got)
	}
	for _, r := range got {
		if r >= 0x80 || strings.ContainsRune(`/\"`, r) || unicode.IsControl(r) {
			t.Errorf("attachment %q is named %q: %q is not safe", in, got, r)
		}
	}
	if filepath.Base(got) != got {
		t.Errorf("attachment %q is named %q, a path", in, got)
	}
}

func TestAttachmentFilename(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"guide.pdf", "guide.pdf"},
		{"Passkey guide.pdf", "Passkey guide.pdf"},
		{"../../etc/passwd", ".._.._etc_passwd"},
		{`C:\Windows\evil.exe`, "C__Windows_evil.exe"},
		{"a\"b\r\nContent-Type: text/html", "a_b__Content-Type_ text_html"},
		{"Réunion.ics", "R_union.ics"},
		{"", "attachment"},
		{"..", "attachment"},
		{".", "attachment"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			m := message()
			m.Attachments = []deliver.Attachment{{Filename: tc.in, ContentType: "text/plain", Data: []byte("x")}}
			p := parse(t, render(t, m))
			if len(p.Parts) != 3 {
				t.Fatalf("%d parts, want 3", len(p.Parts))
			}
			if got := p.Parts[2].Filename; got != tc.want {
				t.Errorf("filename %q, want %q", got, tc.want)
			}
			checkFilename(t, tc.in, p.Parts[2].Filename)
		})
	}
}

type hostile struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
}

func hostileNames(t testing.TB) []hostile {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "testcorpus", "hostile-names.json"))
	if err != nil {
		t.Fatal(err)
	}
	var hs []hostile
	if err := json.Unmarshal(data, &hs); err != nil {
		t.Fatal(err)
	}
	if len(hs) == 0 {
		t.Fatal("no hostile names")
	}
	return append(hs,
		hostile{"encoded-word", "=?utf-8?q?Bcc:_x@evil.example?="},
		hostile{"c1-nel", "Ann\u0085Bcc: x@evil.example"},
		hostile{"cr-only", "Ann\rBcc: x@evil.example"},
		hostile{"crlf-blank-line", "Ann\r\n\r\n<h1>body</h1>"},
		hostile{"unicode-angle-addr", "Zoë <x@evil.example>"},
		hostile{"unicode-backslash", `Zoë \ Back\slash 💻`},
		hostile{"unicode-quotes-comma", `Zoë "Ned", x@evil.example`},
	)
}

// TestHostileNames puts each directory value from the corpus in the To
// display name and the subject: the header keeps its shape and the values
// come back as text.
func TestHostileNames(t *testing.T) {
	for _, h := range hostileNames(t) {
		t.Run(h.ID, func(t *testing.T) {
			m := message()
			m.To.Name = h.DisplayName
			m.Subject = h.DisplayName
			raw := render(t, m)
			checkLines(t, raw)
			for _, line := range headerBlock(t, raw) {
				if line == "" {
					t.Fatalf("blank line inside the header:\n%s", raw)
				}
				name, _, ok := strings.Cut(line, ":")
				if line[0] != ' ' && line[0] != '\t' && (!ok || strings.ContainsAny(name, " \t")) {
					t.Errorf("header line %q is neither a field nor a continuation", line)
				}
			}
			p := parse(t, raw)
			want := []string{"Content-Type", "Date", "From", "Message-Id", "Mime-Version", "Subject", "To"}
			if diff := cmp.Diff(want, keys(p.Header)); diff != "" {
				t.Errorf("header fields (-want +got):\n%s", diff)
			}
			if n := len(p.Header["To"]); n != 1 {
				t.Errorf("%d To fields", n)
			}
			if n := len(p.Header["Subject"]); n != 1 {
				t.Errorf("%d Subject fields", n)
			}
			to, err := mail.ParseAddress(p.Header.Get("To"))
			if err != nil {
				t.Fatalf("To %q: %v", p.Header.Get("To"), err)
			}
			if to.Address != m.To.Email {
				t.Errorf("To address = %q, want %q", to.Address, m.To.Email)
			}
			if want := oneLine(h.DisplayName); to.Name != want {
				t.Errorf("To name = %q, want %q", to.Name, want)
			}
			// Leading and trailing white space of an unstructured field
			// is not kept by readers (RFC 5322 §3.2.2: it is folding
			// white space), so it is not compared.
			if got, want := p.Subject, strings.TrimSpace(oneLine(h.DisplayName)); got != want {
				t.Errorf("Subject = %q, want %q", got, want)
			}
			if len(p.Parts) != 2 || crlf(p.Parts[0].Body) != crlf(m.Text) {
				t.Errorf("body changed: %+v", p.Parts)
			}
		})
	}
}

func TestLongSubjectFolding(t *testing.T) {
	for _, tc := range []struct {
		name    string
		subject string
	}{
		{"ascii words", strings.Repeat("Sign in without a password, it takes two minutes. ", 7)},
		{"ascii with double spaces", strings.Repeat("Passkeys  are  here ", 20)},
		{"ascii one long word", strings.Repeat("x", 1200)},
		{"ascii long words", strings.Repeat("https://intranet.contoso.example/passkeys/"+strings.Repeat("a", 90)+" ", 4)},
		{"ascii that looks encoded", strings.Repeat("=?utf-8?q?x?= ", 30)},
		{"latin accents", strings.Repeat("Connectez-vous sans mot de passe, ça prend deux minutes. ", 6)},
		{"cjk without spaces", strings.Repeat("パスワードなしでサインイン", 25)},
		{"emoji", strings.Repeat("🔑 👩‍💻 ", 60)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if len(tc.subject) < 300 {
				t.Fatalf("subject of %d octets, want 300+", len(tc.subject))
			}
			m := message()
			m.Subject = tc.subject
			// Entra ID keeps a displayName to 256 characters.
			m.To.Name = string([]rune(tc.subject)[:256])
			raw := render(t, m)
			checkLines(t, raw)
			var dec mime.WordDecoder
			got, err := dec.DecodeHeader(rawField(t, raw, "Subject"))
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.subject {
				t.Errorf("unfolded Subject =\n%q\nwant\n%q", got, tc.subject)
			}
			to, err := mail.ParseAddress(rawField(t, raw, "To"))
			if err != nil {
				t.Fatalf("unfolded To: %v", err)
			}
			if to.Name != m.To.Name {
				t.Errorf("unfolded To name =\n%q\nwant\n%q", to.Name, m.To.Name)
			}
		})
	}
}

func TestWriteToIsDeterministic(t *testing.T) {
	m := message()
	m.Attachments = []deliver.Attachment{{Filename: "guide.pdf", ContentType: "application/pdf", Data: []byte("%PDF")}}
	first, second := render(t, m), render(t, m)
	if !bytes.Equal(first, second) {
		t.Errorf("two renderings of one message differ:\n%s\n---\n%s", first, second)
	}

	boundary := func(raw []byte) string {
		msg, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		_, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
		if err != nil {
			t.Fatal(err)
		}
		return params["boundary"]
	}
	other := message()
	other.Attachments = m.Attachments
	other.ID = deliver.MessageID("contoso.example", "passkeys-2026", "announce", "id-2")
	if a, b := boundary(first), boundary(render(t, other)); a == b {
		t.Errorf("messages %s and %s share the boundary %s", m.ID, other.ID, a)
	}
}

// TestBodyHoldingTheBoundary checks that a body which happens to contain
// the boundary line (it is predictable: it comes from the Message-ID) does
// not end its part early.
func TestBodyHoldingTheBoundary(t *testing.T) {
	m := message()
	m.Attachments = []deliver.Attachment{{Filename: "a.txt", Data: []byte("a")}}
	msg, err := mail.ReadMessage(bytes.NewReader(render(t, m)))
	if err != nil {
		t.Fatal(err)
	}
	_, params, _ := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	b := params["boundary"]
	m.Text = "Hello\n--alt-" + b + "\nContent-Type: text/html\n\n<a href=https://evil.example>x</a>\n--" + b + "--\n"
	m.HTML = "<p>--" + b + "</p>\n--" + b + "\n"
	p := parse(t, render(t, m))
	if len(p.Parts) != 3 || crlf(p.Parts[0].Body) != crlf(m.Text) || crlf(p.Parts[1].Body) != crlf(m.HTML) || p.Parts[2].Body != "a" {
		t.Errorf("parts = %+v, want the text, the HTML and the attachment unchanged", p.Parts)
	}
}

func TestMessageID(t *testing.T) {
	id := deliver.MessageID("contoso.example", "passkeys-2026", "announce", "id-1")
	for _, tc := range []struct {
		name  string
		other string
		same  bool
	}{
		{"same parts", deliver.MessageID("contoso.example", "passkeys-2026", "announce", "id-1"), true},
		{"other person", deliver.MessageID("contoso.example", "passkeys-2026", "announce", "id-2"), false},
		{"other wave", deliver.MessageID("contoso.example", "passkeys-2026", "reminder", "id-1"), false},
		{"parts joined differently", deliver.MessageID("contoso.example", "passkeys-2026a", "nnounce", "id-1"), false},
		{"fewer parts", deliver.MessageID("contoso.example", "passkeys-2026", "announce"), false},
		{"other domain", deliver.MessageID("fabrikam.example", "passkeys-2026", "announce", "id-1"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.other == id; got != tc.same {
				t.Errorf("%q == %q is %v, want %v", tc.other, id, got, tc.same)
			}
		})
	}
	local, domain, ok := strings.Cut(id, "@")
	if !ok || domain != "contoso.example" || !strings.HasPrefix(local, "nudge.") {
		t.Errorf("MessageID = %q, want nudge.…@contoso.example", id)
	}
	if a, err := mail.ParseAddress("<" + id + ">"); err != nil || a.Address != id {
		t.Errorf("MessageID %q is not a valid msg-id: %v", id, err)
	}
	for _, tc := range []struct{ in, want string }{
		{"it-security@contoso.example", "contoso.example"},
		{`"a@b"@contoso.example`, "contoso.example"},
		{"no-domain", "localhost"},
	} {
		if got := deliver.Domain(tc.in); got != tc.want {
			t.Errorf("Domain(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestWriteToRejects(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(m *deliver.Message)
	}{
		{"not an address", func(m *deliver.Message) { m.To.Email = "not an address" }},
		{"header injection", func(m *deliver.Message) { m.To.Email = "a@b\r\nBcc: x@y" }},
		{"lf injection", func(m *deliver.Message) { m.To.Email = "a@b\nBcc: x@y" }},
		{"display name in the address", func(m *deliver.Message) { m.To.Email = "Ann <ann@contoso.example>" }},
		{"two addresses", func(m *deliver.Message) { m.To.Email = "ann@contoso.example, x@evil.example" }},
		{"white space", func(m *deliver.Message) { m.To.Email = " ann@contoso.example" }},
		{"no recipient", func(m *deliver.Message) { m.To.Email = "" }},
		{"no sender", func(m *deliver.Message) { m.From.Email = "" }},
		{"no ID", func(m *deliver.Message) { m.ID = "" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := message()
			tc.change(m)
			var b bytes.Buffer
			n, err := m.WriteTo(&b)
			if err == nil {
				t.Errorf("WriteTo: no error, wrote:\n%s", b.Bytes())
			}
			if n != 0 || b.Len() != 0 {
				t.Errorf("WriteTo = %d and %d bytes written, want nothing", n, b.Len())
			}
		})
	}
}

func BenchmarkWriteTo(b *testing.B) {
	m := benchMessage()
	b.ReportAllocs()
	b.SetBytes(int64(len(m.HTML) + len(m.Text)))
	for b.Loop() {
		if _, err := m.WriteTo(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDotStuff prepares an encoded message of about 15 KB for SMTP, as
// Encode does for every message.
func BenchmarkDotStuff(b *testing.B) {
	var enc bytes.Buffer
	if _, err := benchMessage().WriteTo(&enc); err != nil {
		b.Fatal(err)
	}
	dst := make([]byte, 0, 2*enc.Len())
	b.ReportAllocs()
	b.SetBytes(int64(enc.Len()))
	for b.Loop() {
		dst = deliver.DotStuff(dst[:0], enc.Bytes())
	}
}

// benchMessage is a message the size of nudge's emails: 12 KB of HTML and
// 2 KB of text, with non-ASCII in the headers and the body.
func benchMessage() *deliver.Message {
	m := message()
	m.Subject = "Amélie, sign in to Contoso without a password: add your passkey today"
	m.To.Name = "Amélie Garçon"
	m.ReplyTo = &deliver.Address{Email: "helpdesk@contoso.example"}
	m.Headers = []deliver.Header{{Name: "X-Nudge-Campaign", Value: "passkeys-2026"}, {Name: "X-Nudge-Wave", Value: "announce"}}
	var html strings.Builder
	html.WriteString("<!doctype html><html><body><table role=\"presentation\" style=\"width:100%\">\n")
	for html.Len() < 12<<10 {
		html.WriteString("<tr><td style=\"font-family:Segoe UI,Arial,sans-serif;font-size:16px;color:#242424\">Passkeys replace passwords — sign in with your face, fingerprint or PIN. <a href=\"https://aka.ms/mysecurityinfo\" style=\"color:#0F6CBD\">Add a passkey</a></td></tr>\n")
	}
	html.WriteString("</table></body></html>\n")
	var text strings.Builder
	for text.Len() < 2<<10 {
		text.WriteString("Passkeys replace passwords — sign in with your face, fingerprint or PIN.\nAdd a passkey: https://aka.ms/mysecurityinfo\n\n")
	}
	m.HTML, m.Text = html.String(), text.String()
	return m
}

// FuzzHeaders checks the header's shape for any display name and subject: a
// directory value never adds a field and always comes back as text.
func FuzzHeaders(f *testing.F) {
	for _, h := range hostileNames(f) {
		f.Add(h.DisplayName, h.DisplayName)
	}
	f.Fuzz(func(t *testing.T, name, subject string) {
		if !utf8.ValidString(name) || !utf8.ValidString(subject) || utf8.RuneCountInString(name) > 256 || len(subject) > 2000 {
			t.Skip("not a directory value")
		}
		m := message()
		m.To.Name, m.Subject = name, subject
		raw := render(t, m)
		checkLines(t, raw)
		p := parse(t, raw)
		want := []string{"Content-Type", "Date", "From", "Message-Id", "Mime-Version", "Subject", "To"}
		if diff := cmp.Diff(want, keys(p.Header)); diff != "" {
			t.Fatalf("header fields (-want +got):\n%s", diff)
		}
		var dec mime.WordDecoder
		got, err := dec.DecodeHeader(rawField(t, raw, "Subject"))
		if err != nil || got != oneLine(subject) {
			t.Errorf("Subject = %q, %v; want %q", got, err, oneLine(subject))
		}
		to, err := mail.ParseAddress(rawField(t, raw, "To"))
		if err != nil || to.Name != oneLine(name) || to.Address != m.To.Email {
			t.Errorf("To = %+v, %v; want %q <%s>", to, err, oneLine(name), m.To.Email)
		}
	})
}

// TestEncode: a message encoded ahead of its send writes the same bytes
// as one written on the spot.
func TestEncode(t *testing.T) {
	m := &deliver.Message{
		ID: "enc@contoso.example", Date: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC),
		From: deliver.Address{Name: "IT", Email: "it@contoso.example"}, To: deliver.Address{Name: "Zoë", Email: "zoe@contoso.example"},
		Subject: "Passkeys", Text: "Hello Zoë,\n.\nbye\n", HTML: "<p>Hello Zoë</p>",
	}
	var plain, ahead bytes.Buffer
	if _, err := m.WriteTo(&plain); err != nil {
		t.Fatal(err)
	}
	if err := m.Encode(); err != nil {
		t.Fatal(err)
	}
	n, err := m.WriteTo(&ahead)
	if err != nil || n != int64(ahead.Len()) {
		t.Fatalf("WriteTo after Encode: %d, %v", n, err)
	}
	if !bytes.Equal(plain.Bytes(), ahead.Bytes()) {
		t.Errorf("encoded ahead:\n%s\nwritten on the spot:\n%s", ahead.Bytes(), plain.Bytes())
	}
	bad := *m
	bad.To.Email = "not an address"
	if err := (&bad).Encode(); err == nil {
		t.Error("Encode of a message with a bad recipient succeeded")
	}
}

// dotWriter is what net/textproto's DotWriter writes for src, without its
// final ".\r\n".
func dotWriter(t testing.TB, src []byte) []byte {
	var b bytes.Buffer
	bw := bufio.NewWriter(&b)
	w := textproto.NewWriter(bw).DotWriter()
	if _, err := w.Write(src); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	out, ok := bytes.CutSuffix(b.Bytes(), []byte(".\r\n"))
	if !ok {
		t.Fatalf("DotWriter wrote %q, without the final dot line", b.Bytes())
	}
	return out
}

func TestDotStuff(t *testing.T) {
	for _, src := range []string{"", "a", ".", "..", "a\r\n", "a\n.b\r\n..c", "\r", "\r\r\n", "x\r.y\n\n.", ".\r\n.\r\n", "end\r"} {
		if got, want := deliver.DotStuff(nil, []byte(src)), dotWriter(t, []byte(src)); !bytes.Equal(got, want) {
			t.Errorf("DotStuff(%q) = %q, want %q", src, got, want)
		}
	}
}

func FuzzDotStuff(f *testing.F) {
	f.Add([]byte("Hello\r\n.\r\n..two\n.\r\rx"))
	f.Fuzz(func(t *testing.T, src []byte) {
		if got, want := deliver.DotStuff(nil, src), dotWriter(t, src); !bytes.Equal(got, want) {
			t.Errorf("DotStuff(%q) = %q, want %q", src, got, want)
		}
	})
}
