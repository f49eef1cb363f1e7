package deliver

import "bufio"

// writeQP writes s in quoted-printable (RFC 2045 §6.7) as a text body: line
// breaks become CRLF, lines are soft-broken to at most 76 characters, and
// '=', control characters, bytes above 126, and spaces or tabs before a
// line break are encoded. It does what mime/quotedprintable's writer does
// for text, several times faster, by copying runs of plain characters at
// once: every message body passes through it.
func writeQP(w *bufio.Writer, s string) {
	const maxLine = 76 - 1 // room for the '=' of a soft line break
	col := 0
	for i := 0; i < len(s); {
		// A run of characters that need no encoding, up to the end of the
		// line's room.
		j, limit := i, i+maxLine-col
		for j < len(s) && j < limit && (qpPlain[s[j]] || (s[j] == ' ' && spaceStays(s, j))) {
			j++
		}
		if j > i {
			w.WriteString(s[i:j])
			col += j - i
			i = j
			if col >= maxLine && i < len(s) && s[i] != '\n' && !(s[i] == '\r' && i+1 < len(s) && s[i+1] == '\n') {
				w.WriteString("=\r\n")
				col = 0
			}
			continue
		}
		c := s[i]
		switch {
		case c == '\n':
			w.WriteString("\r\n")
			col = 0
			i++
			continue
		case c == '\r' && i+1 < len(s) && s[i+1] == '\n':
			i++ // the \n writes the line break
			continue
		}
		if col+3 > maxLine {
			w.WriteString("=\r\n")
			col = 0
		}
		w.WriteString(qpEscaped[c])
		col += 3
		i++
	}
}

// spaceStays reports whether the space at s[i] can be written as it is:
// not at the end of the text or of a line, where transport would lose it.
func spaceStays(s string, i int) bool {
	next := i + 1
	return next < len(s) && s[next] != '\n' && s[next] != '\r'
}

// qpPlain marks the bytes quoted-printable writes as they are (space is
// decided by position).
var qpPlain = func() (t [256]bool) {
	for c := '!'; c <= '~'; c++ {
		t[c] = c != '='
	}
	return t
}()

// qpEscaped holds "=XX" for every byte.
var qpEscaped = func() (t [256]string) {
	const hex = "0123456789ABCDEF"
	for c := range t {
		t[c] = string([]byte{'=', hex[c>>4], hex[c&0x0f]})
	}
	return t
}()
