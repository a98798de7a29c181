package desktop

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/wailsapp/wails/v2/pkg/menu"
	"github.com/wailsapp/wails/v2/pkg/menu/keys"
)

// The menu bar's items, their keys, and what choosing each does, on each
// OS: macOS has the app menu (with Quit) and Edit, the others neither (an
// Edit role would be a blank menu on Windows) but File → Quit.
func TestAppMenu(t *testing.T) {
	for _, goos := range []string{"linux", "windows", "darwin"} {
		t.Run(goos, func(t *testing.T) { testAppMenu(t, goos) })
	}
}

func testAppMenu(t *testing.T, goos string) {
	mac := goos == "darwin"
	a := NewApp(filepath.Join(t.TempDir(), "settings.json"))
	var events []string
	a.emit = func(name string, data any) {
		if s, ok := data.(string); ok {
			name += " " + s
		}
		events = append(events, name)
	}
	quit, about := 0, ""
	m := a.appMenu(goos, menuActions{quit: func() { quit++ }, about: func(title, msg string) { about = title + ": " + msg }})

	item := func(path ...string) *menu.MenuItem {
		t.Helper()
		items := m.Items
		for i, label := range path {
			var found *menu.MenuItem
			for _, it := range items {
				if it.Label == label {
					found = it
				}
			}
			if found == nil {
				t.Fatalf("no menu item %q", strings.Join(path[:i+1], " → "))
			}
			if i == len(path)-1 {
				return found
			}
			items = found.SubMenu.Items
		}
		return nil
	}
	tests := []struct {
		path []string
		key  *keys.Accelerator
		want string
	}{
		{[]string{"File", "Upload video…"}, keys.CmdOrCtrl("o"), EventMenuUpload},
		{[]string{"File", "Open video by ID or link…"}, keys.CmdOrCtrl("l"), EventMenuOpenVideo},
		{[]string{"File", "Library"}, keys.Combo("l", keys.CmdOrCtrlKey, keys.ShiftKey), EventNavigate + " /library"},
	}
	for _, tt := range tests {
		it := item(tt.path...)
		if tt.key != nil && (it.Accelerator == nil || it.Accelerator.Key != tt.key.Key || !slices.Equal(it.Accelerator.Modifiers, tt.key.Modifiers)) {
			t.Errorf("%s: got key %+v, want %+v", strings.Join(tt.path, " → "), it.Accelerator, tt.key)
		}
		events = nil
		it.Click(nil)
		if !slices.Equal(events, []string{tt.want}) {
			t.Errorf("%s: got events %q, want %q", strings.Join(tt.path, " → "), events, tt.want)
		}
	}

	hasQuit := false
	for _, it := range item("File").SubMenu.Items {
		hasQuit = hasQuit || it.Label == "Quit"
	}
	if hasQuit != !mac {
		t.Errorf("File → Quit: got %v, want %v (macOS quits from the app menu)", hasQuit, !mac)
	}
	if !mac {
		q := item("File", "Quit")
		if q.Accelerator == nil || q.Accelerator.Key != "q" {
			t.Errorf("Quit: got key %+v, want CmdOrCtrl+Q", q.Accelerator)
		}
		q.Click(nil)
		if quit != 1 {
			t.Errorf("Quit: got %d quits, want 1", quit)
		}
	}
	old := Version
	Version = "v1.2.3-test"
	t.Cleanup(func() { Version = old })
	item("Help", "About AssetLab").Click(nil)
	if !strings.HasPrefix(about, "About AssetLab: ") || !strings.Contains(about, "v1.2.3-test") {
		t.Errorf("About: got %q, want the version in it", about)
	}
	hasEdit, hasApp := false, false
	for _, it := range m.Items {
		hasEdit = hasEdit || it.Role == menu.EditMenuRole
		hasApp = hasApp || it.Role == menu.AppMenuRole
		if it.Role == 0 && it.Label == "" {
			t.Errorf("a top-level menu with no label and no role: %+v", it)
		}
	}
	if hasEdit != mac || hasApp != mac {
		t.Errorf("got Edit menu %v and app menu %v, want both %v", hasEdit, hasApp, mac)
	}
}
