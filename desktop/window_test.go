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
	"syscall"
	"testing"
	"time"

	"github.com/assetlab/assetlab/desktop/upload"
	"github.com/assetlab/assetlab/worker/mediatest"
)

// The real Linux app starts under Xvfb, runs its built-in server and shows
// its upload page. `make test-desktop` builds it and sets ASSETLAB_DESKTOP_BIN;
// the screenshot is kept in test-artifacts/desktop/.
func TestWindowUnderXvfb(t *testing.T) {
	bin := appBin(t)
	s := newScreen(t, 1280, 900)

	dir := t.TempDir()
	app, url := startApp(t, bin, s.display, dir)

	// Give the webview time to load and draw the page: a blank white window
	// is not enough, the page's blue buttons (the accent colour) must show.
	// The page is light (the root window is black): most of the screen is the
	// app's window; and the page itself is drawn in it.
	if shot, ok := s.waitDrawn("window.png", 30*time.Second); !ok {
		t.Errorf("the upload page is not drawn (%.0f%% light, %.2f%% accent blue); see %s",
			100*share(t, shot, light), 100*share(t, shot, accent), shot)
	}

	// The embedded player decodes H.264 (WebKitGTK through GStreamer): upload a
	// test pattern to the built-in server, open the app again on its watch
	// page, with no worker so there is no poster, and look for the pattern's
	// green bar, which only a decoded frame can show.
	clip := mediatest.MakeNamed(t, mediatest.Clip{Width: 1280, Height: 720, FPS: 30, Seconds: 3}, "bars.mp4")
	id, err := postFile(url, adminToken(t, dir), clip)
	if err != nil {
		t.Fatal(err)
	}
	app.Process.Kill()
	app.Wait()
	app, _ = startApp(t, bin, s.display, dir, "ASSETLAB_WORKERS=0", id)
	var green float64
	watch, _ := s.waitShot("watch.png", 30*time.Second, time.Second, func(path string) bool {
		green = share(t, path, patternGreen)
		return green > 0.02
	})
	if green <= 0.02 {
		t.Errorf("the watch page shows no decoded frame (%.2f%% of the test pattern's green); see %s", 100*green, watch)
	}

	// With its worker, the built-in server makes the video's HLS stream, and
	// the embedded player plays that (hls.js on WebKitGTK's Media Source
	// Extensions): the server sees the player fetch a rendition's playlist
	// and its segments, and the pattern shows again.
	app.Process.Kill()
	app.Wait()
	startApp(t, bin, s.display, dir, "ASSETLAB_LOG_LEVEL=debug", id)
	segment := regexp.MustCompile(`path=/api/videos/` + id + `/hls/\d+/\d+p(\.mp4|/init\.mp4|/\d+\.m4s) status=302`)
	var log []byte
	green = 0
	clicked := false
	hlsShot, _ := s.waitShot("watch-hls.png", 60*time.Second, time.Second, func(path string) bool {
		log, _ = os.ReadFile(filepath.Join(dir, "app.log"))
		if green = share(t, path, patternGreen); green > 0.02 && segment.Match(log) {
			return true
		}
		// The finished video shows its poster (a JPEG, whose green is
		// brighter than a decoded frame's) until it is played: press play
		// in the middle of the picture, as a user would.
		if x, y, ok := centre(t, path, near(0xff, 0x00, 0x00, 40), near(0x00, 0xff, 0xff, 40)); ok && !clicked && segment.Match(log) {
			s.x("xdotool", "mousemove", strconv.Itoa(x), strconv.Itoa(y), "click", "1")
			clicked = true
		}
		return false
	})
	if !segment.Match(log) {
		t.Errorf("the embedded player fetched no segment of the HLS stream (server log in %s)", filepath.Join(dir, "app.log"))
	}
	if green <= 0.02 {
		t.Errorf("the watch page shows no decoded frame of the HLS stream (%.2f%% of the test pattern's green); see %s", 100*green, hlsShot)
	}
}

// appBin is the desktop app's binary, which `make test-desktop` builds and
// names in ASSETLAB_DESKTOP_BIN; without it the test is skipped.
func appBin(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("ASSETLAB_DESKTOP_BIN")
	if bin == "" {
		t.Skip("ASSETLAB_DESKTOP_BIN is not set: run `make test-desktop`, which builds the app")
	}
	return bin
}

// adminToken is the upload token the app made for its built-in server, with
// its XDG folders in dir.
func adminToken(t *testing.T, dir string) string {
	t.Helper()
	token, err := os.ReadFile(filepath.Join(dir, "config", "assetlab", "admin-token"))
	if err != nil {
		t.Fatalf("the app made no admin token: %v", err)
	}
	return strings.TrimSpace(string(token))
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
	// In a process group of its own, with WebKit's helper processes, which
	// write into dir too: all of them are gone before dir is removed.
	app.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stderr, _ := app.StderrPipe()
	if err := app.Start(); err != nil {
		t.Fatalf("start the app: %v", err)
	}
	t.Cleanup(func() {
		pgid := app.Process.Pid
		syscall.Kill(-pgid, syscall.SIGKILL)
		app.Wait()
		for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
			if syscall.Kill(-pgid, 0) != nil {
				return
			}
		}
	})

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

var (
	// accent matches the UI's accent blue: its buttons and links.
	accent = near(0x34, 0x51, 0xd1, 24)
	// patternGreen matches the green bar of mediatest's test pattern, as a
	// decoded frame shows it.
	patternGreen = near(0x00, 0xcc, 0x00, 40)
)

// screen is an X server (Xvfb) of w×h for one test, on which it runs the app
// and X clients and takes screenshots.
type screen struct {
	t       *testing.T
	display string
	w, h    int
}

// newScreen starts an X server of w×h. The server picks a free display
// (-displayfd), as another one may be taken by tests running at once. It is
// stopped when the test ends.
func newScreen(t *testing.T, w, h int) *screen {
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
		return &screen{t: t, display: ":" + n, w: w, h: h}
	case <-time.After(30 * time.Second):
		t.Fatal("Xvfb did not start")
	}
	return nil
}

// env is the environment for an X client on the screen.
func (s *screen) env() []string {
	return append(os.Environ(), "DISPLAY="+s.display)
}

// x runs an X client (xdotool, xclip, xprop) on the screen and returns its
// output; the test fails if the client does.
func (s *screen) x(tool string, args ...string) string {
	s.t.Helper()
	cmd := exec.Command(tool, args...)
	cmd.Env = s.env()
	out, err := cmd.CombinedOutput()
	if err != nil {
		s.t.Fatalf("%s %s: %v\n%s", tool, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// shot saves a screenshot of the whole screen as
// test-artifacts/desktop/name and returns its path.
func (s *screen) shot(name string) string {
	s.t.Helper()
	path := filepath.Join(artifactsDir(s.t), name)
	if out, err := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "x11grab",
		"-video_size", fmt.Sprintf("%dx%d", s.w, s.h), "-i", s.display, "-frames:v", "1", path).CombinedOutput(); err != nil {
		s.t.Fatalf("screenshot: %v\n%s", err, out)
	}
	return path
}

// waitShot takes screenshots, saved as name, every pause until done holds
// for one or limit has passed, and returns the last one's path and whether
// done held for it.
func (s *screen) waitShot(name string, limit, pause time.Duration, done func(path string) bool) (string, bool) {
	s.t.Helper()
	var path string
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(pause) {
		if path = s.shot(name); done(path) {
			return path, true
		}
	}
	return path, false
}

// waitDrawn takes screenshots, saved as name, until one shows the app's page
// (light, with its accent blue), or limit has passed; it returns the last
// one's path and whether that shows the page. It looks often, as a test
// may time the launch by it.
func (s *screen) waitDrawn(name string, limit time.Duration) (string, bool) {
	s.t.Helper()
	return s.waitShot(name, limit, 200*time.Millisecond, func(path string) bool {
		return share(s.t, path, light) > 0.4 && share(s.t, path, accent) > 0.002
	})
}

// artifactsDir is test-artifacts/desktop, where the tests keep their
// screenshots and figures.
func artifactsDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join("..", "test-artifacts", "desktop")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}
