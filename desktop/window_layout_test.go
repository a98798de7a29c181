package desktop

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/assetlab/assetlab/worker/mediatest"
)

// The watch page of a video being transcoded fits the app's default window
// (1120×800): below the title and the transcoding banner, the whole picture
// and the player's controls (the quality menu, the download link in the
// accent blue) show without scrolling. The screen is larger than the window,
// so that the window keeps its size; the screenshot is kept in
// test-artifacts/desktop/watch-fits.png.
func TestWatchPageFitsTheWindow(t *testing.T) {
	bin := appBin(t)
	s := newScreen(t, 1400, 1000)
	const ww, wh = 1120, 800 // run.go's default window
	dir := t.TempDir()

	// Uploaded with no transcoder running, then opened with one that works
	// slowly, so that the page shows the transcoding banner for a while.
	clip := mediatest.MakeNamed(t, mediatest.Clip{Width: 1280, Height: 720, FPS: 30, Seconds: 30}, "long.mp4")
	app, url := startApp(t, bin, s.display, dir, "ASSETLAB_WORKERS=0")
	id, err := postFile(url, adminToken(t, dir), clip)
	if err != nil {
		t.Fatal(err)
	}
	app.Process.Kill()
	app.Wait()
	_, url = startApp(t, bin, s.display, dir, "ASSETLAB_X264_PRESET=slower", id)

	shot := filepath.Join(artifactsDir(t), "watch-fits.png")
	picture := []func(r, g, b int) bool{near(0xff, 0x00, 0x00, 40), near(0x00, 0xff, 0xff, 40), patternGreen}
	var bottom, below int
	var status string
	for deadline := time.Now().Add(90 * time.Second); time.Now().Before(deadline); time.Sleep(time.Second) {
		if status = videoStatus(t, url, id); status != "processing" {
			continue
		}
		s.shot("watch-fits.png")
		if videoStatus(t, url, id) != "processing" {
			continue // the banner may be gone from the screenshot
		}
		x, y, gw, gh := windowGeometry(s)
		if gw != ww || gh != wh {
			t.Fatalf("the window is %d×%d, want its default %d×%d", gw, gh, ww, wh)
		}
		// The picture: the box around the test pattern's colours, in the window.
		_, y0, _, y1, ok := box(t, shot, x, y, x+ww, y+wh, picture...)
		if !ok || y1-y0 < 200 {
			continue // not drawn yet
		}
		// The controls: accent blue (the download link) below the picture,
		// in the window.
		bottom, below = y1-y, 0
		pixels(t, shot, func(px, py, r, g, b int) {
			if py > y1 && py < y+wh && px >= x && px < x+ww && accent(r, g, b) {
				below++
			}
		})
		if bottom < wh-40 && below > 20 {
			break
		}
	}
	if status != "processing" && bottom == 0 {
		t.Fatalf("the video was never seen transcoding (status %q); see %s", status, shot)
	}
	if bottom >= wh-40 || below <= 20 {
		t.Errorf("the watch page does not fit the %d×%d window: the picture ends at its row %d and %d accent-blue pixels (the player's controls) show below it, want it to end above row %d with its controls below; see %s",
			ww, wh, bottom, below, wh-40, shot)
	}
}

// box is the box around a PNG's pixels within (x0, y0)–(x1, y1) that match
// any of the colours.
func box(t *testing.T, path string, x0, y0, x1, y1 int, colours ...func(r, g, b int) bool) (bx0, by0, bx1, by1 int, ok bool) {
	bx0, by0, bx1, by1 = x1, y1, x0-1, y0-1
	pixels(t, path, func(px, py, r, g, b int) {
		if px < x0 || px >= x1 || py < y0 || py >= y1 {
			return
		}
		for _, match := range colours {
			if match(r, g, b) {
				bx0, by0, bx1, by1 = min(bx0, px), min(by0, py), max(bx1, px), max(by1, py)
			}
		}
	})
	return bx0, by0, bx1, by1, bx1 > bx0 && by1 > by0
}

// windowGeometry is the position and size of the app's window on the screen.
func windowGeometry(s *screen) (x, y, w, h int) {
	s.t.Helper()
	out := s.x("xdotool", "search", "--onlyvisible", "--name", "^AssetLab$", "getwindowgeometry", "%@")
	// The largest window named AssetLab is the app's (GTK has small helpers).
	for _, m := range geometry.FindAllStringSubmatch(out, -1) {
		var px, py, pw, ph int
		fmt.Sscan(m[1]+" "+m[2]+" "+m[3]+" "+m[4], &px, &py, &pw, &ph)
		if pw*ph > w*h {
			x, y, w, h = px, py, pw, ph
		}
	}
	return x, y, w, h
}

var geometry = regexp.MustCompile(`Position: (\d+),(\d+).*\n\s*Geometry: (\d+)x(\d+)`)

// videoStatus is the video's transcoding status on the server at url.
func videoStatus(t *testing.T, url, id string) string {
	t.Helper()
	resp, err := http.Get(url + "/api/video/" + id + "/status")
	if err != nil {
		t.Fatalf("status: %v", err)
	}
	defer resp.Body.Close()
	var st struct{ Status string }
	json.NewDecoder(resp.Body).Decode(&st)
	return st.Status
}
