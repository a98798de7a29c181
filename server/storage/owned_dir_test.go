//go:build unix

package storage

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// ReapOwnedDirs keeps the folder of a live owner and removes those of owners
// that ended: one whose owner file nobody holds locked, and one whose owner
// file is already gone.
func TestReapOwnedDirs(t *testing.T) {
	parent := t.TempDir()
	live, release, err := NewOwnedDir(parent, "live")
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	os.WriteFile(filepath.Join(live, "part"), []byte("x"), 0o600)
	// An owner that ended: its file exists, unlocked.
	os.Mkdir(filepath.Join(parent, "dead"), 0o700)
	os.WriteFile(filepath.Join(parent, "dead", "part"), []byte("x"), 0o600)
	os.WriteFile(filepath.Join(parent, "dead.owner"), nil, 0o600)
	// Reaped before, its folder's removal cut short.
	os.Mkdir(filepath.Join(parent, "gone"), 0o700)

	runtime.GC() // the live owner's lock must outlast its file's finalizer
	runtime.GC()
	n, err := ReapOwnedDirs(parent)
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("reaped: got %d, want 2", n)
	}
	entries, _ := os.ReadDir(parent)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if len(names) != 2 || names[0] != "live" || names[1] != "live.owner" {
		t.Errorf("left: got %v, want [live live.owner]", names)
	}
	if _, err := os.Stat(filepath.Join(live, "part")); err != nil {
		t.Errorf("the live owner's file: %v", err)
	}
}

func TestReleaseOwnedDir(t *testing.T) {
	parent := filepath.Join(t.TempDir(), "parts")
	dir, release, err := NewOwnedDir(parent, "mine")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "part"), []byte("x"), 0o600)
	if err := release(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(parent); !os.IsNotExist(err) {
		entries, _ := os.ReadDir(parent)
		t.Errorf("after release: %s holds %v, want it gone", parent, entries)
	}
	if err := release(); err != nil {
		t.Errorf("second release: %v", err)
	}
}
