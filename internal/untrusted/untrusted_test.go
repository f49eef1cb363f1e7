package untrusted

import "testing"

func TestOneLine(t *testing.T) {
	for in, want := range map[string]string{
		"Ann":                        "Ann",
		"Ann\r\nBcc: x@evil.example": "Ann  Bcc: x@evil.example",
		"a\tb\x00c\u0085d":           "a b c d",
		"Zoë 👩‍💻":                    "Zoë 👩‍💻",
	} {
		if got := OneLine(in); got != want {
			t.Errorf("OneLine(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCell(t *testing.T) {
	for in, want := range map[string]string{
		`=HYPERLINK("https://evil.example","Open")`: `'=HYPERLINK("https://evil.example","Open")`,
		"+cmd|' /C calc'!A0":                        "'+cmd|' /C calc'!A0",
		"-2+3":                                      "'-2+3",
		"@SUM(1+1)":                                 "'@SUM(1+1)",
		"\t=1+1":                                    "'\t=1+1",
		"\r=1":                                      "'\r=1",
		"Ann Smith":                                 "Ann Smith",
		"":                                          "",
		"a=b":                                       "a=b",
	} {
		if got := Cell(in); got != want {
			t.Errorf("Cell(%q) = %q, want %q", in, got, want)
		}
	}
}
