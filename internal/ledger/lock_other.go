//go:build !unix

package ledger

// processAlive cannot tell here: Windows reuses pids quickly and opening a
// process needs rights we may lack, so a lock is never taken over
// automatically and the ErrBusy message tells the user which file to
// delete.
func processAlive(pid int) bool { return true }

// canCheckProcess is whether processAlive can tell.
const canCheckProcess = false
