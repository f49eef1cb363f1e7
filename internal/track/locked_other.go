//go:build !windows

package track

import (
	"errors"
	"io/fs"
)

// isLocked reports whether a rename failed because the target is in use.
// Only Windows locks open files; elsewhere a permission error is the
// nearest thing (and what tests simulate).
func isLocked(err error) bool {
	return errors.Is(err, fs.ErrPermission)
}
