package storage

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// A folder of temp files that a library writes on its own (tusd's s3store
// buffers parts in files it names) belongs to its process the way the local
// backend's temp files do: parent/{owner}/ holds the files and
// parent/{owner}.owner, locked while the process lives, says whether it
// does. A process killed mid-write cannot remove its files; ReapOwnedDirs,
// run by any process's janitor, does.

const ownerSuffix = ".owner"

var (
	ownedMu    sync.Mutex
	ownedFiles []*os.File
)

// NewOwnedDir makes the folder parent/{owner}/ for this process's temp files
// and holds it until release is called (or the process ends). release
// removes the folder, with what is left in it, and its owner file.
func NewOwnedDir(parent, owner string) (dir string, release func() error, err error) {
	if owner == "" || strings.ContainsAny(owner, `/\.`) {
		return "", nil, fmt.Errorf("temp folder owner %q: not a name", owner)
	}
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return "", nil, fmt.Errorf("temp folder: %w", err)
	}
	// The owner file comes first: a folder without one has been reaped.
	f, err := os.OpenFile(filepath.Join(parent, owner+ownerSuffix), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", nil, fmt.Errorf("temp folder: %w", err)
	}
	if err := lockOwner(f); err != nil {
		f.Close()
		return "", nil, fmt.Errorf("temp folder: lock its owner file: %w", err)
	}
	// f stays open, and locked, until the process ends (were it collected,
	// its finalizer would close it and drop the lock).
	ownedMu.Lock()
	ownedFiles = append(ownedFiles, f)
	ownedMu.Unlock()
	dir = filepath.Join(parent, owner)
	if err := os.Mkdir(dir, 0o700); err != nil {
		return "", nil, fmt.Errorf("temp folder: %w", err)
	}
	release = sync.OnceValue(func() error {
		err := os.RemoveAll(dir)
		if rerr := os.Remove(f.Name()); rerr != nil && err == nil {
			err = rerr
		}
		ownedMu.Lock()
		ownedFiles = slices.DeleteFunc(ownedFiles, func(o *os.File) bool { return o == f })
		ownedMu.Unlock()
		f.Close()
		os.Remove(parent) // once no other process has a folder there
		if err != nil {
			return fmt.Errorf("remove temp folder: %w", err)
		}
		return nil
	})
	return dir, release, nil
}

// ReapOwnedDirs removes the folders under parent (made by NewOwnedDir) of
// processes that have ended, and returns how many it removed.
func ReapOwnedDirs(parent string) (int, error) {
	entries, err := os.ReadDir(parent)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	n := 0
	var errs []error
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(parent, e.Name())
		dead, done, err := reapOwner(dir + ownerSuffix)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			// Its owner was reaped, and the folder's removal cut short.
			dead, done = true, func(bool) {}
		case err != nil:
			errs = append(errs, err)
			continue
		}
		if !dead {
			continue
		}
		err = os.RemoveAll(dir)
		done(err == nil)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}
