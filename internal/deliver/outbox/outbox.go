// Package outbox "sends" messages by writing them as .eml files: the dry
// run, and what a change manager opens in a mail client to see exactly what
// would go out.
package outbox

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/nudge-passkeys/nudge/internal/atomicfile"
	"github.com/nudge-passkeys/nudge/internal/deliver"
)

// Outbox writes each message to Dir/<recipient>.eml.
type Outbox struct {
	Dir string
	// InPlace writes each file directly instead of through a temporary
	// file; for a staging folder that nobody reads until it is complete.
	InPlace bool
}

var _ deliver.Sender = (*Outbox)(nil)

// Send writes m atomically and returns the file's path.
func (o *Outbox) Send(ctx context.Context, m *deliver.Message) error {
	_, err := o.Write(m)
	return err
}

// Write writes m and returns the path of its file.
func (o *Outbox) Write(m *deliver.Message) (string, error) {
	p := filepath.Join(o.Dir, FileName(m.To.Email))
	write := func(w io.Writer) error {
		_, err := m.WriteTo(w)
		return err
	}
	if !o.InPlace {
		return p, atomicfile.Write(p, 0o644, write)
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return p, err
	}
	if err := write(f); err != nil {
		f.Close()
		os.Remove(p)
		return p, err
	}
	return p, f.Close()
}

// FileName turns an address into a portable file name: letters, digits and
// ._@-+ are kept, anything else (path separators, characters Windows
// forbids) becomes _, and a name Windows reserves gets a prefix. When the
// address had to be changed or shortened, a hash of it is added, so that
// two addresses never share a file.
func FileName(addr string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(addr) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '.', r == '_', r == '@', r == '-', r == '+':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	name := strings.Trim(b.String(), ".")
	if name == "" {
		name = "_"
	}
	base, _, _ := strings.Cut(name, ".")
	switch base {
	case "con", "prn", "aux", "nul",
		"com0", "com1", "com2", "com3", "com4", "com5", "com6", "com7", "com8", "com9",
		"lpt0", "lpt1", "lpt2", "lpt3", "lpt4", "lpt5", "lpt6", "lpt7", "lpt8", "lpt9":
		name = "_" + name
	}
	if name != strings.ToLower(addr) || len(name) > maxName {
		sum := sha256.Sum256([]byte(addr))
		name = name[:min(len(name), maxName)] + "-" + hex.EncodeToString(sum[:4])
	}
	return name + ".eml"
}

// maxName keeps file names well under the 255-byte limit of most file
// systems.
const maxName = 180
