package desktop

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/assetlab/assetlab/worker/mediatest"
)

// Files dragged from another app and dropped on the window upload, one after
// another, and the webview stays on the app's page: a GTK drag source
// (testdata/dragsource.py, python3-gi) offers two generated clips as a
// text/uri-list, as a file manager does; xdotool drags them over the window,
// where the page shows that it takes them, and lets go; the built-in server
// gets both. Screenshots during the drag and after, in test-artifacts/desktop/.
func TestDropUnderXvfb(t *testing.T) {
	bin := os.Getenv("ASSETLAB_DESKTOP_BIN")
	if bin == "" {
		t.Skip("ASSETLAB_DESKTOP_BIN is not set: run `make test-desktop`, which builds the app")
	}
	const w, h = 1600, 900
	display := startXvfb(t, 70, w, h)
	dir := t.TempDir()
	_, url := startApp(t, bin, display, dir, "ASSETLAB_WORKERS=0")
	clips := []string{
		mediatest.MakeNamed(t, mediatest.Clip{Width: 320, Height: 180, Seconds: 1}, "first clip.mp4"),
		mediatest.MakeNamed(t, mediatest.Clip{Width: 320, Height: 180, Seconds: 1}, "second.mp4"),
	}
	token, err := os.ReadFile(filepath.Join(dir, "config", "assetlab", "admin-token"))
	if err != nil {
		t.Fatalf("the app made no admin token: %v", err)
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
	xdotool := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("xdotool", args...)
		cmd.Env = append(os.Environ(), "DISPLAY="+display)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("xdotool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	accent := near(0x34, 0x51, 0xd1, 24)

	// The upload page is drawn: its blue Open button and link show (an
	// undrawn window has none of that blue).
	before := 0.0
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(time.Second) {
		if before = share(t, shot("drop-before.png"), accent); before > 0.001 {
			break
		}
	}
	if before <= 0.001 {
		t.Fatalf("the upload page is not drawn (%.2f%% accent blue)", 100*before)
	}

	// The drag source, to the right of the app's window; Debian's python3-gi
	// is for its own Python, whatever other python3 comes first in PATH.
	python := "/usr/bin/python3"
	if _, err := os.Stat(python); err != nil {
		python = "python3"
	}
	src := exec.Command(python, append([]string{filepath.Join("testdata", "dragsource.py"), "1380", "40"}, clips...)...)
	src.Env = append(os.Environ(), "DISPLAY="+display)
	srcOut, _ := src.StdoutPipe()
	src.Stderr = os.Stderr
	if err := src.Start(); err != nil {
		t.Fatalf("start the drag source: %v", err)
	}
	t.Cleanup(func() { src.Process.Kill(); src.Wait() })
	lines := make(chan string, 8)
	go func() {
		sc := bufio.NewScanner(srcOut)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	select {
	case l := <-lines:
		if l != "ready" {
			t.Fatalf("drag source: got %q, want ready", l)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the drag source did not show")
	}
	time.Sleep(500 * time.Millisecond)

	// Where the app's window is.
	geom := map[string]int{}
	ids := strings.Fields(xdotool("search", "--onlyvisible", "--name", "^AssetLab$"))
	if len(ids) == 0 {
		t.Fatal("no visible AssetLab window")
	}
	for _, l := range strings.Fields(xdotool("getwindowgeometry", "--shell", ids[0])) {
		if k, v, ok := strings.Cut(l, "="); ok {
			geom[k], _ = strconv.Atoi(v)
		}
	}
	if geom["WIDTH"] == 0 || geom["X"]+geom["WIDTH"] > 1380 {
		t.Fatalf("the app's window is at %v: it must be on screen and clear of the drag source at x 1380", geom)
	}

	// Press on the source and move, in steps as a hand does, to the middle
	// of the app's window.
	sx, sy := 1480, 100
	tx, ty := geom["X"]+geom["WIDTH"]/2, geom["Y"]+geom["HEIGHT"]*2/3
	xdotool("mousemove", strconv.Itoa(sx), strconv.Itoa(sy))
	xdotool("mousedown", "1")
	const steps = 40
	for i := 1; i <= steps; i++ {
		x, y := sx+(tx-sx)*i/steps, sy+(ty-sy)*i/steps
		xdotool("mousemove", strconv.Itoa(x), strconv.Itoa(y))
		time.Sleep(25 * time.Millisecond)
	}
	// Held over the window, the page shows it takes the files: a dashed
	// accent frame along the window's edges, where the page has none. The
	// bottom edge: the menu bar is above the page.
	edge := func(path string) float64 {
		bottom := geom["Y"] + geom["HEIGHT"]
		return shareIn(t, path, geom["X"], bottom-4, geom["X"]+geom["WIDTH"], bottom, accent)
	}
	if e := edge(filepath.Join(artifacts, "drop-before.png")); e > 0.02 {
		t.Fatalf("the window's bottom edge is %.0f%% accent blue before the drag, want none", 100*e)
	}
	var during float64
	for i := 0; i < 10; i++ {
		xdotool("mousemove", strconv.Itoa(tx+i%2*4), strconv.Itoa(ty))
		time.Sleep(300 * time.Millisecond)
		if during = edge(shot("drop-drag.png")); during > 0.25 {
			break
		}
	}
	xdotool("mouseup", "1")
	if during <= 0.25 {
		t.Errorf("no highlight while files are dragged over the window: its bottom edge is %.0f%% accent blue; see drop-drag.png", 100*during)
	}

	// Both files reach the server, in the order dropped.
	var names []string
	for deadline := time.Now().Add(40 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		if names = libraryNames(t, url, strings.TrimSpace(string(token))); len(names) == 2 {
			break
		}
		select {
		case l, ok := <-lines:
			if ok && strings.HasPrefix(l, "drag-failed") {
				t.Fatalf("the drop was refused: %s", l)
			}
		default:
		}
	}
	// The library lists the newest first.
	if want := []string{"second.mp4", "first clip.mp4"}; !slices.Equal(names, want) {
		t.Fatalf("the server has %q, want %q", names, want)
	}

	// The page still shows the app (it did not open a dropped file), with the
	// last upload done and the first listed above it with its link.
	var after, afterEdge float64
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		path := shot("drop-uploaded.png")
		if after, afterEdge = share(t, path, accent), edge(path); after > 0.002 && afterEdge < 0.02 {
			break
		}
	}
	if after <= 0.002 || afterEdge >= 0.02 {
		t.Errorf("after the drop the window is not the app's page without highlight (%.2f%% accent blue, bottom edge %.0f%%); see drop-uploaded.png",
			100*after, 100*afterEdge)
	}
	title := xdotool("getwindowname", ids[0])
	if strings.TrimSpace(title) != "AssetLab" {
		t.Errorf("the window's title is %q after the drop, want AssetLab", title)
	}
}

// libraryNames lists the file names of the server's videos, newest first.
func libraryNames(t *testing.T, server, token string) []string {
	t.Helper()
	req, _ := http.NewRequest("GET", server+"/api/videos", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("list the videos: %v", err)
	}
	defer resp.Body.Close()
	var lib struct {
		Videos []struct {
			Filename string `json:"filename"`
		} `json:"videos"`
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("list the videos: %s", resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&lib); err != nil {
		t.Fatalf("list the videos: %v", err)
	}
	var names []string
	for _, v := range lib.Videos {
		names = append(names, v.Filename)
	}
	return names
}

// shareIn is the share of a PNG's pixels in the box [x0, x1) × [y0, y1) for
// which match holds.
func shareIn(t *testing.T, path string, x0, y0, x1, y1 int, match func(r, g, b int) bool) float64 {
	n, all := 0, 0
	pixels(t, path, func(x, y, r, g, b int) {
		if x < x0 || x >= x1 || y < y0 || y >= y1 {
			return
		}
		if match(r, g, b) {
			n++
		}
		all++
	})
	if all == 0 {
		return 0
	}
	return float64(n) / float64(all)
}
