// Package deliver holds the message nudge sends and the rules every way of
// sending obeys.
package deliver

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"github.com/nudge-passkeys/nudge/internal/untrusted"
	"io"
	"mime"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
)

// Address is a mailbox with an optional display name.
type Address struct {
	Name  string
	Email string
}

// String formats the address for a header, encoding the name when needed.
// Control characters in the name (a directory value) are folded to spaces
// first, so a name can never start a new header line.
func (a Address) String() string {
	name := untrusted.OneLine(a.Name)
	// net/mail Q-encodes a non-ASCII name leaving a backslash as it is,
	// which RFC 2047 §5 forbids in a phrase and its own parser rejects; B
	// encoding has no backslash.
	if strings.Contains(name, `\`) && strings.IndexFunc(name, func(r rune) bool { return r > unicode.MaxASCII }) >= 0 {
		return mime.BEncoding.Encode("utf-8", name) + " " + (&mail.Address{Address: a.Email}).String()
	}
	return (&mail.Address{Name: name, Address: a.Email}).String()
}

// Attachment is a file sent with a message.
type Attachment struct {
	Filename    string
	ContentType string
	Data        []byte
}

// Header is one extra header field.
type Header struct{ Name, Value string }

// Message is one email to one person, neutral of how it is sent.
type Message struct {
	// ID is the Message-ID without angle brackets. It is derived from the
	// campaign, wave and person, so a message has the same ID however
	// often it is rendered.
	ID      string
	Date    time.Time
	From    Address
	To      Address
	ReplyTo *Address
	Subject string
	Headers []Header
	Text    string
	HTML    string

	Attachments []Attachment

	// Calendar, when set, makes the message a meeting invitation: the
	// iTIP object is a third alternative after the text and the HTML
	// (text/calendar; method=…, which Outlook and Gmail show with
	// Accept/Decline) and is attached again as invite.ics for clients
	// that only offer attachments.
	Calendar *Calendar

	// encoded, when Encode has been called, is what WriteTo writes, and
	// smtpData the same as the data of an SMTP transaction.
	encoded, smtpData []byte
}

// Encode writes the message out once and keeps the bytes, which WriteTo
// then writes: call it where the message is rendered, off the sending
// goroutine, so that a send only copies bytes. The message must not be
// changed after.
func (m *Message) Encode() error {
	m.encoded, m.smtpData = nil, nil
	var b bytes.Buffer
	b.Grow(len(m.HTML) + len(m.Text) + 2048)
	if _, err := m.WriteTo(&b); err != nil {
		return err
	}
	m.encoded = b.Bytes()
	m.smtpData = DotStuff(make([]byte, 0, len(m.encoded)+len(m.encoded)/64+2), m.encoded)
	return nil
}

// SMTPData returns what Encode prepared for SMTP: the message as the data
// of a transaction, dot-stuffed and ending in CRLF, without the final
// "." line (see DotStuff). It is nil until Encode is called.
func (m *Message) SMTPData() []byte { return m.smtpData }

// DotStuff appends to dst the data of an SMTP transaction carrying src
// (RFC 5321 §4.5.2): a line that starts with "." gets a second one, a bare
// LF becomes CRLF, and the data ends in CRLF, ready for the final ".\r\n"
// that ends it. It writes exactly what net/textproto's DotWriter writes
// before that final line (FuzzDotStuff holds it to that), a line at a time
// instead of a byte at a time.
func DotStuff(dst, src []byte) []byte {
	if len(src) == 0 {
		return append(dst, '\r', '\n')
	}
	for len(src) > 0 {
		line, rest, _ := bytes.Cut(src, []byte{'\n'})
		if len(line) > 0 && line[0] == '.' {
			dst = append(dst, '.')
		}
		dst = append(dst, line...)
		// Every line ends in CRLF, the last one too whether or not it
		// ended in LF. A CR just before the end is the CR of that CRLF,
		// unless it is the second of a pair: DotWriter takes a CR after a
		// CR as data, and the line then gets a CR of its own.
		if !crPending(line) {
			dst = append(dst, '\r')
		}
		dst = append(dst, '\n')
		src = rest
	}
	return dst
}

// crPending reports whether DotWriter, at the end of line, has just seen a
// CR that may start a CRLF: line ends in an odd run of CRs.
func crPending(line []byte) bool {
	n := 0
	for n < len(line) && line[len(line)-1-n] == '\r' {
		n++
	}
	return n%2 == 1
}

// Calendar is an iTIP (RFC 5546) object carried by a message.
type Calendar struct {
	// Method is the object's METHOD: REQUEST, CANCEL or PUBLISH.
	Method string
	// Data is the whole VCALENDAR, CRLF line ends.
	Data []byte
}

// CalendarFilename is the name of the attached copy of the calendar.
const CalendarFilename = "invite.ics"

// MessageID returns a stable Message-ID (without angle brackets) for the
// given parts, at the sender's domain.
func MessageID(domain string, parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return "nudge." + hex.EncodeToString(h.Sum(nil)[:16]) + "@" + domain
}

// Domain returns the domain of an email address.
func Domain(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return addr[i+1:]
	}
	return "localhost"
}

// WriteTo writes the message in Internet Message Format (RFC 5322, MIME):
// multipart/alternative with the text and HTML in quoted-printable UTF-8,
// wrapped in multipart/mixed when there are attachments.
func (m *Message) WriteTo(w io.Writer) (int64, error) {
	if m.encoded != nil {
		n, err := w.Write(m.encoded)
		return int64(n), err
	}
	cw := &countWriter{w: w}
	bw := writers.Get().(*bufio.Writer)
	bw.Reset(cw)
	defer func() {
		bw.Reset(nil)
		writers.Put(bw)
	}()
	if err := m.write(bw); err != nil {
		return cw.n, err
	}
	err := bw.Flush()
	return cw.n, err
}

// writers are reused: a message is written often, and its buffer is the
// largest allocation of the write.
var writers = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 32<<10) }}

func (m *Message) write(w *bufio.Writer) error {
	if m.ID == "" || m.To.Email == "" || m.From.Email == "" {
		return fmt.Errorf("deliver: message needs an ID, a sender and a recipient")
	}
	if err := CheckAddress(m.To.Email); err != nil {
		return fmt.Errorf("deliver: recipient: %w", err)
	}
	if m.Calendar != nil && !methodPattern.MatchString(m.Calendar.Method) {
		return fmt.Errorf("deliver: calendar method %q: want REQUEST, CANCEL or PUBLISH", m.Calendar.Method)
	}
	mixed := len(m.Attachments) > 0 || m.Calendar != nil
	seed := sha256.Sum256([]byte(m.ID))
	boundary := "nudge-" + hex.EncodeToString(seed[:12])
	// The boundary must not occur in a body (RFC 2046 §5.1.1), and it is
	// predictable; should it occur, derive the next one, still
	// deterministically. Attachments are base64, which has no '-'.
	for strings.Contains(m.Text, boundary) || strings.Contains(m.HTML, boundary) {
		seed = sha256.Sum256(seed[:])
		boundary = "nudge-" + hex.EncodeToString(seed[:12])
	}

	header(w, "Date", m.Date.Format(time.RFC1123Z))
	header(w, "From", m.From.String())
	header(w, "To", m.To.String())
	if m.ReplyTo != nil {
		header(w, "Reply-To", m.ReplyTo.String())
	}
	header(w, "Message-ID", "<"+m.ID+">")
	header(w, "Subject", encodeWord(m.Subject))
	for _, h := range m.Headers {
		header(w, h.Name, encodeWord(h.Value))
	}
	header(w, "MIME-Version", "1.0")

	alt := "alt-" + boundary
	if mixed {
		header(w, "Content-Type", `multipart/mixed; boundary="`+boundary+`"`)
		w.WriteString("\r\n--" + boundary + "\r\n")
		header(w, "Content-Type", `multipart/alternative; boundary="`+alt+`"`)
		w.WriteString("\r\n")
	} else {
		header(w, "Content-Type", `multipart/alternative; boundary="`+alt+`"`)
		w.WriteString("\r\n")
	}
	for _, part := range []struct{ typ, body string }{
		{"text/plain; charset=utf-8", m.Text},
		{"text/html; charset=utf-8", m.HTML},
	} {
		w.WriteString("--" + alt + "\r\n")
		header(w, "Content-Type", part.typ)
		header(w, "Content-Transfer-Encoding", "quoted-printable")
		w.WriteString("\r\n")
		writeQP(w, part.body)
		w.WriteString("\r\n")
	}
	if m.Calendar != nil {
		w.WriteString("--" + alt + "\r\n")
		header(w, "Content-Type", "text/calendar; charset=UTF-8; method="+m.Calendar.Method)
		header(w, "Content-Transfer-Encoding", "base64")
		w.WriteString("\r\n")
		writeBase64(w, m.Calendar.Data)
	}
	w.WriteString("--" + alt + "--\r\n")
	if !mixed {
		return nil
	}
	attachments := m.Attachments
	if m.Calendar != nil {
		// application/ics, not text/calendar: a second text/calendar part
		// makes some clients show two invitations.
		attachments = append(slices.Clip(attachments), Attachment{Filename: CalendarFilename, ContentType: "application/ics", Data: m.Calendar.Data})
	}
	for _, a := range attachments {
		w.WriteString("\r\n--" + boundary + "\r\n")
		ct := a.ContentType
		if ct == "" {
			ct = "application/octet-stream"
		}
		name := safeFilename(a.Filename)
		header(w, "Content-Type", ct+`; name="`+name+`"`)
		header(w, "Content-Disposition", `attachment; filename="`+name+`"`)
		header(w, "Content-Transfer-Encoding", "base64")
		w.WriteString("\r\n")
		writeBase64(w, a.Data)
	}
	w.WriteString("--" + boundary + "--\r\n")
	return nil
}

// methodPattern is what an iTIP method may look like in a header
// parameter.
var methodPattern = regexp.MustCompile(`^(REQUEST|CANCEL|PUBLISH)$`)

// writeBase64 writes data in base64, 76 characters a line.
func writeBase64(w *bufio.Writer, data []byte) {
	enc := base64.StdEncoding.EncodeToString(data)
	for len(enc) > 76 {
		w.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	w.WriteString(enc + "\r\n")
}

// CheckAddress returns an error unless s is exactly one plain address
// (no display name, no angle brackets, nothing around it): the only form
// nudge puts in an envelope or a header from configuration or the
// directory.
func CheckAddress(s string) error {
	if plainAddress(s) {
		return nil // the common case, without a parser's allocations
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return fmt.Errorf("%q is not a valid email address", s)
	}
	return nil
}

// plainAddress reports whether s is local@domain with a dot-atom local
// part of letters, digits and RFC 5322's other atext characters, and a
// domain of letter-digit-hyphen labels: a subset of what mail.ParseAddress
// accepts unchanged, which is almost every directory's mail attribute.
func plainAddress(s string) bool {
	at := strings.IndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return false
	}
	local, domain := s[:at], s[at+1:]
	if local[0] == '.' || local[len(local)-1] == '.' || strings.Contains(local, "..") {
		return false
	}
	for i := 0; i < len(local); i++ {
		c := local[i]
		if !isAlnum(c) && c != '.' && strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) < 0 {
			return false
		}
	}
	for label := range strings.SplitSeq(domain, ".") {
		if label == "" || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			if !isAlnum(label[i]) && label[i] != '-' {
				return false
			}
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// safeFilename keeps a file name to characters that need no encoding in a
// MIME parameter.
func safeFilename(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("._- ", r)) {
			return r
		}
		return '_'
	}, s)
	if strings.Trim(s, ".") == "" { // "", "." and ".." name no file
		return "attachment"
	}
	return s
}

// encodeWord makes a header value safe: one line, RFC 2047 encoded when it
// is not plain ASCII or could be mistaken for an encoded word.
func encodeWord(s string) string {
	s = untrusted.OneLine(s)
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return mime.QEncoding.Encode("utf-8", s)
		}
	}
	// mime.QEncoding leaves printable ASCII as it is, even "=?…?=" or a
	// word too long to fold (RFC 5322 §2.1.1: 998 octets at most), so
	// those are encoded here.
	if strings.Contains(s, "=?") || hasLongWord(s) {
		return qEncodeASCII(s)
	}
	return s
}

// hasLongWord reports whether s has a word that cannot fit on a folded
// header line of 78 characters.
func hasLongWord(s string) bool {
	for w := range strings.SplitSeq(s, " ") {
		if len(w) > 77 {
			return true
		}
	}
	return false
}

// qEncodeASCII encodes s, all ASCII, as RFC 2047 Q encoded words of at most
// 75 characters, separated by spaces so that header can fold between them.
func qEncodeASCII(s string) string {
	const open, end = "=?utf-8?q?", "?="
	const room = 75 - len(open) - len(end)
	var b strings.Builder
	b.WriteString(open)
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		enc := string(c)
		switch {
		case c == ' ':
			enc = "_"
		case !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.'):
			enc = fmt.Sprintf("=%02X", c)
		}
		if n+len(enc) > room {
			b.WriteString(end + " " + open)
			n = 0
		}
		b.WriteString(enc)
		n += len(enc)
	}
	b.WriteString(end)
	return b.String()
}

// header writes one header field, folded at spaces to keep lines under 78
// characters where possible (RFC 5322 §2.2.3).
func header(w *bufio.Writer, name, value string) {
	w.WriteString(name)
	w.WriteString(":")
	col := len(name) + 1
	for i, word := range strings.Split(value, " ") {
		if i > 0 && col+1+len(word) > 76 {
			w.WriteString("\r\n")
			col = 0
		}
		w.WriteByte(' ')
		w.WriteString(word)
		col += 1 + len(word)
	}
	w.WriteString("\r\n")
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
