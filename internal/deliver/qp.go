package deliver

import "bufio"

// writeQP writes s in quoted-printable (RFC 2045 §6.7) as a text body: line
// breaks become CRLF, lines are soft-broken to at most 76 characters, and
// '=', control characters, bytes above 126, and spaces or tabs before a
// line break are encoded. It does what mime/quotedprintable's writer does
// for text, several times faster, since every message body passes through
// it.
func writeQP(w *bufio.Writer, s string) {
	const maxLine = 76
	col := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\n' {
			w.WriteString("\r\n")
			col = 0
			continue
		}
		if c == '\r' && i+1 < len(s) && s[i+1] == '\n' {
			continue // the \n writes the line break
		}
		literal := c >= ' ' && c <= '~' && c != '='
		if c == ' ' || c == '\t' {
			// Whitespace before a line break or at the end would be lost
			// in transport.
			next := i + 1
			if next < len(s) && s[next] == '\r' && next+1 < len(s) && s[next+1] == '\n' {
				next++
			}
			literal = next < len(s) && s[next] != '\n'
		}
		width := 1
		if !literal {
			width = 3
		}
		// Leave room for the '=' of a soft line break.
		if col+width > maxLine-1 {
			w.WriteString("=\r\n")
			col = 0
		}
		if literal {
			w.WriteByte(c)
		} else {
			w.WriteByte('=')
			w.WriteByte(hexUpper[c>>4])
			w.WriteByte(hexUpper[c&0x0f])
		}
		col += width
	}
}

const hexUpper = "0123456789ABCDEF"
