// Package track writes the campaign's tracking workbook (xlsx) from the
// ledger: a Summary per wave and audience with conversion, every
// Recipient, Adoption over time, Errors, Readiness and Runs.
//
// The workbook never exists half-written: it is built in memory (the big
// sheets through excelize's stream writer, which spills to a temporary
// file beyond 16 MiB), zipped straight into a temporary file beside the
// target and renamed over it. Excel on Windows locks an open workbook, so the rename
// can fail while someone is looking at yesterday's figures; then the new
// workbook goes to a dated name beside it and Write reports ErrLocked.
package track

import (
	"archive/zip"
	"compress/flate"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/nudge-passkeys/nudge/internal/ledger"
	"github.com/nudge-passkeys/nudge/internal/readiness"
)

// ErrLocked means the workbook at the requested path could not be
// replaced because another program (Excel) has it open; Write wrote the
// new one under a fallback name and returns that path with this error.
var ErrLocked = errors.New("workbook is open in another program")

// Options are the workbook's inputs that are not in the ledger.
type Options struct {
	Campaign     string // the campaign's id (its folder name)
	CampaignName string // the campaign's display name
	// DataReadAt is when the directory data behind this run was read;
	// zero when unknown.
	DataReadAt time.Time
	// Now is the clock, injected so that output is stable in tests; zero
	// means time.Now(). Its location is the one every time in the
	// workbook is shown in (Excel dates have no time zone).
	Now time.Time
	// Breakdown, when set, adds a sheet of passkey adoption per group of
	// people (by department, office or manager) from the directory data.
	Breakdown *Breakdown
	// Readiness, when set, adds the Readiness sheet: Microsoft's criteria
	// for its own registration campaign, judged on the directory read
	// behind this workbook. Set it only when that read had the
	// authentication methods policy; without it every check is unknown.
	Readiness *readiness.Report
	// Sessions are the campaign's Q&A sessions, for the Invitations
	// sheet, which is written when there are sessions or the ledger has
	// calendar invitations.
	Sessions []Session
	// UPNs are the UPNs of invited people by id, from the directory
	// read: the ledger keeps none for invitations.
	UPNs map[string]string

	// rename replaces os.Rename in tests, to simulate a locked target.
	rename func(oldpath, newpath string) error
	// afterRow, when set, is called after each Recipients row is
	// written, so tests can cancel the context midway.
	afterRow func(n int)
}

// Breakdown is adoption per group, for leadership: how many people each
// department (office, manager) has, and how many of them have a passkey.
type Breakdown struct {
	By     string // "department", "location" or "manager": the sheet's title
	Groups []Group
}

// Group is one department, office or manager.
type Group struct {
	Name        string // a directory value: written as text
	People      int
	WithPasskey int
}

// Write writes the workbook to path atomically and returns the path it
// wrote: path itself, or, when path is open in Excel, a fallback such as
// "tracking (2026-11-25 1405).xlsx" beside it, together with an error
// wrapping ErrLocked. On any other error the previous workbook at path is
// left as it was and no temporary file remains.
func Write(ctx context.Context, l *ledger.Ledger, path string, o Options) (string, error) {
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if o.rename == nil {
		o.rename = os.Rename
	}
	b := newBuilder(o)
	defer b.close()
	if err := b.build(ctx, l); err != nil {
		return "", fmt.Errorf("track: %w", err)
	}
	return save(b, path, o)
}

// save is the temp file + rename. It does not use atomicfile, whose
// Commit deletes the temporary file when the rename fails: here the
// finished workbook is renamed to the fallback name instead, without
// building it a second time.
func save(b *builder, path string, o Options) (string, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return "", fmt.Errorf("track: %w", err)
	}
	// CreateTemp makes the file 0600, which the workbook keeps: like the
	// ledger, it lists every person's mail address.
	name := tmp.Name()
	if err := writeZip(b.f, tmp); err != nil {
		tmp.Close()
		os.Remove(name)
		return "", fmt.Errorf("track: writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(name)
		return "", fmt.Errorf("track: writing %s: %w", path, err)
	}
	err = o.rename(name, path)
	if err == nil {
		return path, nil
	}
	if !isLocked(err) {
		os.Remove(name)
		return "", fmt.Errorf("track: %w", err)
	}
	fb := fallbackPath(path, o.Now)
	if err2 := o.rename(name, fb); err2 != nil {
		os.Remove(name)
		return "", fmt.Errorf("track: %s: %w (%v), and writing %s instead failed: %w", path, ErrLocked, err, fb, err2)
	}
	return fb, fmt.Errorf("track: %s: %w, so the new workbook is %s; close %s in Excel to have it replaced next time",
		path, ErrLocked, fb, filepath.Base(path))
}

// writeZip writes the workbook to w as it is zipped. excelize's own
// WriteTo builds the whole zip in a growing buffer first, which for 300,000
// rows is twice the file's size in memory at the end of the run; so the
// zip writer excelize asks for is one on w, and the buffer excelize passes
// it stays empty, which is checked.
//
// Deflate runs at its fastest level: on the sheets' repetitive XML it
// takes a third of the default level's time for a file about a quarter
// larger, and compressing was a third of the whole write.
func writeZip(f *excelize.File, w io.Writer) error {
	f.SetZipWriter(func(io.Writer) excelize.ZipWriter {
		zw := zip.NewWriter(w)
		zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
			return flate.NewWriter(out, flate.BestSpeed)
		})
		return zw
	})
	n, err := f.WriteTo(io.Discard)
	if err == nil && n != 0 {
		err = fmt.Errorf("excelize wrote %d bytes around the zip writer", n)
	}
	return err
}

// fallbackPath is "tracking (2026-11-25 1405).xlsx" for ".../tracking.xlsx":
// to the minute, which sorts, and without ':' (not allowed on Windows).
func fallbackPath(path string, now time.Time) string {
	ext := filepath.Ext(path)
	return strings.TrimSuffix(path, ext) + " (" + now.Format("2006-01-02 1504") + ")" + ext
}
