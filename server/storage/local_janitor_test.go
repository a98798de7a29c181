package storage

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

var testSecret = []byte("0123456789abcdef0123456789abcdef")

// Reclaim keeps the temp files of every live owner (two stores in this
// process stand for two processes: their flocks conflict just the same),
// removes those of an owner whose lock is free, and removes files that no
// owner claims only once they are old.
func TestLocalReclaim(t *testing.T) {
	root := t.TempDir()
	a, err := NewLocal("raw", root, testSecret, "http://127.0.0.1:3000")
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewLocal("raw", root, testSecret, "http://127.0.0.1:3000")
	if err != nil {
		t.Fatal(err)
	}
	// A dead owner: its owner file exists, but nobody holds its lock.
	dead := newOwnerID()
	if err := os.WriteFile(filepath.Join(root, ".tmp-owners", dead), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-48 * time.Hour)
	files := map[string]time.Time{
		a.Owner() + ".1":     old, // live, however old
		b.Owner() + ".2":     old,
		dead + ".3":          time.Now(), // dead, however new
		"put-4":              time.Now(), // untracked (an older version's name), new
		"put-5":              old,        // untracked, old
		"0123456789abcdef.6": old,        // an owner whose file is gone, old
		"0123456789abcdef.7": time.Now(),
	}
	for name, mtime := range files {
		p := filepath.Join(root, ".tmp", name)
		if err := os.WriteFile(p, []byte("partial"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	n, err := a.Reclaim(24 * time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	entries, _ := os.ReadDir(filepath.Join(root, ".tmp"))
	for _, e := range entries {
		left = append(left, e.Name())
	}
	want := []string{a.Owner() + ".1", b.Owner() + ".2", "put-4", "0123456789abcdef.7"}
	slices.Sort(left)
	slices.Sort(want)
	if !slices.Equal(left, want) || n != 3 {
		t.Errorf("after Reclaim: got %v (%d removed), want %v (3 removed)", left, n, want)
	}
	if _, err := os.Stat(filepath.Join(root, ".tmp-owners", dead)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the dead owner's file: got %v, want it removed", err)
	}
	for _, l := range []*Local{a, b} {
		if _, err := os.Stat(filepath.Join(root, ".tmp-owners", l.Owner())); err != nil {
			t.Errorf("a live owner's file: %v", err)
		}
	}
	// The owners' files are not objects.
	if list, err := a.List(context.Background(), ""); err != nil || len(list) != 0 {
		t.Errorf("List: got %v %v, want no objects", list, err)
	}
}

// A write in progress survives the janitor of another live store, and its
// temp file carries its owner's name.
func TestLocalReclaimSparesWriteInProgress(t *testing.T) {
	root := t.TempDir()
	a, _ := NewLocal("raw", root, testSecret, "http://127.0.0.1:3000")
	b, _ := NewLocal("raw", root, testSecret, "http://127.0.0.1:3000")
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		_, err := a.Put(context.Background(), "k.mp4", pr, "")
		done <- err
	}()
	pw.Write([]byte("first half "))
	entries, _ := os.ReadDir(filepath.Join(root, ".tmp"))
	if len(entries) != 1 || entries[0].Name()[:len(a.Owner())+1] != a.Owner()+"." {
		t.Fatalf("temp files during the write: got %v, want one named %s.*", entries, a.Owner())
	}
	if n, err := b.Reclaim(0); err != nil || n != 0 {
		t.Errorf("Reclaim by another live store: got %d removed (%v), want 0", n, err)
	}
	pw.Write([]byte("second half"))
	pw.Close()
	if err := <-done; err != nil {
		t.Fatalf("put: %v", err)
	}
	got, _ := ReadAll(context.Background(), a, "k.mp4")
	if string(got) != "first half second half" {
		t.Errorf("stored: got %q", got)
	}
}
