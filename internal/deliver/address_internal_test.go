package deliver

import (
	"encoding/json"
	"net/mail"
	"os"
	"path/filepath"
	"testing"
)

// TestPlainAddressIsParseable holds the fast path of CheckAddress to the
// parser it skips: whatever plainAddress accepts, mail.ParseAddress must
// accept as exactly that address, with no display name.
func TestPlainAddressIsParseable(t *testing.T) {
	inputs := []string{
		"ann@contoso.example", "Ann.Lee@contoso.example", "a+b@x.y", "o'brien@contoso.example", "x@localhost",
		"a..b@x.y", ".a@x.y", "a.@x.y", "a@", "@x.y", "a@x..y", "a@-x.y", "a@x-.y", "a b@x.y", "a@b@c",
		"\"quoted\"@x.y", "ann@contoso.example\r\nBcc: eve@evil.example", "Ann <ann@contoso.example>",
		"ann@contoso.example>", "ann@[127.0.0.1]", "ännä@contoso.example", "a@xn--bcher-kva.example",
		"{}|~^`!#$%&*=?/-_@x.y",
	}
	f, err := os.ReadFile(filepath.Join("..", "testcorpus", "hostile-names.json"))
	if err != nil {
		t.Fatal(err)
	}
	var corpus []struct{ DisplayName string }
	if err := json.Unmarshal(f, &corpus); err != nil {
		t.Fatal(err)
	}
	for _, c := range corpus {
		inputs = append(inputs, c.DisplayName, c.DisplayName+"@contoso.example", "ann@"+c.DisplayName)
	}
	for _, s := range inputs {
		if !plainAddress(s) {
			continue
		}
		a, err := mail.ParseAddress(s)
		if err != nil || a.Name != "" || a.Address != s {
			t.Errorf("plainAddress accepts %q, which mail.ParseAddress reads as %+v, %v", s, a, err)
		}
	}
	for _, s := range []string{"ann@contoso.example", "a+b@x.y", "x@localhost"} {
		if !plainAddress(s) {
			t.Errorf("plainAddress(%q) = false: the fast path misses a plain address", s)
		}
	}
}

func FuzzPlainAddress(f *testing.F) {
	for _, s := range []string{"ann@contoso.example", "a..b@x.y", "a@x-.y", "\"q\"@x.y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !plainAddress(s) {
			return
		}
		if a, err := mail.ParseAddress(s); err != nil || a.Name != "" || a.Address != s {
			t.Errorf("plainAddress accepts %q, which mail.ParseAddress reads as %+v, %v", s, a, err)
		}
	})
}
