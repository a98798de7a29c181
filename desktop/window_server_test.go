package desktop

import (
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/assetlab/assetlab/server/app/apptest"
)

// The server card of the real app shows the built-in server's upload token
// and copies it, and its LAN address, to the clipboard (navigator.clipboard
// in WebKitGTK), as a person does with the keyboard: Tab to the button,
// Space. Then "Use another server": an address where nothing listens is
// refused in red words and not saved; a real server is saved, and the
// built-in one stops. Screenshots: test-artifacts/desktop/server-card*.png.
func TestServerCardCopiesUnderXvfb(t *testing.T) {
	bin := appBin(t)
	s := newScreen(t, 1280, 900)
	dir := t.TempDir()
	_, url := startApp(t, bin, s.display, dir)
	token := adminToken(t, dir)

	// Wait for the page: its accent-blue buttons show.
	s.waitShot("server-card.png", 30*time.Second, time.Second, func(path string) bool {
		return share(t, path, accent) > 0.002
	})
	time.Sleep(time.Second) // the server card comes after the app's Info
	ids := strings.Fields(s.x("xdotool", "search", "--onlyvisible", "--name", "^AssetLab$"))
	if len(ids) == 0 {
		t.Fatal("no window named AssetLab")
	}
	s.x("xdotool", "windowfocus", "--sync", ids[len(ids)-1])
	// press moves the focus n times and presses the focused button.
	press := func(n int) {
		for range n {
			s.x("xdotool", "key", "Tab")
		}
		time.Sleep(300 * time.Millisecond)
		s.x("xdotool", "key", "space")
	}
	// clipboard is what the clipboard holds, once it holds something (xclip
	// fails with an error until then).
	clipboard := func() string {
		var got string
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
			cmd := exec.Command("xclip", "-o", "-selection", "clipboard")
			cmd.Env = s.env()
			out, _ := cmd.CombinedOutput()
			if got = strings.TrimSpace(string(out)); !strings.Contains(got, "Error") {
				break
			}
		}
		return got
	}

	// In focus order: the skip link, the brand, Upload, Library, the Open
	// field and button; then the card: Copy (the address, when the machine
	// has one on a network), Show, Copy (the token).
	toShow := 7
	if ip := lanIP(); ip != "" {
		press(7)
		want := "http://" + ip + ":" + url[strings.LastIndex(url, ":")+1:]
		if got := clipboard(); got != want {
			t.Errorf("clipboard after Copy of the address: got %q, want %q", got, want)
		}
		toShow = 1
	}
	press(toShow + 1)
	if got := clipboard(); got != token {
		t.Errorf("clipboard after Copy of the token: got %q, want the upload token", got)
	}
	s.shot("server-card.png")

	// "Use another server", with an address where nothing listens: the form
	// says why in red, and nothing is saved.
	settingsPath := filepath.Join(dir, "config", "assetlab", "desktop.json")
	press(1)
	time.Sleep(500 * time.Millisecond) // the form opens on the address field
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	l.Close()
	s.x("xdotool", "type", "--delay", "20", closed)
	s.x("xdotool", "key", "Tab")
	s.x("xdotool", "type", "--delay", "20", "some-token")
	s.x("xdotool", "key", "Return")
	var red float64
	refused, _ := s.waitShot("server-card-refused.png", 20*time.Second, 500*time.Millisecond, func(path string) bool {
		red = share(t, path, near(0xb3, 0x26, 0x1e, 40))
		return red > 0.0003
	})
	if red <= 0.0003 {
		t.Errorf("the form shows no red words after saving an address where nothing listens (%.3f%% red); see %s", 100*red, refused)
	}
	if saved, _ := LoadSettings(settingsPath); saved.ServerURL != "" {
		t.Errorf("settings after a refused server: got %+v, want no server saved", saved)
	}

	// Another, real server and its token: saved, and the built-in server
	// stops listening.
	remote := apptest.Start(t, "local")
	s.x("xdotool", "key", "shift+Tab")
	s.x("xdotool", "key", "ctrl+a")
	s.x("xdotool", "type", "--delay", "20", remote.URL)
	s.x("xdotool", "key", "Tab")
	s.x("xdotool", "key", "ctrl+a")
	s.x("xdotool", "type", "--delay", "20", apptest.Token)
	s.x("xdotool", "key", "Return")
	var saved Settings
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		if saved, _ = LoadSettings(settingsPath); saved.ServerURL != "" {
			break
		}
	}
	if saved.ServerURL != remote.URL || saved.Token != apptest.Token {
		t.Fatalf("settings after saving a real server: got %+v, want %s", saved, remote.URL)
	}
	if !apptest.Within(40*time.Second, func() bool {
		c, err := net.DialTimeout("tcp", strings.TrimPrefix(url, "http://"), 2*time.Second)
		if err == nil {
			c.Close()
		}
		return err != nil
	}) {
		t.Errorf("the built-in server at %s still takes connections after switching to %s", url, remote.URL)
	}
	time.Sleep(time.Second)
	s.shot("server-card-remote.png")
}
