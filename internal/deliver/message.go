// Package deliver holds the message nudge sends and the rules every way of
// sending obeys.
package deliver

import (
	"bufio"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"strings"
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
	return (&mail.Address{Name: oneLine(a.Name), Address: a.Email}).String()
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
}

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
	cw := &countWriter{w: w}
	bw := bufio.NewWriterSize(cw, 32<<10)
	if err := m.write(bw); err != nil {
		return cw.n, err
	}
	err := bw.Flush()
	return cw.n, err
}

func (m *Message) write(w *bufio.Writer) error {
	if m.ID == "" || m.To.Email == "" || m.From.Email == "" {
		return fmt.Errorf("deliver: message needs an ID, a sender and a recipient")
	}
	if err := checkAddr(m.To.Email); err != nil {
		return fmt.Errorf("deliver: recipient: %w", err)
	}
	seed := sha256.Sum256([]byte(m.ID))
	boundary := "nudge-" + hex.EncodeToString(seed[:12])

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
	if len(m.Attachments) > 0 {
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
		qp := quotedprintable.NewWriter(w)
		if _, err := io.WriteString(qp, part.body); err != nil {
			return err
		}
		if err := qp.Close(); err != nil {
			return err
		}
		w.WriteString("\r\n")
	}
	w.WriteString("--" + alt + "--\r\n")
	if len(m.Attachments) == 0 {
		return nil
	}
	for _, a := range m.Attachments {
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
		enc := base64.StdEncoding.EncodeToString(a.Data)
		for len(enc) > 76 {
			w.WriteString(enc[:76] + "\r\n")
			enc = enc[76:]
		}
		w.WriteString(enc + "\r\n")
	}
	w.WriteString("--" + boundary + "--\r\n")
	return nil
}

func checkAddr(s string) error {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s {
		return fmt.Errorf("%q is not a valid email address", s)
	}
	return nil
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
	if s == "" {
		return "attachment"
	}
	return s
}

// encodeWord makes a header value safe: one line, RFC 2047 encoded when it
// is not plain ASCII or could be mistaken for an encoded word.
func encodeWord(s string) string {
	s = oneLine(s)
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return mime.QEncoding.Encode("utf-8", s)
		}
	}
	if strings.Contains(s, "=?") {
		return mime.QEncoding.Encode("utf-8", s)
	}
	return s
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

// oneLine folds control characters to spaces.
func oneLine(s string) string {
	if strings.IndexFunc(s, unicode.IsControl) < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
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
