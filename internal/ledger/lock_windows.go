//go:build windows

package ledger

import (
	"errors"

	"golang.org/x/sys/windows"
)

// processAlive reports whether a process with this pid is running. Windows
// answers ERROR_INVALID_PARAMETER for a pid no process has; any other
// failure (access denied, say) counts as alive, the safe side. A pid that a
// new, unrelated process took over also looks alive, and the ErrBusy
// message then tells the user which file to delete.
func processAlive(pid int) bool {
	h, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION, false, uint32(pid))
	if err != nil {
		return !errors.Is(err, windows.ERROR_INVALID_PARAMETER)
	}
	defer windows.CloseHandle(h)
	var code uint32
	if err := windows.GetExitCodeProcess(h, &code); err != nil {
		return true
	}
	// A process that has exited but whose handle someone still holds
	// reports its exit code; a running one, STILL_ACTIVE.
	const stillActive = 259
	return code == stillActive
}

// canCheckProcess is whether processAlive can tell.
const canCheckProcess = true
