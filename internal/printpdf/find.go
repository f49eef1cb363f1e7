package printpdf

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
)

// ErrNotFound means no Chromium, Chrome or Edge was found on the machine.
var ErrNotFound = errors.New("printpdf: no Chromium, Chrome or Edge found")

// finder holds what Find looks at, so that tests can stand in for a
// machine.
type finder struct {
	goos     string
	lookPath func(string) (string, error)
	stat     func(string) (os.FileInfo, error)
	getenv   func(string) string
}

var host = finder{goos: runtime.GOOS, lookPath: exec.LookPath, stat: os.Stat, getenv: os.Getenv}

// Find returns the browser to print with: explicit when it is not empty
// (it must exist), else the first Chromium, Chrome or Edge on PATH or in
// the usual install locations of the operating system.
func Find(explicit string) (string, error) { return host.find(explicit) }

func (f finder) find(explicit string) (string, error) {
	if explicit != "" {
		st, err := f.stat(explicit)
		if err != nil {
			// A bare name such as "chromium" is looked up on PATH.
			if p, lerr := f.lookPath(explicit); lerr == nil {
				return p, nil
			}
			return "", fmt.Errorf("printpdf: browser %s: %w", explicit, err)
		}
		if st.IsDir() {
			return "", fmt.Errorf("printpdf: browser %s is a folder: give the program itself (on macOS, …/Contents/MacOS/<name> inside the .app)", explicit)
		}
		return explicit, nil
	}
	for _, name := range f.names() {
		if p, err := f.lookPath(name); err == nil {
			return p, nil
		}
	}
	for _, p := range f.locations() {
		if st, err := f.stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	return "", ErrNotFound
}

// names are the program names looked up on PATH, most specific first.
func (f finder) names() []string {
	if f.goos == "windows" {
		return []string{"chrome.exe", "msedge.exe", "chromium.exe"}
	}
	return []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome", "microsoft-edge", "microsoft-edge-stable", "msedge"}
}

// locations are where installers put the browsers.
func (f finder) locations() []string {
	switch f.goos {
	case "darwin":
		var out []string
		apps := []string{
			"Google Chrome.app/Contents/MacOS/Google Chrome",
			"Chromium.app/Contents/MacOS/Chromium",
			"Microsoft Edge.app/Contents/MacOS/Microsoft Edge",
			"Google Chrome Canary.app/Contents/MacOS/Google Chrome Canary",
		}
		for _, root := range []string{"/Applications", filepath.Join(f.getenv("HOME"), "Applications")} {
			for _, a := range apps {
				out = append(out, filepath.Join(root, a))
			}
		}
		return out
	case "windows":
		var out []string
		for _, env := range []string{"ProgramFiles", "ProgramFiles(x86)", "LocalAppData"} {
			root := f.getenv(env)
			if root == "" {
				continue
			}
			out = append(out,
				filepath.Join(root, `Google\Chrome\Application\chrome.exe`),
				filepath.Join(root, `Microsoft\Edge\Application\msedge.exe`),
				filepath.Join(root, `Chromium\Application\chrome.exe`),
			)
		}
		return out
	default:
		return []string{
			"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/lib/chromium/chromium",
			"/snap/bin/chromium", "/var/lib/flatpak/exports/bin/org.chromium.Chromium",
			"/usr/bin/google-chrome", "/usr/bin/google-chrome-stable", "/opt/google/chrome/chrome",
			"/usr/bin/microsoft-edge", "/usr/bin/microsoft-edge-stable", "/opt/microsoft/msedge/msedge",
		}
	}
}

// InstallHint says how to get a browser nudge can print with on this
// operating system.
func InstallHint() string { return host.installHint() }

func (f finder) installHint() string {
	switch f.goos {
	case "darwin":
		return "install Google Chrome or Microsoft Edge (or `brew install --cask chromium`), or pass --browser PATH"
	case "windows":
		return "Microsoft Edge ships with Windows; if it was removed, install Edge or Google Chrome, or pass --browser PATH to chrome.exe or msedge.exe"
	default:
		return "install Chromium (Debian/Ubuntu: sudo apt-get install chromium; Fedora: sudo dnf install chromium), Google Chrome or Microsoft Edge, or pass --browser PATH"
	}
}
