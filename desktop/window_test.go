package desktop

import (
	"bufio"
	"fmt"
	"image/png"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"
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
	display := ":" + strconv.Itoa(90+os.Getpid()%9)
	xvfb := exec.Command("Xvfb", display, "-screen", "0", fmt.Sprintf("%dx%dx24", w, h), "-nolisten", "tcp")
	if err := xvfb.Start(); err != nil {
		t.Fatalf("start Xvfb: %v", err)
	}
	defer func() { xvfb.Process.Kill(); xvfb.Wait() }()
	time.Sleep(500 * time.Millisecond)

	dir := t.TempDir()
	app := exec.Command(bin)
	app.Env = append(os.Environ(), "DISPLAY="+display, "PORT=0", "XDG_CONFIG_HOME="+filepath.Join(dir, "config"),
		"XDG_DATA_HOME="+filepath.Join(dir, "data"), "ADMIN_TOKEN=", "ASSETLAB_DATA_DIR=")
	stderr, _ := app.StderrPipe()
	app.Stdout = os.Stdout
	if err := app.Start(); err != nil {
		t.Fatalf("start the app: %v", err)
	}
	defer func() { app.Process.Kill(); app.Wait() }()

	// The built-in server says where it listens.
	found := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`msg=listening url=(http://\S+)`)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
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
		if lit, accent = shares(t, shot); lit > 0.4 && accent > 0.002 {
			break
		}
	}
	// The page is light (the root window is black): most of the screen is the
	// app's window; and the page itself is drawn in it.
	if lit <= 0.4 || accent <= 0.002 {
		t.Errorf("the upload page is not drawn (%.0f%% light, %.2f%% accent blue); see %s", 100*lit, 100*accent, shot)
	}
}

// shares are the shares of light pixels, and of the UI's accent blue
// (#3451d1), in a PNG.
func shares(t *testing.T, path string) (light, accent float64) {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	var nLight, nAccent, all int
	near := func(v uint32, want int) bool { d := int(v>>8) - want; return d > -24 && d < 24 }
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			if r+g+bl > 3*0xc000 {
				nLight++
			}
			if near(r, 0x34) && near(g, 0x51) && near(bl, 0xd1) {
				nAccent++
			}
			all++
		}
	}
	return float64(nLight) / float64(all), float64(nAccent) / float64(all)
}
