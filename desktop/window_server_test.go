package desktop

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The server card of the real app shows the built-in server's upload token
// and copies it, and its LAN address, to the clipboard (navigator.clipboard
// in WebKitGTK), as a person does with the keyboard: Tab to the button,
// Space. The screenshot is kept in test-artifacts/desktop/server-card.png.
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
}
