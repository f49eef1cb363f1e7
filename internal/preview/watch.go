package preview

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

// watcher calls changed once the watched files have been quiet for the
// debounce interval after a change. fsnotify watches folders, not trees,
// and editors often save by writing a new file and renaming it over the
// old one, so files are watched through their folder and folders with
// every subfolder, including ones created later.
type watcher struct {
	w        *fsnotify.Watcher
	files    map[string]bool // watched files, by clean path
	trees    []string        // watched folders, by clean path
	debounce time.Duration
	changed  func()
	log      *slog.Logger
}

func newWatcher(paths []string, debounce time.Duration, changed func(), log *slog.Logger) (*watcher, error) {
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("preview: watching files: %w", err)
	}
	w := &watcher{w: fw, files: map[string]bool{}, debounce: debounce, changed: changed, log: log}
	for _, p := range paths {
		p = filepath.Clean(p)
		st, err := os.Stat(p)
		if err != nil {
			fw.Close()
			return nil, fmt.Errorf("preview: watching %s: %w", p, err)
		}
		if st.IsDir() {
			w.trees = append(w.trees, p)
			if err := w.addTree(p); err != nil {
				fw.Close()
				return nil, err
			}
			continue
		}
		w.files[p] = true
		if err := fw.Add(filepath.Dir(p)); err != nil {
			fw.Close()
			return nil, fmt.Errorf("preview: watching %s: %w", p, err)
		}
	}
	return w, nil
}

func (w *watcher) addTree(root string) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if err := w.w.Add(p); err != nil {
				return fmt.Errorf("preview: watching %s: %w", p, err)
			}
		}
		return nil
	})
}

// relevant reports whether an event concerns a watched file or tree.
func (w *watcher) relevant(name string) bool {
	name = filepath.Clean(name)
	if w.files[name] {
		return true
	}
	for _, t := range w.trees {
		if rel, err := filepath.Rel(t, name); err == nil && filepath.IsLocal(rel) {
			return true
		}
	}
	return false
}

func (w *watcher) run(ctx context.Context) error {
	defer w.w.Close()
	var timer *time.Timer
	var fire <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.w.Events:
			if !ok {
				return nil
			}
			if !w.relevant(ev.Name) {
				continue
			}
			if ev.Has(fsnotify.Create) {
				if st, err := os.Stat(ev.Name); err == nil && st.IsDir() {
					if err := w.addTree(ev.Name); err != nil {
						w.log.Warn("preview: cannot watch new folder", "err", err)
					}
				}
			}
			if timer == nil {
				timer = time.NewTimer(w.debounce)
			} else {
				timer.Reset(w.debounce)
			}
			fire = timer.C
		case <-fire:
			fire = nil
			w.changed()
		case err, ok := <-w.w.Errors:
			if !ok {
				return nil
			}
			// A dropped event (queue overflow) is not fatal: reload, so
			// the page cannot show something stale.
			w.log.Warn("preview: file watcher", "err", err)
			w.changed()
		}
	}
}
