//go:build windows

package storage

import (
	"errors"
	"os"
	"syscall"
)

// lockOwner has nothing to do on Windows: Go opens files without
// FILE_SHARE_DELETE, so the owner file cannot be removed while its process
// holds it open, which is the sign reapOwner looks for.
func lockOwner(*os.File) error { return nil }

// reapOwner reports whether the process that made the owner file at path has
// ended: only then can the file be removed.
func reapOwner(path string) (dead bool, done func(remove bool), err error) {
	if err := os.Remove(path); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return false, nil, err
		}
		return false, nil, nil // held open: its owner is alive
	}
	return true, func(bool) {}, nil
}

const (
	errorHandleDiskFull syscall.Errno = 39
	errorDiskFull       syscall.Errno = 112
)

// noSpace reports whether err says the disk or the user's quota is full.
func noSpace(err error) bool {
	return errors.Is(err, errorDiskFull) || errors.Is(err, errorHandleDiskFull)
}
