package desktop

import (
	"bufio"
	"bytes"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/assetlab/assetlab/worker/mediatest"
)

// "Open with AssetLab" and a second launch, with the real app under Xvfb and
// a D-Bus session bus of its own (Wails' single-instance lock on Linux):
//
//   - video files on the command line, as a path and as a file:// URI, upload
//     in the order given; a missing file and a folder among them are left out
//     with a log line;
//   - launched again while it runs, with a clip given relative to the second
//     launch's working folder, the app hands the clip to its window and the
//     second process exits without a window or server of its own; the clip
//     uploads to the first app's server;
//   - the second launch brings the window to the front (it has the focus);
//   - that clip's transcode ends while another window has the focus: the
//     app's title says so until the app's window has the focus again.
//
// Screenshot in test-artifacts/desktop/open-second-launch.png.
func TestOpenWithUnderXvfb(t *testing.T) {
	bin := appBin(t)
	s := newScreen(t, 1600, 900)
	bus := startSessionBus(t)
	dir := t.TempDir()
	clips := t.TempDir()
	clip := func(name string) string {
		src := mediatest.MakeNamed(t, mediatest.Clip{Width: 320, Height: 180, Seconds: 1}, name)
		dst := filepath.Join(clips, name)
		if err := os.Rename(src, dst); err != nil {
			t.Fatal(err)
		}
		return dst
	}
	first, second := clip("first.mp4"), clip("second clip.mp4")
	// Long enough that its transcode is still under way when the test has
	// moved the focus away (the UI asks for its status every 3 s).
	third := mediatest.MakeNamed(t, mediatest.Clip{Width: 1280, Height: 720, Seconds: 8}, "third.mp4")
	if err := os.Rename(third, filepath.Join(clips, "third.mp4")); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(clips, "gone.mp4")
	uri := (&url.URL{Scheme: "file", Path: second}).String()

	env := []string{"DBUS_SESSION_BUS_ADDRESS=" + bus}
	_, server := startApp(t, bin, s.display, dir, append(env, first, missing, clips, uri)...)
	token := adminToken(t, dir)
	waitNames := func(want []string) {
		t.Helper()
		var names []string
		for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
			if names = libraryNames(t, server, token); len(names) >= len(want) {
				break
			}
		}
		if !slices.Equal(names, want) {
			t.Fatalf("the server has %q, want %q (newest first)", names, want)
		}
	}
	// The library lists the newest first.
	waitNames([]string{"second clip.mp4", "first.mp4"})
	log, _ := os.ReadFile(filepath.Join(dir, "app.log"))
	for _, left := range []string{missing, clips} {
		if !bytes.Contains(log, []byte("argument left out")) || !bytes.Contains(log, []byte(left)) {
			t.Errorf("the app's log does not say %s was left out:\n%s", left, log)
		}
	}

	appWindows := func() []string {
		cmd := exec.Command("xdotool", "search", "--onlyvisible", "--name", "^AssetLab")
		cmd.Env = s.env()
		out, _ := cmd.Output() // no match: status 1
		return strings.Fields(string(out))
	}
	ids := appWindows()
	if len(ids) != 1 {
		t.Fatalf("got %d visible AssetLab windows, want 1", len(ids))
	}

	// Another window takes the focus (a GTK window, as any other app's), so
	// that the second launch's raising of the app's window shows.
	other := exec.Command(python3(), filepath.Join("testdata", "dragsource.py"), "1380", "40", first)
	other.Env = s.env()
	otherOut, _ := other.StdoutPipe()
	if err := other.Start(); err != nil {
		t.Fatalf("start another window: %v", err)
	}
	t.Cleanup(func() { other.Process.Kill(); other.Wait() })
	if l, _ := bufio.NewReader(otherOut).ReadString('\n'); strings.TrimSpace(l) != "ready" {
		t.Fatalf("the other window: got %q, want ready", l)
	}
	otherID := strings.Fields(s.x("xdotool", "search", "--onlyvisible", "--name", "^drag source$"))
	if len(otherID) == 0 {
		t.Fatal("the other window is not shown")
	}
	s.x("xdotool", "windowfocus", "--sync", otherID[0])

	// The second launch, from the clips' folder, with a relative path.
	again := exec.Command(bin, "third.mp4")
	again.Dir = clips
	again.Env = append(s.env(), "PORT=0", "XDG_CONFIG_HOME="+filepath.Join(dir, "config"),
		"XDG_DATA_HOME="+filepath.Join(dir, "data"), "ADMIN_TOKEN=", "ASSETLAB_DATA_DIR=", "ASSETLAB_WORKERS=0",
		"DBUS_SESSION_BUS_ADDRESS="+bus)
	var againOut bytes.Buffer
	again.Stdout, again.Stderr = &againOut, &againOut
	if err := again.Start(); err != nil {
		t.Fatalf("launch the app again: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- again.Wait() }()
	select {
	case err := <-exited:
		// Wails ends a second instance with status 1 once the first has its
		// arguments.
		t.Logf("the second launch exited (%v)", err)
	case <-time.After(30 * time.Second):
		again.Process.Kill()
		t.Fatalf("the second launch is still running after 30 s:\n%s", againOut.String())
	}
	if strings.Contains(againOut.String(), "msg=listening") {
		t.Errorf("the second launch started a server of its own:\n%s", againOut.String())
	}
	waitNames([]string{"third.mp4", "second clip.mp4", "first.mp4"})
	if n := len(appWindows()); n != 1 {
		t.Errorf("got %d visible AssetLab windows after the second launch, want 1", n)
	}
	// The second launch brought the app's window to the front.
	if focus := strings.TrimSpace(s.x("xdotool", "getwindowfocus")); focus != ids[0] {
		t.Errorf("the focused window after the second launch is %s, want the app's (%s)", focus, ids[0])
	}
	title := func() string { return strings.TrimSpace(s.x("xdotool", "getwindowname", ids[0])) }
	if got := title(); got != "AssetLab" {
		t.Errorf("the title while the window has the focus: got %q, want AssetLab", got)
	}

	// The transcode ends in the background: the title says so.
	s.x("xdotool", "windowfocus", "--sync", otherID[0])
	const ready = "AssetLab — third.mp4 is ready to watch"
	var got string
	for deadline := time.Now().Add(120 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		if got = title(); got == ready {
			break
		}
	}
	if got != ready {
		t.Errorf("the title after the transcode ended in the background: got %q, want %q", got, ready)
	}
	s.shot("open-second-launch.png")
	// Looked at again: the plain title.
	s.x("xdotool", "windowfocus", "--sync", ids[0])
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(300 * time.Millisecond) {
		if got = title(); got == "AssetLab" {
			break
		}
	}
	if got != "AssetLab" {
		t.Errorf("the title once the window has the focus again: got %q, want AssetLab", got)
	}
}

// startSessionBus starts a D-Bus session bus for the test alone (tests that
// share one would hand their launches to each other's apps) and returns its
// address, for DBUS_SESSION_BUS_ADDRESS.
func startSessionBus(t *testing.T) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "bus")
	addr := "unix:path=" + sock
	bus := exec.Command("dbus-daemon", "--session", "--nofork", "--nopidfile", "--address="+addr)
	if err := bus.Start(); err != nil {
		t.Fatalf("start dbus-daemon (Debian's dbus-daemon): %v", err)
	}
	t.Cleanup(func() { bus.Process.Kill(); bus.Wait() })
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if _, err := os.Stat(sock); err == nil {
			return addr
		}
	}
	t.Fatal("dbus-daemon made no socket")
	return ""
}

// python3 is Debian's Python, the one python3-gi is for, whatever other
// python3 comes first in PATH.
func python3() string {
	if _, err := os.Stat("/usr/bin/python3"); err == nil {
		return "/usr/bin/python3"
	}
	return "python3"
}
