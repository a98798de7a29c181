package desktop

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/assetlab/assetlab/worker/mediatest"
)

// The menu bar's keys in the real app under Xvfb: Ctrl+L focuses the
// header's "open a video" field from the page, Ctrl+V pastes a watch link
// from the clipboard into it (xclip sets it) and Enter opens the watch page,
// which shows the test pattern's green; Ctrl+O then opens the native Open
// dialog over the upload page, and Escape closes it; Help → About shows a
// dialog (menu-about.png shows its version). Screenshots in
// test-artifacts/desktop/menu-*.png.
func TestMenuKeysUnderXvfb(t *testing.T) {
	bin := os.Getenv("ASSETLAB_DESKTOP_BIN")
	if bin == "" {
		t.Skip("ASSETLAB_DESKTOP_BIN is not set: run `make test-desktop`, which builds the app")
	}
	if _, err := exec.LookPath("xclip"); err != nil {
		t.Skip("no xclip (Debian's xclip): `make deps-desktop` installs it")
	}
	const w, h = 1280, 900
	display := startXvfb(t, 110, w, h)
	dir := t.TempDir()
	_, server := startApp(t, bin, display, dir, "ASSETLAB_WORKERS=0")
	token, err := os.ReadFile(filepath.Join(dir, "config", "assetlab", "admin-token"))
	if err != nil {
		t.Fatalf("the app made no admin token: %v", err)
	}
	clip := mediatest.MakeNamed(t, mediatest.Clip{Width: 1280, Height: 720, FPS: 30, Seconds: 3}, "bars.mp4")
	id, err := postFile(server, strings.TrimSpace(string(token)), clip)
	if err != nil {
		t.Fatal(err)
	}

	artifacts := filepath.Join("..", "test-artifacts", "desktop")
	os.MkdirAll(artifacts, 0o755)
	shot := func(name string) string {
		t.Helper()
		path := filepath.Join(artifacts, name)
		if out, err := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "x11grab",
			"-video_size", fmt.Sprintf("%dx%d", w, h), "-i", display, "-frames:v", "1", path).CombinedOutput(); err != nil {
			t.Fatalf("screenshot: %v\n%s", err, out)
		}
		return path
	}
	run := func(name string, args ...string) string {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Env = append(os.Environ(), "DISPLAY="+display)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	accent, green := near(0x34, 0x51, 0xd1, 24), near(0x00, 0xcc, 0x00, 40)

	// The upload page is drawn.
	var blue float64
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(time.Second) {
		if blue = share(t, shot("menu-start.png"), accent); blue > 0.002 {
			break
		}
	}
	if blue <= 0.002 {
		t.Fatalf("the upload page is not drawn (%.2f%% accent blue)", 100*blue)
	}
	ids := strings.Fields(run("xdotool", "search", "--onlyvisible", "--name", "^AssetLab"))
	if len(ids) == 0 {
		t.Fatal("no visible AssetLab window")
	}
	run("xdotool", "windowfocus", "--sync", ids[0])

	// A watch link on the clipboard, as copied from a chat. xclip stays in
	// the background to serve it until the display ends.
	link := "http://192.168.1.5:3000/watch/" + id
	cp := exec.Command("xclip", "-selection", "clipboard")
	cp.Env = append(os.Environ(), "DISPLAY="+display)
	cp.Stdin = strings.NewReader(link)
	// No pipes for its output: the copy left in the background would hold
	// them open.
	if err := cp.Run(); err != nil {
		t.Fatalf("xclip: %v", err)
	}
	if got := run("xclip", "-selection", "clipboard", "-o"); got != link {
		t.Fatalf("the clipboard holds %q, want %q", got, link)
	}

	// Ctrl+L, Ctrl+V, Enter: the watch page, with a decoded frame.
	run("xdotool", "key", "--clearmodifiers", "ctrl+l")
	time.Sleep(300 * time.Millisecond)
	run("xdotool", "key", "--clearmodifiers", "ctrl+v")
	time.Sleep(300 * time.Millisecond)
	shot("menu-pasted.png")
	run("xdotool", "key", "Return")
	var g float64
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(time.Second) {
		if g = share(t, shot("menu-watch.png"), green); g > 0.02 {
			break
		}
	}
	if g <= 0.02 {
		t.Fatalf("Ctrl+L, Ctrl+V, Enter did not open the watch page (%.2f%% of the test pattern's green); see menu-pasted.png and menu-watch.png", 100*g)
	}

	// Ctrl+O: the native Open dialog, over the upload page.
	run("xdotool", "key", "--clearmodifiers", "ctrl+o")
	// The dialog is the visible window other than the app's.
	dialogs := func() []string {
		cmd := exec.Command("xdotool", "search", "--onlyvisible", "--name", ".")
		cmd.Env = append(os.Environ(), "DISPLAY="+display)
		out, _ := cmd.Output() // none: status 1
		var others []string
		for _, id := range strings.Fields(string(out)) {
			if id != ids[0] {
				others = append(others, id)
			}
		}
		return others
	}
	var dialog []string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline) && len(dialog) == 0; time.Sleep(300 * time.Millisecond) {
		dialog = dialogs()
	}
	if len(dialog) == 0 {
		t.Fatalf("Ctrl+O opened no Open dialog; see %s", shot("menu-no-dialog.png"))
	}
	if name := strings.TrimSpace(run("xdotool", "getwindowname", dialog[0])); name != "Choose a video to upload" {
		t.Errorf("the window Ctrl+O opened is %q, want the Open dialog, \"Choose a video to upload\"", name)
	}
	time.Sleep(time.Second)
	shot("menu-open-dialog.png")
	run("xdotool", "windowfocus", "--sync", dialog[0])
	run("xdotool", "key", "Escape")
	closed := false
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline) && !closed; time.Sleep(300 * time.Millisecond) {
		closed = len(dialogs()) == 0
	}
	if !closed {
		t.Fatal("Escape did not close the Open dialog")
	}
	// Behind it, the upload page, not the watch page.
	var after string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		after = shot("menu-after-dialog.png")
		if g, b := share(t, after, green), share(t, after, accent); g < 0.005 && b > 0.002 {
			break
		}
	}
	if g, b := share(t, after, green), share(t, after, accent); g >= 0.005 || b <= 0.002 {
		t.Errorf("after Ctrl+O the window does not show the upload page; see %s", after)
	}

	// Help → About AssetLab, from the keyboard (F10 opens the menu bar's
	// first menu; Help is the next one on Linux, where Edit has no items;
	// About is its first item):
	// a dialog with the app's version.
	run("xdotool", "windowfocus", "--sync", ids[0])
	run("xdotool", "key", "F10")
	time.Sleep(300 * time.Millisecond)
	run("xdotool", "key", "Right")
	time.Sleep(time.Second)
	// The key that chooses the item: here the first one sent to the open
	// menu was not taken, so another is sent until the dialog shows.
	var about []string
	for _, key := range []string{"Return", "space", "space"} {
		if len(about) > 0 {
			break
		}
		run("xdotool", "key", key)
		for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline) && len(about) == 0; time.Sleep(300 * time.Millisecond) {
			for _, id := range dialogs() {
				if strings.TrimSpace(run("xdotool", "getwindowname", id)) == "About AssetLab" {
					about = append(about, id)
				}
			}
		}
	}
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline) && len(about) == 0; time.Sleep(300 * time.Millisecond) {
		for _, id := range dialogs() {
			if strings.TrimSpace(run("xdotool", "getwindowname", id)) == "About AssetLab" {
				about = append(about, id)
			}
		}
	}
	if len(about) == 0 {
		t.Fatalf("F10, Right and Return or space opened no About dialog; see %s", shot("menu-no-about.png"))
	}
	time.Sleep(500 * time.Millisecond)
	shot("menu-about.png")
	run("xdotool", "windowfocus", "--sync", about[0])
	run("xdotool", "key", "Return")
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(300 * time.Millisecond) {
		if len(dialogs()) == 0 {
			return
		}
	}
	t.Error("Return did not close the About dialog")
}
