package deliver

import (
	"bufio"
	"bytes"
	"io"
	"mime/quotedprintable"
	"strings"
	"testing"
)

func TestWriteQPRoundTrip(t *testing.T) {
	for name, in := range map[string]string{
		"empty":          "",
		"plain":          "Hello Ann,\nplease set up a passkey.\n",
		"crlf":           "a\r\nb\r\n",
		"equals":         "a=b == c",
		"utf8":           "Amélie Garçon 山田 太郎 Zoë 👩‍💻 مريم",
		"trailing space": "line with space \nand tab\t\nend ",
		"long":           strings.Repeat("0123456789", 30) + "\n" + strings.Repeat("é", 100),
		"long html":      `<td style="padding:0 24px;font-family:-apple-system,Segoe UI,sans-serif;color:#1b1b1b">` + strings.Repeat("x", 200),
		"control":        "a\x00b\x1bc\rd\x7f",
		"dots":           ".\n..\n.",
	} {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			w := bufio.NewWriter(&b)
			writeQP(w, in)
			w.Flush()
			for _, line := range strings.Split(b.String(), "\r\n") {
				if len(line) > 76 {
					t.Errorf("line of %d characters: %q", len(line), line)
				}
				if strings.HasSuffix(line, " ") || strings.HasSuffix(line, "\t") {
					t.Errorf("line ends in whitespace: %q", line)
				}
			}
			if strings.Contains(strings.ReplaceAll(b.String(), "\r\n", ""), "\n") {
				t.Error("bare LF in output")
			}
			got, err := io.ReadAll(quotedprintable.NewReader(&b))
			if err != nil {
				t.Fatal(err)
			}
			want := strings.ReplaceAll(strings.ReplaceAll(in, "\r\n", "\n"), "\n", "\r\n")
			if string(got) != want {
				t.Errorf("round trip:\n got %q\nwant %q", got, want)
			}
		})
	}
}
