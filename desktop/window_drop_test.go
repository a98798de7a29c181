package desktop

import (
	"bufio"
	"encoding/json"
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
	bin := appBin(t)
	s := newScreen(t, 1600, 900)
	dir := t.TempDir()
	_, url := startApp(t, bin, s.display, dir, "ASSETLAB_WORKERS=0")
	clips := []string{
		mediatest.MakeNamed(t, mediatest.Clip{Width: 320, Height: 180, Seconds: 1}, "first clip.mp4"),
		mediatest.MakeNamed(t, mediatest.Clip{Width: 320, Height: 180, Seconds: 1}, "second.mp4"),
	}
	token := adminToken(t, dir)

	// The upload page is drawn: its blue Open button and link show (an
	// undrawn window has none of that blue).
	before := 0.0
	beforeShot, _ := s.waitShot("drop-before.png", 30*time.Second, time.Second, func(path string) bool {
		before = share(t, path, accent)
		return before > 0.001
	})
	if before <= 0.001 {
		t.Fatalf("the upload page is not drawn (%.2f%% accent blue)", 100*before)
	}

	// The drag source, to the right of the app's window (python3 is the
	// Python that Debian's python3-gi is for).
	src := exec.Command(python3(), append([]string{filepath.Join("testdata", "dragsource.py"), "1380", "40"}, clips...)...)
	src.Env = s.env()
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
	ids := strings.Fields(s.x("xdotool", "search", "--onlyvisible", "--name", "^AssetLab$"))
	if len(ids) == 0 {
		t.Fatal("no visible AssetLab window")
	}
	for _, l := range strings.Fields(s.x("xdotool", "getwindowgeometry", "--shell", ids[0])) {
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
	s.x("xdotool", "mousemove", strconv.Itoa(sx), strconv.Itoa(sy))
	s.x("xdotool", "mousedown", "1")
	const steps = 40
	for i := 1; i <= steps; i++ {
		x, y := sx+(tx-sx)*i/steps, sy+(ty-sy)*i/steps
		s.x("xdotool", "mousemove", strconv.Itoa(x), strconv.Itoa(y))
		time.Sleep(25 * time.Millisecond)
	}
	// Held over the window, the page shows it takes the files: a dashed
	// accent frame along the window's edges, where the page has none. The
	// bottom edge: the menu bar is above the page.
	edge := func(path string) float64 {
		bottom := geom["Y"] + geom["HEIGHT"]
		return shareIn(t, path, geom["X"], bottom-4, geom["X"]+geom["WIDTH"], bottom, accent)
	}
	if e := edge(beforeShot); e > 0.02 {
		t.Fatalf("the window's bottom edge is %.0f%% accent blue before the drag, want none", 100*e)
	}
	var during float64
	for i := 0; i < 10; i++ {
		s.x("xdotool", "mousemove", strconv.Itoa(tx+i%2*4), strconv.Itoa(ty))
		time.Sleep(300 * time.Millisecond)
		if during = edge(s.shot("drop-drag.png")); during > 0.25 {
			break
		}
	}
	s.x("xdotool", "mouseup", "1")
	if during <= 0.25 {
		t.Errorf("no highlight while files are dragged over the window: its bottom edge is %.0f%% accent blue; see drop-drag.png", 100*during)
	}

	// Both files reach the server, in the order dropped.
	var names []string
	for deadline := time.Now().Add(40 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		if names = libraryNames(t, url, token); len(names) == 2 {
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
	s.waitShot("drop-uploaded.png", 10*time.Second, 500*time.Millisecond, func(path string) bool {
		after, afterEdge = share(t, path, accent), edge(path)
		return after > 0.002 && afterEdge < 0.02
	})
	if after <= 0.002 || afterEdge >= 0.02 {
		t.Errorf("after the drop the window is not the app's page without highlight (%.2f%% accent blue, bottom edge %.0f%%); see drop-uploaded.png",
			100*after, 100*afterEdge)
	}
	title := s.x("xdotool", "getwindowname", ids[0])
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
