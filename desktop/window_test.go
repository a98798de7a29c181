package desktop

import (
	"bufio"
	"context"
	"fmt"
	"image/png"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/assetlab/assetlab/desktop/upload"
	"github.com/assetlab/assetlab/worker/mediatest"
)

// The real Linux app starts under Xvfb, runs its built-in server and shows
// its upload page. `make test-desktop` builds it and sets ASSETLAB_DESKTOP_BIN;
// the screenshot is kept in test-artifacts/desktop/.
func TestWindowUnderXvfb(t *testing.T) {
	bin := os.Getenv("ASSETLAB_DESKTOP_BIN")
	if bin == "" {
		t.Skip("ASSETLAB_DESKTOP_BIN is not set: run `make test-desktop`, which builds the app")
	}
	const w, h = 1280, 900
	display := startXvfb(t, 90, w, h)

	dir := t.TempDir()
	app, url := startApp(t, bin, display, dir)

	artifacts := filepath.Join("..", "test-artifacts", "desktop")
	os.MkdirAll(artifacts, 0o755)
	shot := filepath.Join(artifacts, "window.png")
	// Give the webview time to load and draw the page: a blank white window
	// is not enough, the page's blue buttons (the accent colour) must show.
	var lit, accent float64
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(time.Second) {
		if out, err := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "x11grab",
			"-video_size", fmt.Sprintf("%dx%d", w, h), "-i", display, "-frames:v", "1", shot).CombinedOutput(); err != nil {
			t.Fatalf("screenshot: %v\n%s", err, out)
		}
		lit, accent = share(t, shot, light), share(t, shot, near(0x34, 0x51, 0xd1, 24)) // the UI's accent blue
		if lit > 0.4 && accent > 0.002 {
			break
		}
	}
	// The page is light (the root window is black): most of the screen is the
	// app's window; and the page itself is drawn in it.
	if lit <= 0.4 || accent <= 0.002 {
		t.Errorf("the upload page is not drawn (%.0f%% light, %.2f%% accent blue); see %s", 100*lit, 100*accent, shot)
	}

	// The embedded player decodes H.264 (WebKitGTK through GStreamer): upload a
	// test pattern to the built-in server, open the app again on its watch
	// page, with no worker so there is no poster, and look for the pattern's
	// green bar, which only a decoded frame can show.
	clip := mediatest.MakeNamed(t, mediatest.Clip{Width: 1280, Height: 720, FPS: 30, Seconds: 3}, "bars.mp4")
	token, err := os.ReadFile(filepath.Join(dir, "config", "assetlab", "admin-token"))
	if err != nil {
		t.Fatalf("the app made no admin token: %v", err)
	}
	id, err := postFile(url, strings.TrimSpace(string(token)), clip)
	if err != nil {
		t.Fatal(err)
	}
	app.Process.Kill()
	app.Wait()
	app, _ = startApp(t, bin, display, dir, "ASSETLAB_WORKERS=0", id)
	watch := filepath.Join(artifacts, "watch.png")
	var green float64
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(time.Second) {
		if out, err := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "x11grab",
			"-video_size", fmt.Sprintf("%dx%d", w, h), "-i", display, "-frames:v", "1", watch).CombinedOutput(); err != nil {
			t.Fatalf("screenshot: %v\n%s", err, out)
		}
		if green = share(t, watch, near(0x00, 0xcc, 0x00, 40)); green > 0.02 {
			break
		}
	}
	if green <= 0.02 {
		t.Errorf("the watch page shows no decoded frame (%.2f%% of the test pattern's green); see %s", 100*green, watch)
	}

	// With its worker, the built-in server makes the video's HLS stream, and
	// the embedded player plays that (hls.js on WebKitGTK's Media Source
	// Extensions): the server sees the player fetch a rendition's playlist
	// and its segments, and the pattern shows again.
	app.Process.Kill()
	app.Wait()
	startApp(t, bin, display, dir, "ASSETLAB_LOG_LEVEL=debug", id)
	hlsShot := filepath.Join(artifacts, "watch-hls.png")
	segment := regexp.MustCompile(`path=/api/videos/` + id + `/hls/\d+/\d+p(\.mp4|/init\.mp4|/\d+\.m4s) status=302`)
	var log []byte
	green = 0
	clicked := false
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(time.Second) {
		if out, err := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "x11grab",
			"-video_size", fmt.Sprintf("%dx%d", w, h), "-i", display, "-frames:v", "1", hlsShot).CombinedOutput(); err != nil {
			t.Fatalf("screenshot: %v\n%s", err, out)
		}
		log, _ = os.ReadFile(filepath.Join(dir, "app.log"))
		if green = share(t, hlsShot, near(0x00, 0xcc, 0x00, 40)); green > 0.02 && segment.Match(log) {
			break
		}
		// The finished video shows its poster (a JPEG, whose green is
		// brighter than a decoded frame's) until it is played: press play
		// in the middle of the picture, as a user would.
		if x, y, ok := centre(t, hlsShot, near(0xff, 0x00, 0x00, 40), near(0x00, 0xff, 0xff, 40)); ok && !clicked && segment.Match(log) {
			click := exec.Command("xdotool", "mousemove", strconv.Itoa(x), strconv.Itoa(y), "click", "1")
			click.Env = append(os.Environ(), "DISPLAY="+display)
			if out, err := click.CombinedOutput(); err != nil {
				t.Fatalf("xdotool: %v\n%s", err, out)
			}
			clicked = true
		}
	}
	if !segment.Match(log) {
		t.Errorf("the embedded player fetched no segment of the HLS stream (server log in %s)", filepath.Join(dir, "app.log"))
	}
	if green <= 0.02 {
		t.Errorf("the watch page shows no decoded frame of the HLS stream (%.2f%% of the test pattern's green); see %s", 100*green, hlsShot)
	}
}

// startApp starts the desktop app under display, with its XDG folders in dir,
// and returns it and its built-in server's address. args are extra
// environment variables (NAME=value) and command-line arguments.
func startApp(t *testing.T, bin, display, dir string, args ...string) (*exec.Cmd, string) {
	t.Helper()
	env := append(os.Environ(), "DISPLAY="+display, "PORT=0", "XDG_CONFIG_HOME="+filepath.Join(dir, "config"),
		"XDG_DATA_HOME="+filepath.Join(dir, "data"), "ADMIN_TOKEN=", "ASSETLAB_DATA_DIR=")
	var argv []string
	for _, a := range args {
		if strings.Contains(a, "=") {
			env = append(env, a)
		} else {
			argv = append(argv, a)
		}
	}
	app := exec.Command(bin, argv...)
	app.Env = env
	stderr, _ := app.StderrPipe()
	if err := app.Start(); err != nil {
		t.Fatalf("start the app: %v", err)
	}
	t.Cleanup(func() { app.Process.Kill(); app.Wait() })

	// The built-in server says where it listens.
	found := make(chan string, 1)
	// Its log is kept in dir/app.log, for tests that look for requests.
	logf, err := os.OpenFile(filepath.Join(dir, "app.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { logf.Close() })
	go func() {
		re := regexp.MustCompile(`msg=listening url=(http://\S+)`)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			fmt.Fprintln(logf, sc.Text())
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
	}()
	var url string
	select {
	case url = <-found:
	case <-time.After(30 * time.Second):
		t.Fatal("the built-in server did not start")
	}
	resp, err := http.Get(url + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("built-in server at %s: %v", url, err)
	}
	resp.Body.Close()
	return app, url
}

// postFile uploads a file with the upload API and returns the video's ID.
func postFile(server, token, path string) (string, error) {
	res, err := upload.Upload(context.Background(), http.DefaultClient, server, token, path, nil)
	return res.ID, err
}

// pixels calls f with the position and 8-bit red, green and blue of a PNG's
// pixels, every other row and column.
func pixels(t *testing.T, path string, f func(x, y, r, g, b int)) {
	t.Helper()
	file, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	img, err := png.Decode(file)
	if err != nil {
		t.Fatal(err)
	}
	bounds := img.Bounds()
	for y := bounds.Min.Y; y < bounds.Max.Y; y += 2 {
		for x := bounds.Min.X; x < bounds.Max.X; x += 2 {
			r, g, b, _ := img.At(x, y).RGBA()
			f(x, y, int(r>>8), int(g>>8), int(b>>8))
		}
	}
}

// share is the share of a PNG's pixels for which match holds.
func share(t *testing.T, path string, match func(r, g, b int) bool) float64 {
	n, all := 0, 0
	pixels(t, path, func(_, _, r, g, b int) {
		if match(r, g, b) {
			n++
		}
		all++
	})
	return float64(n) / float64(all)
}

// centre is the middle of the box around a PNG's pixels that match any of
// the colours: the test pattern's red and cyan bars frame the picture.
func centre(t *testing.T, path string, colours ...func(r, g, b int) bool) (x, y int, ok bool) {
	x0, y0, x1, y1 := math.MaxInt, math.MaxInt, math.MinInt, math.MinInt
	pixels(t, path, func(px, py, r, g, b int) {
		for _, match := range colours {
			if match(r, g, b) {
				x0, y0, x1, y1 = min(x0, px), min(y0, py), max(x1, px), max(y1, py)
			}
		}
	})
	if x1 <= x0 || y1 <= y0 {
		return 0, 0, false
	}
	return (x0 + x1) / 2, (y0 + y1) / 2, true
}

// near tells whether a colour is within tol of (r, g, b) on every channel.
func near(r, g, b, tol int) func(int, int, int) bool {
	abs := func(v int) int { return max(v, -v) }
	return func(pr, pg, pb int) bool {
		return abs(pr-r) < tol && abs(pg-g) < tol && abs(pb-b) < tol
	}
}

// light matches the page's light background and surfaces.
func light(r, g, b int) bool { return r+g+b > 3*0xc0 }

// startXvfb starts an X server of w×h and returns the display's name. The
// server picks a free display (-displayfd), as another one may be taken by
// tests running at once; base is kept for the callers and no longer used.
// It is stopped when the test ends.
func startXvfb(t *testing.T, base, w, h int) string {
	t.Helper()
	r, wr, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	xvfb := exec.Command("Xvfb", "-displayfd", "3", "-screen", "0", fmt.Sprintf("%dx%dx24", w, h), "-nolisten", "tcp")
	xvfb.ExtraFiles = []*os.File{wr} // fd 3
	if err := xvfb.Start(); err != nil {
		t.Fatalf("start Xvfb: %v", err)
	}
	wr.Close()
	t.Cleanup(func() { xvfb.Process.Kill(); xvfb.Wait() })
	number := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(r).ReadString('\n')
		number <- strings.TrimSpace(line)
	}()
	select {
	case n := <-number:
		if n == "" {
			t.Fatal("Xvfb did not say its display")
		}
		return ":" + n
	case <-time.After(30 * time.Second):
		t.Fatal("Xvfb did not start")
	}
	return ""
}
