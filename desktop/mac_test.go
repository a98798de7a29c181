package desktop

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Files macOS sends as Apple Events (Finder's "Open with") are uploaded as a
// second launch's are: kept until the UI asks, then sent as dropped files;
// a folder is left out.
func TestMacFileOpen(t *testing.T) {
	dir := t.TempDir()
	first, second := filepath.Join(dir, "first.mov"), filepath.Join(dir, "second.mp4")
	for _, p := range []string{first, second} {
		if err := os.WriteFile(p, []byte("video"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	a := NewApp(filepath.Join(t.TempDir(), "settings.json"))
	var events []string
	a.emit = func(name string, data any) {
		if files, ok := data.([]string); ok {
			name += " " + strings.Join(files, ",")
		}
		events = append(events, name)
	}
	open := a.macOptions().OnFileOpen
	if open == nil {
		t.Fatal("no OnFileOpen in the macOS options")
	}
	open(first)
	open(dir)
	if len(events) != 0 {
		t.Fatalf("events before the UI listens: got %q, want none", events)
	}
	if got, want := a.StartFiles(), []string{first}; !slices.Equal(got, want) {
		t.Fatalf("StartFiles: got %q, want %q", got, want)
	}
	open(second)
	if want := []string{EventFilesDropped + " " + second}; !slices.Equal(events, want) {
		t.Errorf("events: got %q, want %q", events, want)
	}
}
