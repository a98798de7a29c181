package desktop

import (
	"os/exec"
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
	bin := appBin(t)
	if _, err := exec.LookPath("xclip"); err != nil {
		t.Skip("no xclip (Debian's xclip): `make deps-desktop` installs it")
	}
	s := newScreen(t, 1280, 900)
	dir := t.TempDir()
	_, server := startApp(t, bin, s.display, dir, "ASSETLAB_WORKERS=0")
	clip := mediatest.MakeNamed(t, mediatest.Clip{Width: 1280, Height: 720, FPS: 30, Seconds: 3}, "bars.mp4")
	id, err := postFile(server, adminToken(t, dir), clip)
	if err != nil {
		t.Fatal(err)
	}

	// The upload page is drawn.
	var blue float64
	s.waitShot("menu-start.png", 30*time.Second, time.Second, func(path string) bool {
		blue = share(t, path, accent)
		return blue > 0.002
	})
	if blue <= 0.002 {
		t.Fatalf("the upload page is not drawn (%.2f%% accent blue)", 100*blue)
	}
	ids := strings.Fields(s.x("xdotool", "search", "--onlyvisible", "--name", "^AssetLab"))
	if len(ids) == 0 {
		t.Fatal("no visible AssetLab window")
	}
	s.x("xdotool", "windowfocus", "--sync", ids[0])

	// A watch link on the clipboard, as copied from a chat. xclip stays in
	// the background to serve it until the display ends.
	link := "http://192.168.1.5:3000/watch/" + id
	cp := exec.Command("xclip", "-selection", "clipboard")
	cp.Env = s.env()
	cp.Stdin = strings.NewReader(link)
	// No pipes for its output: the copy left in the background would hold
	// them open.
	if err := cp.Run(); err != nil {
		t.Fatalf("xclip: %v", err)
	}
	if got := s.x("xclip", "-selection", "clipboard", "-o"); got != link {
		t.Fatalf("the clipboard holds %q, want %q", got, link)
	}

	// Ctrl+L, Ctrl+V, Enter: the watch page, with a decoded frame.
	s.x("xdotool", "key", "--clearmodifiers", "ctrl+l")
	time.Sleep(300 * time.Millisecond)
	s.x("xdotool", "key", "--clearmodifiers", "ctrl+v")
	time.Sleep(300 * time.Millisecond)
	s.shot("menu-pasted.png")
	s.x("xdotool", "key", "Return")
	var g float64
	s.waitShot("menu-watch.png", 30*time.Second, time.Second, func(path string) bool {
		g = share(t, path, patternGreen)
		return g > 0.02
	})
	if g <= 0.02 {
		t.Fatalf("Ctrl+L, Ctrl+V, Enter did not open the watch page (%.2f%% of the test pattern's green); see menu-pasted.png and menu-watch.png", 100*g)
	}

	// Ctrl+O: the native Open dialog, over the upload page.
	s.x("xdotool", "key", "--clearmodifiers", "ctrl+o")
	// The dialog is the visible window other than the app's.
	dialogs := func() []string {
		cmd := exec.Command("xdotool", "search", "--onlyvisible", "--name", ".")
		cmd.Env = s.env()
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
		t.Fatalf("Ctrl+O opened no Open dialog; see %s", s.shot("menu-no-dialog.png"))
	}
	if name := strings.TrimSpace(s.x("xdotool", "getwindowname", dialog[0])); name != "Choose a video to upload" {
		t.Errorf("the window Ctrl+O opened is %q, want the Open dialog, \"Choose a video to upload\"", name)
	}
	time.Sleep(time.Second)
	s.shot("menu-open-dialog.png")
	s.x("xdotool", "windowfocus", "--sync", dialog[0])
	s.x("xdotool", "key", "Escape")
	closed := false
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline) && !closed; time.Sleep(300 * time.Millisecond) {
		closed = len(dialogs()) == 0
	}
	if !closed {
		t.Fatal("Escape did not close the Open dialog")
	}
	// Behind it, the upload page, not the watch page.
	if after, ok := s.waitShot("menu-after-dialog.png", 10*time.Second, 500*time.Millisecond, func(path string) bool {
		return share(t, path, patternGreen) < 0.005 && share(t, path, accent) > 0.002
	}); !ok {
		t.Errorf("after Ctrl+O the window does not show the upload page; see %s", after)
	}

	// Help → About AssetLab, from the keyboard (F10 opens the menu bar's
	// first menu; Help is the next one, as Edit is on macOS only;
	// About is its first item):
	// a dialog with the app's version.
	s.x("xdotool", "windowfocus", "--sync", ids[0])
	s.x("xdotool", "key", "F10")
	time.Sleep(300 * time.Millisecond)
	s.x("xdotool", "key", "Right")
	time.Sleep(time.Second)
	// The key that chooses the item: here the first one sent to the open
	// menu was not taken, so another is sent until the dialog shows.
	var about []string
	for _, key := range []string{"Return", "space", "space"} {
		if len(about) > 0 {
			break
		}
		s.x("xdotool", "key", key)
		for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline) && len(about) == 0; time.Sleep(300 * time.Millisecond) {
			for _, id := range dialogs() {
				if strings.TrimSpace(s.x("xdotool", "getwindowname", id)) == "About AssetLab" {
					about = append(about, id)
				}
			}
		}
	}
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline) && len(about) == 0; time.Sleep(300 * time.Millisecond) {
		for _, id := range dialogs() {
			if strings.TrimSpace(s.x("xdotool", "getwindowname", id)) == "About AssetLab" {
				about = append(about, id)
			}
		}
	}
	if len(about) == 0 {
		t.Fatalf("F10, Right and Return or space opened no About dialog; see %s", s.shot("menu-no-about.png"))
	}
	time.Sleep(500 * time.Millisecond)
	s.shot("menu-about.png")
	s.x("xdotool", "windowfocus", "--sync", about[0])
	s.x("xdotool", "key", "Return")
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(300 * time.Millisecond) {
		if len(dialogs()) == 0 {
			return
		}
	}
	t.Error("Return did not close the About dialog")
}
