// Package untrusted makes directory values safe for the plain-text places
// they end up in: one-line header values and spreadsheet cells. (Markup
// formats escape in their own packages, where the format is known.)
package untrusted

import (
	"strings"
	"unicode"
)

// OneLine folds control characters (CR, LF, tab, …) to spaces, so that a
// value can never start a new line in a header or a log.
func OneLine(s string) string {
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

// Cell keeps a value from being run as a spreadsheet formula: one starting
// with = + - @ tab or CR gets a leading apostrophe, which spreadsheets show
// as text (OWASP's advice against CSV injection).
func Cell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}
