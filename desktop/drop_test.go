package desktop

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Dropped files go to the UI in their order, to upload one after another;
// folders and paths that are gone are left out, and a drop of none of them
// sends nothing.
func TestFilesDropped(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.mp4"), filepath.Join(dir, "b b.mov")
	for _, p := range []string{a, b} {
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sub := filepath.Join(dir, "folder")
	os.Mkdir(sub, 0o755)
	gone := filepath.Join(dir, "gone.mp4")

	tests := []struct {
		name    string
		dropped []string
		want    []string // nil: no event
	}{
		{"one file", []string{a}, []string{a}},
		{"several, in order", []string{b, a}, []string{b, a}},
		{"a folder and a missing file left out", []string{sub, a, gone, b}, []string{a, b}},
		{"nothing to upload", []string{sub, gone}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := NewApp(filepath.Join(dir, "settings.json"))
			var got []string
			events := 0
			app.emit = func(name string, data any) {
				if name != EventFilesDropped {
					t.Fatalf("event %q, want %q", name, EventFilesDropped)
				}
				events++
				got = data.([]string)
			}
			app.filesDropped(tt.dropped)
			if tt.want == nil {
				if events != 0 {
					t.Errorf("got %d events (%q), want none", events, got)
				}
				return
			}
			if events != 1 || !slices.Equal(got, tt.want) {
				t.Errorf("got %d events, last %q; want one with %q", events, got, tt.want)
			}
		})
	}
}

// The webview stays a drop target: Wails' DisableWebViewDrop takes it away
// on Linux (GTK then refuses every drop) and stops WebView2's external drops
// on Windows, so no file would ever arrive. The window-wide drop target
// property is the one the UI's stylesheet sets.
func TestDragAndDropOptions(t *testing.T) {
	if !dragAndDrop.EnableFileDrop || dragAndDrop.DisableWebViewDrop {
		t.Errorf("got EnableFileDrop %v, DisableWebViewDrop %v; want true, false",
			dragAndDrop.EnableFileDrop, dragAndDrop.DisableWebViewDrop)
	}
	css, err := os.ReadFile(filepath.Join("..", "frontend", "src", "app.css"))
	if err != nil {
		t.Fatal(err)
	}
	want := dragAndDrop.CSSDropProperty + ": " + dragAndDrop.CSSDropValue
	if !strings.Contains(string(css), want) {
		t.Errorf("frontend/src/app.css does not set %q on the page", want)
	}
}
