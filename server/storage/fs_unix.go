//go:build unix

package storage

import (
	"errors"
	"os"
	"syscall"
)

// lockOwner takes an exclusive flock(2) on the owner file f. The kernel drops
// it when the process ends, however it ends: a lock that can be taken is an
// exact sign that its owner is gone (on this host).
func lockOwner(f *os.File) error {
	return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
}

// reapOwner reports whether the process that made the owner file at path has
// ended. If it has, the file stays locked, so that no other janitor reaps the
// same owner at the same time, until done unlocks it (and removes it, once
// the owner's temp files are gone).
func reapOwner(path string) (dead bool, done func(remove bool), err error) {
	f, err := os.Open(path)
	if err != nil {
		return false, nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return false, nil, nil // its owner is alive
		}
		return false, nil, err
	}
	return true, func(remove bool) {
		if remove {
			os.Remove(path)
		}
		f.Close()
	}, nil
}

// noSpace reports whether err says the disk or the user's quota is full.
func noSpace(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}
