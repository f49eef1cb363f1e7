//go:build !unix && !windows

package ledger

// processAlive cannot tell on this system (neither Unix nor Windows): a
// lock is never taken over automatically, and the ErrBusy message tells
// the user which file to delete.
func processAlive(pid int) bool { return true }

// canCheckProcess is whether processAlive can tell.
const canCheckProcess = false
