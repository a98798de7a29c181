package desktop

import (
	"fmt"
	"net"
	"os"
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
	bin := os.Getenv("ASSETLAB_DESKTOP_BIN")
	if bin == "" {
		t.Skip("ASSETLAB_DESKTOP_BIN is not set: run `make test-desktop`, which builds the app")
	}
	const w, h = 1280, 900
	display := startXvfb(t, 60, w, h)
	dir := t.TempDir()
	_, url := startApp(t, bin, display, dir)
	token, err := os.ReadFile(filepath.Join(dir, "config", "assetlab", "admin-token"))
	if err != nil {
		t.Fatalf("the app made no admin token: %v", err)
	}

	x := func(name string, args ...string) string {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Env = append(os.Environ(), "DISPLAY="+display)
		out, _ := cmd.CombinedOutput()
		return strings.TrimSpace(string(out))
	}
	artifacts := filepath.Join("..", "test-artifacts", "desktop")
	os.MkdirAll(artifacts, 0o755)
	shot := filepath.Join(artifacts, "server-card.png")
	screenshot := func() {
		t.Helper()
		if out, err := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "x11grab",
			"-video_size", fmt.Sprintf("%dx%d", w, h), "-i", display, "-frames:v", "1", shot).CombinedOutput(); err != nil {
			t.Fatalf("screenshot: %v\n%s", err, out)
		}
	}
	// Wait for the page: its accent-blue buttons show.
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(time.Second) {
		if screenshot(); share(t, shot, near(0x34, 0x51, 0xd1, 24)) > 0.002 {
			break
		}
	}
	time.Sleep(time.Second) // the server card comes after the app's Info
	ids := strings.Fields(x("xdotool", "search", "--onlyvisible", "--name", "^AssetLab$"))
	if len(ids) == 0 {
		t.Fatal("no window named AssetLab")
	}
	x("xdotool", "windowfocus", "--sync", ids[len(ids)-1])
	// press moves the focus n times and presses the focused button.
	press := func(n int) {
		for range n {
			x("xdotool", "key", "Tab")
		}
		time.Sleep(300 * time.Millisecond)
		x("xdotool", "key", "space")
	}
	clipboard := func() string {
		var got string
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
			if got = x("xclip", "-o", "-selection", "clipboard"); !strings.Contains(got, "Error") {
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
	if got := clipboard(); got != strings.TrimSpace(string(token)) {
		t.Errorf("clipboard after Copy of the token: got %q, want the upload token", got)
	}
	screenshot()

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
	x("xdotool", "type", "--delay", "20", closed)
	x("xdotool", "key", "Tab")
	x("xdotool", "type", "--delay", "20", "some-token")
	x("xdotool", "key", "Return")
	refused := filepath.Join(artifacts, "server-card-refused.png")
	var red float64
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		screenshot()
		if red = share(t, shot, near(0xb3, 0x26, 0x1e, 40)); red > 0.0003 {
			break
		}
	}
	os.Rename(shot, refused)
	if red <= 0.0003 {
		t.Errorf("the form shows no red words after saving an address where nothing listens (%.3f%% red); see %s", 100*red, refused)
	}
	if s, _ := LoadSettings(settingsPath); s.ServerURL != "" {
		t.Errorf("settings after a refused server: got %+v, want no server saved", s)
	}

	// Another, real server and its token: saved, and the built-in server
	// stops listening.
	remote := apptest.Start(t, "local")
	x("xdotool", "key", "shift+Tab")
	x("xdotool", "key", "ctrl+a")
	x("xdotool", "type", "--delay", "20", remote.URL)
	x("xdotool", "key", "Tab")
	x("xdotool", "key", "ctrl+a")
	x("xdotool", "type", "--delay", "20", apptest.Token)
	x("xdotool", "key", "Return")
	var s Settings
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		if s, _ = LoadSettings(settingsPath); s.ServerURL != "" {
			break
		}
	}
	if s.ServerURL != remote.URL || s.Token != apptest.Token {
		t.Fatalf("settings after saving a real server: got %+v, want %s", s, remote.URL)
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
	screenshot()
	os.Rename(shot, filepath.Join(artifacts, "server-card-remote.png"))
}
