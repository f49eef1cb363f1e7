//go:build windows

package track

import (
	"errors"
	"io/fs"
	"syscall"
)

// Windows error codes that MoveFileEx returns when the target is open in
// another program; the syscall package does not name them.
const (
	errorSharingViolation = syscall.Errno(32)
	errorLockViolation    = syscall.Errno(33)
)

// isLocked reports whether a rename failed because the target is in use:
// Excel holds an open workbook with a sharing mode that makes replacing
// it fail with ERROR_ACCESS_DENIED (fs.ErrPermission) or a sharing
// violation.
func isLocked(err error) bool {
	return errors.Is(err, fs.ErrPermission) ||
		errors.Is(err, errorSharingViolation) || errors.Is(err, errorLockViolation)
}
