package outbox_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/nudge-passkeys/nudge/internal/deliver"
	"github.com/nudge-passkeys/nudge/internal/deliver/outbox"
)

func message(to string) *deliver.Message {
	return &deliver.Message{
		ID:      deliver.MessageID("contoso.example", "passkeys-2026", "announce", to),
		Date:    time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC),
		From:    deliver.Address{Name: "Contoso IT Security", Email: "it-security@contoso.example"},
		To:      deliver.Address{Name: "Ann Smith", Email: to},
		Subject: "Sign in without a password",
		Text:    "Hello Ann,\n",
		HTML:    "<p>Hello Ann,</p>\n",
	}
}

// files lists the names in dir, temporary files included.
func files(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	o := &outbox.Outbox{Dir: dir}
	m := message("Ann.Smith@Contoso.Example")
	path, err := o.Write(m)
	if err != nil {
		t.Fatalf("Write: %v", err)
	}
	if want := filepath.Join(dir, "ann.smith@contoso.example.eml"); path != want {
		t.Errorf("Write = %q, want %q", path, want)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if _, err := m.WriteTo(&want); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Errorf("file holds\n%s\nwant\n%s", got, want.Bytes())
	}

	// Writing again replaces the file, and Send writes the same way.
	if err := o.Send(context.Background(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if _, err := o.Write(message("bob@contoso.example")); err != nil {
		t.Fatalf("Write: %v", err)
	}
	if diff := cmp.Diff([]string{"ann.smith@contoso.example.eml", "bob@contoso.example.eml"}, files(t, dir)); diff != "" {
		t.Errorf("outbox files (-want +got):\n%s", diff)
	}
}

func TestWriteFailsCleanly(t *testing.T) {
	for _, tc := range []struct {
		name string
		to   string
	}{
		{"not an address", "not an address"},
		{"header injection", "a@b\r\nBcc: x@y"},
		{"no recipient", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			o := &outbox.Outbox{Dir: dir}
			if _, err := o.Write(message(tc.to)); err == nil {
				t.Error("Write: no error")
			}
			if names := files(t, dir); len(names) != 0 {
				t.Errorf("outbox holds %q after a failed write, want nothing", names)
			}
		})
	}

	t.Run("an earlier file is kept", func(t *testing.T) {
		dir := t.TempDir()
		o := &outbox.Outbox{Dir: dir}
		path, err := o.Write(message("ann@contoso.example"))
		if err != nil {
			t.Fatal(err)
		}
		before, _ := os.ReadFile(path)
		bad := message("ann@contoso.example")
		bad.ID = "" // fails after the file name is chosen
		if _, err := o.Write(bad); err == nil {
			t.Fatal("Write: no error")
		}
		after, _ := os.ReadFile(path)
		if !bytes.Equal(before, after) {
			t.Error("a failed write changed the earlier file")
		}
		if diff := cmp.Diff([]string{"ann@contoso.example.eml"}, files(t, dir)); diff != "" {
			t.Errorf("outbox files (-want +got):\n%s", diff)
		}
	})

	t.Run("no folder", func(t *testing.T) {
		o := &outbox.Outbox{Dir: filepath.Join(t.TempDir(), "missing")}
		if _, err := o.Write(message("ann@contoso.example")); err == nil {
			t.Error("Write into a missing folder: no error")
		}
		if err := os.MkdirAll(o.Dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if _, err := o.Write(message("ann@contoso.example")); err != nil {
			t.Errorf("Write once the folder exists: %v", err)
		}
	})
}

// windowsReserved are the device names Windows will not use as a file's
// base name (the part before the first dot), whatever the extension.
var windowsReserved = []string{
	"con", "prn", "aux", "nul",
	"com0", "com1", "com2", "com3", "com4", "com5", "com6", "com7", "com8", "com9",
	"lpt0", "lpt1", "lpt2", "lpt3", "lpt4", "lpt5", "lpt6", "lpt7", "lpt8", "lpt9",
}

func TestFileName(t *testing.T) {
	for _, tc := range []struct{ name, addr, want string }{
		{"plain", "ann@contoso.example", "ann@contoso.example.eml"},
		{"upper case is lower-cased", "Ann.Smith@Contoso.EXAMPLE", "ann.smith@contoso.example.eml"},
		{"plus and dash kept", "ann+passkeys@contoso-uk.example", "ann+passkeys@contoso-uk.example.eml"},
		{"path traversal", "../../etc/passwd@x", "_.._etc_passwd@x.eml"},
		{"windows path", `..\..\Windows\win.ini@x`, "_.._windows_win.ini@x.eml"},
		{"absolute path", "/etc/passwd", "_etc_passwd.eml"},
		{"characters windows forbids", `a<b>c:d"e|f?g*h@x`, "a_b_c_d_e_f_g_h@x.eml"},
		{"control characters", "a\r\nb\x00@x", "a__b_@x.eml"},
		{"unicode replaced", "zoë@exämple.com", "zo_@ex_mple.com.eml"},
		{"unicode lookalike of a slash", "a∕b@x", "a_b@x.eml"},
		{"reserved name alone", "CON", "_con.eml"},
		{"reserved name before a dot", "nul.ops@contoso.example", "_nul.ops@contoso.example.eml"},
		{"reserved com9", "COM9.ops@contoso.example", "_com9.ops@contoso.example.eml"},
		{"reserved lpt5", "lpt5.printers@contoso.example", "_lpt5.printers@contoso.example.eml"},
		{"reserved after trimming dots", "aux.", "_aux.eml"},
		{"reserved name is only a prefix", "con@x", "con@x.eml"},
		{"console is not con", "console@contoso.example", "console@contoso.example.eml"},
		{"leading and trailing dots", "..ann@x..", "ann@x.eml"},
		{"empty", "", "_.eml"},
		{"only dots", "...", "_.eml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := outbox.FileName(tc.addr)
			// An address that had to be changed carries a hash of itself,
			// so that two addresses never share a file.
			base := hashSuffix.ReplaceAllString(got, ".eml")
			changed := strings.ToLower(tc.addr) != strings.TrimSuffix(tc.want, ".eml")
			if base != tc.want || changed != (base != got) {
				t.Errorf("FileName(%q) = %q, want %q (with a hash: %v)", tc.addr, got, tc.want, changed)
			}
			checkPortable(t, tc.addr, got)
		})
	}
}

var hashSuffix = regexp.MustCompile(`-[0-9a-f]{8}\.eml$`)

func TestFileNamesDoNotCollide(t *testing.T) {
	long := strings.Repeat("a", 300)
	for _, pair := range [][2]string{
		{"a/b@x", "a_b@x"},
		{"zoë@x", "zo_@x"},
		{"../x@y", "_.._x@y"},
		{long + "1@x", long + "2@x"},
	} {
		a, b := outbox.FileName(pair[0]), outbox.FileName(pair[1])
		if a == b {
			t.Errorf("FileName(%q) = FileName(%q) = %q", pair[0], pair[1], a)
		}
		for _, n := range []string{a, b} {
			if len(n) > 200 {
				t.Errorf("%q is %d bytes long", n, len(n))
			}
		}
	}
}

// checkPortable checks the rule FileName promises: one plain file name in
// the outbox folder, on any system.
func checkPortable(t *testing.T, addr, name string) {
	t.Helper()
	if strings.ContainsAny(name, `/\:*?"<>|`) || filepath.Base(name) != name {
		t.Errorf("FileName(%q) = %q: not a plain file name", addr, name)
	}
	for _, r := range name {
		if r < 0x20 || r >= 0x7f || r >= 'A' && r <= 'Z' {
			t.Errorf("FileName(%q) = %q: %q is not portable", addr, name, r)
		}
	}
	if !strings.HasSuffix(name, ".eml") || strings.HasPrefix(name, ".") {
		t.Errorf("FileName(%q) = %q: want a visible .eml file", addr, name)
	}
	base, _, _ := strings.Cut(name, ".")
	for _, r := range windowsReserved {
		if base == r {
			t.Errorf("FileName(%q) = %q: %s is a Windows device name", addr, name, r)
		}
	}
	if dir := "/outbox"; !strings.HasPrefix(filepath.Join(dir, name), dir+string(filepath.Separator)) {
		t.Errorf("FileName(%q) = %q leaves the outbox folder", addr, name)
	}
}

func TestFileNameReservedNames(t *testing.T) {
	for _, r := range windowsReserved {
		for _, addr := range []string{r, strings.ToUpper(r), r + ".x@contoso.example", r + ".tar.gz"} {
			checkPortable(t, addr, outbox.FileName(addr))
		}
	}
}

func FuzzFileName(f *testing.F) {
	for _, s := range []string{"ann@contoso.example", "../../etc/passwd@x", "con", "COM9.x", "", "...", "zoë@exämple.com"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, addr string) {
		checkPortable(t, addr, outbox.FileName(addr))
	})
}
